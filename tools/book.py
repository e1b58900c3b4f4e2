"""Build the static book (`make book`): every committed notebook of both editions as an HTML page, offline.

    python tools/book.py               # write site/index.html, site/en/NN_name.html, site/zh/NN_name.html
    python tools/book.py --out /tmp/b  # somewhere else

The pages load nothing from the network: nbconvert's HTML export with the book's own template
(tools/book_template/, no require.js, MathJax, mermaid or widget manager), formulas turned into MathML at
build time (tools/book_math.py), live panels drawn from their stored widget state (tools/book_widgets.py),
and outputs that need the running notebook's scripts (bertviz) replaced by a note. The notebooks are read
as committed, never executed. tests/browser/test_book.py opens every page in Chromium with the network off.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat
from nbconvert.exporters import HTMLExporter

from book_math import markdown_to_html
from book_widgets import snapshot_html, widget_state
from editions import EDITIONS, ROOT

TOOLS = Path(__file__).resolve().parent
TEMPLATE = TOOLS / "book_template"
READMES = {"en": ROOT / "README.md", "zh": ROOT / "README.zh.md"}
EDITION_NAMES = {"en": "English", "zh": "中文"}
# The chapter table's rows in both READMEs: | [NN_name](notebooks/…ipynb) | what you learn | code | run time |
README_ROW = re.compile(
    r"^\| \[(?P<stem>\d\d_\w+)\]\([^)]*\.ipynb\) \| (?P<summary>.+?) \| .*? \| (?P<time>[^|]+?) \|$", re.M)
WORDS = {
    "en": {"index": "Contents", "prev": "previous: ", "next": "next: ", "other": "中文",
           "script": "This output is drawn by scripts that only the running notebook serves, so a static page "
                     "cannot show it: open the notebook in JupyterLab (<code>make lab</code>) and run it.",
           "bertviz": "bertviz's interactive attention view is drawn by scripts that only the running notebook "
                      "serves, so a static page cannot show it; the static heatmaps in this chapter show the same "
                      "attention. Open the notebook in JupyterLab (<code>make lab</code>) and run it to use it."},
    "zh": {"index": "目录", "prev": "上一章：", "next": "下一章：", "other": "English",
           "script": "这个输出由脚本绘制，而脚本只能由运行中的笔记本提供，静态页面无法显示它：请在 JupyterLab 中"
                     "（<code>make lab LANG=zh</code>）打开并运行本笔记本。",
           "bertviz": "bertviz 的交互式注意力视图由脚本绘制，而脚本只能由运行中的笔记本提供，静态页面无法显示；"
                      "本章的静态热力图展示的是同一份注意力。想使用它，请在 JupyterLab 中"
                      "（<code>make lab LANG=zh</code>）打开并运行本笔记本。"},
}


@dataclass
class Chapter:
    """One notebook of one edition, and where its page goes."""

    lang: str
    path: Path
    title_html: str
    summary_html: str
    run_time: str

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def page(self) -> str:
        """The page's path inside the site."""
        return f"{self.lang}/{self.stem}.html"


def inline_markdown(source: str) -> str:
    """One line of Markdown (code spans, math) as inline HTML, without the paragraph around it."""
    rendered = markdown_to_html(source).strip()
    return rendered.removeprefix("<p>").removesuffix("</p>")


def readme_rows(lang: str) -> dict[str, tuple[str, str]]:
    """{stem: (what you learn, run time)} from the edition's README chapter table."""
    text = READMES[lang].read_text(encoding="utf-8") if READMES[lang].is_file() else ""
    return {m["stem"]: (m["summary"], m["time"]) for m in README_ROW.finditer(text)}


def chapters(lang: str) -> list[Chapter]:
    """The edition's chapters in order, with the title from the notebook's first heading."""
    rows = readme_rows(lang)
    found = []
    for path in sorted(EDITIONS[lang].glob("[0-9][0-9]_*.ipynb")):
        first = nbformat.read(path, as_version=4).cells[0].source
        heading = re.search(r"^# (.+)$", first, re.M)
        summary, run_time = rows.get(path.stem, ("", ""))
        found.append(Chapter(lang, path, inline_markdown(heading[1] if heading else path.stem),
                             inline_markdown(summary) if summary else "", run_time))
    return found


def static_html(source, lang: str, script: bool = False) -> str:
    """An HTML output as it can show on a static page: anything with scripts or frames becomes a note."""
    text = "".join(source) if isinstance(source, list) else str(source)
    if script or re.search(r"<(script|iframe)\b", text, re.I):
        kind = "bertviz" if "longctx-bertviz" in text else "script"
        return f'<p class="book-static-note">{WORDS[lang][kind]}</p>'
    return text


class BookExporter(HTMLExporter):
    """nbconvert's HTML export with the book's template, MathML formulas and widget snapshots."""

    def __init__(self, lang: str, page_dir: Path, notebook_dir: Path, **kwargs):
        super().__init__(template_name=TEMPLATE.name, extra_template_basedirs=[str(TOOLS)],
                         language_code=lang, **kwargs)
        self.lang, self.page_dir, self.notebook_dir = lang, page_dir, notebook_dir

    def repo_link(self, url: str) -> str:
        """A link to a file of the repository, relative to the notebook, made relative to the page."""
        target = (self.notebook_dir / url.split("#")[0]).resolve()
        if ROOT not in target.parents and target != ROOT:
            return url
        return os.path.relpath(target, self.page_dir.resolve()).replace(os.sep, "/")

    @jinja2.pass_context
    def markdown2html(self, context, source):
        """Markdown cells and Markdown outputs through the book's renderer (math as MathML)."""
        cell = context.get("cell", {})
        return markdown_to_html(source, attachments=cell.get("attachments", {}), link_map=self.repo_link,
                                anchor_link_text=self.anchor_link_text)

    def default_filters(self):
        """nbconvert's filters, the book's markdown2html, and the snapshot filters the template uses."""
        yield from super().default_filters()
        yield ("markdown2html", self.markdown2html)
        yield ("widget_snapshot", lambda view, metadata, lang: snapshot_html(view, widget_state(metadata), lang))
        yield ("static_html", static_html)


def nav_html(chapter: Chapter, previous: Chapter | None, following: Chapter | None, other: Chapter | None) -> str:
    """The bar above and below a page: contents, previous and next chapter, the other edition."""
    words = WORDS[chapter.lang]
    links = [f'<a class="book-index" rel="index" href="../index.html">↑ {words["index"]}</a>']
    if previous:
        links.append(f'<a class="book-prev" rel="prev" href="{previous.stem}.html">'
                     f'← {words["prev"]}{previous.stem}</a>')
    if following:
        links.append(f'<a class="book-next" rel="next" href="{following.stem}.html">'
                     f'{words["next"]}{following.stem} →</a>')
    if other:
        links.append(f'<a class="book-other" hreflang="{other.lang}" href="../{other.page}">{words["other"]}</a>')
    return f'<nav class="book-nav">{" ".join(links)}</nav>'


def write_chapter(chapter: Chapter, previous, following, other, out: Path, css: str) -> Path:
    """Export one notebook into its page."""
    page = out / chapter.page
    page.parent.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.read(chapter.path, as_version=4)
    notebook.metadata["title"] = f"{chapter.stem} · longctx-lab"
    exporter = BookExporter(chapter.lang, page.parent, chapter.path.parent)
    resources = {"book": {"lang": chapter.lang, "css": css,
                          "nav": nav_html(chapter, previous, following, other)}}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    page.write_text(body, encoding="utf-8")
    return page


def build(out: Path, langs: tuple[str, ...] = ("en", "zh")) -> list[Path]:
    """Write the whole site into `out`; returns the pages written, index first."""
    css = (TEMPLATE / "book.css").read_text(encoding="utf-8")
    editions = {lang: chapters(lang) for lang in langs if EDITIONS[lang].is_dir()}
    for lang in editions:  # only what this script writes is replaced, never the rest of `out`
        shutil.rmtree(out / lang, ignore_errors=True)
    written = [out / "index.html"]
    for lang, book in editions.items():
        twins = {c.stem: c for other in editions if other != lang for c in editions[other]}
        for i, chapter in enumerate(book):
            previous = book[i - 1] if i else None
            following = book[i + 1] if i + 1 < len(book) else None
            written.append(write_chapter(chapter, previous, following, twins.get(chapter.stem), out, css))
    # The index's cells are HTML built above (titles and summaries with MathML), so no autoescape.
    index = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE)).get_template("book_index.html.j2")
    (out / "index.html").write_text(index.render(editions=editions, names=EDITION_NAMES, css=css), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site",
                        help="folder to write the site into (default: site/)")
    args = parser.parse_args(argv)
    pages = build(args.out)
    print(f"{len(pages)} pages written; open {args.out / 'index.html'} in a browser (works offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
