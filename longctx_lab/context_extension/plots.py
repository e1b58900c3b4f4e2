"""Figures for 06_context_extension: RoPE frequencies, loss past the trained length, needle heatmaps."""
from __future__ import annotations

from typing import Sequence

from functools import lru_cache

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

from ..core.checked import checked
from ..core.drawing import Drawing, decade_limits
from ..core.i18n import N_, fig_tr
from .rope import ScaledRope

__all__ = ["NeedleHeatmap", "RopeFrequencies", "attention_mass_figure", "frequency_figure", "needle_grid",
           "needle_heatmap", "perplexity_curves", "retrieval_figure", "score_by_distance_figure"]

NEEDLE_MEASURES = ("found", "rank", "key_logprob")
MEASURE_NAMES = {"found": N_("found"), "rank": N_("rank"), "key_logprob": N_("key_logprob")}  # shown names


@checked
def frequency_figure(ropes: Sequence[ScaledRope], trained_positions: int = 8192) -> Figure:
    """Inverse frequency and wavelength of each dimension pair, one line per scaling setting.

    Taught in 06_context_extension, § Stretching RoPE.
    """
    if not ropes:
        raise ValueError("ropes must hold at least one ScaledRope")
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    freq_ax, wave_ax = fig.subplots(1, 2)
    for rope in ropes:
        label = rope.method if rope.method == "none" else f"{rope.method}, s={rope.factor:g}"
        pairs = np.arange(rope.inv_freq.numel())
        freq_ax.plot(pairs, rope.inv_freq.numpy(), label=label)
        wave_ax.plot(pairs, rope.wavelengths.numpy(), label=label)
    wave_ax.axhline(trained_positions, color="gray", linestyle="--", linewidth=1)
    wave_ax.text(0, trained_positions * 1.3, fig_tr("trained length {n}", n=trained_positions), fontsize=8, color="gray")
    names = (N_("inverse frequency θᵢ (radians per token)"), N_("wavelength 2π/θᵢ (tokens)"))
    for ax, name in zip((freq_ax, wave_ax), names):
        ax.set_yscale("log")
        ax.set_xlabel(fig_tr("dimension pair i"))
        ax.set_title(fig_tr(name), fontsize=9)
    freq_ax.legend(fontsize=8)
    return fig


@checked
class RopeFrequencies(Drawing):
    """Plain RoPE and one scaled setting: inverse frequency and wavelength per dimension pair, redrawn in place.

    Give `limits` ((freq low, high), (wavelength low, high)) covering every setting a panel offers and the
    axes never move; without them they snap to the decades around the data. Taught in 06_context_extension,
    § Stretching RoPE.
    """

    def __init__(self, plain: ScaledRope, trained_positions: int = 8192, limits=None):
        super().__init__((9, 3.2), left=0.07, right=0.98, bottom=0.15, top=0.82, wspace=0.2)
        self.plain, self.limits = plain, limits
        pairs = np.arange(plain.inv_freq.numel())
        self.freq_ax, self.wave_ax = self.figure.subplots(1, 2)
        self.scaled = []
        for ax, values in ((self.freq_ax, plain.inv_freq), (self.wave_ax, plain.wavelengths)):
            ax.plot(pairs, values.numpy(), label=fig_tr("plain (as trained)"))
            self.scaled.append(ax.plot(pairs, values.numpy(), label=fig_tr("scaled"))[0])
            ax.set_yscale("log")
            ax.set_xlabel(fig_tr("dimension pair i"))
            ax.set_autoscale_on(False)
        self.wave_ax.axhline(trained_positions, color="gray", linestyle="--", linewidth=1)
        self.wave_ax.text(0, trained_positions * 1.3, fig_tr("trained length {n}", n=trained_positions), fontsize=8,
                          color="gray")
        self.freq_ax.set_title(fig_tr("inverse frequency θᵢ (radians per token)"), fontsize=9)
        self.wave_ax.set_title(fig_tr("wavelength 2π/θᵢ (tokens)"), fontsize=9)
        self.freq_ax.legend(fontsize=8, loc="lower left")
        self.setting = self.figure.text(0.5, 0.97, "", ha="center", va="top", fontsize=10)
        self.dynamic(*self.scaled, self.setting)

    def update(self, scaled: ScaledRope) -> Figure:
        """Show `scaled` beside the plain frequencies."""
        if scaled.inv_freq.shape != self.plain.inv_freq.shape:
            raise ValueError(f"scaled must have {self.plain.inv_freq.numel()} pairs, got {scaled.inv_freq.numel()}")
        limits = self.limits or tuple(decade_limits(np.r_[a.numpy(), b.numpy()]) for a, b in (
            (self.plain.inv_freq, scaled.inv_freq), (self.plain.wavelengths, scaled.wavelengths)))
        self.static_key(limits)
        for ax, line, values, ylim in zip((self.freq_ax, self.wave_ax), self.scaled,
                                          (scaled.inv_freq, scaled.wavelengths), limits):
            ax.set_xlim(-0.5, values.numel() - 0.5)
            ax.set_ylim(*ylim)
            line.set_ydata(values.numpy())
        label = fig_tr("plain RoPE (s = 1)") if scaled.method == "none" else f"{scaled.method}, s = {scaled.factor:g}"
        self.setting.set_text(fig_tr("scaled: {setting}", setting=label))
        return self.figure


@checked
def score_by_distance_figure(distances, scores: dict[str, np.ndarray]) -> Figure:
    """The rotated q·k score against the distance Δ between query and key, one line per setting.

    Taught in 06_context_extension, § The idea.
    """
    fig = Figure(figsize=(8, 2.8), layout="constrained")
    ax = fig.add_subplot()
    for label, values in scores.items():
        ax.plot(np.asarray(distances), np.asarray(values), label=label, linewidth=1)
    ax.set_xscale("symlog", linthresh=16)
    ax.set_xlabel(fig_tr("distance Δ = query position − key position (tokens)"))
    ax.set_ylabel(fig_tr("q·k after RoPE"))
    ax.legend(fontsize=8)
    return fig


@checked
def perplexity_curves(curves: dict[str, Sequence[float]], bin_size: int, trained_positions: int,
                      copy_starts: Sequence[int] = ()) -> Figure:
    """Mean token NLL per bin of positions for each scaling method, with the trained length marked.

    Taught in 06_context_extension, § Perplexity past the trained length.
    """
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    ax = fig.add_subplot()
    for method, bins in curves.items():
        centres = (np.arange(len(bins)) + 0.5) * bin_size
        ax.plot(centres, bins, label=method, marker=".", markersize=3, linewidth=1)
    ax.axvline(trained_positions, color="black", linestyle="--", linewidth=1)
    ax.text(trained_positions, ax.get_ylim()[1] * 0.95, " " + fig_tr("trained length"), fontsize=8, va="top")
    for start in copy_starts:
        ax.axvline(start, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel(fig_tr("token position (bins of {bin_size}; dotted: a new copy of the document starts)",
                         bin_size=bin_size))
    ax.set_ylabel(fig_tr("mean NLL (nats)"))
    ax.legend(fontsize=8, ncols=len(curves))
    return fig


@checked
def needle_grid(results: dict, method: str, measure: str = "found") -> tuple[np.ndarray, list[int], list[float]]:
    """The cached needle results of `method` as a (depths, lengths) array of `measure`.

    Taught in 06_context_extension, § Finding the needle.
    """
    if measure not in NEEDLE_MEASURES:
        raise ValueError(f"measure={measure!r} is not one of {NEEDLE_MEASURES}")
    if method not in results["needle"]:
        raise ValueError(f"method={method!r} has no cached grid; cached: {sorted(results['needle'])}")
    lengths, depths = results["settings"]["lengths"], results["settings"]["depths"]
    grid = np.full((len(depths), len(lengths)), np.nan)
    for trial in results["needle"][method]:
        grid[depths.index(trial["depth"]), lengths.index(trial["n_tokens"])] = float(trial[measure])
    return grid, lengths, depths


@checked
def needle_heatmap(results: dict, method: str, measure: str = "found", ax=None) -> Figure:
    """Heatmap of one needle measure over context length × needle depth, the trained length marked.

    Taught in 06_context_extension, § Finding the needle.
    """
    grid, lengths, depths = needle_grid(results, method, measure)
    if ax is None:
        fig = Figure(figsize=(5.2, 3), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    style = _needle_style(results, measure)
    image = ax.imshow(grid, cmap=style[0], vmin=style[1], vmax=style[2], aspect="auto", origin="upper")
    for (row, col), value in np.ndenumerate(grid):
        text = _cell_label(value, measure)
        ax.text(col, row, text, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(lengths)), [f"{n // 1024}k" if n >= 1024 else str(n) for n in lengths], fontsize=8)
    ax.set_yticks(range(len(depths)), [f"{d:.0%}" for d in depths], fontsize=8)
    trained = results["settings"]["trained_positions"]
    past = [i for i, n in enumerate(lengths) if n > trained]
    if past:
        ax.axvline(past[0] - 0.5, color="black", linewidth=2)
    ax.set_xlabel(fig_tr("context length (tokens); right of the bar: past the trained length"))
    ax.set_ylabel(fig_tr("needle depth"))
    factor = results["settings"]["factor"]
    ax.set_title(f"{method}{'' if method == 'none' else f' (s={factor:g})'}: {fig_tr(MEASURE_NAMES[measure])}", fontsize=9)
    if measure != "found":
        fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


@checked
class NeedleHeatmap(Drawing):
    """The cached needle grid as a heatmap, one method and measure at a time, redrawn in place.

    Only the cells, the title and the colour bar are redrawn; axes and ticks stay in the cached background.
    Taught in 06_context_extension, § Finding the needle.
    """

    def __init__(self, results: dict):
        super().__init__((5.6, 3), left=0.14, right=0.84, bottom=0.2, top=0.9)
        self.results = results
        lengths, depths = results["settings"]["lengths"], results["settings"]["depths"]
        self.ax = self.figure.add_subplot()
        self.cax = self.figure.add_axes((0.86, 0.2, 0.025, 0.7))
        self.image = self.ax.imshow(np.zeros((len(depths), len(lengths))), aspect="auto", origin="upper")
        self.colorbar = self.figure.colorbar(self.image, cax=self.cax)
        self._measure = None
        # The cell labels are one collection of glyph outlines: 48 separate texts cost ~1 ms each to lay out.
        self.cells = [(row, col) for row in range(len(depths)) for col in range(len(lengths))]
        self.labels = PathCollection([], offsets=[(col, row) for row, col in self.cells], facecolors="black",
                                     edgecolors="none", offset_transform=self.ax.transData,
                                     transform=Affine2D().scale(1 / 72) + self.figure.dpi_scale_trans)
        self.ax.add_collection(self.labels, autolim=False)
        self.ax.set_xticks(range(len(lengths)), [f"{n // 1024}k" if n >= 1024 else str(n) for n in lengths], fontsize=8)
        self.ax.set_yticks(range(len(depths)), [f"{d:.0%}" for d in depths], fontsize=8)
        past = [i for i, n in enumerate(lengths) if n > results["settings"]["trained_positions"]]
        bar = [self.ax.axvline(past[0] - 0.5, color="black", linewidth=2)] if past else []
        self.ax.set_xlabel(fig_tr("context length (tokens); right of the bar: past the trained length"), fontsize=8)
        self.ax.set_ylabel(fig_tr("needle depth"))
        self.title = self.ax.set_title("", fontsize=9)
        # The colour bar axes is dynamic too, so a new measure redraws it and the cells, not the whole figure.
        self.dynamic(self.image, self.labels, *bar, self.title, self.cax)  # the bar is drawn over the cells

    def update(self, method: str, measure: str = "found") -> Figure:
        """Show `measure` of `method`'s cached trials."""
        grid, _, _ = needle_grid(self.results, method, measure)
        if measure != self._measure:  # each colour change re-lays the colour bar out: once per new measure
            cmap, low, high = _needle_style(self.results, measure)
            with self.image.callbacks.blocked():
                self.image.set_cmap(cmap)
            self.image.set_clim(low, high)
            self._measure = measure
        self.image.set_data(grid)
        self.cax.set_visible(measure != "found")  # found is ✓ / ✗, its colours need no scale
        self.labels.set_paths([_glyphs(_cell_label(grid[row, col], measure)) for row, col in self.cells])
        factor = self.results["settings"]["factor"]
        self.title.set_text(f"{method}{'' if method == 'none' else f' (s={factor:g})'}: {fig_tr(MEASURE_NAMES[measure])}")
        return self.figure


def _cell_label(value: float, measure: str) -> str:
    """A needle cell's label: ✓ / ✗ for found, else the rounded number (-0.3 reads "0", not "-0"); "" if missing."""
    if np.isnan(value):
        return ""
    return ("✓" if value else "✗") if measure == "found" else str(round(value))


@lru_cache(maxsize=256)
def _glyphs(text: str, size: float = 7.0) -> Path:
    """`text` as glyph outlines in points, centred on (0, 0), for a PathCollection of cell labels."""
    path = TextPath((0, 0), text, size=size)
    if not len(path.vertices):
        return path
    (x0, y0), (x1, y1) = path.get_extents().get_points()
    return Path(path.vertices - ((x0 + x1) / 2, (y0 + y1) / 2), path.codes)


def _needle_style(results: dict, measure: str) -> tuple[str, float, float]:
    """Colour map and limits of a needle measure: green is good (found, rank 1, a likely key)."""
    return {"found": ("RdYlGn", 0, 1), "rank": ("RdYlGn_r", 1, results["settings"]["n_distractors"] + 1),
            "key_logprob": ("RdYlGn", -30, 0)}[measure]


@checked
def attention_mass_figure(mass, title: str = "") -> Figure:
    """Attention mass from the question's last token onto the needle, layers down, heads across.

    Taught in 06_context_extension, § Where the model looks.
    """
    mass = np.asarray(mass, dtype=float)
    fig = Figure(figsize=(4.2, 4.6), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(mass, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xlabel(fig_tr("head"))
    ax.set_ylabel(fig_tr("layer"))
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, label=fig_tr("share of attention on the needle"))
    return fig


@checked
def retrieval_figure(ranks: dict[int, int], n_chunks: dict[int, int]) -> Figure:
    """Rank of the needle's chunk against the number of chunks, for each chunk size k.

    Taught in 06_context_extension, § Retrieval instead of context.
    """
    sizes = sorted(ranks)
    fig = Figure(figsize=(6, 2.6), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(sizes))
    ax.bar(x - 0.2, [n_chunks[k] for k in sizes], width=0.4, label=fig_tr("chunks m"), color="lightgray")
    ax.bar(x + 0.2, [ranks[k] for k in sizes], width=0.4, label=fig_tr("rank of the needle's chunk"), color="tab:green")
    ax.set_xticks(x, [str(k) for k in sizes])
    ax.set_xlabel(fig_tr("chunk length k (MiniLM tokens)"))
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    return fig
