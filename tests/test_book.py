"""The static book's parts without a browser (tools/book.py, book_math.py, book_widgets.py).

Math becomes MathML and `$` in code stays, notebook links become pages, a widget view becomes its stored
snapshot, script outputs become a note. tests/browser/test_book.py reads the built pages in Chromium.
"""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import book  # noqa: E402  (tools/ is a folder of scripts, not a package)
import book_math  # noqa: E402
import book_widgets  # noqa: E402


def test_inline_and_display_math_become_mathml():
    page = book_math.markdown_to_html(r"cost $n^2$ and $$\mathcal{L}(\theta) = \sum_i \mathcal{L}_i$$")
    assert page.count("<math") == 2 and 'display="block"' in page
    assert "$" not in page and "\\" not in page


def test_dollars_in_code_are_not_math():
    page = book_math.markdown_to_html("run `echo $HOME $PATH` then\n\n```\nprice=$5 $6\n```\n")
    assert "<math" not in page
    assert "echo $HOME $PATH" in page and "price=$5 $6" in page


@pytest.mark.parametrize("latex", [r"\operatorname{softmax}(x)", r"\Big(\tfrac{1}{2}\Big)", r"\text{tokens } n",
                                   r"\left\lceil n/k \right\rceil", r"\mathbf{W}^Q"])
def test_the_chapters_constructs_convert(latex):
    assert "\\" not in book_math.to_mathml(latex).replace("</", "")


def test_an_unknown_command_fails_the_build_rather_than_show_tex():
    with pytest.raises(ValueError, match="pre-substitution"):
        book_math.to_mathml(r"\notacommand x")


def test_a_heading_with_math_keeps_plain_mathml():
    heading = book_math.markdown_to_html(r"# The loss $\mathcal{L}_i$")
    assert "<math" in heading and "ns0:" not in heading and 'id="The-loss-' in heading


@pytest.mark.parametrize("url, page", [("01_chunking.ipynb", "./01_chunking.html"),
                                       ("zh/01_chunking.ipynb#Top", "../zh/01_chunking.html#Top"),
                                       ("../01_chunking.ipynb", "../en/01_chunking.html"),
                                       ("https://example.org/a.ipynb", "https://example.org/a.ipynb")])
def test_notebook_links_point_at_pages(url, page):
    assert book_math.book_link(url) == page


def _model(name, **state):
    return {"model_name": name, "state": state}


def test_a_panel_snapshot_shows_its_stored_values_and_picture():
    models = {
        "box": _model("VBoxModel", children=["IPY_MODEL_title", "IPY_MODEL_k", "IPY_MODEL_fmt", "IPY_MODEL_img",
                                             "IPY_MODEL_gone"]),
        "title": _model("HTMLModel", value="<b>Chunking</b>"),
        "k": _model("IntSliderModel", description="k (length)", value=126, readout_format="d"),
        "fmt": _model("DropdownModel", description="KV cache format", _options_labels=["fp16", "int8"], index=1),
        "img": {**_model("ImageModel", format="png"), "buffers": [{"path": ["value"], "data": "iVBORw0K"}]},
        "gone": _model("HTMLModel", value="hidden text", layout="IPY_MODEL_hide"),
        "hide": _model("LayoutModel", display="none"),
    }
    html = book_widgets.snapshot_html({"model_id": "box"}, models, "en")
    assert "<b>Chunking</b>" in html and "k (length)" in html and ">126<" in html and ">int8<" in html
    assert 'src="data:image/png;base64,iVBORw0K"' in html
    assert "hidden text" not in html
    assert "make lab" in html and "book-panel" in html
    assert "make lab LANG=zh" in book_widgets.snapshot_html({"model_id": "box"}, models, "zh")


def test_a_progress_bar_is_its_final_text_without_the_live_line():
    models = {"bar": _model("HBoxModel", children=["IPY_MODEL_label", "IPY_MODEL_p"]),
              "label": _model("HTMLModel", value="Loading weights: 100%"),
              "p": _model("FloatProgressModel", value=28.0, max=28.0)}
    html = book_widgets.snapshot_html({"model_id": "bar"}, models, "en")
    assert "Loading weights: 100%" in html and "<progress" in html and "make lab" not in html


def test_outputs_with_scripts_become_a_note():
    assert "<script" not in book.static_html(['<iframe srcdoc="&lt;script&gt;"></iframe>'], "en")
    assert "heatmaps" in book.static_html('<iframe class="longctx-bertviz"></iframe>', "en")
    assert book.static_html("<table><tr><td>1</td></tr></table>", "zh") == "<table><tr><td>1</td></tr></table>"


def test_every_chapter_has_a_title_and_a_summary():
    for lang in ("en", "zh"):
        found = book.chapters(lang)
        assert [c.stem for c in found] == sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
        assert all(c.title_html and c.summary_html and c.run_time for c in found), lang


def test_make_book_builds_into_an_ignored_site_folder():
    makefile = (ROOT / "Makefile").read_text()
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:")).split()
    assert "\nbook: setup\n\t$(PY) tools/book.py --out site\n" in makefile and "book" in phony
    assert "site/" in (ROOT / ".gitignore").read_text().splitlines()
