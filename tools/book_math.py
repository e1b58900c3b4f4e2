"""LaTeX in the notebooks' Markdown, turned into MathML at build time for the static book (tools/book.py).

Browsers render MathML natively, so a page needs no MathJax and no network. The Markdown parser is
nbconvert's own (mistune with its math rules), so `$` inside code spans and code blocks is never math;
only what that parser calls math reaches `to_mathml`.
"""
from __future__ import annotations

import html
import re
from pathlib import PurePosixPath
from urllib.parse import quote

from latex2mathml.converter import convert
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

# Constructs latex2mathml rejects or leaves as raw TeX, rewritten before conversion: (pattern, replacement, why).
# Every formula in the chapters converts without one today (tests/test_book.py and the build check it);
# add a row when a new formula fails the build. How formulas look is the math font's job (book.css).
PRE_SUBSTITUTIONS: list[tuple[str, str, str]] = []
# A notebook link (`01_chunking.ipynb`, `zh/01_chunking.ipynb`, `../01_chunking.ipynb`) and its anchor.
NOTEBOOK_LINK = re.compile(r"^(?P<path>(?:\.\./|zh/)?\d\d_\w+)\.ipynb(?P<anchor>#.*)?$")


def to_mathml(latex: str, display: bool = False) -> str:
    """The MathML of one formula; a formula that would leave raw TeX on the page is an error."""
    source = latex.strip()
    for pattern, replacement, _why in PRE_SUBSTITUTIONS:
        source = re.sub(pattern, replacement, source)
    try:
        mathml = convert(source, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises its own exception classes, one per kind of error
        raise ValueError(f"cannot convert the formula {latex!r} to MathML ({error!r}); "
                         "add a pre-substitution to tools/book_math.py") from error
    text = re.sub(r"<[^>]+>", "", mathml)
    if "\\" in html.unescape(text):  # an unknown command comes out as a visible <mi>\foo</mi>
        raise ValueError(f"the formula {latex!r} keeps raw TeX after conversion: {text!r}; "
                         "add a pre-substitution to tools/book_math.py")
    return mathml


class BookRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer with math as MathML and links to notebooks pointing at their pages.

    `link_map(url)` may rewrite any other relative link (to a file of the repository, say).
    """

    def __init__(self, *args, link_map=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.link_map = link_map or (lambda url: url)

    def inline_math(self, body: str) -> str:
        """An inline formula as MathML."""
        return to_mathml(body)

    def block_math(self, body: str) -> str:
        """A display formula as MathML."""
        return to_mathml(body, display=True)

    def latex_environment(self, name: str, body: str) -> str:
        """A \\begin{name}…\\end{name} environment as one display formula."""
        return to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    def heading(self, text: str, level: int, **attrs) -> str:
        """A heading with nbconvert's id and anchor link, built here because nbconvert's `add_anchor`
        re-serializes MathML with namespace prefixes (`<ns0:msub>`) that browsers do not render."""
        plain = html.unescape(re.sub(r"<[^>]+>", "", text))
        anchor = html.escape(quote(plain.replace(" ", "-"), safe="?/:@!$&'()*+,;="))  # nbconvert's id rule
        return (f'<h{level} id="{anchor}">{text}<a class="anchor-link" href="#{anchor}">'
                f"{self.anchor_link_text}</a></h{level}>\n")

    def link(self, text: str, url: str, title: str | None = None) -> str:
        """A link, with `NN_name.ipynb` targets turned into the book's own pages."""
        return super().link(text, book_link(url, self.link_map), title)


def book_link(url: str, link_map=None) -> str:
    """`url` as seen from a book page: a notebook becomes its page, an edition folder becomes the book's."""
    match = NOTEBOOK_LINK.match(url)
    if match is None:
        return link_map(url) if link_map and not re.match(r"^[a-z]+:|^#", url) else url
    path = PurePosixPath(match["path"])
    # en pages live in en/, zh pages in zh/: `zh/x` (from en) and `../x` (from zh) cross editions.
    folder = {"zh": "../zh", "..": "../en"}.get(path.parent.name, ".")
    return f"{folder}/{path.name}.html{match['anchor'] or ''}"


def markdown_to_html(source: str, **renderer_options) -> str:
    """Markdown (with math) as HTML, through nbconvert's parser and the book's renderer."""
    return MarkdownWithMath(renderer=BookRenderer(escape=False, **renderer_options)).render(source)
