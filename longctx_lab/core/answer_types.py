"""What a learner typed, as a plain number or pair, or an `Invalid` sentence saying why it cannot be one.

Part of the exercise kit (`exercise_kit.py`): every checker reads an answer through `as_number` or
`as_pair`, so the type handling is written once.
"""
from __future__ import annotations

import decimal
import math
import numbers
import sys
from typing import Any

from .exercise_kit import N_, Invalid, _say, shown

__all__ = ["as_number", "as_pair"]


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
        singular, plural = _PAIR_LENGTH  # two whole sentences (Chinese has one form for both)
        return Invalid(_say(singular if len(items) == 1 else plural, count=len(items), answer=shown(answer)))
    pair = []
    for position, item in enumerate(items):
        number = as_number(item, whole)
        if isinstance(number, Invalid):
            return Invalid(_say(_PAIR_ITEM[position], problem=number))
        pair.append(number)
    return tuple(pair)
