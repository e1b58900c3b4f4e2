"""Shared benchmark helpers: time a callable robustly and print rows of ratios against a baseline.

Every benchmark measures the kit and its baseline in the same run, on the same machine, and reports
the ratio; absolute times are printed for context only.
"""
from __future__ import annotations

import platform
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass
class Row:
    """One benchmark result: what was measured against which baseline, their ratio, and the goal."""

    benchmark: str
    measured: str
    baseline: str
    ratio: float
    goal: str = ""

    @property
    def met(self) -> str:
        return "" if not self.goal else ("yes" if _goal_met(self.ratio, self.goal) else "NO")


def _goal_met(ratio: float, goal: str) -> bool:
    op, value = goal.split()[0], float(goal.split()[1].rstrip("x×"))
    return {">=": ratio >= value, "<=": ratio <= value, ">": ratio > value, "<": ratio < value}[op]


def _samples(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall time of each of `runs` calls of `fn()`, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def timed(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of `fn()` in seconds over `repeat` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    return statistics.median(_samples(fn, repeat))


def latencies(fn: Callable[[], object], calls: int = 100) -> tuple[float, float]:
    """Median and 95th-percentile latency of `fn()` in seconds over `calls` calls."""
    times = sorted(_samples(fn, calls))
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def attention_flops(config, n: int) -> float:
    """FLOPs of QKᵀ and AV in one causal n-token forward: 2 matmuls × 2n²·heads·head_dim per layer, halved (causal)."""
    return 2 * n * n * config.num_attention_heads * config.head_dim * config.num_hidden_layers


def matmul_flops(size: int = 1024, repeat: int = 5) -> float:
    """This machine's measured fp32 matmul rate in FLOP/s (the peak quoted for model FLOP utilisation)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    seconds = timed(lambda: a @ b, repeat=repeat)
    return 2 * size**3 / seconds


def machine_label() -> str:
    """A one-line description of the machine the numbers were measured on."""
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def print_rows(rows: list[Row]) -> None:
    """Print rows as an aligned table, ratio last on each line."""
    header = ("benchmark", "measured", "baseline", "goal", "met", "ratio")
    table = [header] + [(r.benchmark, r.measured, r.baseline, r.goal, r.met, f"{r.ratio:.2f}") for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)))
