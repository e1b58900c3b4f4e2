"""Heavy results kept on disk, so re-running a chapter (or running its other edition) skips work already done.

A function decorated with `@remembered` computes as usual the first time. When that took a while
(`MIN_SECONDS`), its result is saved under $LONGCTX_LAB_CACHE/results/, keyed by everything the result
depends on: the function; every argument by its parameter's name, defaults filled in (tensors and model
weights by a hash of their bytes, models also by their config, attention implementation and train/eval mode,
tokenizers by their vocabulary); the kit's own code (a hash of every
module, so an edited function computes afresh); the versions of torch and transformers; the settings that
change last digits (thread count, ONEDNN_MAX_CPU_ISA, MKL_CBWR); and the learner's own text file when one is
in use (`use_text`: functions read it through load_text). Change any of them and the key changes. An argument
the store cannot fingerprint (a lambda, a sparse tensor) makes the call compute without the store.

Two kernels that need the same result at once (the English and the Chinese edition of a chapter under
`make test`) compute it once: the second waits on a file lock, then reads it. `LONGCTX_LAB_RESULTS=off`
turns the store off; `make clean-cache` empties it. Timings are never stored: they describe this run, and a cost
measurement runs inside `computing_afresh()`, so it times the computation, never a read from disk.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import os
import platform
import time
import weakref
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from .own_text import own_text_path

__all__ = ["computing_afresh", "remembered", "results_dir"]

MIN_SECONDS = 0.5  # quicker results are recomputed: storing them would cost about as much as they do
PACKAGE = Path(__file__).resolve().parent.parent
_module_digests: "weakref.WeakKeyDictionary[torch.nn.Module, tuple]" = weakref.WeakKeyDictionary()
_state: dict[str, Any] = {"code": None, "afresh": 0}


class Unfingerprintable(TypeError):
    """An argument whose identity the store cannot hash; the call then computes without the store."""


def results_dir() -> Path:
    """Where stored results live: $LONGCTX_LAB_CACHE/results (default ~/.cache/longctx_lab/results)."""
    return Path(os.environ.get("LONGCTX_LAB_CACHE") or Path.home() / ".cache" / "longctx_lab") / "results"


def _enabled() -> bool:
    if _state["afresh"]:
        return False
    return os.environ.get("LONGCTX_LAB_RESULTS", "on").strip().lower() not in ("off", "0", "false", "no")


@contextmanager
def computing_afresh() -> Iterator[None]:
    """Inside this block every @remembered function computes and stores nothing: what a cost measurement times.

    Timing a call whose result the store already holds would time a read from disk (and its memory peak
    would be the file's, not the computation's).
    """
    _state["afresh"] += 1
    try:
        yield
    finally:
        _state["afresh"] -= 1


def _code_digest() -> str:
    """A hash of every module of the kit: a changed line anywhere makes every stored result stale."""
    if _state["code"] is None:
        digest = hashlib.blake2b(digest_size=16)
        for path in sorted(PACKAGE.rglob("*.py")):
            digest.update(path.relative_to(PACKAGE).as_posix().encode())
            digest.update(path.read_bytes())
        _state["code"] = digest.hexdigest()
    return _state["code"]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


def _text_in_use() -> tuple:
    """The learner's own text file, if any: load_text("long_document") inside a function reads it, not an argument."""
    path = own_text_path()
    if path is None:
        return ()
    try:
        stat = path.stat()
    except OSError:
        return (str(path),)
    return (str(path), stat.st_size, stat.st_mtime_ns)  # an edited file is another text


def _environment() -> tuple:
    """What besides the arguments changes a result: its last digits (settings, versions), or the text it reads."""
    return (_code_digest(), torch.__version__, _version("transformers"), torch.get_num_threads(),
            os.environ.get("ONEDNN_MAX_CPU_ISA", ""), os.environ.get("MKL_CBWR", ""), platform.machine(),
            _text_in_use())


def _tensor_bytes(tensor: torch.Tensor, digest) -> None:
    if tensor.is_quantized:  # int8 weights of a quantized layer: their integers and how they map to floats
        scheme = tensor.qscheme()
        digest.update(f"quantized {scheme}".encode())
        if scheme in (torch.per_tensor_affine, torch.per_tensor_symmetric):
            digest.update(f"{tensor.q_scale()} {tensor.q_zero_point()}".encode())
        else:
            _tensor_bytes(tensor.q_per_channel_scales(), digest)
            _tensor_bytes(tensor.q_per_channel_zero_points(), digest)
        tensor = tensor.int_repr()
    if tensor.is_sparse or tensor.layout != torch.strided:
        raise Unfingerprintable(f"a {tensor.layout} tensor")
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    digest.update(f"tensor {flat.dtype} {tuple(tensor.shape)} {tensor.requires_grad}".encode())
    digest.update(flat.view(torch.uint8).numpy() if flat.numel() else b"")


def _module_digest(module: torch.nn.Module) -> bytes:
    """A hash of a module's class, mode and every tensor of its state; reused while no tensor changed in place."""
    state = module.state_dict(keep_vars=True)
    # Non-persistent buffers and the rotary embedding's settings too: use_rope_scaling swaps the rotary module
    # (new inv_freq, rope_type, attention_scaling) without touching the state dict or the config.
    state.update({f"buffer {name}": b for name, b in module.named_buffers() if f"{name}" not in state})
    rope = tuple((name, getattr(m, "rope_type", None), getattr(m, "attention_scaling", None), id(m))
                 for name, m in module.named_modules() if hasattr(m, "rope_type"))
    config = getattr(module, "config", None)
    # Eager and SDPA attention agree only to the last digits, and the choice is not in the config's JSON.
    attention = getattr(config, "_attn_implementation", None)
    versions = (rope, attention, module.training) + tuple(
        (name, id(t), t._version, t.data_ptr()) if isinstance(t, torch.Tensor) else (name, id(t))
        for name, t in state.items())
    known = _module_digests.get(module)
    if known is not None and known[0] == versions:
        return known[1]
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"module {type(module).__module__}.{type(module).__qualname__} {module.training}".encode())
    if config is not None and hasattr(config, "to_json_string"):
        digest.update(config.to_json_string().encode())
    digest.update(f"attention {attention}".encode())
    digest.update(repr([r[:3] for r in rope]).encode())
    for name, value in state.items():  # tensors, and the (weight, bias) tuples of quantized Linear layers
        digest.update(name.encode())
        fingerprint(value, digest)
    _module_digests[module] = (versions, digest.digest())
    return digest.digest()


def fingerprint(value: Any, digest) -> None:
    """Feed `value`'s identity into `digest`; raises Unfingerprintable for what cannot be hashed faithfully."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        digest.update(f"{type(value).__name__}:{value!r}".encode())
    elif isinstance(value, (tuple, list)):
        digest.update(f"{type(value).__name__}[{len(value)}]".encode())
        for item in value:
            fingerprint(item, digest)
    elif isinstance(value, dict):
        digest.update(f"dict[{len(value)}]".encode())
        for key in sorted(value, key=repr):
            fingerprint(key, digest)
            fingerprint(value[key], digest)
    elif isinstance(value, torch.Tensor):
        _tensor_bytes(value, digest)
    elif isinstance(value, np.ndarray):
        digest.update(f"ndarray {value.dtype} {value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, torch.nn.Module):
        digest.update(_module_digest(value))
    elif isinstance(value, (torch.dtype, torch.device)):
        digest.update(str(value).encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__qualname__.encode())
        fingerprint({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, digest)
    elif callable(getattr(value, "get_vocab", None)):  # a tokenizer: its class, name and whole vocabulary
        digest.update(f"tokenizer {type(value).__qualname__} {getattr(value, 'name_or_path', '')}".encode())
        fingerprint(sorted(value.get_vocab().items()), digest)
    else:
        raise Unfingerprintable(f"cannot fingerprint a {type(value).__name__}")


def _bound_arguments(function: Callable, args: tuple, kwargs: dict) -> dict:
    """Every argument by its parameter's name, defaults filled in: f(m, 512) and f(m, n=512) share one result."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
    except (TypeError, ValueError):  # a call the signature refuses, or a builtin without one: key it as written
        return {"args": list(args), "kwargs": kwargs}
    bound.apply_defaults()
    return dict(bound.arguments)


def result_key(function: Callable, args: tuple, kwargs: dict) -> str | None:
    """The file name a call's result is stored under, or None when an argument cannot be fingerprinted."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{function.__module__}.{function.__qualname__}".encode())
    try:
        fingerprint((_environment(), _bound_arguments(function, args, kwargs)), digest)
    except Unfingerprintable:
        return None
    return f"{function.__qualname__}-{digest.hexdigest()}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (no lock where fcntl is missing: Windows computes twice at worst)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load(path: Path) -> tuple[bool, Any]:
    if not path.exists():
        return False, None
    try:
        return True, torch.load(path, map_location="cpu", weights_only=False)  # our own files, written below
    except Exception:  # noqa: BLE001 - a truncated or foreign file is recomputed, never trusted
        return False, None


def remembered(function: Callable) -> Callable:
    """Decorate a heavy, deterministic function so its results are stored on disk and reused (see the module doc)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        key = result_key(function, args, kwargs) if _enabled() else None
        if key is None:
            return function(*args, **kwargs)
        folder = results_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.pt"
        with _locked(folder / f"{key}.lock"):
            found, result = _load(path)
            if found:
                return result
            start = time.perf_counter()
            result = function(*args, **kwargs)
            if time.perf_counter() - start >= MIN_SECONDS:
                partial = path.with_suffix(f".{os.getpid()}.tmp")
                torch.save(result, partial)
                os.replace(partial, path)  # readers see the whole file or none
        return result

    return wrapper
