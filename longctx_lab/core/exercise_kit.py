"""Exercises with `check()`, layered `hint()` and `solution()`, shared by every chapter.

A learner's starter code assigns the placeholder `____`; checking it reads "not attempted", not
"wrong". A checker is a plain function: it returns None when the answer is right, a teaching message
(what to reconsider, not the answer) when it is wrong, and an `Invalid` message when the answer is not
a valid answer at all (a string where a number belongs, an overlap ≥ k). It must never raise.

The kit does the type handling once, for every checker: `as_number` turns whatever a learner typed
(Python and NumPy numbers, 0-d or 1-element tensors and arrays) into a plain int or float, or says in a
sentence why it cannot ("expected a whole number, got the string '8192'"); a bool is not a number here.
`NumberAnswer` and `PairAnswer` build checkers from the expected value and the chapter's anticipated
`Mistake`s, each with its own explanation. Chapter exercise sets live beside this file
(`exercises/chunking.py`, ...), one module per notebook.

Feedback a learner reads is written as whole sentences with named `{placeholders}`, each in one place,
marked with `N_` where it is written and translated with `_` (gettext, domain "longctx_lab") when it is
shown, so a catalogue can translate it later without touching the checkers.
"""
from __future__ import annotations

import decimal
import gettext
import math
import numbers
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Sequence

__all__ = ["____", "CheckResult", "Exercise", "Invalid", "Mistake", "NumberAnswer", "PairAnswer", "N_", "as_number",
           "expect_close", "expect_equal", "is_placeholder", "shown"]

DOMAIN = "longctx_lab"


def N_(message: str) -> str:
    """Mark a feedback sentence for translation where it is written (xgettext -k N_); `_` translates it when shown."""
    return message


def _(message: str) -> str:
    """The sentence in the learner's language: gettext's translation in domain "longctx_lab" (English without one)."""
    return gettext.dgettext(DOMAIN, message)


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
            return CheckResult("correct", _say(_WELL_DONE, title=self.title))
        if isinstance(problem, Invalid):
            return CheckResult("invalid", str(problem))
        return CheckResult("wrong", _say(_STUCK, problem=problem))

    def hint(self) -> str:
        """The next hint (each call reveals one more, from a nudge to nearly the answer)."""
        shown_so_far = min(self._hints_shown, len(self.hints) - 1)
        self._hints_shown = shown_so_far + 1
        return _say(_HINT, number=shown_so_far + 1, total=len(self.hints), hint=self.hints[shown_so_far])

    def solution(self) -> str:
        """The worked solution (try check() and hint() first)."""
        return self.solution_text

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(f"Exercise — {self.title}\n{self.question}")


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


# One sentence per kind of unusable answer, for each of the two kinds of number an exercise can ask for.
_NOT_A_NUMBER = {
    "none": (N_("expected a whole number, got None: did the expression you assigned return nothing "
                "(print() returns None)?"),
             N_("expected a number, got None: did the expression you assigned return nothing "
                "(print() returns None)?")),
    "bool": (N_("expected a whole number, got {answer}: a bool is not a number here."),
             N_("expected a number, got {answer}: a bool is not a number here.")),
    "numeric string": (N_("expected a whole number, got the string {answer}: remove the quotes."),
                       N_("expected a number, got the string {answer}: remove the quotes.")),
    "string": (N_("expected a whole number, got the string {answer}."),
               N_("expected a number, got the string {answer}.")),
    "nan": (N_("expected a whole number, got NaN (not a number): something in the computation that produced it "
               "went wrong, such as 0/0 or inf − inf."),
            N_("expected a number, got NaN (not a number): something in the computation that produced it "
               "went wrong, such as 0/0 or inf − inf.")),
    "inf": (N_("expected a whole number, got {answer}: an infinite value cannot be the answer."),
            N_("expected a number, got {answer}: an infinite value cannot be the answer.")),
    "complex": (N_("expected a whole number, got the complex number {answer}."),
                N_("expected a number, got the complex number {answer}.")),
    "tensor": (N_("expected a whole number, got a tensor with {count} elements (shape {shape}): "
                  "reduce it to the one number asked for, e.g. with .item()."),
               N_("expected a number, got a tensor with {count} elements (shape {shape}): "
                  "reduce it to the one number asked for, e.g. with .item().")),
    "array": (N_("expected a whole number, got a NumPy array with {count} elements (shape {shape}): "
                 "reduce it to the one number asked for, e.g. with .item()."),
              N_("expected a number, got a NumPy array with {count} elements (shape {shape}): "
                 "reduce it to the one number asked for, e.g. with .item().")),
    "other": (N_("expected a whole number, got a value of type {type}: {answer}."),
              N_("expected a number, got a value of type {type}: {answer}.")),
}
_NOT_WHOLE = N_("expected a whole number, got {answer}.")


def _unusable(case: str, whole: bool, **fields: Any) -> Invalid:
    return Invalid(_say(_NOT_A_NUMBER[case][0 if whole else 1], **fields))


def _looks_numeric(text: str) -> bool:
    try:
        float(text.strip().replace("_", ""))
    except (ValueError, OverflowError):
        return False
    return bool(text.strip())


def _real(value: Any) -> "int | float | None":
    """A real number as int (when integral) or float; None when `value` is not a real number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, decimal.Decimal):
        if value.is_nan():
            return math.nan
        if value.is_infinite() or value.adjusted() > 400:  # beyond any answer; and int() of 1E+999999 would hang
            return math.inf if value > 0 else -math.inf
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, numbers.Rational):
        if value.denominator == 1:
            return int(value.numerator)
        try:
            return float(value)
        except OverflowError:  # a finite fraction beyond float range: its integer part is as good an answer
            return int(value)
    if isinstance(value, numbers.Real):
        try:
            number = float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
        return int(number) if number.is_integer() else number
    return None


def as_number(answer: Any, whole: bool = False) -> "int | float | Invalid":
    """The learner's answer as a plain int (when integral) or float, or an `Invalid` sentence saying why not.

    Python, NumPy, Fraction and Decimal numbers of the same value give the same result; a 0-d or 1-element
    tensor or array counts as its element; None, bools, strings, containers, NaN and ±inf are refused with a
    sentence naming what was given. `whole` only changes the wording ("a whole number"); whether a fractional
    value is acceptable is the checker's decision (it may be an anticipated mistake first). Never raises.
    """
    value = answer
    try:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            if value.numel() != 1:
                return _unusable("tensor", whole, count=value.numel(), shape=tuple(value.shape))
            value = value.detach().cpu().reshape(()).item()
        numpy = sys.modules.get("numpy")
        if numpy is not None and isinstance(value, numpy.ndarray):
            if value.size != 1:
                return _unusable("array", whole, count=value.size, shape=tuple(value.shape))
            value = value.reshape(()).item()
        if numpy is not None and isinstance(value, numpy.generic) and not isinstance(value, (str, bytes)):
            value = value.item()
    except Exception:  # a tensor that cannot be read (meta device, ...) is not a number either
        return _unusable("other", whole, type=type(answer).__name__, answer=shown(answer))
    if value is None:
        return _unusable("none", whole)
    if isinstance(value, bool) or (numpy is not None and isinstance(value, numpy.bool_)):
        return _unusable("bool", whole, answer=shown(bool(value)))
    if isinstance(value, str):
        return _unusable("numeric string" if _looks_numeric(value) else "string", whole, answer=shown(value))
    number = _real(value)
    if number is None:
        if isinstance(value, numbers.Complex):
            return _unusable("complex", whole, answer=shown(value))
        return _unusable("other", whole, type=type(answer).__name__, answer=shown(answer))
    if isinstance(number, float) and math.isnan(number):
        return _unusable("nan", whole)
    if isinstance(number, float) and math.isinf(number):
        return _unusable("inf", whole, answer=shown(number))
    return number


_NOT_A_PAIR = N_("expected two numbers as a tuple (a, b), got {answer}.")
_PAIR_LENGTH = (N_("expected two numbers as a tuple (a, b), got {count} value: {answer}."),
                N_("expected two numbers as a tuple (a, b), got {count} values: {answer}."))
_PAIR_ITEM = (N_("the first of your two numbers is not usable: {problem}"),
              N_("the second of your two numbers is not usable: {problem}"))


def as_pair(answer: Any, whole: bool = False) -> "tuple | Invalid":
    """The answer as a tuple of two numbers (from a tuple, list, or 2-element tensor/array), or an `Invalid`."""
    items = answer
    try:
        torch, numpy = sys.modules.get("torch"), sys.modules.get("numpy")
        if (torch is not None and isinstance(answer, torch.Tensor)) or \
                (numpy is not None and isinstance(answer, numpy.ndarray)):
            items = list(answer.reshape(-1)) if answer.ndim == 1 else answer
    except Exception:
        items = answer
    if not isinstance(items, (tuple, list)):
        single = as_number(answer, whole)
        return Invalid(_say(_NOT_A_PAIR, answer=shown(single if not isinstance(single, Invalid) else answer)))
    if len(items) != 2:
        singular, plural = _PAIR_LENGTH
        template = gettext.dngettext(DOMAIN, singular, plural, len(items))
        return Invalid(template.format(count=len(items), answer=shown(answer)))
    pair = []
    for position, item in enumerate(items):
        number = as_number(item, whole)
        if isinstance(number, Invalid):
            return Invalid(_say(_PAIR_ITEM[position], problem=number))
        pair.append(number)
    return tuple(pair)


# ---------------------------------------------------------------------------------------------- checkers

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
        fields = {**self.fields, "answer": shown(number), "what": _(self.what)}
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
