"""Presenter mode (`make present`): Voila shows a chapter as a clean app, code hidden, its panel live."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api",
                    reason="browser tests need the Python package playwright: pip install playwright")

from playwright.sync_api import expect  # noqa: E402

from .conftest import NOTEBOOKS  # noqa: E402
from .panel_cells import panel_notebook  # noqa: E402
from .jupyter import expect_figure_changed, figure_pixels, move_slider, panel_with_slider, screenshot  # noqa: E402

M_CHUNKS = re.compile(r"m = (\d+) chunks")


def test_voila_shows_start_here_panel_without_code_and_its_slider_redraws(page, voila, served_notebooks):
    # 00's panel cells only (nbval runs the whole chapter; Voila would run it all again before showing it)
    panel_notebook(NOTEBOOKS / "00_start_here.ipynb", served_notebooks / "00_start_here_panel.ipynb",
                   lambda source: "cost_panel(" in source)
    page.goto(f"{voila}/voila/render/00_start_here_panel.ipynb", timeout=300_000)  # Voila runs the cells first
    panel, k_slider = panel_with_slider(page, "k (chunk)")
    k_slider.wait_for(timeout=300_000)
    for complaint in ("There was an error when executing cell", "Javascript Error", "Error displaying widget"):
        assert page.get_by_text(complaint).count() == 0, complaint
    assert page.get_by_text("cost_panel(n=").count() == 0, "Voila should hide the code"

    summary = panel.locator(".widget-html-content").filter(has_text=M_CHUNKS).first
    before_text, before_figure = summary.inner_text(), figure_pixels(panel)
    move_slider(k_slider, "ArrowLeft", presses=4)
    expect(summary).not_to_have_text(before_text, timeout=30_000)
    assert int(M_CHUNKS.search(summary.inner_text()).group(1)) > int(M_CHUNKS.search(before_text).group(1))
    expect_figure_changed(panel, before_figure)
    screenshot(panel, "00_start_here")
    # Voila's own lab template links Font Awesome's CSS from a CDN (icons only, which the kit's panels
    # don't use); offline that request fails at once and nothing else depends on it.
    outside = [url for url in page.outside_requests if "@fortawesome/fontawesome-free" not in url]
    assert not outside, outside

