"""Chapter 7 exercises: reading a model's config the way the report card does — memory, positions, batch.

Expected answers come from the kit's own functions on SmolLM2's real config (loaded lazily on first check),
so they cannot drift from what the report card prints; each checker knows the slips a config invites
(query heads for KV heads, GB for GiB, fp16 for int8, a difference for a ratio, the batch left out).
"""
from __future__ import annotations

import math
from functools import lru_cache

from ..compression.kv_cache import kv_cache_bytes
from ..core.answers import Mistake, NumberAnswer
from ..core.exercise_kit import N_, Exercise

__all__ = ["EXERCISES", "int8_cache_fits", "rope_factor_needed", "batch_on_a_small_gpu"]

GB = 10 ** 9  # the report card counts memory in decimal gigabytes, as GPU data sheets do
_BUDGET_GB, _TARGET, _GPU_GB, _BATCH = 24, 32768, 8, 4
# What the questions state about SmolLM2 (a question is shown before any model loads); a test checks these
# against the real config, and every expected answer is computed from the config itself.
SHOWN = {"layers": 30, "q_heads": 9, "kv_heads": 3, "head_dim": 64, "trained": 8192,
         "budget": _BUDGET_GB, "target": _TARGET, "gpu": _GPU_GB, "batch": _BATCH}


@lru_cache(maxsize=1)
def _smollm2() -> dict:
    """SmolLM2's config numbers, its fp16 weight bytes and its KV bytes per token (loads the model once)."""
    from ..core.models import load_smollm2

    model, _ = load_smollm2()
    config = model.config
    return {"layers": config.num_hidden_layers, "q_heads": config.num_attention_heads,
            "kv_heads": config.num_key_value_heads, "head_dim": config.head_dim,
            "trained": config.max_position_embeddings, "weights": sum(p.numel() for p in model.parameters()) * 2,
            "int8_per_token": kv_cache_bytes(config, 1, 1), "fp16_per_token": kv_cache_bytes(config, 1, 2)}


def _fields() -> dict:
    return {key: _smollm2()[key] for key in ("layers", "q_heads", "kv_heads", "head_dim", "trained")} | {
        "budget": _BUDGET_GB, "target": _TARGET, "gpu": _GPU_GB, "batch": _BATCH}


def _int8_tokens() -> int:
    return _BUDGET_GB * GB // _smollm2()["int8_per_token"]


def _int8_mistakes() -> list:
    n, shape = _int8_tokens(), _smollm2()
    return [
        Mistake(_BUDGET_GB * 2 ** 30 // shape["int8_per_token"],
                N_("{answer} counts 24 GiB (2³⁰ bytes each); the question, like the report card, uses GB = 10⁹ "
                   "bytes.")),
        Mistake(n // 2, N_("{answer} is the fp16 cache (2 bytes per value); int8 takes 1 byte per value, so twice "
                           "as many tokens fit.")),
        Mistake(n * shape["kv_heads"] // shape["q_heads"],
                N_("{answer} caches all {q_heads} query heads; only the {kv_heads} KV heads are cached "
                   "(grouped-query attention).")),
        Mistake(2 * n, N_("{answer} counts keys only (or values only); each layer caches a key AND a value per KV "
                          "head.")),
        Mistake(n * shape["layers"], N_("{answer} is one layer's cache; each of the {layers} layers keeps its own.")),
        Mistake(0, N_("a context length is a positive number of tokens; {answer} is not possible."),
                when=lambda x: x <= 0, invalid=True),
    ]


int8_cache_fits = Exercise(
    title=N_("How much context fits in 24 GB"),
    question=N_("SmolLM2 has {layers} layers, {kv_heads} KV heads (of {q_heads} query heads) and head_dim "
                "{head_dim}. If {budget} GB (10⁹ bytes each) hold nothing but its KV cache at int8 (1 byte per "
                "value, batch 1), how many tokens fit? Give an int (within 1 %)."),
    checker=NumberAnswer(
        _int8_tokens, rel=0.01, fields=_fields, mistakes=_int8_mistakes,
        too_small=N_("{answer} is too small: divide {budget}·10⁹ bytes by one token's cache, 2 × {layers} × "
                     "{kv_heads} × {head_dim} × 1 byte."),
        too_large=N_("{answer} is too large: divide {budget}·10⁹ bytes by one token's cache, 2 × {layers} × "
                     "{kv_heads} × {head_dim} × 1 byte."),
    ),
    hints=[N_("One token costs 2 (K and V) × layers × KV heads × head_dim × bytes per value."),
           N_("kv_cache_bytes(model.config, 1, 1) is one token at int8; divide the budget by it.")],
    values=SHOWN,
    solution_text=N_("One token at int8: 2·30·3·64·1 = 11 520 bytes; 24·10⁹ / 11 520 ≈ 2.08 million tokens, 250 "
                     "times the trained 8192 positions: for this model the trained length, not memory, is the limit."),
)


def _rope_mistakes() -> list:
    trained = _smollm2()["trained"]
    return [
        Mistake(trained / _TARGET, N_("{answer} is the inverse: positions are divided by the factor, so the factor is "
                                      "target / trained = {target} / {trained}.")),
        Mistake((_TARGET - trained) / trained, N_("{answer} counts only the extra positions; the factor maps all "
                                                  "{target} positions into the trained {trained}.")),
        Mistake(math.log2(_TARGET / trained), N_("{answer} is the number of doublings; linear scaling divides positions "
                                                 "by the ratio itself.")),
        Mistake(0, N_("a scaling factor is positive; {answer} is not possible."), when=lambda x: x <= 0, invalid=True),
    ]


rope_factor_needed = Exercise(
    title=N_("The RoPE factor for a longer context"),
    question=N_("SmolLM2 was trained on {trained} positions. With linear RoPE scaling (position interpolation), "
                "which factor maps a {target}-token context into the trained range? Give a number."),
    checker=NumberAnswer(
        lambda: _TARGET / _smollm2()["trained"], rel=1e-6, fields=_fields, mistakes=_rope_mistakes,
        too_small=N_("{answer} is too small: position {target} divided by the factor must land inside {trained}."),
        too_large=N_("{answer} is too large: position {target} divided by the factor must land inside {trained}; a "
                     "larger factor squeezes the positions more than needed."),
    ),
    hints=[N_("Linear scaling divides every position m by the factor s before rotating."),
           N_("Solve {target} / s = {trained}.")],
    values=SHOWN,
    solution_text=N_("s = 32768 / 8192 = 4. Without fine-tuning, linear scaling at s = 4 also blurs every position "
                     "inside 8192 — compare SmolLM2 and a scaled SmolLM2 side by side in the report card."),
)


def _batch_tokens() -> int:
    shape = _smollm2()
    return (_GPU_GB * GB - shape["weights"]) // (shape["fp16_per_token"] * _BATCH)


def _batch_mistakes() -> list:
    shape, n = _smollm2(), _batch_tokens()
    return [
        Mistake(n * _BATCH, N_("{answer} fits one sequence; a batch of {batch} keeps {batch} caches, so each sequence "
                               "gets a quarter of the room.")),
        Mistake(_GPU_GB * GB // (shape["fp16_per_token"] * _BATCH),
                N_("{answer} leaves out the weights: the fp16 weights sit in the same {gpu} GB.")),
        Mistake((_GPU_GB * GB - 2 * shape["weights"]) // (shape["fp16_per_token"] * _BATCH),
                N_("{answer} counts the weights at fp32 (4 bytes); at fp16 each parameter takes 2.")),
        Mistake(2 * n, N_("{answer} takes the cache at int8 (1 byte per value); the question asks for fp16.")),
        Mistake(0, N_("a context length is a positive number of tokens; {answer} is not possible."),
                when=lambda x: x <= 0, invalid=True),
    ]


batch_on_a_small_gpu = Exercise(
    title=N_("Weights, cache and batch on an 8 GB GPU"),
    question=N_("An {gpu} GB GPU (10⁹ bytes each) holds SmolLM2's fp16 weights and an fp16 KV cache for a batch of "
                "{batch} sequences of equal length. What is the longest length each sequence can have? Leave "
                "activations out. Give an int (within 2 %)."),
    checker=NumberAnswer(
        _batch_tokens, rel=0.02, fields=_fields, mistakes=_batch_mistakes,
        too_small=N_("{answer} is too small: (memory − fp16 weights) / (one token's fp16 cache × {batch})."),
        too_large=N_("{answer} is too large: (memory − fp16 weights) / (one token's fp16 cache × {batch})."),
    ),
    hints=[N_("First subtract the weights: parameters × 2 bytes."),
           N_("Each of the {batch} sequences keeps its own cache: kv_cache_bytes(config, n, 2, batch={batch}).")],
    values=SHOWN,
    solution_text=N_("(8·10⁹ − 134.5 M × 2 B) / (23 040 B × 4) ≈ 83 900 tokens per sequence — ten times the "
                     "trained 8192: on this GPU the model's trained length, not memory, is the limit."),
)

EXERCISES = [int8_cache_fits, rope_factor_needed, batch_on_a_small_gpu]
