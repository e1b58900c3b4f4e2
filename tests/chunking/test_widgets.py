"""Chapter 1 widget and figure tests: the live panel's linked sliders, its numbers and its redraws."""
from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pytest

from longctx_lab.chunking.plan import ChunkPlan
from longctx_lab.chunking.plots import attention_costs, chunk_strip, cost_curves
from longctx_lab.chunking.widgets import chunk_panel, document_token_count, render_chunk_view
from longctx_lab.core.drawing import figure_fingerprint, segment_colors


@pytest.fixture(scope="module")
def panel():
    return chunk_panel(k=126)


def test_panel_starts_on_the_document(panel):
    n = document_token_count()
    assert panel.view.data["n"] == n > 1000
    assert panel.view.data["m"] == ChunkPlan(n, 126).m
    assert panel.controls["k"].max == 510


def test_moving_k_changes_m_and_the_figure(panel):
    before = panel.update(k=126, overlap=0)
    after = panel.update(k=64)
    assert after.data["m"] == ChunkPlan(after.data["n"], 64).m != before.data["m"]
    assert panel.controls["m"].value == after.data["m"]
    assert after.png() != before.png()  # what the panel showed (the figure itself is redrawn in place)


def test_choosing_m_sets_the_smallest_k(panel):
    before = panel.update(k=126, overlap=0)
    after = panel.update(m=20)
    assert after.data["m"] == 20
    assert after.data["k"] == ChunkPlan.from_m(after.data["n"], 20).k != before.data["k"]
    assert after.png() != before.png()  # what the panel showed (the figure itself is redrawn in place)


def test_overlap_duplicates_tokens_and_changes_the_figure(panel):
    before = panel.update(k=128, overlap=0)
    after = panel.update(overlap=32)
    n = after.data["n"]
    assert before.data["duplicated"] == 0
    assert after.data["duplicated"] == ChunkPlan(n, 128, 32).duplicated > 0
    assert after.data["m"] == ChunkPlan(n, 128, 32).m > before.data["m"]
    assert after.png() != before.png()  # what the panel showed (the figure itself is redrawn in place)


def test_render_reports_the_memory_of_full_and_chunked_attention():
    view = render_chunk_view(4096, 512, 8, 0)
    assert view.data["full_bytes"] == 4 * 4096**2
    assert view.data["chunked_bytes"] == 4 * 8 * 512**2
    assert view.data["memory_ratio"] == 8
    assert "m = 8 chunks" in view.summary and "8.0×" in view.summary


def test_render_rejects_an_m_that_does_not_match():
    with pytest.raises(ValueError, match="m=3"):
        render_chunk_view(100, 10, 3, 0)
    with pytest.raises(ValueError, match="overlap"):
        render_chunk_view(100, 10, 10, 10)


def test_chunk_strip_colours_each_token_by_its_last_chunk():
    plan = ChunkPlan(50, 8, 3)
    fig = chunk_strip(plan, rows=2)
    image = np.asarray(fig.axes[0].images[0].get_array())  # (rows * 5, per_row, 4)
    tokens = image.reshape(2, 5, 25, 4)[:, 0].reshape(-1, 4)
    palette = np.array([mcolors.to_rgba(c) for c in segment_colors(plan.m)])
    expected = [min(t // plan.stride, plan.m - 1) for t in range(50)]
    assert np.allclose(tokens, palette[expected])
    assert fig.axes[0].patches[0].get_hatch() == "////"
    assert (fig.axes[0].patches[0].get_path().codes == 1).sum() == plan.m - 1  # one hatched box per overlap run; none crosses a row break
    with pytest.raises(TypeError, match="plan"):
        chunk_strip((50, 8, 3))
    with pytest.raises(ValueError, match="rows"):
        chunk_strip(plan, rows=0)


def test_attention_costs_cross_over_at_n_equals_k():
    n = np.array([64, 128, 256, 4096])
    full, chunked = attention_costs(n), attention_costs(n, k=128)
    assert chunked["score_bytes"][0] > full["score_bytes"][0]  # padding a short input up to k costs more
    assert chunked["score_bytes"][1] == full["score_bytes"][1]
    assert chunked["score_bytes"][3] * 32 == full["score_bytes"][3]  # n / k = 32
    assert np.all(full["attention_flops"] == 4 * 384 * n.astype(float) ** 2)
    with pytest.raises(ValueError, match="n"):
        attention_costs([0])


def test_cost_curves_draws_full_and_each_k():
    fig = cost_curves(ks=(128, 512))
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2 + 2 * 2  # full, dense, then per k: curve and n = k marker
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="ks"):
        cost_curves(ks=())


# ------------------------------------------------------------ § Chinese text: what a context window holds

@pytest.fixture(scope="module")
def minilm_tok():
    from transformers import AutoTokenizer

    from longctx_lab import available_models

    return AutoTokenizer.from_pretrained(available_models()["minilm"].location)


def test_panel_on_unk_heavy_text_says_so_after_every_move(panel, minilm_tok):
    from longctx_lab import load_text

    chinese = chunk_panel(load_text("daodejing")[:3000], minilm_tok, k=126)
    note = chinese.view.summary.splitlines()[-1]
    assert note.startswith("Note: ") and "MiniLM" in note and "[UNK]" in note
    assert "[UNK]" in chinese.summary.value  # on screen, not only in the view
    moved = chinese.update(k=64, overlap=8)
    assert moved.summary.splitlines()[-1] == note and moved.data["m"] == ChunkPlan(moved.data["n"], 64, 8).m
    assert "[UNK]" not in panel.update(k=100).summary  # the English document has no [UNK]


def test_panel_note_in_chinese(minilm_tok):
    from longctx_lab import load_text
    from longctx_lab.core.i18n import set_language

    try:
        set_language("zh")
        chinese = chunk_panel(load_text("daodejing")[:3000], minilm_tok, k=126)
        assert chinese.view.summary.splitlines()[-1].startswith("注意：MiniLM")
        assert chinese.update(k=80).summary.splitlines()[-1].startswith("注意：MiniLM")
    finally:
        set_language("en")


def test_render_chunk_view_adds_a_note_line():
    assert render_chunk_view(100, 16, 7, 0, note="a note").summary.splitlines()[-1] == "a note"
    assert len(render_chunk_view(100, 16, 7, 0).summary.splitlines()) == 3
    with pytest.raises(TypeError, match="note"):
        render_chunk_view(100, 16, 7, 0, note=None)


def test_inflation_figure_draws_each_rows_numbers():
    from longctx_lab.chunking.plots import inflation_figure

    rows = [{"text": text, "tokenizer": tok, "characters": 100, "tokens": tokens, "tokens_per_char": tokens / 100,
             "window": 8192, "chars_per_window": int(8192 / (tokens / 100)), "unk_fraction": None}
            for text, tok, tokens in [("zh", "A", 170), ("zh", "B", 86), ("en", "A", 23), ("en", "B", 24)]]
    rows[1]["unk_fraction"] = 0.55  # tokenizer B reads Chinese as [UNK]: its bar is hatched and says so
    fig = inflation_figure(rows)
    per_char, per_window = fig.axes
    assert [patch.get_hatch() for patch in per_char.patches] == [None, "xx", None, None]
    assert "55% [UNK]" in [text.get_text().split("\n")[-1] for text in per_char.texts]
    heights = [patch.get_height() for patch in per_char.patches]
    assert heights == pytest.approx([1.70, 0.86, 0.23, 0.24])  # text by text, tokenizer by tokenizer
    assert [patch.get_height() for patch in per_window.patches] == [r["chars_per_window"] for r in rows]
    assert [t.get_text() for t in per_char.get_xticklabels()] == ["A", "B"]
    assert [t.get_text() for t in per_char.get_legend().get_texts()] == ["Chinese", "English"]
    assert "8,192" in per_window.get_title()
    with pytest.raises(ValueError, match="rows\\[1\\] lacks"):
        inflation_figure([rows[0], {"text": "zh"}])
    with pytest.raises(TypeError, match="rows"):
        inflation_figure(rows[0])
