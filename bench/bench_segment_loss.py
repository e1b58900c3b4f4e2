"""Chapter 2 benchmarks: batched disjoint scoring vs a Python loop, sliding cost vs stride, SmolLM2 FLOP utilisation.

Every ratio compares two measurements taken in this run on this machine.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from harness import Row, attention_flops, machine_label, matmul_flops, print_rows, timed  # noqa: E402

from longctx_lab import available_models, load_smollm2, load_text, segment_loss, tiny_lm, token_nll  # noqa: E402
from longctx_lab import ChunkPlan  # noqa: E402


def _loop_disjoint(model, ids: torch.Tensor, k: int) -> float:
    """The baseline: one forward per segment in a Python loop (the seed's way of running chunks)."""
    return sum(float(token_nll(model, ids[start:end]).double().sum()) for start, end in ChunkPlan(ids.numel(), k).spans)


def batched_vs_loop(model, ids: torch.Tensor, k: int, label: str, repeat: int) -> Row:
    """Time segment_loss(mode='disjoint') (one batched forward) against a loop over the m segments."""
    batched = segment_loss(model, ids, k, "disjoint").total
    assert abs(batched - _loop_disjoint(model, ids, k)) < 1e-3 * max(1.0, abs(batched)), "batched != loop"
    t_batched = timed(lambda: segment_loss(model, ids, k, "disjoint"), repeat=repeat)
    t_loop = timed(lambda: _loop_disjoint(model, ids, k), repeat=repeat)
    m = ChunkPlan(ids.numel(), k).m
    return Row(f"disjoint {label}, m={m} x k={k}: loop time / batched time",
               f"batched {t_batched * 1e3:.0f} ms", f"loop {t_loop * 1e3:.0f} ms", t_loop / t_batched, ">= 1.5x")


def sliding_rows(model, ids: torch.Tensor, k: int) -> list[Row]:
    """Passes, time and perplexity of sliding scoring at s = k, k/2, k/4; time per pass relative to s = k."""
    rows, base = [], None
    segment_loss(model, ids, k, "sliding", stride=k)  # warm-up, so s = k is not charged for first-call costs
    for stride in (k, k // 2, k // 4):
        start = time.perf_counter()
        result = segment_loss(model, ids, k, "sliding", stride=stride)
        seconds = time.perf_counter() - start
        base = base or (seconds, result.passes)
        per_pass_ratio = (seconds / result.passes) / (base[0] / base[1])
        rows.append(Row(f"sliding n={ids.numel()}, k={k}, s={stride}: time per pass vs s=k",
                        f"{result.passes} passes, {seconds:.2f} s, ppl {result.ppl:.2f}",
                        f"s=k: {base[1]} passes, {base[0]:.2f} s", per_pass_ratio, "<= 1.3"))
    return rows


def smollm2_mfu(model, ids: torch.Tensor) -> Row:
    """Model FLOP utilisation of one SmolLM2 forward over n tokens vs this machine's measured matmul rate."""
    cfg, n = model.config, ids.numel()
    linear = sum(mod.weight.numel() for mod in model.modules() if isinstance(mod, torch.nn.Linear))
    flops = 2 * n * linear + attention_flops(cfg, n)  # every Linear incl. the head: logits for all n tokens
    with torch.no_grad():
        seconds = timed(lambda: model(input_ids=ids[None]), repeat=2, warmup=1)
    peak = matmul_flops()
    return Row(f"SmolLM2 forward n={n}: model FLOP/s / matmul FLOP/s",
               f"{flops / seconds / 1e9:.1f} GFLOP/s ({flops / 1e12:.2f} TFLOP in {seconds:.2f} s)",
               f"matmul {peak / 1e9:.1f} GFLOP/s", flops / seconds / peak, "")


def run() -> list[Row]:
    torch.manual_seed(0)
    print(f"machine: {machine_label()}")
    tiny = tiny_lm(seed=0, attn_implementation="sdpa")
    rows = [batched_vs_loop(tiny, torch.randint(0, 256, (1024,)), 64, "tiny_lm", repeat=5)]
    if available_models()["smollm2"].installed:
        model, tok = load_smollm2()
        ids = tok(load_text("long_document"), return_tensors="pt").input_ids[0]
        rows.append(batched_vs_loop(model, ids[:256], 32, "SmolLM2", repeat=2))
        rows.extend(sliding_rows(model, ids[:512], 128))
        rows.append(smollm2_mfu(model, ids[:1024]))
    return rows


if __name__ == "__main__":
    print_rows(run())
