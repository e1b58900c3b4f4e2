"""What a user does in JupyterLab and Voila, as playwright steps: open, run all, move a slider, look."""
from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

from playwright.sync_api import FrameLocator, Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import NOTEBOOKS, OUTPUT

SCREENSHOTS = NOTEBOOKS / "screenshots"
SCREENSHOT_LIMIT = 150_000  # bytes per committed PNG
# The open notebook's code cells as JupyterLab's model holds them (the app is exposed by the lab fixture).
NOTEBOOK_STATE_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.context || !panel.context.isReady) { return null; }
  const cells = [];
  const list = panel.content.model.cells;
  for (let i = 0; i < list.length; i++) {
    const cell = list.get(i);
    if (cell.type !== 'code') { continue; }
    const outputs = cell.outputs.toJSON();
    cells.push({index: i, count: cell.executionCount, tags: cell.getMetadata('tags') || [],
                source: cell.sharedModel.getSource().slice(0, 80),
                errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)});
  }
  const queued = Array.from(document.querySelectorAll('.jp-InputPrompt')).some(p => p.textContent.includes('*'));
  return {status: panel.sessionContext.kernelDisplayStatus, queued: queued, cells: cells};
}"""
# Done: kernel idle, nothing queued, and every code cell ran (or one failed, which aborts the rest).
RUN_FINISHED_JS = f"""() => {{
  const state = ({NOTEBOOK_STATE_JS})();
  return !!state && state.status === 'idle' && !state.queued
    && (state.cells.every(c => c.count !== null) || state.cells.some(c => c.errors.length > 0));
}}"""


def open_notebook(page: Page, lab: str, name: str, wait_for_kernel: bool = True) -> None:
    """Open notebooks/<name> in JupyterLab; wait until it is loaded and (unless told not to) its kernel is idle."""
    page.goto(f"{lab}/lab/tree/{name}?reset")  # reset: no tab restored from an earlier test
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    ready = "s.status === 'idle'" if wait_for_kernel else "true"
    page.wait_for_function(f"() => {{ const s = ({NOTEBOOK_STATE_JS})(); return !!s && {ready}; }}",
                           timeout=90_000, polling=500)


def menu_command(page: Page, menu: str, item: str) -> None:
    """Click a top menu, then one of its items, as a user picks Run ▸ Run All Cells."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-item", has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$"))).click()


def run_all_cells(page: Page, timeout_s: float = 300) -> dict:
    """Clear every output, Run ▸ Run All Cells, wait for the kernel to finish; returns the notebook state."""
    menu_command(page, "Edit", "Clear Outputs of All Cells")
    menu_command(page, "Run", "Run All Cells")
    try:
        page.wait_for_function(RUN_FINISHED_JS, timeout=timeout_s * 1000, polling=500)
    except PlaywrightTimeoutError:
        state = notebook_state(page)
        waiting = [f"{c['index']} ({c['source'][:40]!r})" for c in state["cells"] if c["count"] is None]
        raise AssertionError(f"Run All Cells not finished after {timeout_s:.0f} s (kernel {state['status']}); "
                             f"cells not run yet: {', '.join(waiting)}") from None
    return notebook_state(page)


def cell_outputs_json(page: Page) -> list[str]:
    """Each code cell's outputs as the notebook file would store them (JSON text)."""
    return page.evaluate("""() => {
      const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
      const found = [];
      for (let i = 0; i < cells.length; i++) {
        if (cells.get(i).type === 'code') { found.push(JSON.stringify(cells.get(i).outputs.toJSON())); }
      }
      return found;
    }""")


def notebook_state(page: Page) -> dict:
    return page.evaluate(f"({NOTEBOOK_STATE_JS})()")


def problems(page: Page, state: dict, ran: bool) -> list[str]:
    """Error outputs (outside cells tagged raises-exception), unexecuted cells and JavaScript errors on the page.

    Stderr (warnings, progress bars) is not a problem. "Error displaying widget" only counts after a
    live run: a notebook opened from disk has no widget state, by design.
    """
    found = [f"cell {c['index']} ({c['source']!r}): {error}" for c in state["cells"]
             if "raises-exception" not in c["tags"] for error in c["errors"]]
    if ran:
        found += [f"cell {c['index']} ({c['source']!r}) never ran" for c in state["cells"] if c["count"] is None]
        if page.get_by_text("Error displaying widget").count():
            found.append("a widget failed to display ('Error displaying widget')")
    if page.get_by_text("Javascript Error").count():
        found.append("'Javascript Error' on the page: " + page.get_by_text("Javascript Error").first.inner_text())
    return found


def panel_with_slider(root: Page | FrameLocator, label: str) -> tuple[Locator, Locator]:
    """(the live panel, its slider) for the slider described `label`; the panel is the innermost VBox with a figure."""
    described = root.locator(".widget-label", has_text=re.compile(f"^{re.escape(label)}$"))
    slider = root.locator(".widget-slider", has=described)
    panel = root.locator(".widget-vbox", has=slider).filter(has=root.locator(FIGURE)).last
    return panel, slider.first


def move_slider(slider: Locator, key: str = "ArrowRight", presses: int = 1) -> None:
    """Focus the slider's handle and press a key, as a keyboard user moves it."""
    handle = slider.locator(".noUi-handle")
    handle.focus()
    for _ in range(presses):
        handle.press(key)


FIGURE = "img.widget-image, .widget-output img"  # a panel's figure: an Image widget (or an Output's PNG)
# The picture's pixels as a PNG data URL, so "changed" means what a learner sees changed, not just its URL.
PIXELS_JS = """img => {
  if (!img.complete || img.naturalWidth === 0) { return null; }
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  canvas.getContext('2d').drawImage(img, 0, 0);
  return canvas.toDataURL();
}"""


def figure_pixels(panel: Locator, timeout_s: float = 30) -> str:
    """The panel's figure as rendered pixels (waits for it to load)."""
    image = panel.locator(FIGURE).first
    image.wait_for(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    while (pixels := image.evaluate(PIXELS_JS)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pixels is not None, "the panel's figure never finished loading"
    return pixels


def expect_figure_changed(panel: Locator, before: str, timeout_s: float = 60) -> str:
    """Wait until the panel's figure shows other pixels than `before`; returns the new pixels."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        after = figure_pixels(panel, timeout_s)
        if after != before:
            return after
        time.sleep(0.3)
    raise AssertionError(f"the panel's figure did not change within {timeout_s:.0f} s")


def screenshot(locator: Locator, notebook: str) -> Path:
    """Save the panel's picture in tests/browser/output/ (and notebooks/screenshots/ with LONGCTX_LAB_SCREENSHOTS=1)."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{Path(notebook).stem}.png"
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path))
    if os.environ.get("LONGCTX_LAB_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(exist_ok=True)
        _write_small_png(path, SCREENSHOTS / path.name)
    return path


def _write_small_png(source: Path, target: Path) -> None:
    """A palette PNG of the screenshot, halved until it is under SCREENSHOT_LIMIT bytes."""
    from PIL import Image

    image = Image.open(source).convert("RGB")
    while True:
        buffer = io.BytesIO()
        image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= SCREENSHOT_LIMIT or image.width < 400:
            break
        image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)
    target.write_bytes(buffer.getvalue())
