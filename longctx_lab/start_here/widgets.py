"""00_start_here's first live panel: n and k sliders showing m and attention-score memory."""
from __future__ import annotations

import ipywidgets as widgets

from ..core.checked import checked
from ..core.i18n import tr
from ..chunking.plan import ChunkPlan
from ..chunking.plots import BYTES_FP32
from ..core.panels import LivePanel, PanelView, at_most
from .plots import MemoryBars

__all__ = ["render_cost_view", "cost_panel"]


@checked(n=(1, None), k=(1, None), heads=(1, None))
def render_cost_view(n: int, k: int, heads: int = 9, drawing: MemoryBars | None = None) -> PanelView:
    """m = ceil(n / k) and the fp32 attention-score memory of one layer, full (n²) vs chunked (m·k²).

    k > n is one chunk padded to k (so chunked costs more); the panel keeps k <= n. Pass the panel's
    `drawing` to redraw it in place. Taught in 00_start_here, § A first live panel.
    """
    plan = ChunkPlan(n, k)  # validates n and k
    full = plan.full_scores * heads * BYTES_FP32
    chunked = plan.chunked_scores * heads * BYTES_FP32
    padded = tr(" ({padding} pad tokens)", padding=plan.padding) if plan.padding else ""
    summary = (tr("n = {n} tokens, k = {k} → m = {m} chunks", n=n, k=plan.k, m=plan.m) + padded + "\n"
               + tr("attention scores, one layer of {heads} heads (fp32): full n² = {full:,.1f} MiB, "
                    "chunked m·k² = {chunked:,.1f} MiB  (ratio {ratio:,.1f}×)", heads=heads, full=full / 2**20,
                    chunked=chunked / 2**20, ratio=full / chunked))
    drawing = MemoryBars() if drawing is None else drawing
    figure = drawing.update(chunked / 2**20, full / 2**20)
    return PanelView(summary, figure, {"n": n, "k": plan.k, "m": plan.m, "full_bytes": full, "chunked_bytes": chunked},
                     drawing)


@checked
def cost_panel(n: int = 4096, k: int = 512) -> LivePanel:
    """A panel with n and k sliders redrawing `render_cost_view`; k's range follows n (k <= n).

    Taught in 00_start_here, § A first live panel.
    """
    style = {"description_width": "initial"}
    controls = {
        "n": widgets.IntSlider(value=n, min=256, max=32768, step=256, description=tr("n tokens"), style=style,
                               continuous_update=False),
        "k": widgets.IntSlider(value=k, min=64, max=8192, step=64, description=tr("k (chunk)"), style=style,
                               continuous_update=False),
    }
    drawing = MemoryBars()
    return LivePanel(controls, lambda n, k: render_cost_view(n, k, drawing=drawing),
                     title=tr("Full vs chunked attention memory"), links=[at_most("k", "n")])
