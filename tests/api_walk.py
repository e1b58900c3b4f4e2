"""The machinery of the generated bad-input test: enumerate the public API, derive bad values, call with a time bound.

`public_callables()` lists every public callable (root names and each chapter's widgets, plots and
exercises), so a new function shows up here by itself and fails the test until it has an example in
`tests/api_examples.py`. `bad_values(param, annotation, default)` derives, from a parameter's annotation,
default and name, the values a new user tries: the wrong type, a bool for an int, a float for an int,
None where None is not allowed, NaN/inf, sizes 0, -1 and 10**12, empty inputs, a bare str for a list.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import signal
from contextlib import contextmanager
from pathlib import Path

import torch

import longctx_lab

CHAPTERS = ["start_here", "chunking", "segment_loss", "attention", "multi_gpu_scaling", "compression",
            "context_extension", "your_own_model"]
KINDS = ["widgets", "plots", "exercises"]
ROOT_NAMES = [line.strip() for line in (Path(__file__).parent / "public_names.txt").read_text().splitlines()
              if line.strip()]


def public_callables() -> dict[str, object]:
    """Every public callable, keyed by its import name ("ChunkPlan", "chunking.widgets.chunk_panel")."""
    found = {}
    for name in ROOT_NAMES:
        obj = getattr(longctx_lab, name)
        if callable(obj) and not inspect.ismodule(obj):
            found[name] = obj
    for chapter in CHAPTERS:
        for kind in KINDS:
            if importlib.util.find_spec(f"longctx_lab.{chapter}.{kind}") is None:
                continue  # a chapter still being written (test_layout insists on all three once its notebook exists)
            module = importlib.import_module(f"longctx_lab.{chapter}.{kind}")
            for name in module.__all__:
                obj = getattr(module, name)
                if callable(obj):
                    found[f"{chapter}.{kind}.{name}"] = obj
    return found


def exercises() -> dict[str, object]:
    """Every exercise of every chapter, keyed "chapter.name"."""
    found = {}
    for chapter in CHAPTERS:
        if importlib.util.find_spec(f"longctx_lab.{chapter}.exercises") is None:
            continue
        module = importlib.import_module(f"longctx_lab.{chapter}.exercises")
        for name in module.__all__:
            obj = getattr(module, name)
            if type(obj).__name__ == "Exercise":
                found[f"{chapter}.{name}"] = obj
    return found


def parameters(obj) -> list[inspect.Parameter]:
    """The parameters a caller can pass by name (no *args/**kwargs), or [] where there is no signature."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [p for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


class NotAModel:
    """What a learner passes as a model by mistake: an object that is not a torch.nn.Module."""

    def __repr__(self) -> str:
        return "NotAModel()"


MODEL_NAMES = {"model", "teacher", "encoder", "eager_model"}
TOKENIZER_NAMES = {"tokenizer", "encoder_tokenizer"}
ID_NAMES = {"input_ids", "ids", "seq", "sequences", "segments"}
TEXT_LIST_NAMES = {"texts"}
TEXT_NAMES = {"text", "needle", "query", "phrase", "key", "filler"}
SIZE_HINTS = ("n", "k", "m", "size", "len", "length", "count", "batch", "steps", "repeat", "window", "chunk",
              "span", "world", "heads", "layers", "dim", "tokens", "positions", "group", "stride", "bits")

# Each bad value is (value, kind): "type" and "value" must raise ValueError/TypeError naming the parameter;
# "range" may also return normally (0, -1 or a huge size can be a legitimate setting).
NAN, INF = float("nan"), float("inf")


def _base(annotation: str) -> tuple[str, bool]:
    parts = [p.strip() for p in annotation.replace("Optional[", "").rstrip("]").split("|")]
    optional = "None" in parts
    parts = [p for p in parts if p != "None"]
    return (parts[0] if len(parts) == 1 else " | ".join(parts)), optional


def bad_values(param: inspect.Parameter) -> list[tuple[object, str]]:
    """The bad values a new user tries for `param`, from its annotation, default and name."""
    name = param.name
    annotation = param.annotation if isinstance(param.annotation, str) else (
        "" if param.annotation is inspect.Parameter.empty else getattr(param.annotation, "__name__", ""))
    base, optional = _base(annotation) if annotation else ("", False)
    optional = optional or param.default is None
    values: list[tuple[object, str]] = []
    if name in MODEL_NAMES:
        values += [(NotAModel(), "type"), ("model", "type")]
    elif name in TOKENIZER_NAMES:
        values += [(3, "type")]
    elif name in ID_NAMES:
        values += [([1.5, 2.5, 3.5], "type"), ("abc", "type"), (torch.tensor([1.5, 2.5, 3.5]), "type")]
    elif name in TEXT_LIST_NAMES or base == "list[str]":
        values += [("a sentence", "type"), ([], "range"), ([3, 4], "type")]
    elif base == "int":
        values += [("3", "type"), (2.0, "type"), (True, "type"), (NAN, "type"), (0, "range"), (-1, "range"),
                   (10**12, "range")]
    elif base in ("float", "int | float", "float | int"):
        values += [("3", "type"), (True, "type"), (NAN, "value"), (INF, "value"), (-INF, "value"),
                   (0.0, "range"), (-1.0, "range"), (1e12, "range")]
    elif base == "str" and name not in TEXT_NAMES:
        values += [(3, "type"), ("no such choice", "range")]
    elif base == "str":
        values += [(3, "type"), ("", "range"), ("中文文本，还有表情 🎉🎉", "range")]
    elif base == "bool":
        values += [("yes", "type"), (None if not optional else "no", "type"), (2, "type")]
    elif base == "torch.Tensor":
        values += [("abc", "type"), (torch.empty(0), "range"), (torch.tensor(NAN), "range"),
                   (torch.full((2, 3), NAN), "range")]
    if not optional and param.default is not inspect.Parameter.empty and not any(v is None for v, _ in values):
        values.append((None, "type"))
    elif not optional and base and not any(v is None for v, _ in values):
        values.append((None, "type"))
    return values


class CallTimeout(BaseException):
    """Raised inside a call that ran past its time bound (a BaseException, so no `except Exception` hides it)."""


@contextmanager
def time_bound(seconds: float):
    """Interrupt the block with CallTimeout after `seconds` (SIGALRM; the main thread on POSIX)."""
    def interrupt(_signum, _frame):
        raise CallTimeout(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def names_parameter(message: str, name: str) -> bool:
    """Whether an error message names the parameter (as a word: `k` in "k=0 ...", not the k of "kit")."""
    import re

    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def is_finite_number(x) -> bool:
    return isinstance(x, float) and math.isfinite(x)
