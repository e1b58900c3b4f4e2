"""Bad input never reaches torch: the whole public API, walked with the values a new user tries.

Every public callable (tests/api_walk.py finds them) must have a valid example in tests/api_examples.py.
For each of its parameters, bad values derived from the annotation, default and name must raise
ValueError/TypeError naming the parameter ("type"/"value" kinds), or either return normally or raise such
an error ("range" kind: 0, -1, 10**12 can be legitimate), within a time bound; nothing else may escape.
"""
from __future__ import annotations

import pytest
import torch

from tests.api_examples import EXAMPLES, Fixtures
from tests.api_walk import CallTimeout, exercises, names_parameter, parameters, public_callables, time_bound, \
    bad_values

CALLABLES = public_callables()
SECONDS = 5.0
MAX_EXEMPT = 60  # exemptions are the exception: each one needs a reason in api_examples.py


@pytest.fixture(scope="session")
def fx():
    return Fixtures()


def test_every_public_callable_has_a_valid_example():
    missing = sorted(set(CALLABLES) - set(EXAMPLES))
    stale = sorted(set(EXAMPLES) - set(CALLABLES))
    assert not missing, f"add a valid example to tests/api_examples.py for: {missing}"
    assert not stale, f"examples for callables that no longer exist: {stale}"
    assert sum(len(e.exempt) for e in EXAMPLES.values()) <= MAX_EXEMPT


def _close_figures(result):
    if type(result).__name__ == "Figure":
        import matplotlib.pyplot as plt  # noqa: F401  (only to close; the kit's figures are pyplot-free)

        plt.close(result)


def _call(obj, kwargs):
    with time_bound(SECONDS):
        return obj(**kwargs)


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_bad_values_get_a_clear_error(name, fx):
    obj, example = CALLABLES[name], EXAMPLES[name]
    kwargs = example.kwargs(fx)
    if example.run is True:  # the valid call does real work (seconds on a busy machine): no time bound on it
        obj(**dict(kwargs))
    problems = []
    for param in parameters(obj):
        for value, kind in bad_values(param):
            if {(param.name, kind), (param.name, repr(value)), ("*", kind)} & set(example.exempt):
                continue
            call = {**kwargs, param.name: value}
            label = f"{name}({param.name}={value!r})"
            try:
                _call(obj, call)
            except (TypeError, ValueError) as exc:
                if not names_parameter(str(exc), param.name):
                    problems.append(f"{label}: {type(exc).__name__} does not name {param.name!r}: {exc}")
                continue
            except CallTimeout:
                problems.append(f"{label}: no answer within {SECONDS} s")
                continue
            except Exception as exc:  # noqa: BLE001 - the point of the test
                problems.append(f"{label}: {type(exc).__name__} escaped: {str(exc)[:200]}")
                continue
            if kind != "range":
                problems.append(f"{label}: returned normally; expected ValueError/TypeError naming {param.name!r}")
    assert not problems, "\n".join(problems)


class _BrokenEq:
    """An answer whose comparisons and conversions all fail: a checker must still not raise."""

    def __eq__(self, other):
        raise RuntimeError("no comparisons")

    __lt__ = __gt__ = __le__ = __ge__ = __eq__
    __hash__ = object.__hash__

    def __float__(self):
        raise RuntimeError("no float")


LEARNER_ANSWERS = [
    0, -1, 1, 3, 10**30, -(10**30), 0.5, float("nan"), float("inf"), -float("inf"), True, None, "", "8192", "abc",
    "中文", [], [1, 2], (1, 2), (1.0, float("nan")), {"a": 1}, {1, 2}, b"8", 1 + 2j, object(), _BrokenEq(),
    torch.tensor(3), torch.tensor(3.5), torch.tensor([1, 2]), torch.tensor([1.0]), torch.empty(0),
    torch.tensor(float("nan")), torch.ones(2, 2), __import__("numpy").float64(2.0), __import__("numpy").array([1, 2]),
]


@pytest.mark.parametrize("name", sorted(exercises()))
def test_exercise_checkers_never_raise(name):
    exercise = exercises()[name]
    for answer in LEARNER_ANSWERS:
        with time_bound(SECONDS):
            result = exercise.checker(answer)  # the checker itself, not check(), which would hide a raise
        assert result is None or isinstance(result, str), (name, answer, result)
        assert exercise.check(answer).status in ("correct", "wrong", "invalid", "not attempted")


def test_coverage_numbers(fx, capsys):
    """How much the walk covers: callables, parameters, bad calls (printed with -s)."""
    n_params = n_bad = 0
    for name, obj in CALLABLES.items():
        for param in parameters(obj):
            n_params += 1
            n_bad += len(bad_values(param))
    with capsys.disabled():
        print(f"\nbad-input walk: {len(CALLABLES)} callables, {n_params} parameters, {n_bad} bad calls, "
              f"{len(exercises())} exercise checkers x {len(LEARNER_ANSWERS)} answers")
    assert len(CALLABLES) >= 190 and n_bad >= 1000
