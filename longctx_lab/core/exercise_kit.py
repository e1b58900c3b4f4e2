"""Exercises with `check()`, layered `hint()` and `solution()`, shared by every chapter.

A learner's starter code assigns the placeholder `____`; checking it reads "not attempted", not
"wrong". A checker is a plain function: it returns None when the answer is right, a teaching message
(what to reconsider, not the answer) when it is wrong, and an `Invalid` message when the answer is not
a valid answer at all (a string where a number belongs, an overlap ≥ k). It must never raise.

The kit does the type handling once, for every checker: `as_number` turns whatever a learner typed
(Python and NumPy numbers, 0-d or 1-element tensors and arrays) into a plain int or float, or says in a
sentence why it cannot ("expected a whole number, got the string '8192'"); a bool is not a number here.
`NumberAnswer` and `PairAnswer` build checkers from the expected value and the chapter's anticipated
`Mistake`s, each with its own explanation. The kit is three files: this one (the exercise, its
verdicts, the `____` blank), `answer_types.py` (`as_number`, `as_pair`) and `answers.py` (the
checkers). Each chapter's exercise set is that chapter's `exercises.py` (`chunking/exercises.py`, ...).

Feedback a learner reads is written as whole sentences with named `{placeholders}`, each in one place,
marked with `N_` where it is written and translated (core/i18n.py: gettext, domain "longctx_lab") when it
is shown. An exercise's title, question, hints and solution are such templates too, filled from its `values`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .i18n import DOMAIN, N_, tr

__all__ = ["____", "CheckResult", "Checker", "DOMAIN", "Exercise", "Invalid", "N_", "is_placeholder", "shown"]

def _(message: str) -> str:
    """The sentence in the learner's language (core.i18n: gettext domain "longctx_lab"; English without a catalogue)."""
    return tr(message)


def _say(template: str, **fields: Any) -> str:
    """Translate a whole-sentence template, then fill its named placeholders."""
    return _(template).format(**fields)


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


class Invalid(str):
    """A checker's message for an answer that is not a valid answer at all: the wrong type, NaN, out of range.

    It is a `str`, so code that treats a checker's result as text keeps working; `Exercise.check` reports it
    with the status "invalid" instead of "wrong".
    """

    __slots__ = ()


_MARKS = {"correct": N_("✔ correct"), "wrong": N_("✘ not yet"), "invalid": N_("✘ invalid"),
          "not attempted": N_("… not attempted")}
_NOT_ATTEMPTED = N_("replace ____ with your answer, then run the cell again.")
_WELL_DONE = N_("{title} — well done.")
_STUCK = N_("{problem} (Stuck? call .hint())")
_UNCHECKABLE = N_("that answer could not be checked ({error}).")
_HINT = N_("Hint {number}/{total}: {hint}")
_EXERCISE = N_("Exercise")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: status is "correct", "wrong", "invalid" or "not attempted"."""

    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        return f"{_(_MARKS.get(self.status, self.status))}: {self.message}"


Checker = Callable[[Any], "str | None"]


@dataclass
class Exercise:
    """One exercise: a question, a checker, hints revealed one at a time, and a worked solution.

    Title, question, hints and solution are English templates marked with `N_`, shown in the learner's
    language with their {placeholders} filled from `values` (numbers the kit computed).

    Taught in 00_start_here, § Exercises.
    """

    title: str
    question: str
    checker: Checker
    hints: Sequence[str]
    solution_text: str
    values: Mapping[str, Any] = field(default_factory=dict)
    _hints_shown: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if not callable(self.checker):
            raise TypeError(f"checker must be callable, got {type(self.checker).__name__}")
        if not self.hints:
            raise ValueError(f"exercise {self.title!r} needs at least one hint")

    def check(self, answer: Any) -> CheckResult:
        """Check `answer`: a `____` placeholder is "not attempted", a wrong answer gets a teaching message,
        an answer of the wrong type or outside the valid range is "invalid". Never raises."""
        try:
            blank = is_placeholder(answer)
        except Exception:  # an object whose isinstance machinery misbehaves is still an answer to judge
            blank = False
        if blank:
            return CheckResult("not attempted", _(_NOT_ATTEMPTED))
        try:
            problem = self.checker(answer)
        except Exception as exc:  # a checker must not raise; if one does, the learner still gets a verdict
            problem = _say(_UNCHECKABLE, error=_clip(f"{type(exc).__name__}: {exc}", 120))
        if problem is None:
            return CheckResult("correct", _say(_WELL_DONE, title=self._text(self.title)))
        if isinstance(problem, Invalid):
            return CheckResult("invalid", str(problem))
        return CheckResult("wrong", _say(_STUCK, problem=problem))

    def hint(self) -> str:
        """The next hint (each call reveals one more, from a nudge to nearly the answer)."""
        shown_so_far = min(self._hints_shown, len(self.hints) - 1)
        self._hints_shown = shown_so_far + 1
        return _say(_HINT, number=shown_so_far + 1, total=len(self.hints),
                    hint=self._text(self.hints[shown_so_far]))

    def solution(self) -> str:
        """The worked solution (try check() and hint() first)."""
        return self._text(self.solution_text)

    def shown_question(self) -> str:
        """The title and question as the learner sees them, in the learner's language."""
        return f"{_(_EXERCISE)} — {self._text(self.title)}\n{self._text(self.question)}"

    def _text(self, template: str) -> str:
        return tr(template, **self.values) if self.values else tr(template)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.shown_question())


# ---------------------------------------------------------------------------------------------- answer types

def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def shown(value: Any, limit: int = 60) -> str:
    """How an answer is quoted back to the learner: its repr, shortened; never raises (huge ints, odd objects)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        try:
            return f"{float(value):.6g}"
        except OverflowError:
            return f"~1e+{int(value.bit_length() * math.log10(2))}" if value > 0 else \
                f"-~1e+{int((-value).bit_length() * math.log10(2))}"
    if isinstance(value, float):
        return f"{value:.10g}" if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= limit - 3 else value[:limit - 4] + "…")
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    return _clip(" ".join(text.split()), limit)
