"""00_start_here's first live panel: n and k sliders showing m and attention-score memory."""
from __future__ import annotations

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..chunking.plan import ChunkPlan
from ..chunking.plots import BYTES_FP32
from ..core.panels import LivePanel, PanelView

__all__ = ["render_cost_view", "cost_panel"]


def render_cost_view(n: int, k: int, heads: int = 9) -> PanelView:
    """m = ceil(n / k) and the fp32 attention-score memory of one layer, full (n²) vs chunked (m·k²).

    Taught in 00_start_here, § A first live panel.
    """
    plan = ChunkPlan(n, min(k, n))
    full = plan.full_scores * heads * BYTES_FP32
    chunked = plan.chunked_scores * heads * BYTES_FP32
    summary = (f"n = {n} tokens, k = {plan.k} → m = {plan.m} chunks\n"
               f"attention scores, one layer of {heads} heads (fp32): full n² = {full / 2**20:,.1f} MiB, "
               f"chunked m·k² = {chunked / 2**20:,.1f} MiB  (ratio {full / chunked:,.1f}×)")
    fig = Figure(figsize=(5.5, 1.8), layout="constrained")
    ax = fig.add_subplot()
    values = [chunked / 2**20, full / 2**20]
    bars = ax.barh(["chunked m·k²", "full n²"], values, color=["#4c9f70", "#c44e52"])
    ax.bar_label(bars, labels=[f"{v:,.1f} MiB" for v in values], padding=3, fontsize=8)
    ax.set_xlim(0, values[1] * 1.3)  # linear on purpose: the chunked bar's smallness is the lesson
    ax.set_xlabel("MiB")
    return PanelView(summary, fig, {"n": n, "k": plan.k, "m": plan.m, "full_bytes": full, "chunked_bytes": chunked})


def cost_panel(n: int = 4096, k: int = 512) -> LivePanel:
    """A panel with n and k sliders redrawing `render_cost_view`.

    Taught in 00_start_here, § A first live panel.
    """
    style = {"description_width": "initial"}
    controls = {
        "n": widgets.IntSlider(value=n, min=256, max=32768, step=256, description="n tokens", style=style,
                               continuous_update=False),
        "k": widgets.IntSlider(value=k, min=64, max=8192, step=64, description="k (chunk)", style=style,
                               continuous_update=False),
    }
    return LivePanel(controls, lambda n, k: render_cost_view(n, k), title="Full vs chunked attention memory")
