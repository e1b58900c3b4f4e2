"""Chapter 5 exercises: KV-cache arithmetic, what int8 really shrinks, and what masking does not save.

Expected answers are computed from the kit's own functions on first check (models load lazily), so
they can never drift from what the notebook shows.
"""
from __future__ import annotations

import math
from functools import lru_cache

from ..compression import model_size_bytes, prune, quantize_int8
from ..kv_cache import kv_cache_bytes, llama3_8b_config
from . import Exercise, expect_close, expect_equal

__all__ = ["gqa_saving", "int8_size_ratio", "kv_bytes_per_token", "masked_sparsity_size", "kv_equals_weights"]


def _lazy_checker(make_checker):
    """Build the real checker on first use (it may need a model loaded)."""
    get = lru_cache(maxsize=1)(make_checker)
    return lambda answer: get()(answer)


kv_bytes_per_token = Exercise(
    title="KV bytes per token of Llama-3-8B",
    question="How many bytes of KV cache does ONE token cost in a Llama-3-8B-shaped model at fp16 "
             "(32 layers, 8 KV heads, head_dim 128)? Give an int.",
    checker=expect_equal(kv_cache_bytes(llama3_8b_config(), 1, 2), what="the bytes per token"),
    hints=["Each layer stores a key AND a value vector per KV head.",
           "2 (K and V) × layers × KV heads × head_dim × bytes per value.",
           "2 × 32 × 8 × 128 × 2."],
    solution_text="kv_cache_bytes(llama3_8b_config(), 1, 2) = 2·32·8·128·2 = 131072 bytes = 128 KiB per token; "
                  "at n = 8192 that is 1 GiB per sequence.",
)

gqa_saving = Exercise(
    title="What grouped-query attention saves",
    question="By what factor is Llama-3-8B's KV cache smaller than the same model with 32 KV heads (one per "
             "query head)? Give a number.",
    checker=expect_close(kv_cache_bytes(llama3_8b_config(32), 1, 2) / kv_cache_bytes(llama3_8b_config(), 1, 2),
                         rel=1e-6, what="the saving factor"),
    hints=["Only the number of KV heads differs between the two configs.",
           "Divide the two kv_cache_bytes results, or the two KV head counts."],
    solution_text="32 / 8 = 4: each KV head is shared by 4 query heads, so the cache is 4× smaller; the "
                  "attention FLOPs are unchanged.",
)


def _int8_checker():
    from ..models import load_minilm

    model, _ = load_minilm()
    return expect_close(model_size_bytes(quantize_int8(model)) / model_size_bytes(model), rel=0.03,
                        what="the int8/fp32 size ratio of MiniLM")


int8_size_ratio = Exercise(
    title="Why int8 MiniLM is not 4× smaller",
    question="quantize_int8 converts only nn.Linear layers. Using the parameter counts (word + position "
             "embeddings stay fp32: 4 bytes; Linear weights become 1 byte), predict "
             "model_size_bytes(int8) / model_size_bytes(fp32) for MiniLM. Give a number (2 decimals are enough).",
    checker=_lazy_checker(_int8_checker),
    hints=["Count the Linear weight elements: sum(m.weight.numel() for m in model.modules() "
           "if isinstance(m, torch.nn.Linear)).",
           "Everything else (embeddings, LayerNorms, biases) keeps 4 bytes per parameter.",
           "ratio = (4 · (P − W) + 1 · W) / (4 · P), W = Linear weights, P = all parameters."],
    solution_text="W ≈ 10.8 M of P ≈ 22.7 M parameters are Linear weights; the 30522 × 384 word-embedding table "
                  "(11.7 M) stays fp32, so the ratio is (4·11.9 + 10.8)/(4·22.7) ≈ 0.64.",
)


def _masked_checker():
    from ..models import tiny_lm

    model = tiny_lm()
    return expect_close(model_size_bytes(prune(model, 0.5)) / model_size_bytes(model), rel=1e-9,
                        what="the size ratio after masking half the weights")


masked_sparsity_size = Exercise(
    title="What 50 % unstructured sparsity saves",
    question="prune(model, 0.5) zeroes half of the Linear weights. What is model_size_bytes(pruned) / "
             "model_size_bytes(model)? Give a number.",
    checker=_lazy_checker(_masked_checker),
    hints=["Look at the dtype and shape of a pruned weight: did either change?",
           "A zero stored in a dense fp32 tensor still takes 4 bytes."],
    solution_text="1.0: the zeros are still stored densely and still multiplied. Saving memory needs a sparse "
                  "format (CSR, 2:4 semi-structured) and saving time a kernel that skips zeros; removing "
                  "whole heads (prune_heads) shrinks the matrices themselves.",
)


def _crossover_checker():
    from ..models import load_smollm2

    model, _ = load_smollm2()
    weights_fp16 = sum(p.numel() for p in model.parameters()) * 2
    return expect_close(math.ceil(weights_fp16 / kv_cache_bytes(model.config, 1, 2)), rel=0.02,
                        what="the context length where the KV cache matches the weights")


kv_equals_weights = Exercise(
    title="When the cache outweighs the model",
    question="At fp16, from what context length n does SmolLM2's KV cache (batch 1) take as many bytes as its "
             "own fp16 weights? Give an int (within 2 %).",
    checker=_lazy_checker(_crossover_checker),
    hints=["Weights: number of parameters × 2 bytes. Cache: kv_cache_bytes(model.config, n, 2).",
           "The cache is linear in n, so divide the weight bytes by the bytes of one token."],
    solution_text="134.5 M params × 2 B ≈ 269 MB; one token costs 2·30·3·64·2 = 23040 B, so n ≈ 11 700 tokens — "
                  "and at batch 8 it happens 8× sooner.",
)
