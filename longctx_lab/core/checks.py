"""Argument checks shared by every chapter, in one style: the argument, the value, the valid range.

A wrong type raises TypeError ("k must be an int, got float 2.0"), a value outside its range raises
ValueError ("k=0 is out of range; valid: k ≥ 1"). A bool is never a number here. Checks run before
any model call or allocation, so a learner sees what to change instead of an error from deep inside.
"""
from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any, Sequence

import torch

__all__ = ["as_bool", "as_float", "as_ids", "as_int", "as_int_list", "as_texts", "check_causal_lm", "check_choice",
           "check_id_sequences",
           "check_finite", "check_ids_in_vocab", "check_length", "check_module", "check_ordered", "check_prob_rows",
           "check_tensor", "check_tokenizer", "short", "vocab_size"]

_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxtuple = 40, 40, 6, 6


def short(value: Any) -> str:
    """A shortened repr for error messages: long strings, lists and tensors are cut with "..."."""
    if isinstance(value, torch.Tensor):
        return f"tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
    try:
        return _SHORT.repr(value)
    except Exception:  # an object whose repr fails is still named
        return f"<{type(value).__name__}>"


def _valid(name: str, low, high, low_sign: str = "≤", high_sign: str = "≤") -> str:
    """The valid range as a reader writes it: "1 ≤ k ≤ 10", "k ≥ 1", "k ≤ 10"."""
    if low is not None and high is not None:
        return f"{low} {low_sign} {name} {high_sign} {high}"
    if low is not None:
        return f"{name} {'≥' if low_sign == '≤' else '>'} {low}"
    if high is None:
        return "a finite number"
    return f"{name} {high_sign} {high}"


def _out_of_range(name: str, value: Any, valid: str, note: str) -> ValueError:
    return ValueError(f"{name}={value!r} is out of range; valid: {valid}" + (f" ({note})" if note else ""))


def as_int(name: str, value: Any, low: int | None = None, high: int | None = None, note: str = "") -> int:
    """`value` as a plain int in [low, high] (either bound may be None), or an error naming `name` and the range.

    NumPy and other integral numbers are accepted and returned as int; bools and floats are not.
    `note` is appended in parentheses, e.g. why the bound is what it is ("k - 1", "the model's positions").
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {short(value)}")
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
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {short(value)}")
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or too_low or too_high:
        valid = _valid(name, low, high, "<" if low_open else "≤", "<" if high_open else "≤")
        raise _out_of_range(name, value, valid, note)
    return number


def as_bool(name: str, value: Any) -> bool:
    """`value` when it is a bool (NumPy's too), else a TypeError: "yes", 1 and None are not switches."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {short(value)}")


def check_choice(name: str, value: Any, choices: Sequence) -> Any:
    """`value` itself when it is one of `choices`, else a ValueError listing them."""
    try:
        known = value in choices
    except TypeError:  # an unhashable value looked up in a dict or set
        known = False
    if not known:
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
    can_generate = getattr(model, "can_generate", None)
    if callable(can_generate) and not can_generate():
        kind = getattr(model.config, "model_type", "?")
        raise ValueError(f"model is {type(model).__name__} (model_type={kind!r}), an encoder without a next-token head; "
                         "this needs a causal LM (e.g. ...ForCausalLM) that predicts each token from the ones before it")
    return next(model.parameters()).device, getattr(model.config, "max_position_embeddings", None)


def check_length(name: str, length: int, max_positions: int | None, why: str) -> None:
    """ValueError when `length` tokens exceed the model's `max_positions` (no limit when None)."""
    if max_positions is not None and length > max_positions:
        raise ValueError(f"{name}={length} exceeds the model's max_position_embeddings={max_positions} ({why})")


def as_texts(name: str, value: Any, allow_empty: bool = False) -> list[str]:
    """`value` as a list of str; a bare str is refused (it would be read letter by letter), so is a non-str item."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be a list of texts, got a single str {short(value)}; wrap it: [text]")
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of texts (str), got {type(value).__name__} {short(value)}")
    bad = next((i for i, item in enumerate(value) if not isinstance(item, str)), None)
    if bad is not None:
        raise TypeError(f"{name}[{bad}] must be a str, got {type(value[bad]).__name__} {short(value[bad])}")
    if not value and not allow_empty:
        raise ValueError(f"{name} is empty; give at least one text")
    return list(value)


def as_int_list(name: str, value: Any, low: int | None = None, high: int | None = None,
                allow_empty: bool = False) -> list[int]:
    """`value` (a list, tuple, range, array or 1-D tensor of ints) as a list of ints inside [low, high]."""
    if isinstance(value, torch.Tensor):
        if value.dtype.is_floating_point or value.dtype == torch.bool or value.is_complex() or value.dim() > 1:
            raise TypeError(f"{name} must hold ints, got {short(value)}")
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") or isinstance(value, dict):
        raise TypeError(f"{name} must be a list of ints, got {type(value).__name__} {short(value)}")
    items = list(value)
    if not items and not allow_empty:
        raise ValueError(f"{name} is empty; give at least one value")
    return [as_int(f"{name}[{i}]", item, low, high) for i, item in enumerate(items)]


def check_tensor(name: str, value: Any, dims: int | Sequence[int] | None = None, floating: bool | None = None,
                 nonempty: bool = True) -> torch.Tensor:
    """`value` when it is a tensor with one of the given numbers of dims and the right kind of dtype, else an error."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__} {short(value)}")
    allowed = (dims,) if isinstance(dims, int) else dims
    if allowed is not None and value.dim() not in allowed:
        raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dims, got shape {tuple(value.shape)}")
    if floating is True and not value.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if floating is False and (value.dtype.is_floating_point or value.is_complex()):
        raise TypeError(f"{name} must be an integer tensor, got dtype {value.dtype}")
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)})")
    return value


def check_finite(name: str, value: torch.Tensor) -> torch.Tensor:
    """`value` when every entry is finite, else a ValueError counting the NaN/inf entries."""
    if value.dtype.is_floating_point and not bool(torch.isfinite(value).all()):
        bad = int((~torch.isfinite(value)).sum())
        raise ValueError(f"{name} holds {bad} NaN/inf value(s) (shape {tuple(value.shape)}); valid: finite numbers")
    return value


def check_prob_rows(name: str, value: Any, atol: float = 1e-3) -> torch.Tensor:
    """`value` when its last dim holds probability rows (finite, ≥ 0, summing to 1), else a ValueError."""
    value = check_finite(name, check_tensor(name, value, floating=True))
    if bool((value < 0).any()):
        raise ValueError(f"{name} holds negative entries (min {float(value.min()):.3g}); valid: probabilities ≥ 0")
    sums = value.double().sum(-1)
    worst = float((sums - 1).abs().max())
    if worst > atol:
        raise ValueError(f"{name} rows must each sum to 1 (softmax output); one sums to "
                         f"{float(sums.flatten()[(sums - 1).abs().flatten().argmax()]):.4g}")
    return value


def check_ordered(low_name: str, low: float, high_name: str, high: float, strict: bool = False) -> None:
    """ValueError unless low ≤ high (low < high when `strict`): an inverted range names both ends."""
    if low > high or (strict and low == high):
        sign = "<" if strict else "≤"
        raise ValueError(f"{low_name}={low!r} and {high_name}={high!r} are inverted; valid: {low_name} {sign} {high_name}")


def check_tokenizer(tokenizer: Any, name: str = "tokenizer") -> None:
    """TypeError unless `tokenizer` looks like a transformers tokenizer (callable with encode and decode)."""
    if not (callable(tokenizer) and hasattr(tokenizer, "encode") and hasattr(tokenizer, "decode")):
        raise TypeError(f"{name} must have encode and decode (a transformers tokenizer, e.g. from load_minilm()), "
                        f"got {type(tokenizer).__name__} {short(tokenizer)}")


def vocab_size(model: Any) -> int | None:
    """The model's vocabulary size (config.vocab_size, else its input embedding's rows), or None."""
    config = getattr(model, "config", None)
    size = getattr(config, "vocab_size", None)
    if isinstance(size, int):
        return size
    embeddings = getattr(model, "get_input_embeddings", None)
    try:
        return embeddings().num_embeddings if embeddings is not None else None
    except Exception:
        return None


def check_ids_in_vocab(ids: torch.Tensor, model: Any, tokenizer: Any = None, name: str = "input_ids") -> None:
    """ValueError when a token id is negative or ≥ the model's vocabulary size, naming both sizes.

    The usual cause is a model paired with another model's tokenizer, so the message says so.
    """
    size = vocab_size(model)
    if size is None or ids.numel() == 0:
        return
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        tok = f", the tokenizer has {len(tokenizer)} tokens" if tokenizer is not None and hasattr(tokenizer, "__len__") \
            else ""
        raise ValueError(f"{name} holds token id {bad}, outside the model's vocabulary (vocab_size={size}{tok}); "
                         f"valid: 0 ≤ id < {size} (model paired with another model's tokenizer?)")


def check_id_sequences(name: str, sequences: Any) -> None:
    """TypeError unless every sequence holds integer token ids: a float is not a token id (it would be truncated)."""
    items = [sequences] if isinstance(sequences, torch.Tensor) and sequences.dim() == 1 else sequences
    if not isinstance(items, (list, tuple, torch.Tensor)):
        return
    for i, seq in enumerate(items):
        if isinstance(seq, torch.Tensor):
            if seq.dtype.is_floating_point or seq.is_complex() or seq.dtype == torch.bool:
                raise TypeError(f"{name}[{i}] must hold integer token ids, got dtype {seq.dtype}")
        elif isinstance(seq, (list, tuple)):
            bad = next((t for t in seq if isinstance(t, bool) or not isinstance(t, numbers.Integral)), None)
            if bad is not None:
                raise TypeError(f"{name}[{i}] must hold int token ids, got {type(bad).__name__} {short(bad)}")
