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


def test_render_rejects_a_stride_above_k_and_too_many_tokens(model, ids):
    with pytest.raises(ValueError, match="stride"):  # never silently clamped: the panel keeps stride <= k
        render_segment_loss(model, ids, k=4, m=2, stride=16)
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
    assert cache.misses == misses + 1  # only the sliding run; full and disjoint are reused


def test_panel_updates_data_and_figure(model, ids):
    # A budget no setting here can exceed: on a busy machine the measured rate would otherwise hold stride=2 back.
    panel = segment_loss_panel(model, ids, k=8, m=2, stride=4, k_range=(4, 16, 4), m_max=4, budget=1e6)
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


# ---- a setting's cost, the slow-setting warning, the progress bar and interrupts ------------------------

from longctx_lab.segment_loss.widgets import WorkRate, _mode_key, cheaper_neighbour, panel_work  # noqa: E402

THE_170_S_CASE = {"full": (1, 2048), "disjoint": (8, 2048), "sliding": (113, 28928)}  # k=256, m=8, s=16


def _counted(model):
    calls = []
    model.register_forward_pre_hook(lambda *_: calls.append(1))
    return calls


def test_panel_work_counts_windows_times_tokens_before_computing():
    assert panel_work(256, 8, 16) == THE_170_S_CASE  # the 170-second move: 113 windows, not 3 modes
    assert panel_work(8, 4, 8) == {"full": (1, 32), "disjoint": (4, 32), "sliding": (4, 32)}
    with pytest.raises(ValueError, match="stride"):
        panel_work(8, 4, 9)


def test_a_slow_setting_warns_offers_a_cheaper_neighbour_and_runs_nothing():
    model = tiny_lm(seed=0, attn_implementation="sdpa", max_positions=2048)
    ids = torch.randint(0, 256, (2048,), generator=torch.Generator().manual_seed(0))
    calls, cache = _counted(model), ResultCache()
    rate = WorkRate(seconds_per_token=170 / 33024)  # SmolLM2 as the issue measured it: 170 s for this move
    view = render_segment_loss(model, ids, 256, 8, 16, cache, budget=5.0, rate=rate)
    assert view.data["pending"] and view.figure is None and not calls and cache.misses == 0
    assert view.data["work"] == THE_170_S_CASE and view.data["estimate_s"] == pytest.approx(170)
    assert "not computed yet" in view.summary and "sliding 113 × 256" in view.summary and "about 170 s" in view.summary
    assert view.data["neighbour"] == {"m": 1, "seconds": pytest.approx(768 * 170 / 33024), "windows": 3}
    assert "cheaper neighbour: m = 1 (3 windows, about 4 s)" in view.summary
    for mode in ("full", "disjoint"):  # once n = 2048 has been scored, a larger stride is the nearer way out
        cache.get(_mode_key(mode, model, 2048, 256, None),
                  lambda mode=mode: segment_loss(model, ids, 256, mode))
    near = cheaper_neighbour(model, 256, 8, 16, cache, 1e-3, 5.0)  # at 1 ms per token (batched SmolLM2 here)
    assert near == {"stride": 128, "seconds": pytest.approx(15 * 256e-3), "windows": 15}  # 32 and 64 are too slow
    assert cheaper_neighbour(model, 256, 8, 16, cache, 1.0, 5.0) is None  # nothing fits at 1 s per token


def test_the_panel_waits_for_a_click_then_counts_windows():
    model = tiny_lm(seed=0, attn_implementation="sdpa", max_positions=2048)
    ids = torch.randint(0, 256, (2048,), generator=torch.Generator().manual_seed(0))
    panel = segment_loss_panel(model, ids, k=32, m=2, stride=32, budget=1e-6)  # every new setting is "slow"
    assert not panel.view.data["pending"]  # the first view is the notebook's choice: computed
    slow = panel.update(k=64, m=8, stride=16)
    assert slow.data["pending"] and panel.buttons.layout.display is None and "(~" in panel.run_button.description
    assert panel.image.layout.display == "none"
    done = panel.run_anyway()
    assert not done.data["pending"] and done.data["passes"]["sliding"] == panel_work(64, 8, 16)["sliding"][0]
    assert panel.buttons.layout.display == "none" and panel.view.figure is not None
    again = panel.update(stride=32)  # full and disjoint are cached; only the sliding run is new, and slow
    assert again.data["pending"] and set(again.data["todo"]) == {"sliding"}
    panel.update(stride=16)  # back to a computed setting: served at once
    assert not panel.view.data["pending"]


def test_windows_run_in_batches_under_progress_and_an_interrupt_caches_nothing(model, ids):
    seen = []
    batched = segment_loss(model, ids, 16, "sliding", stride=4, window_batch=3, progress=seen.append)
    whole = segment_loss(model, ids, 16, "sliding", stride=4)
    assert sum(seen) == whole.passes == 13 and max(seen) == 3  # the bar counts windows, 3 per forward
    assert batched.total == pytest.approx(whole.total, rel=1e-6)

    def interrupt(done):
        raise KeyboardInterrupt  # what the kernel's interrupt raises between two forwards

    cache = ResultCache()
    for mode in ("full", "disjoint"):
        cache.get(_mode_key(mode, model, 64, 16, None), lambda mode=mode: segment_loss(model, ids, 16, mode))
    from longctx_lab.segment_loss import widgets as panel_module  # longctx_lab.segment_loss is also a function

    original = panel_module.segment_loss
    panel_module.segment_loss = lambda *a, **kw: original(*a, **{**kw, "progress": interrupt})
    try:
        with pytest.raises(KeyboardInterrupt):
            render_segment_loss(model, ids, 16, 4, 4, cache)
    finally:
        panel_module.segment_loss = original
    assert _mode_key("sliding", model, 64, 16, 4) not in cache  # nothing half-done is served later
    assert render_segment_loss(model, ids, 16, 4, 4, cache).data["passes"]["sliding"] == 13
    with pytest.raises(ValueError, match="window_batch"):
        segment_loss(model, ids, 16, "sliding", window_batch=0)


def test_work_rate_probes_once_and_follows_recent_runs(model, ids):
    calls = _counted(model)
    rate = WorkRate()
    first = rate.per_token(model, ids, 16)
    assert len(calls) == 2 and first > 0  # one warm-up call, one timed
    rate.per_token(model, ids, 16)
    assert len(calls) == 2
    fixed = WorkRate(seconds_per_token=2.0, keep=2)
    fixed.add(10, 10.0)
    fixed.add(10, 30.0)  # the preset has dropped out: only the last two runs count
    assert fixed.per_token(model, ids, 16) == pytest.approx(2.0)


def test_an_interrupted_panel_says_so_for_the_setting_it_shows(model, ids, monkeypatch):
    from longctx_lab.segment_loss import widgets as panel_module  # longctx_lab.segment_loss is also a function

    panel = segment_loss_panel(model, ids, k=8, m=2, stride=4, k_range=(4, 16, 4), m_max=4)
    original = panel_module.segment_loss

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(panel_module, "segment_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        panel.update(k=16)
    view = panel.view
    assert view.data["interrupted"] and (view.data["k"], view.data["m"], view.data["stride"]) == (16, 2, 4)
    assert "interrupted, nothing cached" in view.summary and panel.buttons.layout.display is None
    monkeypatch.setattr(panel_module, "segment_loss", original)
    assert not panel.run_anyway().data["pending"]
