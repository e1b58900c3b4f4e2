"""Chapter 5 live panel: pick a sparsity and a bit width, see size, accuracy and fidelity at once.

Every (sparsity, bits) variant of MiniLM is scored once on the yardstick (`grid.compression_grid`, the
whole grid up front, with a progress bar), so moving a slider only redraws.
"""
from __future__ import annotations

import ipywidgets as widgets

from ..core.checked import checked
from ..core.i18n import tr
from ..core.panels import LivePanel, PanelView
from .grid import BIT_LABELS
from .plots import SparsityBits
from .yardstick import VariantReport

__all__ = ["compression_panel", "render_compression"]

@checked
def render_compression(sparsity: float, bits: int, grid: dict[tuple[float, int], VariantReport],
                       drawing: SparsityBits | None = None) -> PanelView:
    """The view for one setting: a summary line and fidelity-vs-sparsity curves with the setting marked.

    Pass the panel's `drawing` (a SparsityBits of the same grid) to redraw it in place. Taught in 05_compression,
    § The live panel.
    """
    if (sparsity, bits) not in grid:
        raise ValueError(f"(sparsity, bits)=({sparsity}, {bits}) is not in the precomputed grid {sorted(grid)}")
    chosen, base = grid[(sparsity, bits)], grid[min(grid, key=lambda k: (k[0], -k[1]))]
    drawing = SparsityBits(grid, BIT_LABELS) if drawing is None else drawing
    figure = drawing.update(sparsity, bits)
    summary = tr("sparsity {sparsity:.0%}, {bits}: size {size:.1f} MB ({ratio:.2f}× fp32), top-1 {top1:.1%} (fp32 "
                 "{base_top1:.1%}), cosine to fp32 mean {mean:.3f} / min {min:.3f}", sparsity=sparsity,
                 bits=BIT_LABELS[bits], size=chosen.size_bytes / 1e6, ratio=chosen.size_bytes / base.size_bytes,
                 top1=chosen.top1, base_top1=base.top1, mean=chosen.fidelity_mean, min=chosen.fidelity_min)
    data = {"sparsity": sparsity, "bits": bits, "size_bytes": chosen.size_bytes, "top1": chosen.top1,
            "fidelity_mean": chosen.fidelity_mean, "fidelity_min": chosen.fidelity_min}
    return PanelView(summary, figure, data, drawing)


@checked
def compression_panel(grid: dict[tuple[float, int], VariantReport]) -> LivePanel:
    """A LivePanel with a sparsity slider and a bit-width toggle over a precomputed compression_grid.

    Taught in 05_compression, § The live panel.
    """
    sparsities = sorted({s for s, _ in grid})
    bit_options = sorted({b for _, b in grid}, reverse=True)
    missing = [(s, b) for s in sparsities for b in bit_options if (s, b) not in grid]
    if missing:  # the two controls move independently, so every pair must be there
        raise ValueError(f"grid must hold every (sparsity, bits) pair of its sparsities and bit widths; missing {missing}")
    controls = {
        "sparsity": widgets.SelectionSlider(options=[(f"{s:.0%}", s) for s in sparsities], value=sparsities[0],
                                            description=tr("sparsity"), continuous_update=False),
        "bits": widgets.ToggleButtons(options=[(BIT_LABELS[b], b) for b in bit_options], value=bit_options[0],
                                      description=tr("weights")),
    }
    drawing = SparsityBits(grid, BIT_LABELS)
    return LivePanel(controls, lambda sparsity, bits: render_compression(sparsity, bits, grid, drawing),
                     title=tr("MiniLM: sparsity × bit width"))
