"""Chapter 2 live panel: k, m (n = m·k) and stride sliders over a real model's segment losses."""
from __future__ import annotations

from typing import Iterable

import ipywidgets as widgets
import torch
from tqdm.auto import tqdm

from ..core.panels import LivePanel, PanelView, ResultCache
from .loss import SegmentLoss, segment_loss
from .plots import segment_loss_figure

__all__ = ["render_segment_loss", "segment_loss_panel"]

PANEL_MODES = ("full", "disjoint", "sliding")


def _mode_key(mode: str, model, n: int, k: int, stride: int | None) -> tuple:
    """The cache key of one mode's result; the stride only matters for sliding windows."""
    return mode, id(model), n, k, stride if mode == "sliding" else None


def _panel_results(model, input_ids: torch.Tensor, k: int, m: int, stride: int, cache: ResultCache) -> dict[str, SegmentLoss]:
    """The three modes for one setting: computed once with a progress bar, then served from `cache`.

    Each mode is cached on its own too, so moving only the stride re-runs only the sliding windows.
    """
    n = m * k

    def compute_setting() -> dict[str, SegmentLoss]:
        results = {}
        for mode in tqdm(PANEL_MODES, desc=f"scoring n={n}, k={k}, s={stride}", leave=False):
            mode_stride = stride if mode == "sliding" else None
            results[mode] = cache.get(_mode_key(mode, model, n, k, mode_stride),
                                      lambda: segment_loss(model, input_ids[:n], k, mode, stride=mode_stride))
        return results

    return cache.get(("setting", id(model), n, k, stride), compute_setting)


def render_segment_loss(model, input_ids, k: int, m: int, stride: int, cache: ResultCache | None = None) -> PanelView:
    """Score the first n = m·k tokens with full (= recurrent), disjoint and sliding(stride) and draw Lᵢ and the position curve.

    Taught in 02_segment_loss, § The live panel.
    """
    ids = torch.as_tensor(input_ids)
    for name, value in (("k", k), ("m", m), ("stride", stride)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if m * k > ids.numel():
        raise ValueError(f"n = m·k = {m}·{k} = {m * k} exceeds the {ids.numel()} tokens given")
    stride = min(stride, k)  # the stride slider may sit above a newly chosen, smaller k
    results = _panel_results(model, ids, k, m, stride, cache if cache is not None else ResultCache())
    lines = [f"n = m·k = {m}·{k} = {m * k} tokens, stride s = {stride}"]
    for label, result in results.items():
        lines.append(f"{label:>9}: L = {result.total:8.1f} nats over {result.n_tokens:4d} tokens, "
                     f"mean {result.mean:.3f}, ppl {result.ppl:6.2f}, {result.passes} pass(es)")
    figure = segment_loss_figure({("full = recurrent" if mode == "full" else mode): r for mode, r in results.items()}, k)
    data = {
        "n": m * k, "k": k, "m": m, "stride": stride,
        "total": {mode: r.total for mode, r in results.items()},
        "ppl": {mode: r.ppl for mode, r in results.items()},
        "n_tokens": {mode: r.n_tokens for mode, r in results.items()},
        "passes": {mode: r.passes for mode, r in results.items()},
        "per_segment": {mode: r.per_segment.tolist() for mode, r in results.items()},
    }
    return PanelView("\n".join(lines), figure, data)


def segment_loss_panel(model, input_ids, k: int = 128, m: int = 4, stride: int = 64,
                       k_range: tuple[int, int, int] = (32, 256, 32), m_max: int = 8,
                       precomputed: Iterable[SegmentLoss] = ()) -> LivePanel:
    """A LivePanel with sliders k, m (n = m·k, capped by the tokens given) and stride over `render_segment_loss`.

    `precomputed` results (from scoring a prefix input_ids[:n] with the same model) seed the cache,
    so settings already computed elsewhere in the notebook cost nothing. Taught in 02_segment_loss, § The live panel.
    """
    ids = torch.as_tensor(input_ids)
    cache = ResultCache()
    for result in precomputed:
        if not isinstance(result, SegmentLoss):
            raise TypeError(f"precomputed must hold SegmentLoss results, got {type(result).__name__}")
        if result.mode in PANEL_MODES:
            cache.get(_mode_key(result.mode, model, result.per_token.numel(), result.k, result.stride),
                      lambda r=result: r)
    k_min, k_max, k_step = k_range
    if not 2 <= k_min <= k <= k_max:
        raise ValueError(f"need 2 <= k_min <= k <= k_max, got k_range={k_range}, k={k}")
    if not 1 <= m <= m_max or m_max * k_max > ids.numel():
        raise ValueError(f"need 1 <= m <= m_max and m_max·k_max <= {ids.numel()} tokens, got m={m}, m_max={m_max}, k_max={k_max}")
    style = {"description_width": "80px"}
    controls = {
        "k": widgets.IntSlider(value=k, min=k_min, max=k_max, step=k_step, description="k (length)",
                               style=style, continuous_update=False),
        "m": widgets.IntSlider(value=m, min=1, max=m_max, description="m (segments)", style=style,
                               continuous_update=False),
        "stride": widgets.IntSlider(value=stride, min=k_step // 2 or 1, max=k_max, step=k_step // 2 or 1,
                                    description="stride s", style=style, continuous_update=False),
    }
    return LivePanel(controls, lambda k, m, stride: render_segment_loss(model, ids, k, m, stride, cache),
                     title="Segment loss L = Σ Lᵢ: n = m·k tokens scored three ways")
