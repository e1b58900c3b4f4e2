"""Chapter 2 figures: per-segment losses Lᵢ side by side, and the NLL by position inside a segment."""
from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.figure import Figure

from ..core.checked import checked
from ..core.drawing import PANEL_DPI, distance_bin_labels, distance_bins
from ..core.i18n import fig_tr
from .loss import SegmentLoss, loss_by_position

__all__ = ["MODE_COLORS", "position_curve", "segment_bars", "segment_loss_figure"]

MODE_COLORS = {"full": "tab:blue", "recurrent": "tab:cyan", "disjoint": "tab:red", "sliding": "tab:green"}


def _check_results(results: Mapping[str, SegmentLoss]) -> None:
    if not results or not all(isinstance(r, SegmentLoss) for r in results.values()):
        raise TypeError("results must be a non-empty dict of label -> SegmentLoss")


def _color(label: str, result: SegmentLoss) -> str:
    return MODE_COLORS.get(label, MODE_COLORS.get(result.mode, "gray"))


def _grid_sums(result: SegmentLoss, k: int) -> np.ndarray:
    """Lᵢ on the grid of segments of k: the summed NLL of the tokens in [ik, (i+1)k), whatever their context was."""
    per_token = np.nan_to_num(result.per_token.numpy())
    return np.add.reduceat(per_token, np.arange(0, per_token.size, k))


@checked(k=(1, None))
def segment_bars(results: Mapping[str, SegmentLoss], k: int | None = None, ax=None) -> Figure:
    """Grouped bars of Lᵢ (summed NLL, nats) for the same segments i of k tokens, one colour per scoring mode.

    A sliding run's windows are re-binned onto the k-grid, so every bar group covers the same tokens.
    Taught in 02_segment_loss, § The four modes.
    """
    _check_results(results)
    k = k if k is not None else next(iter(results.values())).k
    if ax is None:
        fig = Figure(figsize=(7, 2.8), layout="constrained")
        ax = fig.add_subplot()
    width = 0.8 / len(results)
    for j, (label, result) in enumerate(results.items()):
        sums = _grid_sums(result, k)
        x = np.arange(sums.size) + (j - (len(results) - 1) / 2) * width
        ax.bar(x, sums, width=width, color=_color(label, result), label=f"{label}: L = {result.total:.0f}")
    ax.set_xlabel(fig_tr("segment i (tokens [{k}i, {k}(i+1)))", k=k))
    ax.set_ylabel(fig_tr("Lᵢ (nats)"))
    ax.set_ylim(top=ax.get_ylim()[1] * 1.35)  # headroom for the legend above the bars
    ax.legend(fontsize=7, loc="upper center", ncol=min(len(results), 2))  # 3 columns overflow a half-width plot
    ax.set_title(fig_tr("per-segment loss Lᵢ on the same tokens"), fontsize=10)
    return ax.figure


@checked(k=(1, None))
def position_curve(results: Mapping[str, SegmentLoss], k: int | None = None, ax=None) -> Figure:
    """Mean NLL by offset inside a segment of k tokens (doubling bins), one line per mode; disjoint spikes at the start.

    Taught in 02_segment_loss, § Loss by position inside a segment.
    """
    _check_results(results)
    k = k if k is not None else next(iter(results.values())).k
    if ax is None:
        fig = Figure(figsize=(7, 2.8), layout="constrained")
        ax = fig.add_subplot()
    edges = distance_bins(k).astype(int)  # offsets 0, 1, 2–3, 4–7, …: the start of a segment gets the detail
    bins = list(zip(edges[:-1], edges[1:]))
    for label, result in results.items():
        curve = loss_by_position(result, k).numpy()
        binned = [np.nanmean(curve[a:b]) if not np.isnan(curve[a:b]).all() else np.nan for a, b in bins]
        ax.plot(np.arange(len(bins)), binned, marker="o", color=_color(label, result), label=label, lw=1.5)
    ax.set_xticks(np.arange(len(bins)), distance_bin_labels(edges), fontsize=8)
    ax.set_xlabel(fig_tr("offset inside the segment"))
    ax.set_ylabel(fig_tr("mean NLL (nats)"))
    ax.legend(fontsize=8)
    ax.set_title(fig_tr("loss by position inside a segment"), fontsize=10)
    return ax.figure


@checked(k=(1, None))
def segment_loss_figure(results: Mapping[str, SegmentLoss], k: int | None = None) -> Figure:
    """The live panel's figure: per-segment bars on the left, the position curve on the right.

    Taught in 02_segment_loss, § The live panel.
    """
    _check_results(results)
    # Fixed margins, not a constrained layout: the panel draws one of these per new setting.
    fig = Figure(figsize=(10, 2.9), dpi=PANEL_DPI)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.17, top=0.9, wspace=0.18)
    left, right = fig.subplots(1, 2)
    segment_bars(results, k, ax=left)
    position_curve(results, k, ax=right)
    return fig
