"""Shared figure helpers and widget conventions (chapter panels are tested with their chapters)."""
import ipywidgets as widgets
import numpy as np
import pytest
import torch

from longctx_lab.chunking.plan import ChunkPlan
from longctx_lab.chunking.widgets import ChunkControls
from longctx_lab.core.drawing import attention_heatmap_grid, figure_fingerprint, segment_colors, token_strip
from longctx_lab.core.panels import LivePanel, PanelView, ResultCache


def test_segment_colors_are_distinct_for_neighbours():
    colors = segment_colors(12)
    assert len(colors) == 12 and all(a != b for a, b in zip(colors, colors[1:]))
    with pytest.raises(ValueError, match="m must"):
        segment_colors(0)


def test_token_strip_colours_spans_and_hatches_overlaps():
    plan = ChunkPlan(100, 30, 10)
    fig = token_strip(100, plan.spans, rows=2)
    ax = fig.axes[0]
    image = ax.images[0].get_array()  # (rows*5, per_row, RGBA): 4 pixel rows per token row + a gap
    colors = segment_colors(plan.m)
    np.testing.assert_allclose(image[0, 0], colors[0])  # token 0 belongs to chunk 0
    np.testing.assert_allclose(image[0, 25], colors[1])  # in chunks 0 and 1: the later one's colour
    np.testing.assert_allclose(image[0, 35], colors[1])
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 1 and len(hatched[0].get_path().vertices) == 5 * 4  # 4 overlap runs, one path
    no_overlap = token_strip(100, ChunkPlan(100, 30, 0).spans, rows=2)
    assert not no_overlap.axes[0].patches
    assert figure_fingerprint(fig) != figure_fingerprint(no_overlap)
    gaps = token_strip(10, [(0, 4), (6, 10)]).axes[0].images[0].get_array()
    np.testing.assert_allclose(gaps[0, 5][:3], [0.83, 0.83, 0.83])  # tokens in no span are grey
    with pytest.raises(ValueError, match="span"):
        token_strip(10, [(0, 11)])
    with pytest.raises(ValueError, match="n must"):
        token_strip(0, [])
    with pytest.raises(ValueError, match="rows"):
        token_strip(5, [(0, 5)], rows=6)


def test_heatmap_grid_shapes_and_errors():
    maps = torch.softmax(torch.randn(5, 6, 6), -1)
    fig = attention_heatmap_grid(maps, tokens=list("abcdef"), titles=[f"h{i}" for i in range(5)], ncols=3)
    assert len([ax for ax in fig.axes if ax.images]) == 5
    assert fig.axes[0].get_title() == "h0"
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), maps[1].numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        attention_heatmap_grid(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="tokens"):
        attention_heatmap_grid(maps, tokens=["a"])


def test_live_panel_redraws_on_control_change_and_update():
    calls = []

    def render(x: int) -> PanelView:
        calls.append(x)
        return PanelView(summary=f"x={x}", data={"x": x})

    slider = widgets.IntSlider(value=1, min=0, max=10)
    panel = LivePanel({"x": slider}, render, title="demo")
    assert panel.view.data["x"] == 1 and "x=1" in panel.summary.value
    slider.value = 4  # a user moving the slider
    assert panel.view.data["x"] == 4 and "x=4" in panel.summary.value
    assert panel.update(x=7).data["x"] == 7
    assert calls == [1, 4, 7]  # exactly one render per change
    with pytest.raises(ValueError, match="unknown control"):
        panel.update(y=1)


def test_chunk_controls_link_k_m_and_overlap():
    controls = ChunkControls(n=1000, k=100)
    assert controls.m.value == 10
    controls.k.value = 50
    assert controls.m.value == 20
    controls.m.value = 4
    assert controls.k.value == 250 and controls.plan.m == 4
    controls.overlap.value = 100
    assert controls.plan == ChunkPlan(1000, 250, 100) and controls.m.value == ChunkPlan(1000, 250, 100).m
    controls.k.value = 20  # overlap must shrink below k
    assert controls.overlap.value == 19 and controls.overlap.max == 19
    with pytest.raises(ValueError, match="k_min"):
        ChunkControls(n=100, k=5, k_min=10)


def test_result_cache_computes_once_per_key():
    cache = ResultCache()
    assert cache.get(("a", 1), lambda: 41) == 41
    assert cache.get(("a", 1), lambda: 0) == 41
    assert cache.misses == 1 and len(cache) == 1
