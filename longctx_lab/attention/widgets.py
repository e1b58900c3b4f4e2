"""Chapter 3 live panels: pick a layer/head of cached attention maps; move z and R of the adaptive span mask.

Also the bertviz wrappers, drawn by `bertviz_offline` so they render without the network.
"""
from __future__ import annotations

from typing import Sequence

import ipywidgets as widgets
import torch

from ..core.checked import checked
from ..core.i18n import fig_tr, tr
from ..core.panels import LivePanel, PanelView, ResultCache
from .adaptive_span import adaptive_span_mask
from .maps import HeadStats, distance_profile, head_stats
from .plots import HeadPattern, SpanMask

__all__ = [
    "bertviz_head_view",
    "bertviz_model_view",
    "default_attention_row",
    "head_pattern_panel",
    "render_head_pattern",
    "render_span_mask",
    "span_mask_panel",
]


def _check_maps(maps, name: str = "maps") -> torch.Tensor:
    if not isinstance(maps, torch.Tensor) or maps.ndim != 4 or maps.shape[-1] != maps.shape[-2]:
        raise ValueError(f"{name} must be a tensor (L, H, T, T), got {getattr(maps, 'shape', type(maps).__name__)}")
    return maps


@checked
def render_head_pattern(maps: torch.Tensor, layer: int, head: int, stats: HeadStats | None = None,
                        cache: ResultCache | None = None, drawing: HeadPattern | None = None) -> PanelView:
    """One head of cached maps (L, H, T, T): its attention pattern, distance histogram and statistics.

    Pass `stats = head_stats(maps)` when already computed, so a redraw only draws, and the panel's
    `drawing` to redraw it in place. Taught in 03_attention, § Which heads look far.
    """
    maps = _check_maps(maps)
    n_layers, n_heads = maps.shape[:2]
    if not isinstance(layer, int) or not 0 <= layer < n_layers:
        raise ValueError(f"layer must be an int in [0, {n_layers - 1}], got {layer!r}")
    if not isinstance(head, int) or not 0 <= head < n_heads:
        raise ValueError(f"head must be an int in [0, {n_heads - 1}], got {head!r}")
    if stats is not None and tuple(stats.entropy.shape) != (n_layers, n_heads):
        raise ValueError(f"stats must be head_stats(maps) of shape ({n_layers}, {n_heads}), "
                         f"got {tuple(stats.entropy.shape)}")
    attn = maps[layer, head].float()

    def compute() -> tuple[dict[str, float], torch.Tensor]:
        head_values = (head_stats(attn).as_dict() if stats is None else
                       {name: value[layer, head] for name, value in stats.as_dict().items()})
        numbers = {name: round(float(value), 3) for name, value in head_values.items()}
        return numbers, distance_profile(attn).mean(0)

    numbers, profile = compute() if cache is None else cache.get((layer, head), compute)
    summary = tr("layer {layer}, head {head}: mean distance {mean_distance:.1f} tokens, 90% of the mass within "
                 "{span90:.1f}, entropy {entropy:.2f} nats, mass on the first token {sink_mass:.2f}", layer=layer,
                 head=head, mean_distance=numbers["mean_distance"], span90=numbers["span90"],
                 entropy=numbers["entropy"], sink_mass=numbers["sink_mass"])
    drawing = HeadPattern(attn.shape[-1]) if drawing is None else drawing
    figure = drawing.update(attn, profile, title=fig_tr("layer {layer}, head {head}", layer=layer, head=head))
    return PanelView(summary, figure, {"layer": layer, "head": head, **numbers}, drawing)


@checked
def head_pattern_panel(maps: torch.Tensor, layer: int = 0, head: int = 0, stats: HeadStats | None = None) -> LivePanel:
    """A panel with "layer" and "head" sliders over cached attention maps (L, H, T, T) (and their head_stats).

    Taught in 03_attention, § Which heads look far.
    """
    maps = _check_maps(maps)
    cache, drawing = ResultCache(), HeadPattern(maps.shape[-1])
    controls = {
        "layer": widgets.IntSlider(value=layer, min=0, max=maps.shape[0] - 1, description=tr("layer"),
                                   continuous_update=False),
        "head": widgets.IntSlider(value=head, min=0, max=maps.shape[1] - 1, description=tr("head"),
                                  continuous_update=False),
    }
    return LivePanel(controls, lambda layer, head: render_head_pattern(maps, layer, head, stats, cache, drawing),
                     title=tr("Pick a layer and a head"))


@checked(span=(1, 2**16))
def default_attention_row(span: int = 64, seed: int = 0) -> torch.Tensor:
    """A softmax row over distances 0 … span − 1 with a local peak, a far bump and a first-token sink (seeded).

    Taught in 03_attention, § Adaptive attention span.
    """
    generator = torch.Generator().manual_seed(seed)
    distance = torch.arange(span, dtype=torch.float32)
    scores = 0.5 * torch.randn(span, generator=generator) - distance / 8
    scores[span * 3 // 4] += 3.0  # something far worth attending to
    scores[-1] += 4.0  # the first token of the sequence sits at the largest distance
    return scores.softmax(-1)


@checked(span=(1, 2**16))
def render_span_mask(z: float, R: float, row: torch.Tensor | None = None, span: int = 64,
                     drawing: SpanMask | None = None) -> PanelView:
    """The adaptive-span mask for (z, R) and one attention row (indexed by distance) masked and renormalised.

    Pass the panel's `drawing` (a SpanMask of the same row) to redraw it in place. Taught in 03_attention,
    § Adaptive attention span.
    """
    row = default_attention_row(span) if row is None else torch.as_tensor(row, dtype=torch.float32)
    if row.ndim != 1 or row.numel() < 2:
        raise ValueError(f"row must be a 1-D attention row of length >= 2, got shape {tuple(row.shape)}")
    mask = adaptive_span_mask(row.numel(), float(z), float(R))
    masked = row * mask
    kept = float(masked.sum())
    # Renormalising divides by `kept`: a row with almost nothing inside the span becomes magnified noise.
    masked = masked / kept if kept > 0 else masked
    reach = int((mask > 0).sum())
    lines = [tr("z = {z:g}, R = {R:g}: mask > 0 for distances < {reach}; {share} of the row's mass survives before "
                "renormalising", z=z, R=R, reach=reach, share=_share(kept))]
    if kept < 0.01:
        lines.append(tr("this head looks beyond z + R: renormalising has nothing to scale up, so the red curve is "
                        "noise; a span this short would cripple the head") if kept == 0 else
                     tr("this head looks beyond z + R: renormalising multiplies what is left by {factor:,.0f}, so the "
                        "red curve is noise; a span this short would cripple the head", factor=1 / kept))
    drawing = SpanMask(row) if drawing is None else drawing
    figure = drawing.update(mask, masked, float(z), float(R))
    return PanelView("\n".join(lines), figure, {"z": float(z), "R": float(R), "reach": reach, "kept": round(kept, 4),
                                                "mask": mask, "masked_row": masked}, drawing)


def _share(fraction: float) -> str:
    """A fraction as a percentage with enough digits to tell a small share from none (0.01 %, not 0.0 %)."""
    return f"{fraction:.1%}" if fraction >= 0.001 or fraction == 0 else f"{fraction * 100:.2g}%"


@checked(span=(1, 2**16))
def span_mask_panel(row: torch.Tensor | None = None, span: int = 64, z: float = 16.0, R: float = 8.0) -> LivePanel:
    """A panel with z and R sliders redrawing the span mask and the masked attention row.

    Taught in 03_attention, § Adaptive attention span.
    """
    length = span if row is None else int(torch.as_tensor(row).numel())
    drawing = SpanMask(default_attention_row(span) if row is None else torch.as_tensor(row, dtype=torch.float32))
    controls = {
        "z": widgets.FloatSlider(value=z, min=0.0, max=float(length), step=1.0, description="z",
                                 continuous_update=False),
        "R": widgets.FloatSlider(value=R, min=1.0, max=32.0, step=1.0, description=tr("R (ramp)"),
                                 continuous_update=False),
    }
    return LivePanel(controls, lambda z, R: render_span_mask(z, R, row, length, drawing), title=tr("Adaptive span mask"))


def _bertviz_input(attn: torch.Tensor, tokens: Sequence[str]) -> tuple:
    attn = _check_maps(attn, "attn")
    if len(tokens) != attn.shape[-1]:
        raise ValueError(f"tokens has {len(tokens)} entries but the maps are {attn.shape[-1]} long")
    # bertviz embeds every weight as JSON text: float64 rounded to 2 decimals prints as "0.01", not as the
    # 17-digit expansion of a float32, which keeps the page ~8x smaller; weights < 0.005 are invisible anyway.
    return tuple(layer[None] for layer in attn.double().round(decimals=2))  # one (1, H, T, T) per layer


@checked
def bertviz_head_view(attn: torch.Tensor, tokens: Sequence[str], layers: Sequence[int] | None = None) -> None:
    """bertviz's head view of maps (L, H, T, T), only `layers` embedded, served offline from installed packages.

    Taught in 03_attention, § Looking at attention.
    """
    from ..core.bertviz_offline import head_view

    head_view(_bertviz_input(attn, tokens), list(tokens), include_layers=None if layers is None else list(layers))


@checked
def bertviz_model_view(attn: torch.Tensor, tokens: Sequence[str], layers: Sequence[int] | None = None,
                       heads: Sequence[int] | None = None) -> None:
    """bertviz's model view (a thumbnail per chosen layer and head) of maps (L, H, T, T), served offline.

    Taught in 03_attention, § Looking at attention.
    """
    from ..core.bertviz_offline import model_view

    model_view(_bertviz_input(attn, tokens), list(tokens), include_layers=None if layers is None else list(layers),
               include_heads=None if heads is None else list(heads))
