"""In JupyterLab, as a learner: run a chapter's panel, then move its controls and watch it redraw.

What runs in the browser (nbval already runs every cell of every chapter): the panel cells of 01
(k/m sliders) and 03 (head picker, bertviz views) with the cells they depend on (panel_cells.py), here;
00's panel in Voila (test_presenter.py); every chapter is opened and must render its stored outputs
without an error (test_lab_stored_outputs.py). Every run fails on an error output, a cell that never
ran, a widget that failed to display, a "Javascript Error", or a request leaving 127.0.0.1.
"""
from __future__ import annotations

import re

import nbformat
import pytest

pytest.importorskip("playwright.sync_api",
                    reason="browser tests need the Python package playwright: pip install playwright")

from playwright.sync_api import expect  # noqa: E402

from .conftest import NOTEBOOKS, OUTPUT  # noqa: E402
from .panel_cells import panel_notebook  # noqa: E402
from .jupyter import (  # noqa: E402
    cell_outputs_json, expect_figure_changed, figure_pixels, move_slider, open_notebook, panel_with_slider, problems,
    run_all_cells, screenshot,
)

M_CHUNKS = re.compile(r"m = (\d+) chunks")


def _run(page, lab: str, served, name: str, *calls: str) -> dict:
    """Run the cells of notebooks/<name> that make the panel (the cells calling `calls` and what they use)."""
    scratch = name.replace(".ipynb", "_panel.ipynb")
    panel_notebook(NOTEBOOKS / name, served / scratch, lambda source: any(call in source for call in calls))
    open_notebook(page, lab, scratch)
    state = run_all_cells(page)
    found = problems(page, state, ran=True)
    assert not found, f"{scratch} (cut from {name}) in JupyterLab:\n" + "\n".join(found)
    return state


def _chunks(summary) -> int:
    return int(M_CHUNKS.search(summary.inner_text()).group(1))


def test_chinese_edition_chunking_panel_speaks_chinese_and_follows_the_slider(page, lab, served_notebooks):
    """The Chinese edition's first code cell sets the language: the same panel, its labels and summary in Chinese."""
    _run(page, lab, served_notebooks, "zh/01_chunking.ipynb", "chunk_panel(k=")
    panel, k_slider = panel_with_slider(page, "k（块长）")
    summary = panel.locator(".widget-html-content").filter(has_text=re.compile(r"m = \d+ 个块")).first
    before_text, before_figure = summary.inner_text(), figure_pixels(panel)
    assert "个词元" in before_text, before_text
    move_slider(k_slider, "PageDown")
    expect(summary).not_to_have_text(before_text, timeout=30_000)
    expect_figure_changed(panel, before_figure)


def test_chunking_panel_follows_the_k_slider(page, lab, served_notebooks):
    _run(page, lab, served_notebooks, "01_chunking.ipynb", "chunk_panel(k=")  # the first panel, the English document
    panel, k_slider = panel_with_slider(page, "k (length)")
    summary = panel.locator(".widget-html-content").filter(has_text=M_CHUNKS).first
    _, m_slider = panel_with_slider(page, "m (chunks)")
    before_text, before_m, before_figure = summary.inner_text(), _chunks(summary), figure_pixels(panel)
    before_m_slider = m_slider.locator(".widget-readout").inner_text()

    move_slider(k_slider, "PageDown")  # a big step to shorter chunks: more of them

    expect(summary).not_to_have_text(before_text, timeout=30_000)
    assert _chunks(summary) > before_m
    expect(m_slider.locator(".widget-readout")).not_to_have_text(before_m_slider)  # the linked m slider followed
    assert int(m_slider.locator(".widget-readout").inner_text()) == _chunks(summary)
    expect_figure_changed(panel, before_figure)
    screenshot(panel, "01_chunking")
    assert not page.outside_requests, page.outside_requests


def test_attention_head_picker_redraws_and_bertviz_draws_offline(page, lab, served_notebooks):
    _run(page, lab, served_notebooks, "03_attention.ipynb", "head_pattern_panel(", "bertviz_head_view(",
         "bertviz_model_view(")
    panel, head_slider = panel_with_slider(page, "head")
    summary = panel.locator(".widget-html-content").filter(has_text=re.compile(r"head \d+")).first
    before_text, before_figure = summary.inner_text(), figure_pixels(panel)
    move_slider(head_slider, "ArrowLeft" if _at_max(head_slider) else "ArrowRight")

    expect(summary).not_to_have_text(before_text, timeout=60_000)
    expect_figure_changed(panel, before_figure)
    screenshot(panel, "03_attention")
    frames = page.locator("iframe.longctx-bertviz")
    assert frames.count() >= 1, "03_attention shows no offline bertviz view (longctx_lab.core.bertviz_offline)"
    for index in range(frames.count()):
        drawing = page.frame_locator("iframe.longctx-bertviz").nth(index).locator("svg").first
        expect(drawing).to_be_attached(timeout=30_000)
    assert not page.outside_requests, page.outside_requests


def _at_max(slider) -> bool:
    handle = slider.locator(".noUi-handle")
    return handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")


def test_bertviz_offline_draws_first_time_and_stores_a_small_output(page, lab, served_notebooks):
    """A scratch notebook (in the served copy only) calling the kit's head_view and model_view on tiny maps."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import torch\nfrom longctx_lab.core.bertviz_offline import head_view, model_view\n"
                                  "torch.manual_seed(0)\n"
                                  "attention = tuple(torch.rand(1, 4, 6, 6).softmax(-1) for _ in range(2))\n"
                                  "tokens = ['[CLS]', 'the', 'cat', 'sat', 'down', '[SEP]']"),
        nbformat.v4.new_code_cell("head_view(attention, tokens)"),
        nbformat.v4.new_code_cell("model_view(attention, tokens)"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, served_notebooks / "bertviz_offline_check.ipynb")
    open_notebook(page, lab, "bertviz_offline_check.ipynb")
    state = run_all_cells(page, timeout_s=120)
    assert not problems(page, state, ran=True)

    for index in (0, 1):
        frame = page.frame_locator("iframe.longctx-bertviz").nth(index)
        expect(frame.locator("svg").first).to_be_attached(timeout=30_000)
        expect(frame.locator("#bertviz-offline-status")).to_have_count(0)  # removed once the scripts ran
    assert page.locator("iframe.longctx-bertviz").first.bounding_box()["height"] > 100  # the frame fitted its view
    OUTPUT.mkdir(exist_ok=True)
    page.locator("iframe.longctx-bertviz").first.screenshot(path=str(OUTPUT / "bertviz_offline_head_view.png"))
    stored = cell_outputs_json(page)  # what saving the notebook would write
    assert all(len(outputs) < 100_000 for outputs in stored), [len(outputs) for outputs in stored]
    assert not any("d3js.org" in outputs or "jQuery v" in outputs for outputs in stored)
    assert not page.outside_requests, page.outside_requests


def test_budget_panel_follows_the_batch_slider(page, lab, served_notebooks):
    """Chapter 7's 'what fits' panel: a bigger batch leaves fewer tokens per sequence, in the summary a person reads."""
    _run(page, lab, served_notebooks, "07_your_own_model.ipynb", "budget_panel(")
    panel, batch_slider = panel_with_slider(page, "batch")
    summary = panel.locator(".widget-html-content").filter(has_text=re.compile(r"longest context per sequence")).first
    tokens = re.compile(r"longest context per sequence: ([\d,]+) tokens")
    before_text = summary.inner_text()
    before = int(tokens.search(before_text).group(1).replace(",", ""))
    move_slider(batch_slider, "PageUp")
    expect(summary).not_to_have_text(before_text, timeout=30_000)
    after = int(tokens.search(summary.inner_text()).group(1).replace(",", ""))
    assert after < before and "batch 1" not in summary.inner_text()
    assert not page.outside_requests, page.outside_requests
