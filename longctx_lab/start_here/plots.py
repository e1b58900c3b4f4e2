"""Figures for 00_start_here: the seed's concept diagram as a real map of the kit, and cost growth."""
from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from ..core.checked import checked
from ..core.drawing import Drawing
from ..core.i18n import N_, fig_tr

__all__ = ["MemoryBars", "concept_map", "cost_growth"]

# The seed's §2.2 Mermaid graph (A=LLM, B=segmentation, C=attention, D=parallel processing,
# E=fine-tuning, F=adaptive mechanism, G=compression, H=pre-training), with where the kit teaches each.
_NODES = {
    "LLM": ((0.50, 0.85), N_("LLM (SmolLM2, MiniLM)\n00_start_here")),
    "seg": ((0.15, 0.55), N_("segmentation\n01_chunking · 02_segment_loss")),
    "att": ((0.50, 0.55), N_("attention\n03_attention")),
    "ft": ((0.85, 0.55), N_("fine-tuning\n(not covered)")),
    "par": ((0.15, 0.20), N_("parallel processing\n04_multi_gpu_scaling")),
    "ada": ((0.50, 0.20), N_("adaptive attention\n03_attention")),
    "comp": ((0.85, 0.20), N_("compression\n05_compression")),
    "pre": ((0.85, 0.85), N_("pre-training\n(the packaged models)")),
}
_EDGES = [("LLM", "seg"), ("LLM", "att"), ("seg", "par"), ("LLM", "ft"), ("att", "ada"), ("ft", "comp"), ("LLM", "pre")]


@checked
def concept_map() -> Figure:
    """The seed's concept diagram (§2.2) drawn as a figure, each box naming the notebook that teaches it.

    Taught in 00_start_here, § The kit's map.
    """
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0.05, 1.0)
    for src, dst in _EDGES:
        (x0, y0), (x1, y1) = _NODES[src][0], _NODES[dst][0]
        if y0 == y1:  # same row: leave from the side of the box
            start, end = (x0 + 0.13, y0), (x1 - 0.13, y1)
        else:
            start, end = (x0, y0 - 0.07), (x1, y1 + 0.07)
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "0.4"})
    for (x, y), label in _NODES.values():
        covered = "not covered" not in label
        label = fig_tr(label)
        ax.add_patch(FancyBboxPatch((x - 0.13, y - 0.07), 0.26, 0.14, boxstyle="round,pad=0.01",
                                    facecolor="#dbe9f6" if covered else "#eeeeee", edgecolor="0.3"))
        ax.text(x, y, label, ha="center", va="center", fontsize=8.5)
    ax.set_title(fig_tr("The seed's concept map, and where the kit teaches each part"))
    return fig


@checked
def cost_growth(lengths: Sequence[int], score_bytes: Sequence[float], kv_bytes: Sequence[float]) -> Figure:
    """Log-log plot of attention-score memory (∝ n²) and KV-cache memory (∝ n) against sequence length n.

    Taught in 00_start_here, § Why long inputs are hard.
    """
    if not (len(lengths) == len(score_bytes) == len(kv_bytes)) or len(lengths) < 2:
        raise ValueError("lengths, score_bytes and kv_bytes must have the same length (at least 2)")
    fig = Figure(figsize=(6, 3.4), layout="constrained")
    ax = fig.add_subplot()
    ax.loglog(lengths, [b / 2**20 for b in score_bytes], "o-", label=fig_tr("attention scores, one layer (∝ n²)"))
    ax.loglog(lengths, [b / 2**20 for b in kv_bytes], "s-", label=fig_tr("KV cache, all layers (∝ n)"))
    ax.set_xlabel(fig_tr("sequence length n (tokens)"))
    ax.set_ylabel(fig_tr("memory (MiB)"))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("SmolLM2-135M, fp32")
    return fig


@checked
class MemoryBars(Drawing):
    """Two horizontal bars, chunked m·k² and full n² attention-score memory in MiB, redrawn in place.

    The axis is linear on purpose (the chunked bar's smallness is the lesson) and spans 1.3 × the full bar,
    so it only changes with n; moving k redraws the bars alone. Taught in 00_start_here, § A first live panel.
    """

    def __init__(self):
        super().__init__((5.5, 1.8), left=0.2, right=0.97, bottom=0.3, top=0.95)
        self.ax = self.figure.add_subplot()
        self.bars = self.ax.barh([fig_tr("chunked m·k²"), fig_tr("full n²")], [0.0, 1.0], color=["#4c9f70", "#c44e52"])
        self.labels = self.ax.bar_label(self.bars, labels=["", ""], padding=3, fontsize=8)
        self.ax.set_xlabel("MiB")
        self.dynamic(*self.bars, *self.labels)

    def update(self, chunked_mib: float, full_mib: float) -> Figure:
        """Set the two bars (MiB) and their labels; the axis follows the full bar."""
        top = max(chunked_mib, full_mib) * 1.3 or 1.0
        self.static_key(top)
        self.ax.set_xlim(0, top)
        for bar, label, value in zip(self.bars, self.labels, (chunked_mib, full_mib)):
            bar.set_width(value)
            label.set_text(f"{value:,.1f} MiB")
            label.xy = (value, bar.get_y() + bar.get_height() / 2)
        return self.figure
