"""Every chapter of both editions opens in JupyterLab and renders its stored outputs without an error.

(The panels of 01 and 03 run in test_lab_panels.py, 00's in Voila in test_presenter.py.) One JupyterLab
page serves every chapter here: each is opened with the `docmanager:open` command a double click in the
file browser runs, checked, then closed with its kernel, so the page loads once, not once per chapter.
With LONGCTX_LAB_SCREENSHOTS=1 (`make screenshots`, no time budget) the other chapters also run all
cells in a page of their own, so their live panels can be photographed for the README.
"""
from __future__ import annotations

import os

import nbformat
import pytest

pytest.importorskip("playwright.sync_api",
                    reason="browser tests need the Python package playwright: pip install playwright")

from .conftest import NOTEBOOKS, OUTPUT, fresh_page  # noqa: E402
from .jupyter import notebook_state, open_notebook, problems, run_all_cells, screenshot  # noqa: E402

CHAPTERS = (sorted(path.name for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
            + sorted(f"zh/{path.name}" for path in (NOTEBOOKS / "zh").glob("[0-9][0-9]_*.ipynb")))  # both editions
PHOTOGRAPHED_ELSEWHERE = {"00_start_here.ipynb", "01_chunking.ipynb", "03_attention.ipynb"}  # by their panel tests
# Close the open notebook and shut its kernel down, as File ▸ Close and Shut Down Notebook does (without its dialog).
CLOSE_JS = """async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (panel && panel.sessionContext) { await panel.sessionContext.shutdown(); panel.dispose(); }
}"""


@pytest.fixture(scope="module")
def lab_page(browser, lab):
    """One JupyterLab page for the whole module, with no notebook open."""
    with fresh_page(browser) as page:
        page.goto(f"{lab}/lab?reset")
        page.wait_for_function("() => !!window.jupyterapp", timeout=60_000)
        page.locator(".jp-DirListing").first.wait_for(timeout=60_000)  # the file browser: the app has started
        assert not page.outside_requests, f"loading JupyterLab reached beyond 127.0.0.1: {page.outside_requests}"
        yield page


def _open_in(page, name: str) -> dict:
    """Open notebooks/<name> in the already loaded page; wait until every stored cell is on the page."""
    page.evaluate("""async path => {
      const panel = await window.jupyterapp.commands.execute('docmanager:open', {path: path});
      await panel.context.ready;
      await panel.revealed;
    }""", name)
    page.wait_for_function(
        """name => { const panel = window.jupyterapp.shell.currentWidget;
             return !!panel && panel.context.path === name && panel.content.model.cells.length > 0
               && document.querySelectorAll('.jp-Notebook .jp-Cell').length === panel.content.model.cells.length; }""",
        arg=name, timeout=90_000, polling=200)
    return notebook_state(page)


@pytest.mark.parametrize("name", CHAPTERS)
def test_notebook_renders_its_stored_outputs(lab_page, browser, lab, name):
    page = lab_page
    page.outside_requests.clear()  # loading the page itself was checked by the fixture
    state = _open_in(page, name)
    try:
        assert any(cell["count"] is not None for cell in state["cells"]), f"{name} is stored without outputs"
        found = problems(page, state, ran=False)
        assert not found, f"{name} in JupyterLab:\n" + "\n".join(found)
        assert not page.outside_requests, page.outside_requests
    except AssertionError:
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / f"stored-{name.replace('/', '-')}-failed.png"), full_page=True)
        raise
    finally:
        page.evaluate(CLOSE_JS)

    if os.environ.get("LONGCTX_LAB_SCREENSHOTS") == "1" and name not in PHOTOGRAPHED_ELSEWHERE and "/" not in name:
        with fresh_page(browser) as own_page:
            open_notebook(own_page, lab, name)
            state = run_all_cells(own_page)
            found = problems(own_page, state, ran=True)
            assert not found, f"{name} in JupyterLab:\n" + "\n".join(found)
            panel = own_page.locator(".widget-vbox:has(> img.widget-image)").first  # the chapter's first live panel
            panel.wait_for(timeout=30_000)
            screenshot(panel, name)


def test_an_error_output_in_a_stored_chapter_is_found(lab_page, served_notebooks):
    """The check above can fail: a copy of a chapter whose first code cell stored a traceback."""
    chapter = nbformat.read(NOTEBOOKS / CHAPTERS[0], as_version=4)
    first = next(cell for cell in chapter.cells if cell.cell_type == "code")
    first.outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="name 'lab' is not defined",
                                            traceback=["NameError: name 'lab' is not defined"])]
    nbformat.write(chapter, served_notebooks / "stored_error_check.ipynb")
    state = _open_in(lab_page, "stored_error_check.ipynb")
    try:
        found = problems(lab_page, state, ran=False)
    finally:
        lab_page.evaluate(CLOSE_JS)
    assert len(found) == 1 and "NameError: name 'lab' is not defined" in found[0], found
