"""A generated report.html opened in Chromium from disk: no request leaves the file, every figure loads, no JS error."""
from __future__ import annotations

import pytest

import longctx_lab as L

from ..your_own_model.conftest import family_model


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    m, tokenizer = family_model("llama")
    card = L.report_card(m, tokenizer, max_tokens=128, name="random llama")
    return card.write(tmp_path_factory.mktemp("report"))["html"]


def test_report_html_is_self_contained(browser, report_file):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    outside, errors = [], []

    def guard(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:  # anything else is a request leaving the file: count it and fail it at once
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(report_file.as_uri(), wait_until="load")
        images = page.evaluate("() => Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
        assert len(images) == 5, images
        assert all(complete and width > 0 for _, complete, width in images), images
        assert page.locator("h2").count() == 8
    finally:
        context.close()
    assert outside == [], outside
    assert errors == [], errors
