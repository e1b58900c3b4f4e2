"""Presenter mode (`make present`): a chapter as a clean app, offline, ready at once, its panel live.

The chapter is chapter 0 cut down to its title, its panel and its exercise cells (see panel_cells.py), served as
`make present NB=...` serves one: the kit's template, a preheated kernel. As a teacher starts
`make present` before class, the test waits until the preheated kernel has run the notebook, then times
how long the page takes to show its first live panel (printed; recorded in bench/README.md). No timed
assertion: on a busy machine that would flake; the panel must appear within the wait's timeout.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("playwright.sync_api",
                    reason="browser tests need the Python package playwright: pip install playwright")

from playwright.sync_api import expect  # noqa: E402

from ..servers import LOCAL  # noqa: E402
from .conftest import ROOT, presenting  # noqa: E402
from .jupyter import expect_figure_changed, figure_pixels, move_slider, panel_with_slider, screenshot  # noqa: E402
from .panel_cells import panel_notebook  # noqa: E402

M_CHUNKS = re.compile(r"m = (\d+) chunks")
EXERCISE = re.compile(r"\.check\(answer\)|\.hint\(\)|\.solution\(\)")
KERNEL_STARTED = re.compile(r"Kernel started: ([0-9a-f-]{36})")


def wait_until_prepared(base: str, log: Path, timeout_s: float = 240, quiet_s: float = 3) -> float:
    """Seconds until the preheated kernel has run the notebook: idle, with no activity for `quiet_s`."""
    start, deadline = time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = KERNEL_STARTED.search(log.read_text())
        if found:
            with LOCAL.open(f"{base}/api/kernels/{found.group(1)}", timeout=5) as response:
                kernel = json.load(response)
            last = datetime.fromisoformat(kernel["last_activity"].replace("Z", "+00:00"))
            if kernel["execution_state"] == "idle" and (datetime.now(timezone.utc) - last).total_seconds() > quiet_s:
                return time.monotonic() - start - quiet_s
        time.sleep(0.5)
    raise AssertionError(f"the preheated kernel did not finish the notebook within {timeout_s:.0f} s:\n"
                         + log.read_text()[-3000:])


def test_presenter_mode_is_offline_ready_at_once_hides_exercises_and_its_slider_redraws(page, tmp_path, capsys):
    notebook = tmp_path / "chapter" / "00_start_here_panel.ipynb"
    notebook.parent.mkdir()
    chapter = ROOT / "notebooks" / "00_start_here.ipynb"
    panel_notebook(chapter, notebook, lambda source: "cost_panel(" in source or bool(EXERCISE.search(source)))
    # The chapter's title cell too: its formulas ($n^2$) make MathJax typeset, which must need no CDN either.
    cut = nbformat.read(notebook, as_version=4)
    cut.cells.insert(0, nbformat.read(chapter, as_version=4).cells[0])
    nbformat.write(cut, notebook)
    home = tmp_path / "voila-home"
    with presenting(notebook, home) as base:
        prepared_s = wait_until_prepared(base, home / "server.log")
        opened = time.monotonic()
        page.goto(f"{base}/")
        panel, k_slider = panel_with_slider(page, "k (chunk)")
        k_slider.wait_for(timeout=60_000)
        first_panel_s = time.monotonic() - opened
        with capsys.disabled():
            print(f"\npresenter mode: chapter prepared in {prepared_s:.1f} s after start; "
                  f"first live panel {first_panel_s:.1f} s after opening")

        for complaint in ("There was an error when executing cell", "Javascript Error", "Error displaying widget"):
            assert page.get_by_text(complaint).count() == 0, complaint
        assert page.get_by_text("cost_panel(n=").count() == 0, "presenter mode should hide the code"
        # The exercise cells ran (Voila runs every cell) but their learner-only output is not on the page.
        assert "Using pre-heated kernel" in (home / "server.log").read_text()
        for learner_only in ("… not attempted", "replace ____ with your answer", re.compile(r"Hint \d+/\d+:")):
            assert page.get_by_text(learner_only).count() == 0, f"{learner_only!r} shown in presenter mode"

        summary = panel.locator(".widget-html-content").filter(has_text=M_CHUNKS).first
        before_text, before_figure = summary.inner_text(), figure_pixels(panel)
        move_slider(k_slider, "ArrowLeft", presses=4)
        expect(summary).not_to_have_text(before_text, timeout=30_000)
        assert int(M_CHUNKS.search(summary.inner_text()).group(1)) > int(M_CHUNKS.search(before_text).group(1))
        expect_figure_changed(panel, before_figure)
        screenshot(panel, "00_start_here")
        expect(page.locator("mjx-container").first).to_be_visible(timeout=30_000)  # the title's $n^2$ typeset
        # Every asset is Voila's own: Font Awesome, MathJax, the widget manager; not one request leaves 127.0.0.1.
        assert page.outside_requests == [], (f"{len(page.outside_requests)} requests left 127.0.0.1 "
                                             f"(first panel after {first_panel_s:.1f} s): {page.outside_requests}")
