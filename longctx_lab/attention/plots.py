"""Chapter 3 figures: head-statistic heatmaps, one head's pattern, the span mask, chunk blocks, window perplexity."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ..core.drawing import distance_bin_labels, distance_bins
from .maps import HeadStats

__all__ = [
    "block_mask_figure",
    "distance_bins",
    "head_pattern_figure",
    "head_stats_heatmaps",
    "span_mask_figure",
    "window_perplexity_figure",
]

_STAT_LABELS = {
    "mean_distance": "mean distance (tokens)",
    "span90": "distance holding 90% (tokens)",
    "entropy": "entropy (nats)",
    "sink_mass": "mass on first token",
}


def _numpy(values) -> np.ndarray:
    return np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64)


def head_stats_heatmaps(stats: HeadStats, size: float = 2.4) -> Figure:
    """Four layer × head heatmaps, one per statistic of `head_stats` (layers down, heads across).

    Taught in 03_attention, § Which heads look far.
    """
    if not isinstance(stats, HeadStats):
        raise TypeError(f"stats must be a HeadStats, got {type(stats).__name__}")
    fig = Figure(figsize=(4 * size + 1.5, 2.2 * size), layout="constrained")
    axes = fig.subplots(1, 4)
    for ax, (name, values) in zip(axes, stats.as_dict().items()):
        array = _numpy(values)
        if array.ndim != 2:
            raise ValueError(f"stats.{name} must be (layers, heads), got shape {array.shape}")
        image = ax.imshow(array, aspect="auto", cmap="magma", interpolation="nearest")
        ax.set_title(_STAT_LABELS[name], fontsize=9)
        ax.set_xlabel("head")
        ax.set_xticks(range(array.shape[1]))
        fig.colorbar(image, ax=ax, shrink=0.8)
    axes[0].set_ylabel("layer")
    return fig


def head_pattern_figure(attn_map, profile, title: str = "") -> Figure:
    """One head: its (T, T) attention map (log colour) and its mass per distance bin (`profile`, length T).

    Taught in 03_attention, § Which heads look far.
    """
    array, mass = _numpy(attn_map), _numpy(profile)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or mass.shape != (array.shape[0],):
        raise ValueError(f"need attn_map (T, T) and profile (T,), got {array.shape} and {mass.shape}")
    t = array.shape[0]
    # Fixed margins and a map shrunk (by block maxima, so bright spots survive) to <= 256 pixels keep a
    # redraw well under 100 ms; constrained layout and resampling a 1024² image would not.
    fig = Figure(figsize=(8, 3.4))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.24, top=0.9, wspace=0.3)
    left, right = fig.subplots(1, 2)
    step = max(1, math.ceil(t / 256))
    shrunk = torch.nn.functional.max_pool2d(torch.as_tensor(array, dtype=torch.float32)[None], step, ceil_mode=True)[0]
    left.imshow(np.log10(np.maximum(shrunk.numpy(), 1e-4)), cmap="viridis", vmin=-4, vmax=0,
                extent=(-0.5, t - 0.5, t - 0.5, -0.5), interpolation="nearest")
    left.set_xlabel("key position")
    left.set_ylabel("query position")
    left.set_title(title, fontsize=10)
    edges = distance_bins(t)
    totals, _ = np.histogram(np.arange(t), bins=edges, weights=mass)
    right.bar(range(len(totals)), totals, color="tab:blue")
    right.set_xticks(range(len(totals)), distance_bin_labels(edges), rotation=60, fontsize=7)
    right.set_ylim(0, 1)
    right.set_xlabel("distance i − j (tokens)")
    right.set_ylabel("attention mass (mean over queries)")
    return fig


def span_mask_figure(mask, row, masked_row, z: float, R: float) -> Figure:
    """The soft span mask m_z(x) over distance, and an attention row before and after masking + renormalising.

    Taught in 03_attention, § Adaptive attention span.
    """
    mask, row, masked_row = _numpy(mask), _numpy(row), _numpy(masked_row)
    distance = np.arange(len(mask))
    fig = Figure(figsize=(8, 2.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(distance, mask, color="tab:red")
    left.axvspan(z, z + R, color="tab:red", alpha=0.12, label="ramp [z, z + R]")
    left.set_ylim(-0.05, 1.05)
    left.set_xlabel("distance x (tokens)")
    left.set_title(f"m_z(x), z = {z:g}, R = {R:g}", fontsize=10)
    left.legend(fontsize=8, loc="upper right")
    right.plot(distance, row, color="gray", label="softmax row")
    right.plot(distance, masked_row, color="tab:red", label="masked, renormalised")
    right.set_xlabel("distance x (tokens)")
    right.set_yscale("log")
    right.set_ylim(1e-5, 1.5)
    right.legend(fontsize=8, loc="upper right")
    return fig


def block_mask_figure(attn_map, block_mask, title: str = "") -> Figure:
    """A (T, T) attention map with the keys a chunked model cannot see shaded red.

    Taught in 03_attention, § Across chunks.
    """
    array, visible = _numpy(attn_map), _numpy(block_mask).astype(bool)
    if array.shape != visible.shape:
        raise ValueError(f"attn_map {array.shape} and block_mask {visible.shape} must have the same shape")
    fig = Figure(figsize=(4.2, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(np.maximum(array, 1e-4), cmap="gray_r", norm=LogNorm(1e-4, 1.0), interpolation="nearest")
    overlay = np.zeros(array.shape + (4,))
    overlay[~visible] = (0.85, 0.1, 0.1, 0.35)
    ax.imshow(overlay, interpolation="nearest")
    ax.set_xlabel("key position")
    ax.set_ylabel("query position")
    ax.set_title(title, fontsize=10)
    return fig


def window_perplexity_figure(dense: float, windows: Sequence[int], plain: Sequence[float],
                             with_sinks: Sequence[float], sinks: int) -> Figure:
    """Perplexity for each window size, without and with `sinks` first tokens kept, against the dense model.

    Taught in 03_attention, § Cheaper masks on a real model.
    """
    if not len(windows) == len(plain) == len(with_sinks):
        raise ValueError("windows, plain and with_sinks must have the same length")
    fig = Figure(figsize=(5.5, 3), layout="constrained")
    ax = fig.add_subplot()
    positions = np.arange(len(windows))
    ax.bar(positions - 0.2, plain, width=0.4, label="window only", color="tab:orange")
    ax.bar(positions + 0.2, with_sinks, width=0.4, label=f"window + {sinks} sinks", color="tab:green")
    ax.axhline(dense, color="black", linestyle="--", label="dense (full causal)")
    for x, value in zip(np.r_[positions - 0.2, positions + 0.2], [*plain, *with_sinks]):
        ax.annotate(f"{value:.1f}", (x, value), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(positions, [f"w = {w}" for w in windows])
    ax.set_ylim(0, 1.15 * max([dense, *plain, *with_sinks]))
    ax.set_ylabel("perplexity")
    ax.legend(fontsize=8)
    return fig
