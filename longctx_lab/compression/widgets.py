"""Chapter 5 live panel: pick a sparsity and a bit width, see size, accuracy and fidelity at once.

Every (sparsity, bits) variant of MiniLM is scored once on the yardstick (`grid.compression_grid`, the
whole grid up front, with a progress bar), so moving a slider only redraws.
"""
from __future__ import annotations

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..core.panels import LivePanel, PanelView
from .grid import BIT_LABELS
from .yardstick import VariantReport

__all__ = ["compression_panel", "render_compression"]

def render_compression(sparsity: float, bits: int, grid: dict[tuple[float, int], VariantReport]) -> PanelView:
    """The view for one setting: a summary line and fidelity-vs-sparsity curves with the setting marked.

    Taught in 05_compression, § The live panel.
    """
    if (sparsity, bits) not in grid:
        raise ValueError(f"(sparsity, bits)=({sparsity}, {bits}) is not in the precomputed grid {sorted(grid)}")
    chosen, base = grid[(sparsity, bits)], grid[min(grid, key=lambda k: (k[0], -k[1]))]
    sparsities = sorted({s for s, _ in grid})
    fig = Figure(figsize=(8, 3), layout="constrained")
    fid_ax, size_ax = fig.subplots(1, 2)
    bit_widths = sorted({b for _, b in grid}, reverse=True)
    for i, b in enumerate(bit_widths):
        fid_ax.plot([s * 100 for s in sparsities], [grid[(s, b)].fidelity_mean for s in sparsities], marker="o",
                    ms=3, color=f"C{i}", label=BIT_LABELS[b])
    fid_ax.scatter([sparsity * 100], [chosen.fidelity_mean], s=120, facecolors="none", edgecolors="k", zorder=4)
    fid_ax.set_xlabel("unstructured sparsity (%)")
    fid_ax.set_ylabel("mean cosine to fp32")
    fid_ax.legend(fontsize=8)
    fid_ax.grid(alpha=0.3)
    names = [BIT_LABELS[b] for b in bit_widths]
    sizes = [grid[(sparsity, b)].size_bytes / 1e6 for b in bit_widths]
    colors = ["k" if name == BIT_LABELS[bits] else "0.75" for name in names]
    size_ax.bar(names, sizes, color=colors)
    size_ax.set_ylabel(f"size at {sparsity:.0%} sparsity (MB)")
    summary = (f"sparsity {sparsity:.0%}, {BIT_LABELS[bits]}: size {chosen.size_bytes / 1e6:.1f} MB "
               f"({chosen.size_bytes / base.size_bytes:.2f}× fp32), top-1 {chosen.top1:.1%} "
               f"({(chosen.top1 - base.top1) * 100:+.1f} points), cosine to fp32 mean {chosen.fidelity_mean:.3f} "
               f"/ min {chosen.fidelity_min:.3f}")
    data = {"sparsity": sparsity, "bits": bits, "size_bytes": chosen.size_bytes, "top1": chosen.top1,
            "fidelity_mean": chosen.fidelity_mean, "fidelity_min": chosen.fidelity_min}
    return PanelView(summary, fig, data)


def compression_panel(grid: dict[tuple[float, int], VariantReport]) -> LivePanel:
    """A LivePanel with a sparsity slider and a bit-width toggle over a precomputed compression_grid.

    Taught in 05_compression, § The live panel.
    """
    sparsities = sorted({s for s, _ in grid})
    bit_options = sorted({b for _, b in grid}, reverse=True)
    controls = {
        "sparsity": widgets.SelectionSlider(options=[(f"{s:.0%}", s) for s in sparsities], value=sparsities[0],
                                            description="sparsity", continuous_update=False),
        "bits": widgets.ToggleButtons(options=[(BIT_LABELS[b], b) for b in bit_options], value=bit_options[0],
                                      description="weights"),
    }
    return LivePanel(controls, lambda sparsity, bits: render_compression(sparsity, bits, grid),
                     title="MiniLM: sparsity × bit width")
