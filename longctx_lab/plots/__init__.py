"""Shared figure helpers: a token strip coloured by segment and a static attention heatmap grid.

Figures are plain matplotlib objects, returned (never shown here), so notebooks display them,
widgets redraw them and tests inspect them. Chapter-specific figures live beside this file.
"""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["attention_heatmap_grid", "figure_fingerprint", "segment_colors", "token_strip"]


def segment_colors(m: int) -> list:
    """m distinguishable colours, cycling through matplotlib's tab20 map."""
    if not isinstance(m, int) or m < 1:
        raise ValueError(f"m must be an int >= 1, got {m!r}")
    cmap = matplotlib.colormaps["tab20"]
    return [cmap((2 * i) % 20 + (i // 10) % 2) for i in range(m)]


def token_strip(
    n: int,
    spans: Sequence[tuple[int, int]],
    ax=None,
    title: str | None = None,
    rows: int = 1,
) -> Figure:
    """Draw n tokens as a strip (wrapped into `rows` rows), each chunk span coloured, overlaps hatched.

    Taught in 01_chunking, § Seeing the chunks.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be an int >= 1, got {rows!r}")
    for start, end in spans:
        if not 0 <= start < end <= n:
            raise ValueError(f"span ({start}, {end}) is not inside [0, n={n})")
    per_row = math.ceil(n / rows)
    if ax is None:
        fig = Figure(figsize=(10, 0.45 * rows + 0.7), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    colors = segment_colors(max(len(spans), 1))
    coverage = np.zeros(n, dtype=np.int32)
    for start, end in spans:
        coverage[start:end] += 1

    def bar(start: int, end: int, **style) -> None:
        # Split a token range across wrapped rows; row 0 is drawn at the top.
        while start < end:
            row, col = divmod(start, per_row)
            width = min(end, (row + 1) * per_row) - start
            ax.add_patch(Rectangle((col, rows - 1 - row), width, 0.8, **style))
            start += width

    for i, (start, end) in enumerate(spans):
        bar(start, end, facecolor=colors[i], edgecolor="none")
    shared = np.flatnonzero(coverage > 1)
    if shared.size:  # runs of tokens that belong to two chunks
        breaks = np.flatnonzero(np.diff(shared) > 1)
        for run_start, run_end in zip(np.r_[shared[0], shared[breaks + 1]], np.r_[shared[breaks], shared[-1]] + 1):
            bar(int(run_start), int(run_end), facecolor="none", edgecolor="black", hatch="////", linewidth=0)
    missing = np.flatnonzero(coverage == 0)
    for token in missing:
        bar(int(token), int(token) + 1, facecolor="lightgray", edgecolor="none")
    ax.set_xlim(0, per_row)
    ax.set_ylim(0, rows)
    ax.set_yticks([])
    ax.set_xlabel("token position" + (f" (wrapped every {per_row})" if rows > 1 else ""))
    if title:
        ax.set_title(title)
    return fig


def attention_heatmap_grid(
    maps,
    tokens: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    cmap: str = "viridis",
    size: float = 2.6,
) -> Figure:
    """Draw attention maps `(P, T, T)` (e.g. one per head) as a grid of heatmaps, queries down, keys across.

    Taught in 03_attention, § Looking at attention.
    """
    array = np.asarray(maps.detach().cpu() if hasattr(maps, "detach") else maps, dtype=np.float32)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1] != array.shape[2]:
        raise ValueError(f"maps must have shape (P, T, T) or (T, T), got {array.shape}")
    panels, length = array.shape[0], array.shape[1]
    if tokens is not None and len(tokens) != length:
        raise ValueError(f"tokens has {len(tokens)} entries but the maps are {length} x {length}")
    if titles is not None and len(titles) != panels:
        raise ValueError(f"titles has {len(titles)} entries for {panels} maps")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be an int >= 1, got {ncols!r}")
    ncols = min(ncols, panels)
    nrows = math.ceil(panels / ncols)
    fig = Figure(figsize=(size * ncols, size * nrows + 0.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        if i >= panels:
            ax.axis("off")
            continue
        ax.imshow(array[i], cmap=cmap, vmin=0.0, vmax=max(float(array[i].max()), 1e-9), interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
        if tokens is not None and length <= 40:
            ax.set_xticks(range(length), tokens, rotation=90, fontsize=6)
            ax.set_yticks(range(length), tokens, fontsize=6)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    return fig


def figure_fingerprint(fig: Figure) -> bytes:
    """The figure's rendered pixels, so a test can tell whether a redraw changed what is shown."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return bytes(canvas.buffer_rgba())
