"""Chapter 7's panel: memory, batch and KV format in, the longest context out; moving a control changes the view."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from longctx_lab import config_card, kv_cache_bytes, longest_context
from longctx_lab.your_own_model.widgets import budget_panel, render_budget_view

from .conftest import family_model


@pytest.fixture(scope="module")
def llama_card():
    model, _ = family_model("llama")
    return config_card(model.config), model.config


def test_the_view_is_the_formula(llama_card):
    card, config = llama_card
    view = render_budget_view(card, 8, batch=4, kv="int8")
    expected = (8 * 10**9 - card["weights_fp16_bytes"]) // (kv_cache_bytes(config, 1, 1) * 4)
    assert view.data["tokens"] == expected
    assert f"{expected:,} tokens" in view.summary and "batch 4" in view.summary
    cache = view.drawing.bars[1].get_width()
    assert cache == pytest.approx(kv_cache_bytes(config, card["trained_positions"], 1, batch=4) / 1e9)
    assert view.drawing.limit.get_xdata()[0] == 8 and view.png()[:4] == b"\x89PNG"


@settings(max_examples=40, deadline=None)
@given(memory=st.integers(1, 160), batch=st.integers(1, 64), kv=st.sampled_from(["fp16", "int8", "int4"]))
def test_more_memory_or_a_smaller_batch_never_fits_less(memory, batch, kv):
    card = config_card(family_model("llama")[0].config)
    tokens = render_budget_view(card, memory, batch, kv).data["tokens"]
    assert render_budget_view(card, memory + 1, batch, kv).data["tokens"] >= tokens
    assert render_budget_view(card, memory, max(1, batch - 1), kv).data["tokens"] >= tokens
    if kv != "int4":  # a narrower format holds at least as many tokens
        narrower = {"fp16": "int8", "int8": "int4"}[kv]
        assert render_budget_view(card, memory, batch, narrower).data["tokens"] >= tokens


def test_a_sliding_window_lifts_the_memory_limit():
    card = config_card(family_model("mistral")[0].config)
    view = render_budget_view(card, 24)
    assert view.data["tokens"] is None and view.data["binding"] == "window" and "sliding window" in view.summary
    assert longest_context(1000.0, 1, 0, 1, window=10**9) == 10**6  # a window wider than memory: memory decides


def test_moving_a_control_changes_the_view(llama_card):
    card, _ = llama_card
    panel = budget_panel(card)
    before = panel.view.data["tokens"]
    panel.controls["batch"].value = 8
    assert panel.view.data["batch"] == 8 and panel.view.data["tokens"] < before
    panel.controls["kv"].value = "int4"
    assert panel.view.data["kv"] == "int4" and "int4" in panel.view.summary
    before_png = panel.view.png()
    panel.controls["memory_gb"].value = 1
    assert panel.view.data["memory_gb"] == 1 and panel.view.png() != before_png  # the figure redrew


def test_an_encoder_card_is_refused_before_any_widget():
    card = config_card(family_model("bert")[0].config)
    with pytest.raises(ValueError, match="keeps no KV cache"):
        budget_panel(card)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"memory_gb": 0}, ValueError, "memory_gb"), ({"batch": 0}, ValueError, "batch"),
    ({"kv": "int3"}, ValueError, "kv"), ({"card": {"a": 1}}, TypeError, "config_card"),
])
def test_bad_arguments_name_themselves(llama_card, kwargs, error, match):
    args = {"card": llama_card[0], "memory_gb": 8} | kwargs
    with pytest.raises(error, match=match):
        render_budget_view(**args)
