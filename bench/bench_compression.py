"""Chapter 5 benchmark: int8 and head-pruned MiniLM against fp32, and an int8 KV cache on SmolLM2.

Everything is measured against the fp32 model (or the full-precision cache) in the same run:
latency at batch 32 × 128 tokens, size, cosine fidelity and top-1 retrieval on data/retrieval_eval.jsonl;
for the KV cache, the memory ratio vs an fp16 cache and the perplexity change on the second half of
1024 tokens of the long document.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import Row, print_rows, timed  # noqa: E402

import torch  # noqa: E402

from longctx_lab import load_minilm, load_smollm2, load_text  # noqa: E402
from longctx_lab import (  # noqa: E402
    embedding_score, head_importance, kv_cache_bytes, kv_quant_curve, kv_quantized_bytes, load_retrieval_eval,
    model_size_bytes, prune_heads, quantize_int8,
)


def _latency(model, ids: torch.Tensor) -> float:
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        return timed(lambda: model(input_ids=ids, attention_mask=mask), repeat=3, warmup=1)


def run() -> list[Row]:
    rows = []
    model, tok = load_minilm(attn_implementation="sdpa")
    items = load_retrieval_eval()
    ids = torch.randint(1000, 30000, (32, 128), generator=torch.Generator().manual_seed(0))
    base = embedding_score(model, tok, items)
    base_time, base_size = _latency(model, ids), model_size_bytes(model)

    q = quantize_int8(model)
    q_score, q_time = embedding_score(q, tok, items, base.embeddings), _latency(q, ids)
    rows.append(Row("MiniLM int8 speed-up (32×128)", f"int8 {q_time * 1000:.0f} ms", f"fp32 {base_time * 1000:.0f} ms",
                    base_time / q_time, ">= 1.5x"))
    rows.append(Row("MiniLM int8 size ratio", f"{model_size_bytes(q) / 1e6:.1f} MB", f"{base_size / 1e6:.1f} MB",
                    model_size_bytes(q) / base_size, "<= 0.66"))
    rows.append(Row("MiniLM int8 cosine to fp32 (mean)", f"min {q_score.fidelity_min:.3f}", "fp32 = 1",
                    q_score.fidelity_mean, ">= 0.95"))
    rows.append(Row("MiniLM int8 top-1 drop (points)", f"int8 {q_score.top1:.1%}", f"fp32 {base.top1:.1%}",
                    (base.top1 - q_score.top1) * 100, "<= 2"))

    scores = head_importance(model, tok, [it["passage"] for it in items[::4]])
    for fraction in (0.25, 0.5):
        pruned = prune_heads(model, fraction, scores=scores)
        p_score, p_time = embedding_score(pruned, tok, items, base.embeddings), _latency(pruned, ids)
        rows.append(Row(f"MiniLM {fraction:.0%} heads pruned: speed-up", f"{p_time * 1000:.0f} ms",
                        f"fp32 {base_time * 1000:.0f} ms", base_time / p_time, ">= 1.0x"))
        rows.append(Row(f"MiniLM {fraction:.0%} heads pruned: top-1 drop (points)",
                        f"{p_score.top1:.1%}, cos {p_score.fidelity_mean:.3f}", f"fp32 {base.top1:.1%}",
                        (base.top1 - p_score.top1) * 100))

    lm, lm_tok = load_smollm2()
    doc_ids = lm_tok(load_text("long_document"), return_tensors="pt").input_ids[0, :1024]
    full, int8, int4 = kv_quant_curve(lm, doc_ids, (None, 8, 4), window=128, group=64, chunk=128)
    rows.append(Row("SmolLM2 KV int8: memory vs fp16 cache, n=1024", f"{int8.cache_bytes / 2**20:.1f} MiB",
                    f"{full.cache_bytes / 2**20:.1f} MiB", int8.memory_ratio))
    long_n = 32768  # the fp16 window and scales matter less as n grows
    rows.append(Row(f"SmolLM2 KV int8: memory vs fp16, n={long_n}", "same layout, analytic", "fp16 cache",
                    kv_quantized_bytes(lm.config, long_n, 8, 128, 64) / kv_cache_bytes(lm.config, long_n, 2), "<= 0.55"))
    rows.append(Row("SmolLM2 KV int8: perplexity ratio", f"ppl {int8.ppl:.3f}", f"ppl {full.ppl:.3f}",
                    int8.ppl / full.ppl, "<= 1.01"))
    rows.append(Row("SmolLM2 KV int4: perplexity ratio", f"ppl {int4.ppl:.3f} at {int4.memory_ratio:.2f}× memory",
                    f"ppl {full.ppl:.3f}", int4.ppl / full.ppl))
    return rows


if __name__ == "__main__":
    print_rows(run())
