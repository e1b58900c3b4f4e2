"""Chapter 6 benchmark: one pass-key trial (prefill + 8 greedy tokens) at 1k, 2k and 4k tokens on SmolLM2,
and the prefill's model FLOP utilisation against this machine's measured matmul rate."""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from harness import Row, attention_flops, matmul_flops, print_rows, timed  # noqa: E402

from longctx_lab import load_smollm2, make_haystack  # noqa: E402

LENGTHS = (1024, 2048, 4096)
NEW_TOKENS = 8


def prefill_flops(model, n: int) -> float:
    """Forward FLOPs of an n-token causal prefill: 2 × non-embedding weights × n, plus QKᵀ and AV (causal half)."""
    config = model.config
    embedding = config.vocab_size * config.hidden_size  # tied with the head; the head runs for one token only
    model_params = sum(p.numel() for p in model.parameters()) - embedding
    return 2 * model_params * n + attention_flops(config, n)


def run() -> list[Row]:
    model, tokenizer = load_smollm2()
    rows = []
    for n in LENGTHS:
        ids = torch.tensor([make_haystack(tokenizer, n, 0.5).input_ids])
        with torch.no_grad():
            prefill = timed(lambda: model(input_ids=ids, logits_to_keep=1), repeat=1, warmup=0)
            trial = timed(lambda: model.generate(ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                                 do_sample=False, pad_token_id=tokenizer.eos_token_id),
                          repeat=1, warmup=0)
        peak = matmul_flops()  # measured beside each prefill: on a shared machine the rate drifts
        rate = prefill_flops(model, n) / prefill
        rows.append(Row(f"needle trial {n} tokens: prefill + {NEW_TOKENS} greedy tokens", f"{trial:.2f} s",
                        f"prefill alone {prefill:.2f} s", trial / prefill))
        rows.append(Row(f"prefill {n} tokens: model FLOP utilisation", f"{rate / 1e9:.1f} GFLOP/s",
                        f"fp32 matmul {peak / 1e9:.1f} GFLOP/s", rate / peak))
    return rows


if __name__ == "__main__":
    print_rows(run())
