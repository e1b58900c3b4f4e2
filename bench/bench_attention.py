"""Chapter 3 benchmark: SmolLM2 attention extraction + head statistics at n = 1024 and 2048, and the
layer/head panel's redraw latency on cached maps.

Each extraction runs in a fresh process so its peak memory (max RSS above the loaded model) is its own.
Ratios: 2048 vs 1024 time against the n^2 expectation of 4; streaming per-layer statistics against holding
all (L, H, n, n) maps; the panel's p95 latency against the 100 ms goal.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from harness import Row, latencies, print_rows  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _measure(mode: str, n: int) -> tuple[float, float]:
    """Seconds and peak MB above the loaded model for one extraction of `mode` ("full" or "stream") at n tokens."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from longctx_lab import attention_maps, head_stats, layer_head_stats, load_smollm2, load_text

    model, tokenizer = load_smollm2(attn_implementation="eager")
    ids = tokenizer(load_text("long_document"), return_tensors="pt").input_ids[:, :n]  # 5,031 tokens >= n
    layer_head_stats(model, ids[:, :32])  # warm-up: first-call overheads, tiny peak
    base = _rss_mb()
    start = time.perf_counter()
    with torch.no_grad():
        if mode == "full":
            head_stats(attention_maps(model, ids))
        else:
            layer_head_stats(model, ids)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return seconds, peak - base


def _in_fresh_process(mode: str, n: int) -> tuple[float, float]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure, (mode, n))


def _panel_latency(n: int = 512, calls: int = 30) -> tuple[float, float]:
    """Median and p95 seconds to redraw the layer/head panel (render + rasterise) on cached SmolLM2 maps."""
    import random

    from longctx_lab import attention_maps, head_stats, load_smollm2, load_text
    from longctx_lab.attention.widgets import render_head_pattern
    from longctx_lab.core.drawing import figure_fingerprint
    from longctx_lab.core.panels import ResultCache

    model, tokenizer = load_smollm2(attn_implementation="eager")
    ids = tokenizer(load_text("long_document"), return_tensors="pt").input_ids[:, :n]
    maps = attention_maps(model, ids)
    stats = head_stats(maps)  # computed once with the maps, as the notebook does
    cache = ResultCache()
    picks = random.Random(0)

    def redraw() -> None:
        view = render_head_pattern(maps, picks.randrange(maps.shape[0]), picks.randrange(maps.shape[1]), stats, cache)
        figure_fingerprint(view.figure)

    redraw()
    return latencies(redraw, calls)


def run() -> list[Row]:
    full_1024 = _in_fresh_process("full", 1024)
    stream_1024 = _in_fresh_process("stream", 1024)
    stream_2048 = _in_fresh_process("stream", 2048)
    median, p95 = _panel_latency()
    time_ratio = stream_2048[0] / stream_1024[0]
    return [
        Row("head stats n=2048 vs 1024: time (n^2 predicts 4)", f"{stream_2048[0]:.1f} s", f"{stream_1024[0]:.1f} s",
            time_ratio, "<= 4.0"),
        Row("head stats n=2048 vs 1024: peak memory (one layer's n^2 maps: 4)", f"{stream_2048[1]:.0f} MB",
            f"{stream_1024[1]:.0f} MB", stream_2048[1] / stream_1024[1], "<= 4.5"),
        Row("n=1024 per-layer streaming vs all maps: time", f"{stream_1024[0]:.1f} s", f"{full_1024[0]:.1f} s",
            stream_1024[0] / full_1024[0], "<= 1.2"),
        Row("n=1024 per-layer streaming vs all maps: peak memory", f"{stream_1024[1]:.0f} MB",
            f"{full_1024[1]:.0f} MB", stream_1024[1] / full_1024[1], "<= 0.5"),
        Row("layer/head panel redraw p95 vs 100 ms goal", f"p95 {p95 * 1e3:.0f} ms (median {median * 1e3:.0f})",
            "100 ms", p95 / 0.1, "<= 1.0"),
    ]


if __name__ == "__main__":
    print_rows(run())
