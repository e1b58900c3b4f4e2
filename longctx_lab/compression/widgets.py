"""Chapter 5 live panel: pick a sparsity and a bit width, see size, accuracy and fidelity at once.

Every (sparsity, bits) variant of MiniLM is scored once on the yardstick — the whole grid up front, with
a progress bar — and kept in a ResultCache, so moving a slider only redraws.
"""
from __future__ import annotations

from typing import Sequence

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from ..compression import VariantReport, cast_weights, evaluate_variant, prune, quantize_int8
from . import LivePanel, PanelView, ResultCache

__all__ = ["build_variant", "compression_grid", "compression_panel", "render_compression"]

BIT_LABELS = {32: "fp32", 16: "bf16", 8: "int8"}


def build_variant(model, sparsity: float, bits: int):
    """MiniLM pruned to `sparsity` (global magnitude), then stored at `bits` (32 fp32, 16 bf16, 8 int8).

    Taught in 05_compression, § The live panel.
    """
    _check_bits([bits])
    return _store_at(prune(model, sparsity), bits)


def _check_bits(bits: Sequence[int]) -> None:
    unknown = [b for b in bits if b not in BIT_LABELS]
    if unknown:
        raise ValueError(f"bits must be one of {sorted(BIT_LABELS)}, got {unknown[0]!r}")


def _store_at(model, bits: int):
    """The (already pruned) model stored at `bits`: as is (32), a bf16 copy (16) or dynamic int8 (8)."""
    if bits == 16:
        return cast_weights(model, torch.bfloat16)
    return quantize_int8(model) if bits == 8 else model


def compression_grid(model, tokenizer, items: list[dict], reference: torch.Tensor,
                     sparsities: Sequence[float] = (0.0, 0.25, 0.5, 0.75), bits: Sequence[int] = (32, 16, 8),
                     cache: ResultCache | None = None) -> dict[tuple[float, int], VariantReport]:
    """Score every (sparsity, bits) variant on the yardstick once (progress bar), served from `cache` after.

    Taught in 05_compression, § The live panel.
    """
    _check_bits(bits)  # before any scoring, not after minutes of it
    cache = cache if cache is not None else ResultCache()
    settings = [(s, b) for s in sparsities for b in bits]
    grid, pruned = {}, {}

    def compute(s: float, b: int) -> VariantReport:
        if s not in pruned:  # one pruned copy per sparsity, shared by its bit widths
            pruned[s] = prune(model, s)
        return evaluate_variant(f"{BIT_LABELS[b]} {int(round(s * 100))}%", _store_at(pruned[s], b), tokenizer, items,
                                reference)

    for s, b in tqdm(settings, desc="scoring compressed variants"):
        grid[(s, b)] = cache.get(("minilm", s, b), lambda: compute(s, b))
    return grid


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
