"""Chapter 3 panels and figures: the layer/head panel, the span-mask panel, the static plots."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from longctx_lab import ChunkPlan, adaptive_span_mask, chunk_block_mask, head_stats
from longctx_lab.attention.plots import (
    block_mask_figure,
    distance_bins,
    head_pattern_figure,
    head_stats_heatmaps,
    span_mask_figure,
    window_perplexity_figure,
)
from longctx_lab.attention.widgets import (
    bertviz_head_view,
    head_pattern_panel,
    render_head_pattern,
    render_span_mask,
    span_mask_panel,
)
from longctx_lab.core.drawing import figure_fingerprint


@pytest.fixture(scope="module")
def maps() -> torch.Tensor:
    """Two layers × three heads of causal maps with different shapes: local, uniform, sink."""
    t = 16
    causal = torch.tril(torch.ones(t, t))
    local = torch.eye(t)
    uniform = causal / causal.sum(-1, keepdim=True)
    sink = torch.zeros(t, t)
    sink[:, 0] = 1.0
    return torch.stack([torch.stack([local, uniform, sink]), torch.stack([sink, local, uniform])])


def test_head_panel_pick_another_head_changes_view(maps):
    panel = head_pattern_panel(maps)
    assert panel.controls["head"].description == "head"
    first = panel.view
    assert first.data["mean_distance"] == 0.0
    second = panel.update(head=2)
    assert second.data["head"] == 2 and second.data["sink_mass"] == 1.0
    assert first.png() != second.png()  # what the panel showed (the figure itself is redrawn in place)
    third = panel.update(layer=1, head=0)
    assert third.data["sink_mass"] == 1.0 and "layer 1, head 0" in third.summary


def test_render_head_pattern_matches_head_stats_and_validates(maps):
    view = render_head_pattern(maps, 0, 1)
    assert view.data["entropy"] == pytest.approx(float(head_stats(maps[0, 1]).entropy), abs=1e-3)
    with_stats = render_head_pattern(maps, 0, 1, stats=head_stats(maps))
    assert with_stats.data == view.data and with_stats.summary == view.summary
    with pytest.raises(ValueError, match="stats"):
        render_head_pattern(maps, 0, 1, stats=head_stats(maps[:1]))
    with pytest.raises(ValueError, match="head"):
        render_head_pattern(maps, 0, 3)
    with pytest.raises(ValueError, match="maps"):
        render_head_pattern(maps[0], 0, 0)


def test_span_panel_moves_mask(maps):
    panel = span_mask_panel(span=32, z=4.0, R=4.0)
    before = panel.view
    assert before.data["reach"] == 8
    after = panel.update(z=20.0)
    assert after.data["reach"] == 24 and after.data["kept"] > before.data["kept"]
    assert before.png() != after.png()
    assert float(after.data["masked_row"].sum()) == pytest.approx(1.0)


def test_render_span_mask_custom_row_and_bad_row():
    row = torch.full((10,), 0.1)
    view = render_span_mask(0.0, 2.0, row)
    assert view.data["kept"] == pytest.approx(0.15)  # m = 1, 0.5, 0 … at distances 0, 1, 2
    with pytest.raises(ValueError, match="row"):
        render_span_mask(1.0, 1.0, torch.ones(2, 2))


def test_static_figures_render(maps):
    stats = head_stats(maps)
    assert head_stats_heatmaps(stats).axes
    profile = torch.zeros(16)
    profile[0] = 1.0
    assert figure_fingerprint(head_pattern_figure(maps[0, 0], profile))
    mask = chunk_block_mask(ChunkPlan(16, 4))
    assert figure_fingerprint(block_mask_figure(maps[0, 1], mask))
    assert figure_fingerprint(span_mask_figure(torch.ones(8), torch.full((8,), 0.125), torch.full((8,), 0.125), 3, 2))
    assert figure_fingerprint(window_perplexity_figure(10.0, [16, 64], [30.0, 20.0], [12.0, 11.0], 4))
    with pytest.raises(ValueError, match="same shape"):
        block_mask_figure(maps[0, 1], mask[:4])
    with pytest.raises(TypeError, match="stats"):
        head_stats_heatmaps({"entropy": 1})


def test_distance_bins_cover_all_distances():
    edges = distance_bins(100)
    assert edges[0] == 0 and edges[-1] == 100 and np.all(np.diff(edges) > 0)
    assert list(distance_bins(4)) == [0, 1, 2, 4]


def test_bertviz_wrapper_validates_tokens(maps):
    with pytest.raises(ValueError, match="tokens"):
        bertviz_head_view(maps, ["a", "b"])


def test_span_mask_says_when_almost_nothing_survives():
    row = torch.full((100,), 1e-6)
    row[-1] = 1.0 - 99e-6  # a far-looking head: its mass sits beyond any short span
    view = render_span_mask(16.0, 8.0, row)
    kept = float((row * adaptive_span_mask(100, 16.0, 8.0)).sum())  # 20.5 of the 1e-6 entries
    assert f"{kept * 100:.2g}% of the row's mass survives" in view.summary and "0.0%" not in view.summary
    assert "noise" in view.summary and f"multiplies what is left by {1 / kept:,.0f}" in view.summary
    nothing = render_span_mask(0.0, 1.0, torch.tensor([0.0, 0.0, 1.0]))
    assert nothing.data["kept"] == 0 and torch.isfinite(nothing.data["masked_row"]).all()
    assert "0.0% of the row's mass survives" in nothing.summary and "nothing to scale up" in nothing.summary
    assert "noise" not in render_span_mask(16.0, 8.0).summary  # the default row keeps most of its mass
