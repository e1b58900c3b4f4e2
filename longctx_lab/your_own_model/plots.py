"""The report card's figures, drawn from its JSON-ready sections (matplotlib is imported only here).

Each function takes a section dict as the measurements return it and returns a matplotlib Figure (or
None when the section has nothing to draw); `report_figures` makes all of them and `figure_png` turns one
into PNG bytes for the html (a data URI) and the markdown (a file beside it).
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, ScalarFormatter

from ..core.drawing import Drawing, decade_limits  # noqa: F401  (drawing prepares CJK fonts before any figure)
from ..core.checked import checked
from ..core.i18n import fig_tr

__all__ = ["BudgetBars", "attention_figure", "figure_png", "loss_figure", "needle_figure", "perplexity_figure", "prefill_figure",
           "report_figures"]

SIZE = (6.4, 3.0)


def _figure() -> tuple[Figure, object]:
    fig = Figure(figsize=SIZE, layout="constrained")
    return fig, fig.add_subplot()


def _plain_log_axes(ax, lengths) -> None:
    """Log axes labelled with plain numbers (the measured lengths across, 20 not 2×10¹ up)."""
    ax.set_xticks(lengths, [str(n) for n in lengths])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(ScalarFormatter())
    # label the minor ticks at 2× and 5× too, so a range inside one decade still reads
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}".lstrip("0.")[:1] in "25" else ""))


@checked
def loss_figure(section: dict) -> Figure:
    """Mean loss per doubling position bin (log x): a falling curve means more context keeps helping.

    Taught in 07_your_own_model, § The report card.
    """
    fig, ax = _figure()
    edges = section["edges"]
    ax.step(edges, section["nll"] + section["nll"][-1:], where="post", color="C0")  # the last bin drawn to its end
    ax.set_xscale("log", base=2)
    if section.get("repeat_from"):
        ax.axvline(section["repeat_from"], color="grey", linestyle=":", label=fig_tr("the text repeats from here"))
        ax.legend(fontsize=8)
    ax.set_xlabel(fig_tr("token position"))
    ax.set_ylabel(fig_tr("mean loss (nats)"))
    ax.set_title(fig_tr("Loss by position"))
    return fig


@checked
def perplexity_figure(section: dict) -> Figure:
    """Perplexity in each length's last half, one line per RoPE setting, the trained length marked.

    Taught in 07_your_own_model, § The report card.
    """
    fig, ax = _figure()
    for run in section["runs"]:
        label = run["method"] if run["method"] == "none" else f"{run['method']} ×{run['factor']:g}"
        ax.plot(section["lengths"], run["ppl_last_half"], marker="o", label=label)
    if section.get("trained_positions"):
        ax.axvline(section["trained_positions"], color="grey", linestyle="--", label=fig_tr("trained length"))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    _plain_log_axes(ax, section["lengths"])
    ax.set_xlabel(fig_tr("context length (tokens)"))
    ax.set_ylabel(fig_tr("perplexity of the last half"))
    ax.set_title(fig_tr("Perplexity inside and beyond the trained length"))
    ax.legend(fontsize=8)
    return fig


@checked
def needle_figure(section: dict) -> Figure:
    """The pass-key grid: length down, depth across, green = found, each cell labelled with the key's rank.

    Taught in 07_your_own_model, § The report card.
    """
    found = np.array(section["found"], dtype=float)  # (lengths, depths)
    fig = Figure(figsize=(4.8, 0.45 * len(section["lengths"]) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(found, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for i, row in enumerate(section["rank"]):
        for j, rank in enumerate(row):
            ax.text(j, i, f"#{rank}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(section["depths"])), [f"{d:g}" for d in section["depths"]])
    ax.set_yticks(range(len(section["lengths"])), [str(n) for n in section["lengths"]])
    ax.set_xlabel(fig_tr("depth of the pass key"))
    ax.set_ylabel(fig_tr("context length (tokens)"))
    ax.set_title(fig_tr("Pass key found (green) and its rank"))
    return fig


@checked
def attention_figure(section: dict) -> Figure:
    """Per layer: mean attention distance (left axis) and first-token sink mass (right axis).

    Taught in 07_your_own_model, § The report card.
    """
    fig, ax = _figure()
    layers = np.arange(len(section["mean_distance"]))
    ax.plot(layers, section["mean_distance"], marker="o", color="C0")
    ax.set_xlabel(fig_tr("layer"))
    ax.set_ylabel(fig_tr("mean attention distance (tokens)"), color="C0")
    right = ax.twinx()
    right.plot(layers, section["sink_mass"], marker="s", color="C3")
    right.set_ylabel(fig_tr("attention on the first token"), color="C3")
    right.set_ylim(0, 1)
    ax.set_title(fig_tr("Attention distance and sink mass per layer"))
    return fig


@checked
def prefill_figure(section: dict) -> Figure:
    """Prefill time (left axis) and peak memory (right axis) against length, both on log scales.

    Taught in 07_your_own_model, § The report card.
    """
    fig, ax = _figure()
    ax.plot(section["lengths"], section["seconds"], marker="o", color="C0")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    _plain_log_axes(ax, section["lengths"])
    ax.set_xlabel(fig_tr("context length (tokens)"))
    ax.set_ylabel(fig_tr("prefill time (s)"), color="C0")
    right = ax.twinx()
    right.plot(section["lengths"], [b / 1e6 for b in section["peak_bytes"]], marker="s", color="C2")
    right.set_yscale("log")
    right.set_ylabel(fig_tr("peak memory (MB)"), color="C2")
    ax.set_title(fig_tr("Prefill cost"))
    return fig


DRAWERS = {"loss": loss_figure, "perplexity": perplexity_figure, "needle": needle_figure,
           "attention": attention_figure, "prefill": prefill_figure}


@checked
def report_figures(sections: dict) -> dict[str, Figure]:
    """Every figure the report has data for, keyed by section name.

    Taught in 07_your_own_model, § The report card.
    """
    if not isinstance(sections, dict):
        raise TypeError(f"sections must be a dict of report sections, got {type(sections).__name__}")
    return {key: draw(sections[key]) for key, draw in DRAWERS.items() if sections.get(key)}


@checked(dpi=(10, 600))
def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """A figure as PNG bytes.

    Taught in 07_your_own_model, § The report card.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class BudgetBars(Drawing):
    """The memory a setting needs against the memory there is: fp16 weights, and the KV cache of the trained length.

    Two horizontal bars in GB and a line at the memory available, redrawn in place by chapter 7's panel.
    Taught in 07_your_own_model, § Reading the report card.
    """

    def __init__(self):
        super().__init__((5.5, 1.8), left=0.33, right=0.95, bottom=0.3, top=0.95)
        self.ax = self.figure.add_subplot()
        self.bars = self.ax.barh([fig_tr("fp16 weights"), fig_tr("KV cache, trained length × batch")], [0.0, 1.0],
                                 color=["#8c8c8c", "#4c72b0"])
        self.labels = self.ax.bar_label(self.bars, labels=["", ""], padding=3, fontsize=8)
        self.limit = self.ax.axvline(1.0, color="#c44e52", linestyle="--")
        self.ax.set_xlabel("GB")
        self.dynamic(*self.bars, *self.labels, self.limit)

    def update(self, weights_gb: float, cache_gb: float, memory_gb: float) -> Figure:
        """Set the two bars and the memory line (all in GB); the axis spans 1.3 × the largest of them."""
        top = max(weights_gb, cache_gb, memory_gb) * 1.3 or 1.0
        self.static_key(top)
        self.ax.set_xlim(0, top)
        for bar, label, value in zip(self.bars, self.labels, (weights_gb, cache_gb)):
            bar.set_width(value)
            label.set_text(f"{value:,.2f} GB")
            label.xy = (value, bar.get_y() + bar.get_height() / 2)
        self.limit.set_xdata([memory_gb, memory_gb])
        return self.figure
