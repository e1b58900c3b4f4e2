"""What a model's config alone says about long inputs: trained length, positions, attention layout, KV-cache size.

Nothing here runs the model: the facts come from the transformers config (a few kilobytes), so a
learner can read them for a 70B model on a laptop. The memory budget answers "how long a context fits?"
under stated assumptions: batch 1, the fp16 weights take their share first, the rest holds the KV cache
(activations and the framework's own overhead are ignored, so real limits are somewhat lower).
"""
from __future__ import annotations

import math

from ..compression.kv_cache import kv_cache_bytes, kv_head_dim
from ..core.checked import checked
from ..core.hf import model_window

__all__ = ["BUDGETS_GB", "KV_BYTES", "config_card", "longest_context", "trained_positions"]

BUDGETS_GB = (8, 24, 80)  # a laptop GPU, a 24 GB card (RTX 3090/4090), an 80 GB A100/H100
KV_BYTES = {"fp16": 2.0, "int8": 1.0, "int4": 0.5}  # bytes per cached number (scales of a quantized cache ignored)
_LENGTH_NAMES = ("max_position_embeddings", "n_positions", "n_ctx", "seq_length", "max_sequence_length")
# Encoders a config names without `architectures` (a config built in code): no next-token head, no KV cache.
_ENCODER_TYPES = {"bert", "roberta", "distilbert", "xlm-roberta", "electra", "albert", "deberta", "deberta-v2",
                  "mpnet", "camembert", "modernbert"}


def _check_config(config) -> None:
    if not hasattr(config, "to_dict") or not hasattr(config, "model_type"):
        raise TypeError(f"config must be a transformers model config (e.g. model.config), got {type(config).__name__}")


@checked
def trained_positions(config) -> int | None:
    """The context length a config's model was trained for (max_position_embeddings, n_positions, …), or None.

    A RoPE config that was already stretched (rope_parameters with original_max_position_embeddings)
    was trained at the original length; that is the one returned.
    Taught in 07_your_own_model, § Loading your model.
    """
    _check_config(config)
    rope = getattr(config, "rope_parameters", None)
    if isinstance(rope, dict) and isinstance(rope.get("original_max_position_embeddings"), int):
        return rope["original_max_position_embeddings"]
    for name in _LENGTH_NAMES:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def is_encoder(config) -> bool:
    """True for a config whose model has no next-token head (BERT, RoBERTa, …): no causal loss, no KV cache."""
    architectures = getattr(config, "architectures", None) or []
    if architectures:
        return not any(a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")) for a in architectures)
    return getattr(config, "model_type", "") in _ENCODER_TYPES


def _position_facts(config) -> dict:
    rope = getattr(config, "rope_parameters", None)
    if isinstance(rope, dict) and rope.get("rope_theta") is not None:
        rope_type = rope.get("rope_type", "default")
        scaling = {k: v for k, v in rope.items() if k not in ("rope_theta", "rope_type", "partial_rotary_factor")}
        partial = rope.get("partial_rotary_factor", getattr(config, "partial_rotary_factor", None)) or 1.0
        return {"scheme": "rope", "rope_theta": float(rope["rope_theta"]), "rope_type": rope_type,
                "rope_scaling": scaling if rope_type != "default" else None, "partial_rotary_factor": float(partial)}
    kind = getattr(config, "position_embedding_type", "absolute") or "absolute"
    if kind != "absolute" or trained_positions(config) is None:
        return {"scheme": "other", "detail": str(kind)}
    return {"scheme": "learned"}  # GPT-2, OPT, BERT: one trained vector per position, none past the last


def _attention_facts(config) -> dict:
    layers = getattr(config, "num_hidden_layers", None)
    heads = getattr(config, "num_attention_heads", None)
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    try:
        window, mixed = model_window(config), False
    except ValueError:  # some layers slide, others see everything: the full layers decide the cache
        window, mixed = None, True
    facts = {"layers": layers, "heads": heads, "kv_heads": kv_heads, "gqa_ratio": None, "head_dim": None,
             "sliding_window": window, "mixed_sliding_layers": mixed}
    if isinstance(heads, int) and isinstance(kv_heads, int) and kv_heads:
        facts["gqa_ratio"] = heads / kv_heads
    if all(isinstance(v, int) for v in (layers, heads, getattr(config, "hidden_size", None))):
        facts["head_dim"] = kv_head_dim(config)
    return facts


def _weights_fp16_bytes(config) -> int | None:
    """The weights in fp16, counted on the meta device (nothing allocated); None when the config cannot be built."""
    import torch

    from ..core.pretrained import estimate_model_bytes

    try:
        return estimate_model_bytes(config, "encoder" if is_encoder(config) else "causal-lm", torch.float16)
    except Exception:  # noqa: BLE001 - an exotic config: the card then says the weights are unknown
        return None


@checked(memory_gb=(0, None), batch=(1, None))
def longest_context(kv_bytes_per_token: float, memory_gb: float, weights_bytes: int = 0, batch: int = 1,
                    window: int | None = None) -> int | None:
    """Longest context per sequence whose KV cache fits in memory_gb (10⁹ bytes) beside the weights; None = no limit.

    (memory − weights) / (bytes per token × batch), floored; with a sliding window the cache never holds more
    than `window` tokens, so once those fit any length does (None). Taught in 07_your_own_model, § Reading the report card.
    """
    if not kv_bytes_per_token > 0:
        raise ValueError(f"kv_bytes_per_token must be > 0, got {kv_bytes_per_token}")
    left = memory_gb * 1e9 - weights_bytes
    tokens = max(0, math.floor(left / (kv_bytes_per_token * batch))) if left > 0 else 0
    return None if window is not None and tokens >= window else tokens


def _fits(per_token: dict, weights: int | None, window: int | None) -> dict:
    """{budget GB: {kv format: longest context in tokens}}; None = no limit (a sliding window caps the cache)."""
    return {str(budget): {fmt: longest_context(per, budget, weights or 0, 1, window) for fmt, per in per_token.items()}
            for budget in BUDGETS_GB}


@checked
def config_card(config) -> dict:
    """The static long-context facts of a transformers config, as a JSON-ready dict (no weights are read).

    Keys: model_type, trained_positions, position (scheme "rope" with θ, any scaling and the rotary
    fraction, or "learned" absolute positions), attention (layers, heads, KV heads, GQA ratio, head dim,
    sliding window), kv_bytes_per_token per format (fp16, int8, int4), weights_fp16_bytes, and fits:
    the longest context whose KV cache fits in 8 / 24 / 80 GB beside the fp16 weights, batch 1.
    Taught in 07_your_own_model, § Loading your model.
    """
    _check_config(config)
    attention = _attention_facts(config)
    encoder = is_encoder(config)
    card = {"model_type": config.model_type, "architectures": list(getattr(config, "architectures", None) or []),
            "encoder": encoder, "trained_positions": trained_positions(config),
            "extended_positions": getattr(config, "max_position_embeddings", None),
            "position": _position_facts(config), "attention": attention,
            "weights_fp16_bytes": _weights_fp16_bytes(config), "kv_bytes_per_token": None, "fits": None,
            "assumptions": "batch 1; the fp16 weights are loaded first and the KV cache gets the rest; "
                           "activations and framework overhead are ignored"}
    if encoder or attention["head_dim"] is None:  # an encoder keeps no KV cache
        return card
    card["kv_bytes_per_token"] = {fmt: kv_cache_bytes(config, 1, per) for fmt, per in KV_BYTES.items()}
    card["fits"] = _fits(card["kv_bytes_per_token"], card["weights_fp16_bytes"], attention["sliding_window"])
    return card
