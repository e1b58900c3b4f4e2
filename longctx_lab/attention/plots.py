"""Chapter 3 figures: head-statistic heatmaps, one head's pattern, the span mask, chunk blocks, window perplexity."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ..core.checked import checked
from ..core.drawing import Drawing, distance_bin_labels, distance_bins
from ..core.i18n import N_, fig_tr
from .maps import HeadStats

__all__ = [
    "HeadPattern",
    "SpanMask",
    "block_mask_figure",
    "distance_bins",
    "head_pattern_figure",
    "head_stats_heatmaps",
    "span_mask_figure",
    "window_perplexity_figure",
]

_STAT_LABELS = {
    "mean_distance": N_("mean distance (tokens)"),
    "span90": N_("distance holding 90% (tokens)"),
    "entropy": N_("entropy (nats)"),
    "sink_mass": N_("mass on first token"),
}


def _numpy(values) -> np.ndarray:
    return np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64)


@checked
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
        ax.set_title(fig_tr(_STAT_LABELS[name]), fontsize=9)
        ax.set_xlabel(fig_tr("head"))
        ax.set_xticks(range(array.shape[1]))
        fig.colorbar(image, ax=ax, shrink=0.8)
    axes[0].set_ylabel(fig_tr("layer"))
    return fig


@checked
class HeadPattern(Drawing):
    """One head of T tokens, redrawn in place: its attention map (log colour) and its mass per distance bin.

    Taught in 03_attention, § Which heads look far.
    """

    def __init__(self, t: int):
        if not isinstance(t, int) or t < 2:
            raise ValueError(f"t must be an int >= 2, got {t!r}")
        super().__init__((8, 3.4), left=0.08, right=0.98, bottom=0.24, top=0.9, wspace=0.3)
        self.t = t
        left, right = self.figure.subplots(1, 2)
        # The map is shrunk (by block maxima, so bright spots survive) to <= 256 pixels a side.
        self.step = max(1, math.ceil(t / 256))
        side = math.ceil(t / self.step)
        self.image = left.imshow(np.full((side, side), -4.0), cmap="viridis", vmin=-4, vmax=0,
                                 extent=(-0.5, t - 0.5, t - 0.5, -0.5), interpolation="nearest")
        left.set_xlabel(fig_tr("key position"))
        left.set_ylabel(fig_tr("query position"))
        self.title = left.set_title("", fontsize=10)
        self.edges = distance_bins(t)
        self.bars = right.bar(range(len(self.edges) - 1), np.zeros(len(self.edges) - 1), color="tab:blue")
        right.set_xticks(range(len(self.edges) - 1), distance_bin_labels(self.edges), rotation=60, fontsize=7)
        right.set_ylim(0, 1)
        right.set_xlabel(fig_tr("distance i − j (tokens)"))
        right.set_ylabel(fig_tr("attention mass (mean over queries)"))
        self.dynamic(self.image, self.title, *self.bars)

    def update(self, attn_map, profile, title: str = "") -> Figure:
        """Show a (T, T) map and its mass per distance `profile` (length T)."""
        attn, mass = torch.as_tensor(attn_map, dtype=torch.float32), _numpy(profile)  # no float64 copy of T²
        if tuple(attn.shape) != (self.t, self.t) or mass.shape != (self.t,):
            raise ValueError(f"need attn_map ({self.t}, {self.t}) and profile ({self.t},), "
                             f"got {tuple(attn.shape)} and {mass.shape}")
        shrunk = torch.nn.functional.max_pool2d(attn[None], self.step, ceil_mode=True)[0]
        self.image.set_data(shrunk.clamp_min(1e-4).log10().numpy())
        totals, _ = np.histogram(np.arange(self.t), bins=self.edges, weights=mass)
        for bar, total in zip(self.bars, totals):
            bar.set_height(total)
        self.title.set_text(title)
        return self.figure


@checked
def head_pattern_figure(attn_map, profile, title: str = "") -> Figure:
    """One head: its (T, T) attention map (log colour) and its mass per distance bin (`profile`, length T).

    Taught in 03_attention, § Which heads look far.
    """
    attn, mass = torch.as_tensor(attn_map, dtype=torch.float32), _numpy(profile)
    if attn.ndim != 2 or attn.shape[0] != attn.shape[1] or mass.shape != (attn.shape[0],):
        raise ValueError(f"need attn_map (T, T) and profile (T,), got {tuple(attn.shape)} and {mass.shape}")
    return HeadPattern(attn.shape[0]).update(attn, mass, title)


@checked
class SpanMask(Drawing):
    """The soft span mask m_z(x) and one attention row before and after masking + renormalising, redrawn in place.

    Taught in 03_attention, § Adaptive attention span.
    """

    def __init__(self, row):
        row = _numpy(row)
        if row.ndim != 1 or row.size < 2:
            raise ValueError(f"row must be a 1-D attention row of length >= 2, got shape {row.shape}")
        super().__init__((8, 2.8), left=0.07, right=0.98, bottom=0.17, top=0.9, wspace=0.22)
        distance = np.arange(row.size)
        left, right = self.figure.subplots(1, 2)
        (self.mask_line,) = left.plot(distance, np.ones(row.size), color="tab:red")
        self.ramp = left.axvspan(0, 1, color="tab:red", alpha=0.12, label=fig_tr("ramp [z, z + R]"))
        left.set_xlim(-0.5, row.size - 0.5)
        left.set_ylim(-0.05, 1.05)
        left.set_xlabel(fig_tr("distance x (tokens)"))
        self.title = left.set_title("", fontsize=10)
        left.legend(fontsize=8, loc="upper right")
        right.plot(distance, row, color="gray", label=fig_tr("softmax row"))
        (self.masked_line,) = right.plot(distance, row, color="tab:red", label=fig_tr("masked, renormalised"))
        right.set_xlabel(fig_tr("distance x (tokens)"))
        right.set_yscale("log")
        right.set_ylim(1e-5, 1.5)
        right.legend(fontsize=8, loc="upper right")
        for ax in (left, right):
            ax.set_autoscale_on(False)  # the limits are fixed, so only the lines need redrawing
        self.dynamic(self.mask_line, self.ramp, self.title, self.masked_line)

    def update(self, mask, masked_row, z: float, R: float) -> Figure:
        """Show the mask for (z, R) and the masked, renormalised row."""
        self.mask_line.set_ydata(_numpy(mask))
        self.masked_line.set_ydata(_numpy(masked_row))
        self.ramp.set_x(z)
        self.ramp.set_width(R)
        self.title.set_text(f"m_z(x), z = {z:g}, R = {R:g}")
        return self.figure


@checked
def span_mask_figure(mask, row, masked_row, z: float, R: float) -> Figure:
    """The soft span mask m_z(x) over distance, and an attention row before and after masking + renormalising.

    Taught in 03_attention, § Adaptive attention span.
    """
    return SpanMask(row).update(mask, masked_row, z, R)


@checked
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
    ax.set_xlabel(fig_tr("key position"))
    ax.set_ylabel(fig_tr("query position"))
    ax.set_title(title, fontsize=10)
    return fig


@checked
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
    ax.bar(positions - 0.2, plain, width=0.4, label=fig_tr("window only"), color="tab:orange")
    ax.bar(positions + 0.2, with_sinks, width=0.4, label=fig_tr("window + {sinks} sinks", sinks=sinks), color="tab:green")
    ax.axhline(dense, color="black", linestyle="--", label=fig_tr("dense (full causal)"))
    for x, value in zip(np.r_[positions - 0.2, positions + 0.2], [*plain, *with_sinks]):
        ax.annotate(f"{value:.1f}", (x, value), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(positions, [f"w = {w}" for w in windows])
    ax.set_ylim(0, 1.15 * max([dense, *plain, *with_sinks]))
    ax.set_ylabel(fig_tr("perplexity"))
    ax.legend(fontsize=8)
    return fig
