"""Every live panel, driven by random sequences of control moves: it never raises, and what the controls
show is what the render used (its data and summary). Moves land anywhere in a control's range at that
moment, and a little past either end (ipywidgets clamps those, as a browser slider would)."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from longctx_lab import head_stats, tiny_lm
from longctx_lab.chunking.plan import ChunkPlan
from longctx_lab.chunking.widgets import ChunkControls
from longctx_lab.attention.widgets import head_pattern_panel, span_mask_panel
from longctx_lab.chunking.widgets import chunk_panel
from longctx_lab.compression.widgets import compression_panel
from longctx_lab.context_extension.widgets import needle_heatmap_panel, rope_scaling_panel
from longctx_lab.multi_gpu_scaling.widgets import cost_model_panel
from longctx_lab.segment_loss.widgets import segment_loss_panel
from longctx_lab.start_here.widgets import cost_panel
from longctx_lab.compression.yardstick import VariantReport

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MOVES = st.lists(st.tuples(st.integers(0, 10), st.floats(-0.2, 1.2)), min_size=1, max_size=5)


def _target(control, fraction: float):
    """Where a move to `fraction` of the control's current range lands (selections: an option by index)."""
    if hasattr(control, "options"):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return options[min(len(options) - 1, max(0, int(fraction * len(options))))]
    step = control.step or 1
    value = control.min + round((control.max - control.min) * fraction / step) * step
    return type(control.value)(value)


def _drive(panel, moves, check) -> None:
    """Apply each move as a user would (setting the widget), then check the panel's view against its controls."""
    names = list(panel.controls)
    for which, fraction in moves:
        control = panel.controls[names[which % len(names)]]
        if not control.disabled:
            control.value = _target(control, fraction)
        check(panel, panel.view, {name: c.value for name, c in panel.controls.items()})


def _run(panel, check) -> None:
    """Hypothesis drives `panel` through random move sequences, checking after every move."""
    SETTINGS(given(MOVES)(lambda moves: _drive(panel, moves, check)))()


def _same(view, shown: dict, names) -> None:
    for name in names:
        assert view.data[name] == shown[name], (name, view.data[name], shown[name])


def test_cost_panel_shows_what_it_uses():
    panel = cost_panel()

    def check(panel, view, shown):
        _same(view, shown, ("n", "k"))
        assert shown["k"] <= shown["n"] and panel.controls["k"].max <= shown["n"]
        assert f"n = {shown['n']} tokens, k = {shown['k']} → m = {view.data['m']}" in view.summary

    _run(panel, check)


def test_chunk_panel_shows_what_it_uses():
    panel = chunk_panel(k=126)

    def check(panel, view, shown):
        _same(view, shown, ("k", "m", "overlap"))
        assert view.data["m"] == ChunkPlan(view.data["n"], shown["k"], shown["overlap"]).m
        assert f"k = {shown['k']}, overlap = {shown['overlap']}" in view.summary

    _run(panel, check)


@SETTINGS
@given(n=st.integers(2, 3000), data=st.data())
def test_chunk_controls_reach_only_valid_plans(n, data):
    k_min = data.draw(st.integers(1, n))
    k_max = data.draw(st.integers(k_min, n))
    k = data.draw(st.integers(k_min, k_max))
    controls = ChunkControls(n, k, overlap=data.draw(st.integers(0, k - 1)), k_min=k_min, k_max=k_max)
    for name, fraction in data.draw(st.lists(st.tuples(st.sampled_from(["k", "m", "overlap"]), st.floats(0, 1)),
                                             max_size=6)):
        slider = getattr(controls, name)
        slider.value = slider.min + round((slider.max - slider.min) * fraction)
        plan = controls.plan
        assert controls.m.value == plan.m and controls.overlap.value < controls.k.value
        assert controls.m.min <= plan.m <= controls.m.max and k_min <= controls.k.value <= k_max


def test_segment_loss_panel_shows_what_it_uses():
    model = tiny_lm(seed=0, attn_implementation="sdpa")
    ids = torch.randint(0, 256, (64,), generator=torch.Generator().manual_seed(0))
    fast = segment_loss_panel(model, ids, k=8, m=2, stride=4, k_range=(4, 16, 4), m_max=4)
    slow = segment_loss_panel(model, ids, k=8, m=2, stride=4, k_range=(4, 16, 4), m_max=4, budget=1e-9)

    def check(panel, view, shown):
        _same(view, shown, ("k", "m", "stride"))
        assert shown["stride"] <= shown["k"] and view.data["n"] == shown["m"] * shown["k"]
        assert view.summary.startswith(f"n = m·k = {shown['m']}·{shown['k']} = {shown['m'] * shown['k']} tokens, "
                                       f"stride s = {shown['stride']}")
        assert view.data["pending"] == ("not computed yet" in view.summary)
        assert (view.figure is None) == view.data["pending"]

    _run(fast, check)

    @SETTINGS
    @given(MOVES, st.sampled_from(["none", "run", "neighbour"]))
    def slow_moves(moves, action):  # every new setting is "too slow": pending views, the buttons' two ways out
        _drive(slow, moves, check)
        if action == "run":
            view = slow.run_anyway()
            assert not view.data["pending"]
        elif action == "neighbour":
            slow.take_neighbour()
        check(slow, slow.view, slow.values())

    slow_moves()


def test_head_pattern_panel_shows_what_it_uses():
    maps = torch.randn(3, 4, 16, 16, generator=torch.Generator().manual_seed(0)).softmax(-1)
    panel = head_pattern_panel(maps, stats=head_stats(maps))

    def check(panel, view, shown):
        _same(view, shown, ("layer", "head"))
        assert f"layer {shown['layer']}, head {shown['head']}:" in view.summary

    _run(panel, check)


def test_span_mask_panel_shows_what_it_uses():
    row = torch.zeros(40)
    row[-1] = 1.0  # all mass at the far end: most settings keep nothing, which must not divide by zero
    for panel in (span_mask_panel(span=48), span_mask_panel(row)):

        def check(panel, view, shown):
            _same(view, shown, ("z", "R"))
            assert f"z = {shown['z']:g}, R = {shown['R']:g}:" in view.summary
            assert torch.isfinite(view.data["masked_row"]).all()

        _run(panel, check)


def test_cost_model_panel_shows_what_it_uses():
    panel = cost_model_panel()

    def check(panel, view, shown):
        _same(view, shown, ("P", "n", "batch", "link", "model"))
        assert all(p.world_size == shown["P"] for p in view.data["predictions"].values())
        assert f"batch {shown['batch']} x n = {shown['n']:,} tokens, P = {shown['P']} x" in view.summary

    _run(panel, check)


def test_compression_panel_shows_what_it_uses():
    grid = {(s, b): VariantReport(f"{b} {s}", int(9e7 * b / 32 * (1 - s / 2)), 0.9 - s / 4, 1 - s / 5, 0.9 - s / 3)
            for s in (0.0, 0.25, 0.5) for b in (32, 16, 8)}
    panel = compression_panel(grid)

    def check(panel, view, shown):
        _same(view, shown, ("sparsity", "bits"))
        assert view.summary.startswith(f"sparsity {shown['sparsity']:.0%}, ")

    _run(panel, check)
    with pytest.raises(ValueError, match="every"):
        compression_panel({k: v for k, v in grid.items() if k != (0.5, 8)})


def test_rope_panel_shows_what_it_uses():
    panel = rope_scaling_panel("yarn", 4.0)

    def check(panel, view, shown):
        assert view.data["method"] == shown["method"]
        ignored = shown["method"] == "none"
        assert panel.controls["factor"].disabled == ignored  # greyed out while it does not apply
        assert math.isclose(view.data["factor"], 1.0 if ignored else shown["factor"])
        assert view.summary.startswith(f"{shown['method']}, s={1.0 if ignored else shown['factor']:g}:")

    _run(panel, check)


def test_needle_panel_shows_what_it_uses():
    panel = needle_heatmap_panel()

    def check(panel, view, shown):
        _same(view, shown, ("method", "measure"))
        assert view.summary.startswith(f"{shown['method']}: ")

    _run(panel, check)
