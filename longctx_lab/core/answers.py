"""Checkers for the exercise kit: `NumberAnswer`, `PairAnswer` and the chapter's anticipated `Mistake`s.

A checker returns None for a right answer, a teaching sentence for a wrong one and an `Invalid`
sentence for an answer that is not an answer at all; it reads the answer through `answer_types`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Sequence

from . import exercise_kit
from .answer_types import _NOT_WHOLE, _PAIR_ITEM, _real, as_number, as_pair
from .exercise_kit import N_, Checker, Invalid, _say, shown

__all__ = ["Mistake", "NumberAnswer", "PairAnswer", "expect_close", "expect_equal"]


def _close(a: float, b: float, rel: float, abs_tol: float) -> bool:
    if isinstance(a, int) and isinstance(b, int) and rel == 0 and abs_tol == 0:
        return a == b
    try:
        return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)
    except OverflowError:  # an int beyond float range is never close to an exercise's answer
        return False


@dataclass(frozen=True)
class Mistake:
    """An anticipated answer and the explanation it gets.

    `value` is the answer the mistake produces (for a pair, a tuple in which None matches anything); give
    `when` instead to recognise a whole range of answers (then `value` is one example of it, used by tests).
    `message` is a whole sentence (a template marked with `N_`) that may use `{answer}`, the checker's
    fields, and the fields `details(answer)` returns. `invalid=True` reports the answer as invalid, not
    merely wrong (an overlap ≥ k). `rel` is the relative tolerance for matching `value` (by default the
    exercise's tolerance, at least 1 %, so rounded arithmetic is still recognised; an int `value` matches only
    that int when the answer is a whole number).
    """

    value: Any
    message: str
    when: "Callable[[Any], bool] | None" = None
    invalid: bool = False
    rel: "float | None" = None
    details: "Callable[[Any], dict] | None" = None


def _resolve(item: Any) -> Any:
    return item() if callable(item) else item


class _Answer:
    """Shared by NumberAnswer and PairAnswer: lazy expected value, mistakes and fields, and mistake matching."""

    def __init__(self, expected, *, whole, rel, abs_tol, mistakes, fields):
        if rel < 0 or abs_tol < 0:
            raise ValueError(f"tolerances must be >= 0, got rel={rel}, abs_tol={abs_tol}")
        self.whole, self.rel, self.abs_tol = bool(whole), float(rel), float(abs_tol)
        self._expected, self._mistakes, self._fields = expected, mistakes, fields

    @cached_property
    def expected(self):
        """The right answer as a plain int or float (or tuple of them); computed on the first check when it
        needs a model."""
        value = _resolve(self._expected)
        if isinstance(value, tuple):
            return tuple(_real(item) if _real(item) is not None else item for item in value)
        number = _real(value)
        return value if number is None else number

    @cached_property
    def mistakes(self) -> tuple:
        """The anticipated mistakes, in the order they are tried."""
        return tuple(_resolve(self._mistakes) or ())

    @cached_property
    def fields(self) -> dict:
        """Values the feedback sentences may name, e.g. {"n": 1000, "k": 128}."""
        return dict(_resolve(self._fields) or {})

    def _number_matches(self, answer, target, rel) -> bool:
        if self.whole and isinstance(target, int):
            return isinstance(answer, int) and answer == target
        return _close(answer, target, rel, 0.0)

    def _mistake_matches(self, mistake: Mistake, answer) -> bool:
        if mistake.when is not None:
            return bool(mistake.when(answer))
        rel = mistake.rel if mistake.rel is not None else max(self.rel, 1e-2)
        if isinstance(mistake.value, tuple):
            return all(target is None or self._number_matches(item, target, rel)
                       for item, target in zip(answer, mistake.value))
        return self._number_matches(answer, mistake.value, rel)

    def explain(self, mistake: Mistake, answer) -> str:
        """The mistake's sentence for this answer (an `Invalid` when the mistake is flagged invalid).

        Fields: the checker's, `answer` (as quoted back), for a pair also `first` and `second`, and
        whatever `mistake.details(answer)` returns.
        """
        details = mistake.details(answer) if mistake.details is not None else {}
        quoted = {"answer": shown(answer)}
        if isinstance(answer, tuple):
            quoted.update(first=shown(answer[0]), second=shown(answer[1]))
        text = _say(mistake.message, **{**self.fields, **details, **quoted})
        return Invalid(text) if mistake.invalid else text


def _sentences(parts: Sequence[str]) -> str:
    """Whole sentences in a row: each after the first starts with a capital letter."""
    return " ".join(part if i == 0 else part[:1].upper() + part[1:] for i, part in enumerate(parts))


_TOO_SMALL = N_("{what} is not {answer}: it is too small.")
_TOO_LARGE = N_("{what} is not {answer}: it is too large.")
_NOT_EQUAL = N_("{what} is not {answer}.")
_NEARLY = N_("{answer} is close, but this exercise accepts answers within {tolerance} % of the exact value: "
             "carry more digits through your computation.")
_NEARLY_EXACT = N_("{answer} is close, but this answer can be computed exactly: carry every digit through "
                   "(no rounding on the way).")


class NumberAnswer(_Answer):
    """A checker for a one-number answer that knows the chapter's anticipated mistakes.

    The learner's answer goes through `as_number`, then: right (exactly for `whole`; within `rel` / `abs_tol`
    otherwise) → None; an anticipated `Mistake` → its explanation; a fraction where a whole number is asked
    → invalid; a near miss → "carry more digits"; anything else → `too_small` / `too_large` (whole sentences
    with `{answer}` and the fields), or a generic sentence naming `what`. `expected`, `mistakes` and `fields`
    may be zero-argument callables, computed once on the first check (for answers that need a model).
    """

    def __init__(self, expected, *, whole: bool = False, rel: float = 0.0, abs_tol: float = 0.0,
                 mistakes=(), fields=None, what: str = N_("the answer"), too_small: "str | None" = None,
                 too_large: "str | None" = None):
        super().__init__(expected, whole=whole, rel=rel, abs_tol=abs_tol, mistakes=mistakes, fields=fields)
        self.what, self.too_small, self.too_large = what, too_small, too_large

    def is_right(self, number) -> bool:
        expected = self.expected
        if self.whole or (isinstance(expected, int) and self.rel == 0 and self.abs_tol == 0):
            return isinstance(number, int) and number == expected
        return _close(number, expected, self.rel, self.abs_tol)

    def __call__(self, answer: Any) -> "str | None":
        number = as_number(answer, self.whole)
        if isinstance(number, Invalid):
            return number
        if self.is_right(number):
            return None
        for mistake in self.mistakes:
            if self._mistake_matches(mistake, number):
                return self.explain(mistake, number)
        # exercise_kit._ looked up at call time, as _say does, so a catalogue installed later applies.
        fields = {**self.fields, "answer": shown(number), "what": exercise_kit._(self.what)}
        if self.whole and isinstance(number, float):
            return Invalid(_say(_NOT_WHOLE, **fields))
        expected = self.expected
        if not self.whole and self.rel < 0.005 and _close(number, expected, 0.005, 0.0):
            if self.rel > 1e-5:
                return _say(_NEARLY, **fields, tolerance=f"{100 * self.rel:g}")
            return _say(_NEARLY_EXACT, **fields)
        too_large = number > expected
        template = self.too_large if too_large else self.too_small
        if template is None:
            template = _TOO_LARGE if too_large else _TOO_SMALL
        return _say(template, **fields)


class PairAnswer(_Answer):
    """A checker for an answer of two numbers (a, b): anticipated mistakes match the pair (None = any value),
    and an unrecognised wrong number gets its position's sentence from `otherwise` (first, second)."""

    def __init__(self, expected: tuple, *, otherwise: "tuple[str, str]", whole: bool = False, rel: float = 0.0,
                 abs_tol: float = 0.0, mistakes=(), fields=None):
        super().__init__(expected, whole=whole, rel=rel, abs_tol=abs_tol, mistakes=mistakes, fields=fields)
        self.otherwise = otherwise

    def _item_right(self, number, expected) -> bool:
        if self.whole or (isinstance(expected, int) and self.rel == 0 and self.abs_tol == 0):
            return isinstance(number, int) and number == expected
        return _close(number, expected, self.rel, self.abs_tol)

    def __call__(self, answer: Any) -> "str | None":
        pair = as_pair(answer, self.whole)
        if isinstance(pair, Invalid):
            return pair
        right = [self._item_right(item, target) for item, target in zip(pair, self.expected)]
        if all(right):
            return None
        # A test (`when`) or a whole pair decides alone, in the order given; mistakes about one of the two
        # numbers (None in the other place) are all reported.
        whole_pair = [m for m in self.mistakes if m.when is not None or None not in m.value]
        for mistake in whole_pair:
            if self._mistake_matches(mistake, pair):
                return self.explain(mistake, pair)
        found = []  # (position, sentence), reported first number first
        for mistake in self.mistakes:
            if mistake not in whole_pair and self._mistake_matches(mistake, pair):
                position = next(i for i, target in enumerate(mistake.value) if target is not None)
                found.append((position, self.explain(mistake, pair)))
        explained = {position for position, _sentence in found}
        for position, ok in enumerate(right):
            if ok or position in explained:
                continue
            number = pair[position]
            if self.whole and isinstance(number, float):
                sentence = Invalid(_say(_PAIR_ITEM[position], problem=_say(_NOT_WHOLE, answer=shown(number))))
            else:
                sentence = _say(self.otherwise[position], **{**self.fields, "answer": shown(number)})
            found.append((position, sentence))
        found = [sentence for _position, sentence in sorted(found, key=lambda item: item[0])]
        text = _sentences(found)
        return Invalid(text) if all(isinstance(f, Invalid) for f in found) else text


def expect_equal(expected: Any, what: str = "the answer") -> Checker:
    """A checker that accepts exactly `expected` (ints compare by value; a float must equal an int exactly)."""
    if isinstance(expected, bool) or not isinstance(_real(expected), (int, float)):
        def checker(answer: Any) -> str | None:
            try:
                if answer == expected:
                    return None
            except Exception:
                pass
            return _say(_NOT_EQUAL, what=what, answer=shown(answer))

        return checker
    number = _real(expected)
    return NumberAnswer(number, whole=isinstance(number, int), what=what)


def expect_close(expected: float, rel: float = 1e-2, abs_tol: float = 0.0, what: str = "the answer") -> Checker:
    """A checker that accepts a number within a relative tolerance `rel` (or absolute `abs_tol`) of `expected`."""
    if rel < 0 or abs_tol < 0:
        raise ValueError(f"tolerances must be >= 0, got rel={rel}, abs_tol={abs_tol}")
    return NumberAnswer(expected, rel=rel, abs_tol=abs_tol, what=what)
