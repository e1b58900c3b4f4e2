"""Exercises with `check()`, layered `hint()` and `solution()`, shared by every chapter.

A learner's starter code assigns the placeholder `____`; checking it reads "not attempted", not
"wrong". A checker is a plain function: it returns None when the answer is right and a teaching
message (what to reconsider, not the answer) when it is wrong. Chapter exercise sets live beside
this file (`exercises/chunking.py`, ...), one module per notebook.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

__all__ = ["____", "CheckResult", "Exercise", "expect_close", "expect_equal", "is_placeholder"]


class _Placeholder:
    """The blank a learner replaces: `answer = ____`."""

    def __repr__(self) -> str:
        return "____"


____ = _Placeholder()


def is_placeholder(value: Any) -> bool:
    """Whether `value` is (or still contains, at the top level of a tuple/list/dict) the `____` blank."""
    if isinstance(value, _Placeholder):
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(item, _Placeholder) for item in value)
    if isinstance(value, dict):
        return any(isinstance(item, _Placeholder) for item in value.values())
    return False


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: status is "correct", "wrong" or "not attempted"."""

    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        mark = {"correct": "✔ correct", "wrong": "✘ not yet", "not attempted": "… not attempted"}[self.status]
        return f"{mark}: {self.message}"


Checker = Callable[[Any], "str | None"]


@dataclass
class Exercise:
    """One exercise: a question, a checker, hints revealed one at a time, and a worked solution.

    Taught in 00_start_here, § How exercises work.
    """

    title: str
    question: str
    checker: Checker
    hints: Sequence[str]
    solution_text: str
    _hints_shown: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if not callable(self.checker):
            raise TypeError(f"checker must be callable, got {type(self.checker).__name__}")
        if not self.hints:
            raise ValueError(f"exercise {self.title!r} needs at least one hint")

    def check(self, answer: Any) -> CheckResult:
        """Check `answer`; a `____` placeholder is "not attempted", a wrong answer gets a teaching message."""
        if is_placeholder(answer):
            return CheckResult("not attempted", "replace ____ with your answer, then run the cell again.")
        try:
            problem = self.checker(answer)
        except (TypeError, ValueError) as exc:
            problem = f"that answer could not be checked ({exc})."
        if problem is None:
            return CheckResult("correct", f"{self.title} — well done.")
        return CheckResult("wrong", f"{problem} (Stuck? call .hint())")

    def hint(self) -> str:
        """The next hint (each call reveals one more, from a nudge to nearly the answer)."""
        shown = min(self._hints_shown, len(self.hints) - 1)
        self._hints_shown = shown + 1
        return f"Hint {shown + 1}/{len(self.hints)}: {self.hints[shown]}"

    def solution(self) -> str:
        """The worked solution (try check() and hint() first)."""
        return self.solution_text

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(f"Exercise — {self.title}\n{self.question}")


def expect_equal(expected: Any, what: str = "the answer") -> Checker:
    """A checker that accepts exactly `expected` (ints compare by value; a float must equal an int exactly)."""

    def checker(answer: Any) -> str | None:
        if answer == expected:
            return None
        return f"{what} is not {answer!r}."

    return checker


def expect_close(expected: float, rel: float = 1e-2, abs_tol: float = 0.0, what: str = "the answer") -> Checker:
    """A checker that accepts a number within a relative tolerance `rel` (or absolute `abs_tol`) of `expected`."""
    if rel < 0 or abs_tol < 0:
        raise ValueError(f"tolerances must be >= 0, got rel={rel}, abs_tol={abs_tol}")

    def checker(answer: Any) -> str | None:
        if isinstance(answer, bool) or not isinstance(answer, (int, float)):
            return f"{what} should be a number, got {type(answer).__name__}."
        if math.isclose(float(answer), expected, rel_tol=rel, abs_tol=abs_tol):
            return None
        direction = "too large" if answer > expected else "too small"
        return f"{answer!r} is {direction} for {what}."

    return checker
