"""07_your_own_model's live panel: memory, batch and KV format in, the longest context that fits out."""
from __future__ import annotations

import ipywidgets as widgets

from ..core.checked import checked
from ..core.checks import check_choice
from ..core.i18n import N_, tr
from ..core.panels import LivePanel, PanelView
from .config_card import KV_BYTES, longest_context
from .plots import BudgetBars

__all__ = ["budget_panel", "render_budget_view"]

MEMORY_BINDS = N_("memory, not the trained length ({trained:,}), is the limit")
TRAINED_BINDS = N_("memory allows {ratio:.1f}× the trained length ({trained:,}): the trained length is the limit")


def _card_numbers(card: dict) -> tuple[dict, int, int | None, int | None]:
    """(KV bytes per token by format, fp16 weight bytes, sliding window, trained length) of a config_card dict."""
    if not isinstance(card, dict) or "kv_bytes_per_token" not in card:
        raise TypeError(f"card must be the dict config_card(model.config) returns, got {type(card).__name__}")
    if card["kv_bytes_per_token"] is None:
        raise ValueError(f"card describes model_type={card.get('model_type')!r}, which keeps no KV cache "
                         "(an encoder); valid: the card of a decoder (a causal LM)")
    return (card["kv_bytes_per_token"], card["weights_fp16_bytes"] or 0, card["attention"]["sliding_window"],
            card["trained_positions"])


@checked(memory_gb=(1, 10000), batch=(1, 4096))
def render_budget_view(card: dict, memory_gb: float, batch: int = 1, kv: str = "fp16",
                       drawing: BudgetBars | None = None) -> PanelView:
    """The longest context per sequence `memory_gb` holds beside the fp16 weights, at `batch` and KV format `kv`.

    The figure sets the weights and the KV cache of the trained length (× batch) against the memory; pass the
    panel's `drawing` to redraw it in place. Taught in 07_your_own_model, § Reading the report card.
    """
    check_choice("kv", kv, tuple(KV_BYTES))
    per_token, weights, window, trained = _card_numbers(card)
    tokens = longest_context(per_token[kv], memory_gb, weights, batch, window)
    lines = [tr("{memory:g} GB = fp16 weights {weights:.2f} GB + KV cache ({kv}, {per:,} bytes per token) × batch {batch}",
                memory=memory_gb, weights=weights / 1e9, kv=kv, per=round(per_token[kv]), batch=batch)]
    if tokens is None:
        lines.append(tr("the sliding window ({window:,} tokens) caps the cache: memory sets no limit", window=window))
        binding = "window"
    elif tokens == 0:
        lines.append(tr("the weights alone fill the memory: no room for a KV cache"))
        binding = "memory"
    else:
        lines.append(tr("longest context per sequence: {tokens:,} tokens", tokens=tokens))
        binding = "memory" if trained is None or tokens < trained else "trained"
        if trained is not None:
            key = MEMORY_BINDS if binding == "memory" else TRAINED_BINDS
            lines.append(tr(key, trained=trained, ratio=tokens / trained))
    cache_gb = per_token[kv] * (trained or 0) * batch / 1e9  # the cache a batch of trained-length sequences needs
    drawing = BudgetBars() if drawing is None else drawing
    figure = drawing.update(weights / 1e9, cache_gb, memory_gb)
    return PanelView("\n".join(lines), figure, {"tokens": tokens, "binding": binding, "memory_gb": memory_gb,
                                                 "batch": batch, "kv": kv, "cache_gb": cache_gb}, drawing)


@checked
def budget_panel(card: dict, memory_gb: float = 24.0) -> LivePanel:
    """Memory, batch and KV-format controls redrawing `render_budget_view` for one model's config card.

    Taught in 07_your_own_model, § Reading the report card.
    """
    _card_numbers(card)  # refuse an encoder's card now, not at the first slider move
    style = {"description_width": "initial"}
    controls = {
        "memory_gb": widgets.IntSlider(value=int(memory_gb), min=1, max=160, step=1, description=tr("memory (GB)"),
                                       style=style, continuous_update=False),
        "batch": widgets.IntSlider(value=1, min=1, max=64, step=1, description=tr("batch"), style=style,
                                   continuous_update=False),
        "kv": widgets.Dropdown(options=list(KV_BYTES), value="fp16", description=tr("KV cache format"), style=style),
    }
    drawing = BudgetBars()
    return LivePanel(controls, lambda memory_gb, batch, kv: render_budget_view(card, memory_gb, batch, kv, drawing),
                     title=tr("What fits: context length vs memory, batch and KV format"))
