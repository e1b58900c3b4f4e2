"""The static book (`make book`, tools/book.py) read in Chromium with the network off: every page of both editions.

One build into a temporary folder, one browser context for all pages. Every request that is not a
`file:` URL is blocked and counted (inline `data:` images are part of the page, not requests), and the
count must be zero. On each page: formulas are MathML (no raw `$…$` or TeX commands left in the text),
figures and panel snapshots decode, no JavaScript error, and the index, previous, next and other-edition
links lead to pages that exist.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import nbformat
import pytest

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import book  # noqa: E402  (tools/ is a folder of scripts, not a package)

# The page's prose, without code: code cells, code spans and stream outputs may hold a `$` legitimately.
PROSE_JS = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('pre, code, math, .jp-InputArea, .jp-OutputArea-output pre').forEach(e => e.remove());
  return copy.textContent;
}"""
PAGE_FACTS_JS = """() => ({
  maths: Array.from(document.querySelectorAll('math')).map(m => m.getBoundingClientRect().width),
  broken_images: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length,
  images: document.images.length,
  prefixed: Array.from(document.querySelectorAll('*')).filter(e => e.tagName.includes(':')).length,
  panels: document.querySelectorAll('.book-panel').length,
  panel_notes: document.querySelectorAll('.book-panel .book-live-note').length,
  nav: Array.from(document.querySelectorAll('nav.book-nav a')).map(a => [a.className, a.href]),
  links: Array.from(document.querySelectorAll('main a[href]')).map(a => a.href),
})"""
RAW_TEX = re.compile(r"\$[^$\n]+\$|\\(frac|sum|mathcal|mathbf|operatorname|text|sqrt|theta|alpha)\b")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book, built once from the committed notebooks."""
    out = tmp_path_factory.mktemp("book") / "site"
    book.build(out)
    return out


def _file(url: str) -> Path:
    """The file a file: URL points at."""
    return Path(url2pathname(urlparse(url).path))


def _has_math(notebook: Path) -> bool:
    """True when the notebook's Markdown holds a formula."""
    cells = nbformat.read(notebook, as_version=4).cells
    return any(c.cell_type == "markdown" and re.search(r"\$[^$\s][^$]*\$", c.source) for c in cells)


def test_every_page_reads_offline(site: Path, browser) -> None:
    expected = {f"{lang}/{c.stem}.html": c.path for lang in book.EDITIONS for c in book.chapters(lang)}
    assert len(expected) == 2 * len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requests, errors = [], []
    context.route(re.compile(r"^(?!file:|data:)"), lambda route: (requests.append(route.request.url), route.abort()))
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)

    page.goto((site / "index.html").as_uri())
    index = page.evaluate(PAGE_FACTS_JS)
    linked = {_file(url).relative_to(site).as_posix() for url in index["links"]}
    assert linked == set(expected), f"the index should link every chapter page: {sorted(set(expected) ^ linked)}"
    assert min(index["maths"], default=1) > 0, "a formula in a chapter title did not render"
    assert not index["prefixed"], "MathML with a namespace prefix on the index"

    problems, panels = [], 0
    for name, notebook in sorted(expected.items()):
        page.goto((site / name).as_uri())
        facts = page.evaluate(PAGE_FACTS_JS)
        prose = page.evaluate(PROSE_JS)
        if _has_math(notebook) and not facts["maths"]:
            problems.append(f"{name}: formulas in the notebook, no <math> on the page")
        if facts["prefixed"]:  # `<ns0:math>`: MathML serialized with a namespace prefix draws as plain text
            problems.append(f"{name}: {facts['prefixed']} elements with a namespace prefix")
        if any(width <= 0 for width in facts["maths"]):
            problems.append(f"{name}: a <math> element renders with no width")
        problems += [f"{name}: raw TeX left in the text: {m.group(0)!r}" for m in RAW_TEX.finditer(prose)][:3]
        if facts["broken_images"]:
            problems.append(f"{name}: {facts['broken_images']} of {facts['images']} images do not decode")
        if facts["panel_notes"] != facts["panels"]:
            problems.append(f"{name}: a panel snapshot without its 'live in JupyterLab' line")
        panels += facts["panels"]
        for kind, url in facts["nav"]:
            if not _file(url).is_file():
                problems.append(f"{name}: the {kind} link leads nowhere ({url})")
        stems = [c.stem for c in book.chapters(name.split("/")[0])]
        position = stems.index(Path(name).stem)
        targets = {kind: _file(url).stem for kind, url in facts["nav"]}
        if position and targets.get("book-prev") != stems[position - 1]:
            problems.append(f"{name}: previous should be {stems[position - 1]}, is {targets.get('book-prev')}")
        if position + 1 < len(stems) and targets.get("book-next") != stems[position + 1]:
            problems.append(f"{name}: next should be {stems[position + 1]}, is {targets.get('book-next')}")
        for text in ("Javascript Error", "did not draw", "Error displaying widget"):
            if text in prose:
                problems.append(f"{name}: the page shows {text!r}")
    context.close()

    assert requests == [], f"the book asked the network for {len(requests)} things: {requests[:5]}"
    assert errors == [], "JavaScript errors:\n" + "\n".join(errors[:10])
    assert problems == [], "\n".join(problems)
    assert panels >= len(expected) // 2, f"only {panels} live-panel snapshots in the whole book"
