"""transformers shims every chapter shares: the KV-cache keyword, eager attention, per-layer attention hooks, pooling.

transformers renames and reshapes its internals between releases; each difference is absorbed here,
once, so chapter code reads the same on every supported version.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import torch

__all__ = ["attention_modules", "cache_kwargs", "mean_pool", "model_window", "new_cache", "per_layer_attention", "require_eager"]


def cache_kwargs(model, cache) -> dict:
    """Keyword arguments that hand `cache` to `model`'s forward: `{"cache" | "past_key_values": cache, "use_cache": True}`.

    transformers renamed past_key_values to cache (5.2x); this passes whichever the forward takes.
    Look it up once per run, not once per decoding step (inspect.signature is not free).
    """
    params = inspect.signature(model.forward).parameters
    for name in ("cache", "past_key_values"):
        if name in params:
            return {name: cache, "use_cache": True}
    raise TypeError(f"{type(model).__name__}.forward takes neither `cache` nor `past_key_values`; this needs a KV cache")


def new_cache(model):
    """An empty DynamicCache laid out for `model`'s config."""
    from transformers import DynamicCache

    return DynamicCache(config=model.config)


def model_window(config) -> int | None:
    """The sliding window every layer of `config`'s model attends within (query − key < window), or None if none.

    Mistral sets `sliding_window`; Qwen2 sets it but uses it only where `layer_types` says "sliding_attention".
    A model mixing sliding and full layers is refused with a ValueError (one mask cannot describe it).
    """
    window = getattr(config, "sliding_window", None)
    if not window:
        return None
    types = getattr(config, "layer_types", None)
    if types is None or all(t == "sliding_attention" for t in types):
        return int(window)
    if not any(t == "sliding_attention" for t in types):
        return None
    raise ValueError(f"model_type={getattr(config, 'model_type', '?')!r} mixes sliding-window (sliding_window={window}) "
                     "and full-attention layers; this needs one attention pattern for all layers")


def require_eager(model) -> None:
    """ValueError unless `model` runs eager attention (the only implementation that returns attention weights)."""
    implementation = getattr(model.config, "_attn_implementation", None)
    if implementation != "eager":
        raise ValueError(
            f"model uses attn_implementation={implementation!r}; attention maps need 'eager' "
            "(e.g. load_smollm2(attn_implementation='eager'))"
        )


def attention_modules(model) -> list[torch.nn.Module]:
    """The model's attention modules, in order: the class transformers records `attentions` from."""
    base = getattr(model, "base_model", model)
    target = getattr(base, "_can_record_outputs", {}).get("attentions")
    target = getattr(target, "target_class", target)
    if not isinstance(target, type):
        raise TypeError(f"cannot find the attention modules of {type(model).__name__}")
    return [module for module in model.modules() if isinstance(module, target)]


@torch.no_grad()
def per_layer_attention(model, input_ids: torch.Tensor, reduce: Callable[[torch.Tensor], Any]) -> list:
    """`reduce(weights)` of each layer's (H, T, T) attention weights in one forward pass, as the layer runs.

    Only one layer's weights are alive at a time, so memory stays O(H·T²), not O(L·H·T²).
    """
    require_eager(model)
    per_layer = []

    def hook(_module, _inputs, output) -> None:
        per_layer.append(reduce(output[1][0]))  # output[1]: (B, H, T, T); batch item 0

    handles = [module.register_forward_hook(hook) for module in attention_modules(model)]
    try:
        model(input_ids=input_ids)
    finally:
        for handle in handles:
            handle.remove()
    return per_layer


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """sentence-transformers' pooling: mean of hidden (B, T, d) over the real tokens, L2-normalised, fp32 (B, d)."""
    mask = attention_mask.unsqueeze(-1).float()  # (B, T, 1)
    pooled = (hidden.float() * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)
