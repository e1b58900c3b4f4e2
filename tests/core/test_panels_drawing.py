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


# ---- linked controls, drawings redrawn in place ------------------------------------------------------

from longctx_lab.core.drawing import Drawing, decade_limits, strip_layers  # noqa: E402
from longctx_lab.core.panels import LinkedControls, at_most, disabled_when  # noqa: E402


def test_linked_controls_settle_before_anyone_hears_of_a_change():
    n, k, mode = (widgets.IntSlider(value=v, min=lo, max=hi) for v, lo, hi in ((100, 10, 100), (80, 5, 50), (0, 0, 1)))
    linked = LinkedControls({"n": n, "k": k, "mode": mode},
                            [at_most("k", "n"), disabled_when("k", lambda values: values["mode"] == 1)])
    assert (k.max, k.value) == (50, 50)  # the built range is a ceiling: k <= min(n, 50)
    heard = []
    linked.on_change(lambda: heard.append(linked.values()))
    n.value = 20
    assert (k.max, k.value) == (20, 20) and heard == [{"n": 20, "k": 20, "mode": 0}]  # told once, already settled
    n.value = 100
    assert k.max == 50 and k.value == 20  # the range widens back; the value stays where it was
    mode.value = 1
    assert k.disabled
    with linked.hold():
        n.value = 15
        k.value = 40  # beyond the new max: clamped, as a browser slider would
    assert k.value == 15 and len(heard) == 3  # nothing heard while held
    with pytest.raises(ValueError, match="unknown control"):
        linked.set(x=1)


def test_link_rules_move_ranges_in_a_safe_order_and_must_settle():
    slider = widgets.IntSlider(value=5, min=0, max=10)
    LinkedControls({"s": slider}, [lambda linked, changed: {"s": {"min": 20, "max": 30, "value": 25}}])
    assert (slider.min, slider.max, slider.value) == (20, 30, 25)  # a range wholly above the old one
    flip = widgets.IntSlider(value=0, min=0, max=10)
    with pytest.raises(RuntimeError, match="settle"):
        LinkedControls({"f": flip}, [lambda linked, changed: {"f": {"value": 1 - linked.controls["f"].value}}])
    with pytest.raises(TypeError, match="rules"):
        LinkedControls({"s": widgets.IntSlider()}, [42])


def test_live_panel_reuses_the_links_of_already_linked_controls():
    controls = ChunkControls(n=1000, k=100)
    panel = LivePanel(controls.as_dict(), lambda k, m, overlap: PanelView(f"{k} {m} {overlap}", data={"m": m}))
    assert panel.linked is controls
    assert panel.update(overlap=50).data["m"] == ChunkPlan(1000, 100, 50).m  # m followed before the render ran


def test_result_cache_keeps_the_most_recent_items():
    cache = ResultCache(max_items=2)
    for key in "abc":
        cache.get(key, lambda key=key: key.upper())
    assert "a" not in cache and "c" in cache and len(cache) == 2
    cache.get("b", lambda: "?")  # a hit refreshes b, so c is the next to go
    cache.get("d", lambda: "D")
    assert "b" in cache and "c" not in cache
    with pytest.raises(ValueError, match="max_items"):
        ResultCache(max_items=0)


def test_a_drawing_redraws_only_what_changed_and_matches_a_full_draw():
    drawing = Drawing((4, 2))
    ax = drawing.figure.add_subplot()
    (line,) = ax.plot([0, 1, 2], [0, 1, 0])
    ax.set_ylim(0, 3)
    title = ax.set_title("")
    drawing.dynamic(line, title)
    first = drawing.png()
    line.set_ydata([2, 1, 2])
    title.set_text("moved")
    second = drawing.png()
    assert first != second and drawing._background is not None  # the cached background was reused
    from PIL import Image
    import io

    shown = np.asarray(Image.open(io.BytesIO(second)).convert("RGB"))
    full = np.frombuffer(figure_fingerprint(drawing.figure), dtype=np.uint8).reshape(shown.shape[0], shown.shape[1], 4)
    assert (shown == full[..., :3]).all(axis=-1).mean() > 0.99  # what a full draw of the figure shows
    drawing.static_key("new axes")
    assert drawing._background is None  # a new static key redraws everything once


def test_decade_limits_and_strip_layers():
    assert decade_limits([0.5, 20.0]) == (0.1, 100.0)
    assert decade_limits([0.0, float("nan")]) == (0.1, 10.0)  # nothing positive: a harmless default
    image, hatch, per_row = strip_layers(100, ChunkPlan(100, 30, 10).spans, rows=2)
    assert image.shape == (10, 50, 4) and per_row == 50 and len(hatch.vertices) == 5 * 4
    np.testing.assert_array_equal(image, token_strip(100, ChunkPlan(100, 30, 10).spans, rows=2).axes[0].images[0].get_array())
    assert strip_layers(10, [(0, 10)])[1] is None
