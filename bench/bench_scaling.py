"""Chapter 4 benchmark: segment-processing scaling at P = 2, ring attention vs SDPA, the collective-cost fit.

Every rank runs one torch thread, so P = 1 uses one core and P = 2 both cores of a 2-core machine.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from harness import Row, print_rows, timed  # noqa: E402

from longctx_lab import document_segments, fit_alpha_beta, load_minilm, measure_scaling  # noqa: E402

RING_N = 4096


def run() -> list[Row]:
    model, tokenizer = load_minilm(attn_implementation="sdpa")
    segments = document_segments(tokenizer, m=32, k=128)  # (m, k)
    one, two = measure_scaling(model, segments, world_sizes=(1, 2), threads=1, repeat=3, ring_n=RING_N)
    speedup = one.seconds / two.seconds
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the baseline gets one core, like one rank
    try:
        q, k, v = torch.randn(3, 1, 4, RING_N, 32, generator=torch.Generator().manual_seed(0)).unbind(0)
        sdpa = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True), repeat=3)
    finally:
        torch.set_num_threads(threads)
    sizes = sorted(two.collectives["all_reduce"])
    fit = fit_alpha_beta(sizes, [two.collectives["all_reduce"][s] for s in sizes])
    largest = sizes[-1]
    fit_ratio = (fit.alpha + fit.beta * largest) / two.collectives["all_reduce"][largest]
    return [
        Row("segment scaling P=2: efficiency (MiniLM, 32 x 128 tokens)", f"P=2 {two.throughput:.1f} seg/s",
            f"P=1 {one.throughput:.1f} seg/s", speedup / 2, ">= 0.7"),
        Row("segment scaling P=2: speedup", f"{two.seconds:.3f} s", f"{one.seconds:.3f} s", speedup, ">= 1.4"),
        Row(f"causal ring attention P=1 / SDPA, n={RING_N}", f"{one.ring_seconds * 1e3:.0f} ms",
            f"SDPA 1 thread {sdpa * 1e3:.0f} ms", one.ring_seconds / sdpa),
        Row(f"causal ring attention P=2 / SDPA, n={RING_N}", f"{two.ring_seconds * 1e3:.0f} ms",
            f"SDPA 1 thread {sdpa * 1e3:.0f} ms", two.ring_seconds / sdpa),
        Row(f"all_reduce fit a+b*bytes (gloo, P=2): fit/measured at {largest >> 20} MB",
            f"alpha={fit.alpha * 1e6:.0f} us, 1/beta={fit.bandwidth / 1e9:.2f} GB/s", f"measured at {largest >> 20} MB",
            fit_ratio),
    ]


if __name__ == "__main__":
    print_rows(run())
