"""Figures for 06_context_extension: RoPE frequencies, loss past the trained length, needle heatmaps."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from .rope import ScaledRope

__all__ = ["attention_mass_figure", "frequency_figure", "needle_grid", "needle_heatmap", "perplexity_curves",
           "retrieval_figure", "score_by_distance_figure"]

NEEDLE_MEASURES = ("found", "rank", "key_logprob")


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
    wave_ax.text(0, trained_positions * 1.3, f"trained length {trained_positions}", fontsize=8, color="gray")
    names = ("inverse frequency θᵢ (radians per token)", "wavelength 2π/θᵢ (tokens)")
    for ax, name in zip((freq_ax, wave_ax), names):
        ax.set_yscale("log")
        ax.set_xlabel("dimension pair i")
        ax.set_title(name, fontsize=9)
    freq_ax.legend(fontsize=8)
    return fig


def score_by_distance_figure(distances, scores: dict[str, np.ndarray]) -> Figure:
    """The rotated q·k score against the distance Δ between query and key, one line per setting.

    Taught in 06_context_extension, § The idea.
    """
    fig = Figure(figsize=(8, 2.8), layout="constrained")
    ax = fig.add_subplot()
    for label, values in scores.items():
        ax.plot(np.asarray(distances), np.asarray(values), label=label, linewidth=1)
    ax.set_xscale("symlog", linthresh=16)
    ax.set_xlabel("distance Δ = query position − key position (tokens)")
    ax.set_ylabel("q·k after RoPE")
    ax.legend(fontsize=8)
    return fig


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
    ax.text(trained_positions, ax.get_ylim()[1] * 0.95, " trained length", fontsize=8, va="top")
    for start in copy_starts:
        ax.axvline(start, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel(f"token position (bins of {bin_size}; dotted: a new copy of the document starts)")
    ax.set_ylabel("mean NLL (nats)")
    ax.legend(fontsize=8, ncols=len(curves))
    return fig


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
    style = {"found": ("RdYlGn", 0, 1), "rank": ("RdYlGn_r", 1, results["settings"]["n_distractors"] + 1),
             "key_logprob": ("RdYlGn", -30, 0)}[measure]
    image = ax.imshow(grid, cmap=style[0], vmin=style[1], vmax=style[2], aspect="auto", origin="upper")
    for (row, col), value in np.ndenumerate(grid):
        text = ("✓" if value else "✗") if measure == "found" else f"{value:.0f}"
        ax.text(col, row, text, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(lengths)), [f"{n // 1024}k" if n >= 1024 else str(n) for n in lengths], fontsize=8)
    ax.set_yticks(range(len(depths)), [f"{d:.0%}" for d in depths], fontsize=8)
    trained = results["settings"]["trained_positions"]
    past = [i for i, n in enumerate(lengths) if n > trained]
    if past:
        ax.axvline(past[0] - 0.5, color="black", linewidth=2)
    ax.set_xlabel("context length (tokens); right of the bar: past the trained length")
    ax.set_ylabel("needle depth")
    factor = results["settings"]["factor"]
    ax.set_title(f"{method}{'' if method == 'none' else f' (s={factor:g})'}: {measure}", fontsize=9)
    if measure != "found":
        fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def attention_mass_figure(mass, title: str = "") -> Figure:
    """Attention mass from the question's last token onto the needle, layers down, heads across.

    Taught in 06_context_extension, § Where the model looks.
    """
    mass = np.asarray(mass, dtype=float)
    fig = Figure(figsize=(4.2, 4.6), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(mass, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, label="share of attention on the needle")
    return fig


def retrieval_figure(ranks: dict[int, int], n_chunks: dict[int, int]) -> Figure:
    """Rank of the needle's chunk against the number of chunks, for each chunk size k.

    Taught in 06_context_extension, § Retrieval instead of context.
    """
    sizes = sorted(ranks)
    fig = Figure(figsize=(6, 2.6), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(sizes))
    ax.bar(x - 0.2, [n_chunks[k] for k in sizes], width=0.4, label="chunks m", color="lightgray")
    ax.bar(x + 0.2, [ranks[k] for k in sizes], width=0.4, label="rank of the needle's chunk", color="tab:green")
    ax.set_xticks(x, [str(k) for k in sizes])
    ax.set_xlabel("chunk length k (MiniLM tokens)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    return fig
