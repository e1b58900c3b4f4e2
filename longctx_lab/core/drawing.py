"""Shared figure helpers: a token strip coloured by segment, a static attention heatmap grid, and `Drawing`.

Figures are plain matplotlib objects, returned (never shown here), so notebooks display them,
widgets redraw them and tests inspect them. A live panel keeps one `Drawing` and updates its artists
instead of building a figure per change. Chapter-specific figures live in each chapter's plots.py.
"""
from __future__ import annotations

import io
import math
from typing import Hashable, Sequence

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path

from .checked import MAX_SIZE
from .checks import as_int
from .i18n import fig_tr, prepare_figures

__all__ = ["Drawing", "attention_heatmap_grid", "decade_limits", "distance_bin_labels", "distance_bins",
           "figure_fingerprint", "segment_colors", "strip_layers", "token_strip"]

prepare_figures()  # a Chinese edition chosen by $LONGCTX_LAB_LANG gets its CJK font before the first figure

PANEL_DPI = 80  # a panel's PNG: 8 x 3 inches -> 640 x 240 pixels, readable when projected, quick to rasterise


class Drawing:
    """A figure a live panel builds once and redraws in place: fixed margins, changing artists over a cached background.

    Mark the artists that change between settings with `dynamic`; declare what the rest depends on with
    `static_key` (axis limits, labels). While the key holds, `png()` restores the cached background and
    draws only the dynamic artists, which is what keeps a panel's answer well under 100 ms.
    Taught in 00_start_here, § A first live panel.
    """

    def __init__(self, figsize: tuple[float, float], dpi: int = PANEL_DPI, **margins: float):
        self.figure = Figure(figsize=figsize, dpi=dpi)
        # Fixed margins: a constrained layout is solved again at every draw, which costs more than the draw.
        self.figure.subplots_adjust(**margins)
        self._dynamic: list[Artist] = []
        self._key: Hashable = None
        self._background = None
        self._canvas: FigureCanvasAgg | None = None

    def dynamic(self, *artists: Artist) -> None:
        """Mark artists that change between settings: they are drawn over the cached background."""
        self._dynamic.extend(artists)

    def static_key(self, key: Hashable) -> None:
        """Declare what the static part depends on; a new key redraws everything once."""
        if key != self._key:
            self._key, self._background = key, None

    def draw(self) -> None:
        """Bring the canvas up to date: restore the background (or redraw it) and draw the dynamic artists."""
        canvas = self.figure.canvas
        if not isinstance(canvas, FigureCanvasAgg):
            canvas = FigureCanvasAgg(self.figure)
        if self._background is None or canvas is not self._canvas:
            for artist in self._dynamic:  # animated only while the background is drawn, so savefig still shows all
                artist.set_animated(True)
            try:
                canvas.draw()
            finally:
                for artist in self._dynamic:
                    artist.set_animated(False)
            self._background, self._canvas = canvas.copy_from_bbox(self.figure.bbox), canvas
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for artist in self._dynamic:
            if artist.get_visible():
                artist.draw(renderer)

    def png(self) -> bytes:
        """The up-to-date figure as PNG bytes (RGB at zlib level 1: shown once, never stored, so speed wins)."""
        from PIL import Image

        self.draw()
        buffer = io.BytesIO()
        rgb = np.ascontiguousarray(np.asarray(self._canvas.buffer_rgba())[..., :3])
        Image.fromarray(rgb).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def decade_limits(values, floor: float = 1e-30) -> tuple[float, float]:
    """Log-axis limits at whole decades around the positive `values`, so small changes leave the axis alone.

    Taught in 04_multi_gpu_scaling, § A cost model for real clusters.
    """
    array = np.asarray(values, dtype=np.float64)
    array = array[np.isfinite(array) & (array > floor)]
    if not array.size:
        return 0.1, 10.0
    return 10.0 ** math.floor(math.log10(array.min())), 10.0 ** math.ceil(math.log10(array.max()) + 1e-12)


def distance_bins(t: int) -> np.ndarray:
    """Bin edges 0, 1, 2, 4, 8, … up to t: distances grow by doublings, so near and far both stay readable.

    Taught in 03_attention, § Which heads look far, and 02_segment_loss, § Loss by position.
    """
    t = as_int("t", t, 1, MAX_SIZE)
    edges = [0, 1] + [2**i for i in range(1, max(1, math.ceil(math.log2(max(t, 2)))) + 1)]
    return np.array(sorted({min(e, t) for e in edges}), dtype=np.float64)


def distance_bin_labels(edges) -> list[str]:
    """Tick labels for bins between consecutive `edges`: "4–7" for [4, 8), a single "1" for [1, 2)."""
    return [f"{int(a)}" if b - a <= 1 else f"{int(a)}–{int(b) - 1}" for a, b in zip(edges[:-1], edges[1:])]


def segment_colors(m: int) -> list:
    """m distinguishable colours, cycling through matplotlib's tab20 map."""
    if not isinstance(m, int) or m < 1:
        raise ValueError(f"m must be an int >= 1, got {m!r}")
    cmap = matplotlib.colormaps["tab20"]
    return [cmap((2 * i) % 20 + (i // 10) % 2) for i in range(m)]


def strip_layers(n: int, spans: Sequence[tuple[int, int]], rows: int = 1) -> tuple[np.ndarray, Path | None, int]:
    """The token strip's two layers: an RGBA image (a colour per token, wrapped into `rows`) and the hatch path.

    The image is (rows·5, per_row, 4) (4 pixel rows per token row, then a white gap); the path holds one
    box per run of tokens shared by two spans (None without overlaps). Taught in 01_chunking, § Seeing the chunks.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if not isinstance(rows, int) or not 1 <= rows <= n:
        raise ValueError(f"rows must be an int in [1, n={n}], got {rows!r}")
    for start, end in spans:
        if not 0 <= start < end <= n:
            raise ValueError(f"span ({start}, {end}) is not inside [0, n={n})")
    per_row = math.ceil(n / rows)
    owner = np.full(n, -1)  # (n,) index of the last span holding each token, -1 for none
    for i, (start, end) in enumerate(spans):
        owner[start:end] = i
    coverage = np.zeros(n + 1, dtype=np.int64)
    np.add.at(coverage, [s for s, _ in spans], 1)
    np.add.at(coverage, [e for _, e in spans], -1)
    coverage = np.cumsum(coverage)[:n]  # (n,) how many spans hold each token

    palette = np.array(segment_colors(min(max(len(spans), 1), 20)))  # neighbours always differ
    pixels = np.ones((rows * per_row, 4))  # (rows·per_row, RGBA), white past the last token
    pixels[:n] = np.where((owner >= 0)[:, None], palette[owner % len(palette)], (0.83, 0.83, 0.83, 1.0))
    pixels = pixels.reshape(rows, per_row, 4)
    gap = np.ones((rows, 1, per_row, 4))  # a white line between wrapped rows
    image = np.concatenate([np.repeat(pixels[:, None], 4, axis=1), gap], axis=1).reshape(rows * 5, per_row, 4)

    boxes = []
    shared = np.flatnonzero(coverage > 1)
    if shared.size:
        breaks = np.flatnonzero(np.diff(shared) > 1)
        for start, end in zip(np.r_[shared[0], shared[breaks + 1]], np.r_[shared[breaks], shared[-1]] + 1):
            start, end = int(start), int(end)
            while start < end:  # split a run across wrapped rows; row 0 is drawn at the top
                row, col = divmod(start, per_row)
                width = min(end, (row + 1) * per_row) - start
                boxes.append((col, rows - row - 0.8, width))
                start += width
    if not boxes:
        return image, None, per_row
    # One compound path: Agg hatches it in a single pass, however many runs there are.
    x, y, w = np.array(boxes, dtype=float).T
    corners = np.stack([np.c_[x, y], np.c_[x + w, y], np.c_[x + w, y + 0.8], np.c_[x, y + 0.8], np.c_[x, y]], 1)
    codes = np.tile([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], len(boxes))
    return image, Path(corners.reshape(-1, 2), codes), per_row


def token_strip(
    n: int,
    spans: Sequence[tuple[int, int]],
    ax=None,
    title: str | None = None,
    rows: int = 1,
) -> Figure:
    """Draw n tokens as a strip (wrapped into `rows` rows), coloured by the last span holding each token.

    Tokens in two spans (overlaps) are hatched, tokens in none are grey. Drawn as one image plus one
    hatched compound path, so thousands of spans still redraw in milliseconds.
    Taught in 01_chunking, § Seeing the chunks.
    """
    image, hatch, per_row = strip_layers(n, spans, rows)
    if ax is None:
        fig = Figure(figsize=(9, 0.4 * rows + 0.8), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.imshow(image, extent=(0, per_row, 0, rows), aspect="auto", interpolation="nearest")
    if hatch is not None:
        ax.add_patch(PathPatch(hatch, facecolor="none", edgecolor="black", hatch="////", linewidth=0))
    ax.set_xlim(0, per_row)
    ax.set_ylim(0, rows)
    ax.set_yticks([])
    ax.tick_params(labelsize=8)
    ax.set_xlabel(fig_tr("token position (wrapped every {per_row})", per_row=per_row) if rows > 1
                  else fig_tr("token position"), fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
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
