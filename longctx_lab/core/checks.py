"""Argument checks shared by every chapter, in one style: the argument, the value, the valid range.

A wrong type raises TypeError ("k must be an int, got float 2.0"), a value outside its range raises
ValueError ("k=0 is out of range; valid: k ≥ 1"). A bool is never a number here. Checks run before
any model call or allocation, so a learner sees what to change instead of an error from deep inside.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import torch

__all__ = ["as_float", "as_ids", "as_int", "check_causal_lm", "check_choice", "check_length", "check_module"]


def _valid(name: str, low, high, low_sign: str = "≤", high_sign: str = "≤") -> str:
    """The valid range as a reader writes it: "1 ≤ k ≤ 10", "k ≥ 1", "k ≤ 10"."""
    if low is not None and high is not None:
        return f"{low} {low_sign} {name} {high_sign} {high}"
    if low is not None:
        return f"{name} {'≥' if low_sign == '≤' else '>'} {low}"
    return f"{name} {high_sign} {high}"


def _out_of_range(name: str, value: Any, valid: str, note: str) -> ValueError:
    return ValueError(f"{name}={value!r} is out of range; valid: {valid}" + (f" ({note})" if note else ""))


def as_int(name: str, value: Any, low: int | None = None, high: int | None = None, note: str = "") -> int:
    """`value` as a plain int in [low, high] (either bound may be None), or an error naming `name` and the range.

    NumPy and other integral numbers are accepted and returned as int; bools and floats are not.
    `note` is appended in parentheses, e.g. why the bound is what it is ("k - 1", "the model's positions").
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _out_of_range(name, value, _valid(name, low, high), note)
    return value


def as_float(name: str, value: Any, low: float | None = None, high: float | None = None, *,
             low_open: bool = False, high_open: bool = False, note: str = "") -> float:
    """`value` as a finite float inside the given bounds (open or closed), or an error naming `name` and the range.

    Probabilities and fractions are `as_float(name, p, 0, 1)`; a strictly positive scale is
    `as_float(name, s, 0, low_open=True)`. NaN and ±inf are always out of range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or too_low or too_high:
        valid = _valid(name, low, high, "<" if low_open else "≤", "<" if high_open else "≤")
        raise _out_of_range(name, value, valid, note)
    return number


def check_choice(name: str, value: Any, choices: Sequence) -> Any:
    """`value` itself when it is one of `choices`, else a ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not a valid choice; valid: {tuple(choices)}")
    return value


def check_module(model: Any, name: str = "model", example: str = "") -> None:
    """TypeError unless `model` is a torch.nn.Module; `example` says where one comes from ("load_minilm()")."""
    if not isinstance(model, torch.nn.Module):
        hint = f" (e.g. from {example})" if example else ""
        raise TypeError(f"{name} must be a torch.nn.Module{hint}, got {type(model).__name__}")


def as_ids(input_ids: Any, name: str = "input_ids") -> torch.Tensor:
    """Token ids of one sequence (a list of ints, a 1-D or (1, n) integer tensor) as a 1-D LongTensor of ≥ 2 ids.

    At least 2: one to condition on, one to score.
    """
    if isinstance(input_ids, (list, tuple)):
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in input_ids):
            raise TypeError(f"{name} as a list must hold ints (token ids)")
        input_ids = torch.tensor(input_ids, dtype=torch.long)
    if not isinstance(input_ids, torch.Tensor):
        raise TypeError(f"{name} must be a 1-D tensor or list of token ids, got {type(input_ids).__name__}")
    if input_ids.dtype.is_floating_point or input_ids.dtype == torch.bool or input_ids.is_complex():
        raise TypeError(f"{name} must hold integer token ids, got dtype {input_ids.dtype}")
    if input_ids.dim() == 2:
        if input_ids.shape[0] != 1:
            raise ValueError(f"{name} must be 1-D or (1, n); got batch of {input_ids.shape[0]} — score one sequence at a time")
        input_ids = input_ids[0]
    if input_ids.dim() != 1:
        raise ValueError(f"{name} must be 1-D or (1, n), got shape {tuple(input_ids.shape)}")
    if input_ids.numel() < 2:
        raise ValueError(f"{name} must hold at least 2 tokens (one to condition on, one to score), got {input_ids.numel()}")
    return input_ids.long()


def check_causal_lm(model: Any) -> tuple[torch.device, int | None]:
    """The device and max_position_embeddings (None if unset) of a transformers model, or a TypeError."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
        raise TypeError(f"model must be a transformers causal LM (nn.Module with .config), got {type(model).__name__}")
    return next(model.parameters()).device, getattr(model.config, "max_position_embeddings", None)


def check_length(name: str, length: int, max_positions: int | None, why: str) -> None:
    """ValueError when `length` tokens exceed the model's `max_positions` (no limit when None)."""
    if max_positions is not None and length > max_positions:
        raise ValueError(f"{name}={length} exceeds the model's max_position_embeddings={max_positions} ({why})")
