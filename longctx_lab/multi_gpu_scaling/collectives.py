"""What communication costs: time all_reduce / all_gather per message size and fit α + β·bytes.

The α–β (latency–bandwidth) model is the standard first model of a network link; chapter 4 fits it
to gloo on loopback and feeds the fit to the cost model (cost_model.py).
"""
from __future__ import annotations

import math
import time
from typing import NamedTuple, Sequence

import numpy as np
import torch
import torch.distributed as dist

from ..core.checked import checked
from ..core.i18n import N_, tr
from .workers import max_over_ranks, rank_device

__all__ = ["COLLECTIVE_SIZES", "AlphaBetaFit", "collective_costs", "fit_alpha_beta"]

# 1 KB to 2 MB: the small messages pin down α, the 2 MB one a per-byte term several times α. Larger
# messages on loopback leave the straight line (an 8 MB all_reduce can take twice what it predicts).
COLLECTIVE_SIZES: tuple[int, ...] = (1 << 10, 1 << 14, 1 << 18, 1 << 21)


@checked
def collective_costs(rank: int, world_size: int, sizes_bytes: tuple[int, ...] = COLLECTIVE_SIZES,
                     repeat: int = 7) -> dict[str, dict[int, float]]:
    """Worker: best-of-`repeat` seconds of all_reduce and all_gather per message size (bytes per rank), in this group.

    Call it inside a process group (e.g. via run_distributed). Taught in 04_multi_gpu_scaling, § What communication costs.
    """
    device = rank_device()
    costs: dict[str, dict[int, float]] = {"all_reduce": {}, "all_gather": {}}
    warm = torch.ones(1, device=device)
    for _ in range(3):  # the first collectives of a group set up connections and buffers
        dist.all_reduce(warm)
        dist.all_gather([torch.empty_like(warm) for _ in range(world_size)], warm)
    for size in sizes_bytes:
        tensor = torch.ones(max(1, size // 4), device=device)  # fp32
        gathered = [torch.empty_like(tensor) for _ in range(world_size)]
        operations = {"all_reduce": lambda: dist.all_reduce(tensor),
                      "all_gather": lambda: dist.all_gather(gathered, tensor)}
        for name, operation in operations.items():
            times = []
            for trial in range(repeat + 1):
                dist.barrier()
                if device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                operation()
                if device.type == "cuda":
                    torch.cuda.synchronize()
                if trial:  # the first call at a new size allocates buffers
                    times.append(time.perf_counter() - start)
            # Interference (other processes, a rank late out of the barrier) only ever adds time, so the
            # best trial is the cost of the collective itself. Every rank must agree: take the slowest rank's.
            costs[name][size] = max_over_ranks(min(times), device)
    return costs


@checked
class AlphaBetaFit(NamedTuple):
    """A fitted link: time = alpha + beta * bytes; beta = 0 means no per-byte cost was measurable."""

    alpha: float
    beta: float

    @property
    def bandwidth(self) -> float:
        """1/β in bytes/s; infinite when the times did not grow with message size."""
        return 1.0 / self.beta if self.beta > 0 else math.inf

    def describe(self) -> str:
        """One line for a learner: latency in µs and bandwidth in GB/s (or why there is none)."""
        if self.beta > 0:
            return tr(N_("alpha = {alpha:6.0f} us   bandwidth 1/beta = {bandwidth:5.2f} GB/s"),
                      alpha=self.alpha * 1e6, bandwidth=self.bandwidth / 1e9)
        return tr(N_("alpha = {alpha:6.0f} us   bandwidth not resolved: time did not grow with message size "
                     "(noisy run, or messages too small); measure again or with larger sizes"), alpha=self.alpha * 1e6)


@checked
def fit_alpha_beta(sizes_bytes: Sequence[float], seconds: Sequence[float]) -> AlphaBetaFit:
    """Fit time = α + β·bytes (least squares on relative error, α, β >= 0): α is the latency (s), 1/β the bandwidth (bytes/s).

    Taught in 04_multi_gpu_scaling, § What communication costs.
    """
    sizes = np.asarray(sizes_bytes, dtype=float)
    times = np.asarray(seconds, dtype=float)
    for name, values in (("sizes_bytes", sizes), ("seconds", times)):
        if not np.isfinite(values).all():
            raise ValueError(f"{name} holds NaN/inf ({values.tolist()}); valid: finite numbers")
    if (sizes < 0).any():
        raise ValueError(f"sizes_bytes must all be ≥ 0, got {sizes.tolist()}")
    if sizes.shape != times.shape or sizes.ndim != 1 or len(sizes) < 2:
        raise ValueError(f"sizes_bytes and seconds must be 1-D of equal length >= 2, got {sizes.shape} and {times.shape}")
    if (times <= 0).any():
        raise ValueError("seconds must all be > 0")
    if len(np.unique(sizes)) < 2:
        raise ValueError(f"sizes_bytes needs at least two different sizes to fit a slope, got {sorted(set(sizes.tolist()))}")
    weights = 1.0 / times  # relative residuals: the small messages, which set α, count as much as the large
    beta, alpha = np.polyfit(sizes, times, 1, w=weights)
    if alpha < 0:  # noise can tilt the line below the origin: refit through it (α = 0)
        alpha, beta = 0.0, np.sum(weights**2 * sizes * times) / np.sum(weights**2 * sizes**2)
    if beta < 0:  # no measurable bandwidth term: a constant α
        alpha, beta = np.sum(weights**2 * times) / np.sum(weights**2), 0.0
    return AlphaBetaFit(float(alpha), float(beta))
