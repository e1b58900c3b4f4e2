"""Tests for chapter 2's live panel and figures, driven through their plain functions."""
import pytest
import torch

from longctx_lab import tiny_lm
from longctx_lab.core.drawing import figure_fingerprint
from longctx_lab.core.panels import ResultCache
from longctx_lab.segment_loss.loss import segment_loss
from longctx_lab.segment_loss.plots import position_curve, segment_bars, segment_loss_figure
from longctx_lab.segment_loss.widgets import render_segment_loss, segment_loss_panel


@pytest.fixture(scope="module")
def model():
    return tiny_lm(seed=0, attn_implementation="sdpa")


@pytest.fixture(scope="module")
def ids():
    return torch.randint(0, 256, (64,), generator=torch.Generator().manual_seed(0))


def test_render_reports_the_three_modes(model, ids):
    view = render_segment_loss(model, ids, k=8, m=4, stride=4)
    assert view.data["n"] == 32 and view.data["m"] == 4
    assert view.data["n_tokens"] == {"full": 31, "disjoint": 28, "sliding": 31}
    assert view.data["passes"] == {"full": 1, "disjoint": 4, "sliding": 7}
    assert view.data["total"]["full"] == pytest.approx(segment_loss(model, ids[:32], 8, "full").total)
    assert len(view.data["per_segment"]["disjoint"]) == 4
    assert "n = m·k = 4·8 = 32" in view.summary and view.figure is not None


def test_render_clamps_the_stride_to_k_and_rejects_too_many_tokens(model, ids):
    assert render_segment_loss(model, ids, k=4, m=2, stride=16).data["stride"] == 4
    with pytest.raises(ValueError, match="n = m·k"):
        render_segment_loss(model, ids, k=32, m=3, stride=8)
    with pytest.raises(ValueError, match="stride"):
        render_segment_loss(model, ids, k=8, m=2, stride=0)


def test_render_serves_repeats_from_the_cache(model, ids):
    cache = ResultCache()
    first = render_segment_loss(model, ids, 8, 4, 4, cache)
    misses = cache.misses
    again = render_segment_loss(model, ids, 8, 4, 4, cache)
    assert cache.misses == misses and again.data == first.data
    render_segment_loss(model, ids, 8, 4, 2, cache)  # only the stride moved
    assert cache.misses == misses + 2  # the new setting and its sliding run; full and disjoint are reused


def test_panel_updates_data_and_figure(model, ids):
    panel = segment_loss_panel(model, ids, k=8, m=2, stride=4, k_range=(4, 16, 4), m_max=4)
    before = figure_fingerprint(panel.view.figure)
    view = panel.update(k=16, m=4)
    assert view.data["n"] == 64 and view.data["k"] == 16
    assert figure_fingerprint(view.figure) != before
    stride_view = panel.update(stride=2)
    assert stride_view.data["stride"] == 2 and stride_view.data["passes"]["sliding"] > view.data["passes"]["sliding"]


def test_panel_rejects_a_range_that_needs_more_tokens(model, ids):
    with pytest.raises(ValueError, match="m_max"):
        segment_loss_panel(model, ids, k=8, m=2, k_range=(4, 32, 4), m_max=4)


def test_figures_draw_one_bar_group_per_segment(model, ids):
    results = {mode: segment_loss(model, ids, 16, mode) for mode in ("full", "disjoint")}
    bars = segment_bars(results)
    assert len(bars.axes[0].patches) == 2 * 4
    curve = position_curve(results)
    assert len(curve.axes[0].lines) == 2
    assert len(segment_loss_figure(results).axes) == 2
    with pytest.raises(TypeError, match="results"):
        segment_bars({})


def test_panel_serves_precomputed_results(model, ids):
    real = segment_loss(model, ids[:32], 8, "full")
    marked = type(real)(real.mode, real.k, real.stride, real.memory, real.per_token,
                        real.per_segment + 1.0, real.spans, real.passes)  # recognisably not recomputed
    panel = segment_loss_panel(model, ids, k=8, m=4, stride=4, k_range=(4, 16, 4), m_max=4, precomputed=[marked])
    assert panel.view.data["total"]["full"] == pytest.approx(real.total + 4.0)
    with pytest.raises(TypeError, match="precomputed"):
        segment_loss_panel(model, ids, k=8, m=4, stride=4, k_range=(4, 16, 4), m_max=4, precomputed=[1.0])
