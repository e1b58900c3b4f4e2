"""Every chapter of both editions opens in JupyterLab and renders its stored outputs without an error.

(The panels of 01 and 03 run in test_lab_panels.py, 00's in Voila in test_presenter.py.) With
LONGCTX_LAB_SCREENSHOTS=1 (`make screenshots`, no time budget) the other chapters also run all cells,
so their live panels can be photographed for the README.
"""
from __future__ import annotations

import os

import pytest

pytest.importorskip("playwright.sync_api",
                    reason="browser tests need the Python package playwright: pip install playwright")

from .conftest import NOTEBOOKS  # noqa: E402
from .jupyter import notebook_state, open_notebook, problems, run_all_cells, screenshot  # noqa: E402

CHAPTERS = (sorted(path.name for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
            + sorted(f"zh/{path.name}" for path in (NOTEBOOKS / "zh").glob("[0-9][0-9]_*.ipynb")))  # both editions
PHOTOGRAPHED_ELSEWHERE = {"00_start_here.ipynb", "01_chunking.ipynb", "03_attention.ipynb"}  # by their panel tests


@pytest.mark.parametrize("name", CHAPTERS)
def test_notebook_renders_its_stored_outputs(page, lab, name):
    open_notebook(page, lab, name, wait_for_kernel=False)
    state = notebook_state(page)
    assert any(cell["count"] is not None for cell in state["cells"]), f"{name} is stored without outputs"
    found = problems(page, state, ran=False)
    assert not found, f"{name} in JupyterLab:\n" + "\n".join(found)
    assert not page.outside_requests, page.outside_requests

    if os.environ.get("LONGCTX_LAB_SCREENSHOTS") == "1" and name not in PHOTOGRAPHED_ELSEWHERE and "/" not in name:
        open_notebook(page, lab, name)
        state = run_all_cells(page)
        found = problems(page, state, ran=True)
        assert not found, f"{name} in JupyterLab:\n" + "\n".join(found)
        panel = page.locator(".widget-vbox:has(> img.widget-image)").first  # the chapter's first live panel
        panel.wait_for(timeout=30_000)
        screenshot(panel, name)
