"""Loading a learner's own model: a bundled name, a local folder, or a Hugging Face hub id.

`load_pretrained` reads the config first (a few kilobytes), builds the model on torch's "meta" device to
count its parameters without allocating them, and refuses before any weight is read when the model
would not fit in the memory this machine has free. Offline, a hub id that is not in the local cache
fails with the three ways to get the files anyway (a mirror, ModelScope, a folder).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .checked import checked
from .checks import check_choice
from .models import default_device, load_minilm, load_smollm2, tiny_lm

__all__ = ["KINDS", "OfflineModelError", "estimate_model_bytes", "free_memory_bytes", "load_pretrained"]

BUNDLED = ("minilm", "smollm2", "tiny")
KINDS = ("causal-lm", "encoder")
HEADROOM = 0.8  # use at most this share of the free memory: activations and the tokenizer need the rest
OFFLINE_HELP = (
    "{name!r} is not a local folder and is not in the Hugging Face cache, and this machine is offline "
    "(HF_HUB_OFFLINE=1 or no network). Three ways to get it:\n"
    "  1. a mirror: set HF_ENDPOINT (for example HF_ENDPOINT=https://hf-mirror.com) before starting Python, "
    "then call load_pretrained({name!r}) again;\n"
    "  2. ModelScope: pip install modelscope, then\n"
    "     python -c \"from modelscope import snapshot_download; print(snapshot_download({name!r}))\"\n"
    "     and pass the folder it prints;\n"
    "  3. on a machine with access: huggingface-cli download {name} --local-dir my_model, copy the folder "
    "here, then load_pretrained(\"my_model\")."
)


class OfflineModelError(OSError):
    """A hub id asked for with no network and no cached copy; the message says how to get the files."""


def _is_offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


@checked
def free_memory_bytes(device: str | torch.device | None = None) -> int:
    """Bytes free on `device` now: the GPU's free memory on CUDA, the system's available memory on the CPU."""
    chosen = default_device(device)
    if chosen.type == "cuda":
        return int(torch.cuda.mem_get_info(chosen)[0])
    import psutil

    return int(psutil.virtual_memory().available)


def _dtype_for(device: torch.device) -> torch.dtype:
    """fp32 on a CPU (half precision is slow there without matrix units); bf16 on a GPU that has it, else fp16."""
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _kind_of(config) -> str:
    """'causal-lm' when the config names a language-model head (…ForCausalLM, …LMHeadModel), else 'encoder'."""
    architectures = getattr(config, "architectures", None) or []
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures) or getattr(config, "is_decoder", False):
        return "causal-lm"
    return "encoder"


def _auto_class(kind: str):
    from transformers import AutoModel, AutoModelForCausalLM

    return AutoModelForCausalLM if kind == "causal-lm" else AutoModel


@checked
def estimate_model_bytes(config, kind: str = "causal-lm", dtype: torch.dtype = torch.float32) -> int:
    """Bytes the model's parameters and buffers take in `dtype`, counted on the meta device (nothing allocated)."""
    check_choice("kind", kind, KINDS)
    with torch.device("meta"):
        skeleton = _auto_class(kind).from_config(config)
    tensors = list(skeleton.parameters()) + list(skeleton.buffers())
    itemsize = torch.empty((), dtype=dtype).element_size()
    return sum(t.numel() * (itemsize if t.is_floating_point() else t.element_size()) for t in tensors)


def _resolve(name_or_path: str) -> str:
    """A local folder as an absolute path, a cached or reachable hub id as is; OfflineModelError otherwise."""
    folder = Path(name_or_path).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ValueError(f"name_or_path={name_or_path!r} is a folder without a config.json; valid: a folder "
                             f"written by save_pretrained (config.json + weights + tokenizer files)")
        return str(folder.resolve())
    if folder.exists():
        raise ValueError(f"name_or_path={name_or_path!r} is a file; valid: a model folder, a hub id or one of {BUNDLED}")
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name_or_path)
    except HFValidationError as exc:
        raise ValueError(f"name_or_path={name_or_path!r} is neither a folder here nor a hub id ({exc}); valid: a model "
                         f"folder, a hub id such as 'HuggingFaceTB/SmolLM2-135M', or one of {BUNDLED}") from None
    cached = try_to_load_from_cache(name_or_path, "config.json")
    if isinstance(cached, str):
        return name_or_path  # transformers finds the cached files, offline too
    if _is_offline():
        raise OfflineModelError(OFFLINE_HELP.format(name=name_or_path))
    return name_or_path


@checked
def load_pretrained(name_or_path: str, kind: str | None = None, device: str | torch.device | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) for a bundled name ("minilm", "smollm2", "tiny"), a local model folder, or a hub id.

    `kind`: "causal-lm" or "encoder" (default: read from the config's architectures). The device is
    `default_device(device)` (CUDA when present); the dtype bf16 or fp16 on a GPU, fp32 on a CPU. The memory
    the weights need is estimated from the config first, and a model that would not fit in the free memory
    is refused before any weight is read. "tiny" has no tokenizer (its 256 ids are bytes): its tokenizer is None.
    The seed-compatible `load_model(model, filename)` (a state dict into a model you built) is a different thing.
    """
    if not name_or_path.strip():
        raise ValueError(f"name_or_path={name_or_path!r} is empty; valid: a folder, a hub id or one of {BUNDLED}")
    if kind is not None:
        check_choice("kind", kind, KINDS)
    chosen = default_device(device)
    if name_or_path in BUNDLED:
        if name_or_path == "minilm":
            return load_minilm(device=chosen)
        if name_or_path == "smollm2":
            return load_smollm2(device=chosen)
        return tiny_lm().to(chosen), None
    from transformers import AutoConfig, AutoTokenizer

    source = _resolve(name_or_path)
    config = AutoConfig.from_pretrained(source)
    kind = kind or _kind_of(config)
    dtype = _dtype_for(chosen)
    needed, free = estimate_model_bytes(config, kind, dtype), free_memory_bytes(chosen)
    if needed > HEADROOM * free:
        raise ValueError(f"name_or_path={name_or_path!r} needs about {needed / 1e9:.1f} GB for its weights in {dtype} "
                         f"but {chosen} has {free / 1e9:.1f} GB free (at most {HEADROOM:.0%} of it is used); "
                         f"valid: a model of at most {HEADROOM * free / 1e9:.1f} GB here, or a GPU with more memory")
    tokenizer = AutoTokenizer.from_pretrained(source)
    vocab = getattr(config, "vocab_size", None)
    if vocab is not None and len(tokenizer) > vocab:
        raise ValueError(f"the tokenizer of {name_or_path!r} has {len(tokenizer)} tokens but the model's vocab_size is "
                         f"{vocab}: they do not belong together; valid: the tokenizer saved with this model")
    model = _auto_class(kind).from_pretrained(source, dtype=dtype).to(chosen).eval()
    if kind == "causal-lm" and getattr(model, "loss_type", None) is None:
        # transformers picks the loss from the class name; GPT2LMHeadModel's names none, so every call with labels
        # warns and then falls back to the causal-LM loss. Name that loss up front: same numbers, no warning.
        model.loss_type = "ForCausalLM"
    return model, tokenizer
