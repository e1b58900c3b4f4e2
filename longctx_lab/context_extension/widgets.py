"""Live panels for 06_context_extension: RoPE scaling per dimension, and the cached needle heatmap."""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets

from ..core.checked import checked
from ..core.i18n import tr
from ..core.checks import as_int, check_choice
from ..core.drawing import decade_limits
from ..core.panels import LivePanel, PanelView, disabled_when
from .needle import load_extension_results
from .plots import MEASURE_NAMES, NEEDLE_MEASURES, NeedleHeatmap, RopeFrequencies, needle_grid
from .rope import ROPE_METHODS, ScaledRope, scaled_rope_frequencies

__all__ = ["needle_heatmap_panel", "render_needle_heatmap", "render_rope_scaling", "rope_scaling_panel"]

_STYLE = {"description_width": "90px"}


@lru_cache(maxsize=256)
def _rope(head_dim: int, base: float, method: str, factor: float, trained_positions: int) -> ScaledRope:
    """One scaling setting's frequencies, memoised (a panel revisits the same few settings)."""
    return scaled_rope_frequencies(head_dim, base, method, 1.0 if method == "none" else factor,
                                   original_max_positions=trained_positions, seq_len=int(factor * trained_positions))


@checked(factor=(0, 1e6, True))
def render_rope_scaling(method: str = "yarn", factor: float = 2.0, head_dim: int = 64, base: float = 100000.0,
                        trained_positions: int = 8192, drawing: RopeFrequencies | None = None) -> PanelView:
    """Plain RoPE beside `method` with scale factor s: inverse frequencies and wavelengths per dimension pair.

    method "none" ignores the factor (s = 1; the panel greys its slider out). Pass the panel's `drawing` to
    redraw it in place. Taught in 06_context_extension, § Stretching RoPE.
    """
    as_int("trained_positions", trained_positions, 1)
    plain = _rope(head_dim, base, "none", 1.0, trained_positions)
    scaled = _rope(head_dim, base, method, float(factor), trained_positions)
    ratio = (plain.inv_freq / scaled.inv_freq).numpy()
    untouched = int((abs(ratio - 1) < 1e-3).sum())
    stretched = int((abs(ratio - scaled.factor) < 1e-3 * scaled.factor).sum()) if scaled.factor > 1 else 0
    summary = tr("{method}, s={factor:g}: {untouched} of {pairs} pairs keep their frequency, {stretched} are slowed "
                 "by exactly s, {between} in between; slowest wavelength {slowest:,.0f} tokens (plain {plain:,.0f}); "
                 "attention factor {attention:.3f}", method=method, factor=scaled.factor, untouched=untouched,
                 pairs=ratio.size, stretched=stretched, between=ratio.size - untouched - stretched,
                 slowest=float(scaled.wavelengths[-1]), plain=float(plain.wavelengths[-1]),
                 attention=scaled.attention_factor)
    drawing = RopeFrequencies(plain, trained_positions) if drawing is None else drawing
    return PanelView(summary, drawing.update(scaled), {
        "method": method, "factor": scaled.factor, "inv_freq": scaled.inv_freq, "wavelengths": scaled.wavelengths,
        "ratio": ratio, "attention_factor": scaled.attention_factor, "untouched": untouched, "stretched": stretched,
    }, drawing)


@checked
def rope_scaling_panel(method: str = "yarn", factor: float = 2.0) -> LivePanel:
    """A panel with the method and scale factor s driving `render_rope_scaling` (s greyed out for "none").

    Taught in 06_context_extension, § Stretching RoPE.
    """
    check_choice("method", method, list(ROPE_METHODS))
    controls = {
        "method": widgets.Dropdown(options=list(ROPE_METHODS), value=method, description=tr("method"), style=_STYLE),
        "factor": widgets.FloatSlider(value=factor, min=1.0, max=16.0, step=0.5, description=tr("scale s"),
                                      style=_STYLE, continuous_update=False),
    }
    # Axes that hold every setting the sliders reach, so they never jump: the extremes are at the largest s.
    ropes = [_rope(64, 100000.0, m, controls["factor"].max, 8192) for m in ROPE_METHODS]
    limits = tuple(decade_limits([float(v) for r in ropes for v in getattr(r, name)]) for name in ("inv_freq", "wavelengths"))
    drawing = RopeFrequencies(ropes[0] if ROPE_METHODS[0] == "none" else _rope(64, 100000.0, "none", 1.0, 8192),
                              8192, limits)
    return LivePanel(controls, lambda method, factor: render_rope_scaling(method, factor, drawing=drawing),
                     title=tr("RoPE scaling: frequencies per dimension pair"),
                     links=[disabled_when("factor", lambda values: values["method"] == "none")])


@checked
def render_needle_heatmap(method: str = "none", measure: str = "found", results: dict | None = None,
                          drawing: NeedleHeatmap | None = None) -> PanelView:
    """The cached needle grid of one method as a heatmap (no model runs: instant).

    Pass the panel's `drawing` (a NeedleHeatmap of the same results) to redraw it in place.
    Taught in 06_context_extension, § Finding the needle.
    """
    results = load_extension_results() if results is None else results
    grid, lengths, depths = needle_grid(results, method, measure)
    found, rank = (needle_grid(results, method, m)[0] for m in ("found", "rank"))
    summary = tr("{method}: key generated in {found} of {trials} trials, ranked first by teacher forcing in {first} "
                 "of {trials}", method=method, found=int(found.sum()), trials=found.size, first=int((rank == 1).sum()))
    drawing = NeedleHeatmap(results) if drawing is None else drawing
    return PanelView(summary, drawing.update(method, measure),
                     {"method": method, "measure": measure, "grid": grid, "lengths": lengths, "depths": depths}, drawing)


@checked
def needle_heatmap_panel(results: dict | None = None) -> LivePanel:
    """A panel choosing the scaling method and the measure of the cached needle heatmap.

    Taught in 06_context_extension, § Finding the needle.
    """
    results = load_extension_results() if results is None else results
    methods = list(results["needle"])
    controls = {
        "method": widgets.Dropdown(options=methods, value=methods[0], description=tr("method"), style=_STYLE),
        "measure": widgets.Dropdown(options=[(tr(MEASURE_NAMES[m]), m) for m in NEEDLE_MEASURES], value="found",
                                    description=tr("measure"),
                                    style=_STYLE),
    }
    drawing = NeedleHeatmap(results)
    return LivePanel(controls, lambda method, measure: render_needle_heatmap(method, measure, results, drawing),
                     title=tr("Needle in a haystack (cached results)"))
