"""`@checked`: check every argument against its annotation before the body runs, in checks.py's style.

The annotations a public function already has say what it accepts; `@checked` enforces them on each
call, so a wrong type never reaches torch: `int` (a bool or float is not an int), `float` (finite; a
bool is not a number), `str`, `bool`, `torch.Tensor`, `list[str]` (a bare str is refused), sequences
(not a str), mappings, callables, classes, and `X | None`. Bounds come as keyword arguments:
`@checked(k=(1, None), span=(1, MAX_SIZE))` (ints and floats, closed ranges; a third item True
opens the lower bound, a fourth True lets a float be +inf). Unannotated parameters
named `model`/`teacher`/`encoder` must be an nn.Module, `tokenizer` a tokenizer. On a class, it checks
the constructor's arguments (a dataclass's fields).
"""
from __future__ import annotations

import collections.abc as abc
import functools
import inspect
import math
import numbers
import sys
import os
import types
import typing
from typing import Any

import torch

from .checks import (as_bool, as_float, as_int, as_texts, check_ids_in_vocab, check_module, check_tokenizer,
                     short, vocab_size)

__all__ = ["MAX_SIZE", "checked", "check_value"]

MAX_SIZE = 2**31 - 1  # no size in the kit is larger; sizes past it would ask for terabytes
_MODEL_NAMES = {"model", "teacher", "encoder", "eager_model"}
_TOKENIZER_NAMES = {"tokenizer", "encoder_tokenizer"}
_NONE = type(None)
_ID_NAMES = {"input_ids", "ids", "segments", "targets", "sequences"}
_UNBOUNDED = ("bytes", "seed", "elements", "params", "flops")  # ints that may legitimately pass MAX_SIZE
_SEQUENCES = (list, tuple, abc.Sequence, abc.Iterable, abc.Collection)


def _describe(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _is_float(name: str, value: Any, bounds) -> bool:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got bool {value!r}")
    if isinstance(value, (torch.Tensor,)) or type(value).__module__ == "numpy":
        if getattr(value, "ndim", None) == 0 or getattr(value, "shape", None) == ():
            value = value.item()
    if not isinstance(value, numbers.Real):
        return False
    low, high, *flags = bounds or (None, None)
    low_open, allow_inf = (list(flags) + [False, False])[:2]
    if allow_inf and value == math.inf:  # e.g. a link with no per-byte cost: bandwidth = inf
        return True
    as_float(name, value, low, high, low_open=bool(low_open))
    return True


def _check_items(name: str, value: Any, item_hint: Any) -> None:
    if item_hint is int and isinstance(value, torch.Tensor) and (value.dtype.is_floating_point or value.is_complex()):
        raise TypeError(f"{name} must hold ints, got a tensor of dtype {value.dtype}")
    if item_hint in (int, float, str) and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_value(f"{name}[{i}]", item, item_hint)


def _resolve(hint: Any) -> tuple[Any, tuple]:
    origin = typing.get_origin(hint)
    return (origin or hint), typing.get_args(hint)


def check_value(name: str, value: Any, hint: Any, bounds: tuple | None = None) -> None:
    """TypeError/ValueError naming `name` unless `value` fits the annotation `hint` (and `bounds`)."""
    if hint is Any or hint is inspect.Parameter.empty:
        return
    origin, args = _resolve(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not _NONE]
        if value is None:
            if _NONE in args:
                return
            raise TypeError(f"{name} must be {' or '.join(map(_describe, options))}, got None")
        errors = []
        for option in options:
            try:
                check_value(name, value, option, bounds)
                return
            except (TypeError, ValueError) as exc:
                errors.append(exc)
        value_errors = [e for e in errors if isinstance(e, ValueError)]
        raise (value_errors or errors)[0]
    if origin is int:
        low, high = (bounds or (None, None))[:2]
        if high is None and not any(word in name for word in _UNBOUNDED):
            high = MAX_SIZE
        as_int(name, value, low, high)
    elif origin is float:
        if not _is_float(name, value, bounds):
            raise TypeError(f"{name} must be a number, got {type(value).__name__} {short(value)}")
    elif origin is bool:
        as_bool(name, value)
    elif origin is str:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {type(value).__name__} {short(value)}")
    elif origin is list and args == (str,):
        as_texts(name, value)
    elif origin in (dict, abc.Mapping):
        if not isinstance(value, abc.Mapping):
            raise TypeError(f"{name} must be a dict, got {type(value).__name__} {short(value)}")
    elif origin in _SEQUENCES:
        text = isinstance(value, (str, bytes)) and bool(args)  # a bare Sequence may be a str; Sequence[x] not
        if text or isinstance(value, abc.Mapping) or not hasattr(value, "__iter__"):
            raise TypeError(f"{name} must be a {_describe(origin)} of values, got {type(value).__name__} "
                            f"{short(value)}")
        if args:
            _check_items(name, value, args[0])
    elif origin is abc.Callable:
        if not callable(value):
            raise TypeError(f"{name} must be callable, got {type(value).__name__} {short(value)}")
    elif origin is os.PathLike:
        if not isinstance(value, os.PathLike):
            raise TypeError(f"{name} must be a path, got {type(value).__name__} {short(value)}")
    elif origin is torch.Tensor:
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__} {short(value)}")
        if value.numel() == 0:
            raise ValueError(f"{name} is empty (shape {tuple(value.shape)}); valid: a non-empty tensor")
        if name in _ID_NAMES and (value.dtype.is_floating_point or value.is_complex() or value.dtype == torch.bool):
            raise TypeError(f"{name} must hold integer token ids, got dtype {value.dtype}")
    elif isinstance(origin, type) and origin.__module__ not in ("typing", "collections.abc"):
        if not isinstance(value, origin):
            raise TypeError(f"{name} must be a {origin.__name__}, got {type(value).__name__} {short(value)}")


def _hints(func, module: str | None, fields: dict | None = None) -> dict[str, Any]:
    """Each parameter's annotation, evaluated in the function's module; one that cannot be evaluated is skipped."""
    hints = {}
    namespace = dict(vars(sys.modules[module]) if module in sys.modules else getattr(func, "__globals__", {}))
    namespace.setdefault("torch", torch)
    for param in inspect.signature(func).parameters.values():
        annotation = param.annotation
        if annotation is inspect.Parameter.empty and fields:
            annotation = fields.get(param.name, annotation)
        if isinstance(annotation, typing.ForwardRef):
            annotation = annotation.__forward_arg__
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # noqa: S307 - the kit's own annotations
            except Exception:
                continue
        hints[param.name] = annotation
    return hints


def _wrap(func, bounds: dict, module: str | None = None, skip_first: bool = False, fields: dict | None = None):
    signature = inspect.signature(func)
    first = next(iter(signature.parameters), None) if skip_first else None
    cache: dict[str, dict] = {}

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if "hints" not in cache:
            cache["hints"] = _hints(func, module or func.__module__, fields)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{func.__name__}(): {exc}") from None
        for name, value in bound.arguments.items():
            param = signature.parameters[name]
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or name == first:
                continue
            if value is param.default and value is None:
                continue
            hint = cache["hints"].get(name, inspect.Parameter.empty)
            if hint is inspect.Parameter.empty:
                if name in _MODEL_NAMES:
                    check_module(value, name)
                elif name in _TOKENIZER_NAMES:
                    check_tokenizer(value, name)
                elif name in _ID_NAMES and isinstance(value, (str, bytes)):
                    raise TypeError(f"{name} must be token ids (a list of ints or an integer tensor), got str "
                                    f"{short(value)}")
                continue
            check_value(name, value, hint, bounds.get(name))
        _check_pairing(bound.arguments)
        return func(*args, **kwargs)

    return wrapper


def _check_pairing(arguments: dict) -> None:
    """A model's vocabulary must cover its tokenizer and its token ids (the symptom of a mismatched pair)."""
    model = next((arguments[n] for n in ("model", "encoder", "teacher") if n in arguments), None)
    if not isinstance(model, torch.nn.Module):
        return
    size = vocab_size(model)
    tokenizer = next((arguments[n] for n in _TOKENIZER_NAMES if n in arguments), None)
    if size is not None and tokenizer is not None and hasattr(tokenizer, "__len__") and len(tokenizer) > size:
        raise ValueError(f"tokenizer has {len(tokenizer)} tokens but the model's vocabulary has vocab_size={size}: "
                         "its ids would fall outside the embedding (model paired with another model's tokenizer?)")
    ids = arguments.get("input_ids")
    if isinstance(ids, (list, tuple)) and ids and all(isinstance(t, int) and not isinstance(t, bool) for t in ids):
        ids = torch.tensor(ids)
    if isinstance(ids, torch.Tensor) and not ids.dtype.is_floating_point and ids.dtype != torch.bool:
        check_ids_in_vocab(ids, model, tokenizer)


def checked(func=None, **bounds):
    """Decorate a function (or class) so its arguments are checked against their annotations, then `bounds`."""
    def decorate(target):
        if isinstance(target, type) and issubclass(target, tuple):  # a NamedTuple is built by __new__
            target.__new__ = staticmethod(_wrap(target.__new__, bounds, target.__module__, skip_first=True,
                                               fields=dict(getattr(target, "__annotations__", {}))))
            return target
        if isinstance(target, type):
            target.__init__ = _wrap(target.__init__, bounds, target.__module__, skip_first=True)
            return target
        return _wrap(target, bounds)

    return decorate(func) if func is not None else decorate
