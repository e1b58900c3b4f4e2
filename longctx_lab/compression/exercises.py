"""Chapter 5 exercises: KV-cache arithmetic, what int8 really shrinks, and what masking does not save.

Expected answers are computed from the kit's own functions on first check (models load lazily), so
they can never drift from what the notebook shows; each checker recognises the mistakes the chapter
anticipates (query heads for KV heads, keys without values, fp32 for fp16, int8 everywhere, zeros that
take no space) and explains them.
"""
from __future__ import annotations

import math
from functools import lru_cache

from ..core.answers import Mistake, NumberAnswer
from ..core.exercise_kit import N_, Exercise
from .kv_cache import kv_cache_bytes, llama3_8b_config
from .variants import prune, quantize_int8
from .yardstick import model_size_bytes

__all__ = ["EXERCISES", "gqa_saving", "int8_size_ratio", "kv_bytes_per_token", "masked_sparsity_size",
           "kv_equals_weights"]

_LAYERS, _KV_HEADS, _Q_HEADS, _HEAD_DIM = 32, 8, 32, 128
_PER_TOKEN = kv_cache_bytes(llama3_8b_config(), 1, 2)
kv_bytes_per_token = Exercise(
    title=N_("KV bytes per token of Llama-3-8B"),
    question=N_("How many bytes of KV cache does ONE token cost in a Llama-3-8B-shaped model at fp16 "
             "(32 layers, 8 KV heads, head_dim 128)? Give an int."),
    checker=NumberAnswer(
        _PER_TOKEN, whole=True,
        fields={"layers": _LAYERS, "kv_heads": _KV_HEADS, "q_heads": _Q_HEADS},
        mistakes=[
            Mistake(_PER_TOKEN // 2, N_("{answer} is half the cache: either you counted only keys (each layer stores "
                                        "a key and a value per KV head) or you counted values, not bytes (fp16 "
                                        "takes 2 bytes each).")),
            Mistake(_PER_TOKEN * 2, N_("{answer} uses 4 bytes per value, fp32; at fp16 each value takes 2 bytes.")),
            Mistake(_PER_TOKEN * _Q_HEADS // _KV_HEADS,
                    N_("{answer} counts all {q_heads} query heads; only the {kv_heads} KV heads are cached "
                       "(grouped-query attention shares each one among several query heads).")),
            Mistake(_PER_TOKEN // _LAYERS, N_("{answer} is one layer's cache; every one of the {layers} layers "
                                              "stores its own keys and values.")),
            Mistake(_PER_TOKEN // 1024, N_("{answer} is in KiB; the question asks for bytes.")),
            Mistake(_PER_TOKEN * 8192, N_("{answer} is the cache of 8192 tokens; the question asks for one token.")),
            Mistake(0, N_("a token's cache takes a positive number of bytes; {answer} is not possible."),
                    when=lambda x: x <= 0, invalid=True),
        ],
        too_small=N_("{answer} is too small: 2 (K and V) × layers × KV heads × head_dim × bytes per value."),
        too_large=N_("{answer} is too large: 2 (K and V) × layers × KV heads × head_dim × bytes per value."),
    ),
    hints=[N_("Each layer stores a key AND a value vector per KV head."),
           N_("2 (K and V) × layers × KV heads × head_dim × bytes per value."),
           N_("2 × 32 × 8 × 128 × 2.")],
    solution_text=N_("kv_cache_bytes(llama3_8b_config(), 1, 2) = 2·32·8·128·2 = 131072 bytes = 128 KiB per token; "
                  "at n = 8192 that is 1 GiB per sequence."),
)

_SAVING = kv_cache_bytes(llama3_8b_config(32), 1, 2) / _PER_TOKEN
gqa_saving = Exercise(
    title=N_("What grouped-query attention saves"),
    question=N_("By what factor is Llama-3-8B's KV cache smaller than the same model with 32 KV heads (one per "
             "query head)? Give a number."),
    checker=NumberAnswer(
        _SAVING, rel=1e-6,
        fields={"kv_heads": _KV_HEADS, "q_heads": _Q_HEADS},
        mistakes=[
            Mistake(1 / _SAVING, N_("{answer} is the inverse, GQA / no GQA; the question asks how many times smaller "
                                    "the GQA cache is.")),
            Mistake(_KV_HEADS, N_("{answer} is the number of KV heads; the saving is the ratio of the two KV head "
                                  "counts.")),
            Mistake(_Q_HEADS, N_("{answer} is the number of query heads; the saving is the ratio of the two KV head "
                                 "counts.")),
            Mistake(_Q_HEADS - _KV_HEADS, N_("{answer} is a difference of head counts; the cache scales with the "
                                             "number of KV heads, so the saving is their ratio.")),
            Mistake(1, N_("{answer} would mean no saving: it is the attention FLOPs that stay the same, while the "
                          "cache shrinks with the number of KV heads.")),
            Mistake(0, N_("a saving factor is positive; {answer} is not possible."), when=lambda x: x <= 0,
                    invalid=True),
        ],
        too_small=N_("{answer} is too small: only the number of KV heads differs between the two caches."),
        too_large=N_("{answer} is too large: only the number of KV heads differs between the two caches."),
    ),
    hints=[N_("Only the number of KV heads differs between the two configs."),
           N_("Divide the two kv_cache_bytes results, or the two KV head counts.")],
    solution_text=N_("32 / 8 = 4: each KV head is shared by 4 query heads, so the cache is 4× smaller; the "
                  "attention FLOPs are unchanged."),
)


@lru_cache(maxsize=1)
def _minilm_sizes() -> dict:
    """MiniLM's parameter count, Linear weight count and measured fp32 / int8 sizes (loads the model once)."""
    import torch

    from ..core.models import load_minilm

    model, _ = load_minilm()
    params = sum(p.numel() for p in model.parameters())
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    ratio = model_size_bytes(quantize_int8(model)) / model_size_bytes(model)
    return {"params": params, "linear": linear, "ratio": ratio}


def _int8_fields() -> dict:
    sizes = _minilm_sizes()
    return {"linear_m": f"{sizes['linear'] / 1e6:.1f}", "params_m": f"{sizes['params'] / 1e6:.1f}",
            "other_m": f"{(sizes['params'] - sizes['linear']) / 1e6:.1f}"}


def _int8_mistakes() -> list:
    sizes = _minilm_sizes()
    share = sizes["linear"] / sizes["params"]
    return [
        Mistake(0.25, N_("{answer} assumes every parameter becomes int8; quantize_int8 converts only the nn.Linear "
                         "layers ({linear_m} M of {params_m} M parameters): the embeddings, LayerNorms and biases "
                         "keep 4 bytes.")),
        Mistake(4, N_("{answer} is the shrink of one Linear weight, fp32 / int8; the question asks for the whole "
                      "model, int8 / fp32, and only the Linear weights shrink.")),
        Mistake(1 / sizes["ratio"], N_("{answer} is the inverse, fp32 / int8; the question asks for "
                                       "model_size_bytes(int8) / model_size_bytes(fp32).")),
        Mistake(share, N_("{answer} is the Linear weights' share of the parameters; the ratio of bytes is "
                          "(4 · (P − W) + 1 · W) / (4 · P).")),
        Mistake(1 - share, N_("{answer} drops the Linear weights entirely; as int8 they still take 1 byte each: "
                              "(4 · (P − W) + 1 · W) / (4 · P).")),
        Mistake(0.5, N_("{answer} is the ratio for fp16 or bf16, 2 bytes for every parameter; int8 touches only the "
                        "Linear weights.")),
        Mistake(0, N_("a ratio of two model sizes is positive; {answer} is not possible."), when=lambda x: x <= 0,
                invalid=True),
    ]


int8_size_ratio = Exercise(
    title=N_("Why int8 MiniLM is not 4× smaller"),
    question=N_("quantize_int8 converts only nn.Linear layers. Using the parameter counts (word + position "
             "embeddings stay fp32: 4 bytes; Linear weights become 1 byte), predict "
             "model_size_bytes(int8) / model_size_bytes(fp32) for MiniLM. Give a number (2 decimals are enough)."),
    checker=NumberAnswer(
        lambda: _minilm_sizes()["ratio"], rel=0.03, fields=_int8_fields, mistakes=_int8_mistakes,
        too_small=N_("{answer} is too small: {other_m} M parameters outside the Linear weights keep 4 bytes "
                     "each."),
        too_large=N_("{answer} is too large: the {linear_m} M Linear weights go from 4 bytes to 1."),
    ),
    hints=[N_("Count the Linear weight elements: sum(m.weight.numel() for m in model.modules() "
           "if isinstance(m, torch.nn.Linear))."),
           N_("Everything else (embeddings, LayerNorms, biases) keeps 4 bytes per parameter."),
           N_("ratio = (4 · (P − W) + 1 · W) / (4 · P), W = Linear weights, P = all parameters.")],
    solution_text=N_("W ≈ 10.8 M of P ≈ 22.7 M parameters are Linear weights; the 30522 × 384 word-embedding table "
                  "(11.7 M) stays fp32, so the ratio is (4·11.9 + 10.8)/(4·22.7) ≈ 0.64."),
)


@lru_cache(maxsize=1)
def _masked_ratio() -> float:
    from ..core.models import tiny_lm

    model = tiny_lm()
    return model_size_bytes(prune(model, 0.5)) / model_size_bytes(model)


masked_sparsity_size = Exercise(
    title=N_("What 50 % unstructured sparsity saves"),
    question=N_("prune(model, 0.5) zeroes half of the Linear weights. What is model_size_bytes(pruned) / "
             "model_size_bytes(model)? Give a number."),
    checker=NumberAnswer(
        _masked_ratio, rel=1e-9,
        mistakes=[
            Mistake(0.5, N_("{answer} assumes a zero takes no space; prune masks the weights in place, so each tensor "
                            "keeps its dtype and shape, and a zero in a dense fp32 tensor still takes 4 bytes."),
                    rel=0.05),
            Mistake(2, N_("{answer} would be torch.nn.utils.prune without prune.remove, which keeps weight_orig plus "
                          "a mask; the kit's prune bakes the zeros in and adds nothing."),
                    when=lambda x: x > 1),
            Mistake(0, N_("a ratio of two model sizes is positive; {answer} is not possible."), when=lambda x: x <= 0,
                    invalid=True),
        ],
        too_small=N_("{answer} is too small: look at a pruned weight's dtype and shape — did either change?"),
        too_large=N_("{answer} is too large: pruning adds nothing to the stored tensors."),
    ),
    hints=[N_("Look at the dtype and shape of a pruned weight: did either change?"),
           N_("A zero stored in a dense fp32 tensor still takes 4 bytes.")],
    solution_text=N_("1.0: the zeros are still stored densely and still multiplied. Saving memory needs a sparse "
                  "format (CSR, 2:4 semi-structured) and saving time a kernel that skips zeros; removing "
                  "whole heads (prune_heads) shrinks the matrices themselves."),
)


@lru_cache(maxsize=1)
def _smollm2_shape() -> dict:
    """SmolLM2's fp16 weight bytes and the numbers of its KV cache (loads the model once)."""
    from ..core.models import load_smollm2

    model, _ = load_smollm2()
    config = model.config
    return {"weights": sum(p.numel() for p in model.parameters()) * 2, "per_token": kv_cache_bytes(config, 1, 2),
            "layers": config.num_hidden_layers, "q_heads": config.num_attention_heads,
            "kv_heads": config.num_key_value_heads, "head_dim": config.head_dim}


def _crossover_fields() -> dict:
    shape = _smollm2_shape()
    return {key: shape[key] for key in ("layers", "q_heads", "kv_heads", "head_dim")} | {
        "q_width": shape["q_heads"] * shape["head_dim"]}


def _crossover_mistakes() -> list:
    shape = _smollm2_shape()
    n = shape["weights"] / shape["per_token"]
    return [
        Mistake(n * shape["kv_heads"] / shape["q_heads"],
                N_("{answer} counts all {q_heads} query heads ({q_heads} × {head_dim} = {q_width} values per layer); "
                   "SmolLM2 caches keys and values only for its {kv_heads} KV heads (grouped-query attention), so "
                   "the cache per token is {q_heads}/{kv_heads} times smaller than that.")),
        Mistake(2 * n, N_("{answer} is twice the crossover: a factor 2 is missing from the cache (a key AND a value "
                          "per KV head and layer) or added to the weights (fp16 weights take 2 bytes, not 4).")),
        Mistake(n / 2, N_("{answer} is half the crossover: the cache is fp16 (2 bytes per value, not 4), and the "
                          "weights count bytes, 2 per parameter, not parameters.")),
        Mistake(n * shape["layers"], N_("{answer} leaves out the layers: each of the {layers} layers caches its own "
                                        "keys and values.")),
        Mistake(n / 8, N_("{answer} is the crossover at batch 8; the question asks for batch 1.")),
        Mistake(8192, N_("{answer} is SmolLM2's trained context length; the crossover follows from the weight bytes "
                         "and the cache bytes per token.")),
        Mistake(0, N_("a context length is positive; {answer} is not possible."), when=lambda x: x <= 0,
                invalid=True),
    ]


kv_equals_weights = Exercise(
    title=N_("When the cache outweighs the model"),
    question=N_("At fp16, from what context length n does SmolLM2's KV cache (batch 1) take as many bytes as its "
             "own fp16 weights? Give an int (within 2 %)."),
    checker=NumberAnswer(
        lambda: math.ceil(_smollm2_shape()["weights"] / _smollm2_shape()["per_token"]), rel=0.02,
        fields=_crossover_fields, mistakes=_crossover_mistakes,
        too_small=N_("{answer} is too small: divide the fp16 weight bytes by the cache bytes of one token, "
                     "2 × {layers} layers × {kv_heads} KV heads × {head_dim} × 2 bytes."),
        too_large=N_("{answer} is too large: divide the fp16 weight bytes by the cache bytes of one token, "
                     "2 × {layers} layers × {kv_heads} KV heads × {head_dim} × 2 bytes."),
    ),
    hints=[N_("Weights: number of parameters × 2 bytes. Cache: kv_cache_bytes(model.config, n, 2)."),
           N_("The cache is linear in n, so divide the weight bytes by the bytes of one token.")],
    solution_text=N_("134.5 M params × 2 B ≈ 269 MB; one token costs 2·30·3·64·2 = 23040 B, so n ≈ 11 700 tokens — "
                  "and at batch 8 it happens 8× sooner."),
)

EXERCISES = [kv_bytes_per_token, gqa_saving, int8_size_ratio, masked_sparsity_size, kv_equals_weights]
