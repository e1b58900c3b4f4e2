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
    if example.run is True:
        _call(obj, dict(kwargs))
    problems = []
    for param in parameters(obj):
        for value, kind in bad_values(param):
            if (param.name, kind) in example.exempt or (param.name, repr(value)) in example.exempt:
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
