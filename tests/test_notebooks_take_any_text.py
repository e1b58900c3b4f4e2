"""Every chapter runs on the learner's own text: no code cell types in what only the kit's long document says.

A cell that names "Ulverstade" works on one text only. With LONGCTX_LAB_TEXT set, `load_text("long_document")`
is the learner's text, so a cell must find what it needs in the text given (e.g. `recurring_phrases`).
Caught here: a string literal in a code cell that is a capitalised word of the kit's texts (a name) or
two or more of their words in a row. `tools/run_on_text.py` runs the chapters on another text for real.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebook_sources").glob("[0-9][0-9]_*.ipynb"))
KIT_TEXTS = (ROOT / "data" / "long_document.md").read_text(encoding="utf-8") + "\n" + \
    (ROOT / "data" / "short_paragraph.txt").read_text(encoding="utf-8")


def text_specific_literals(code: str, texts: str = KIT_TEXTS) -> list[str]:
    """String literals of `code` (IPython magics skipped) that only a particular text would contain."""
    python = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    found = []
    for node in ast.walk(ast.parse(python)):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        literal = node.value.strip()
        words = re.findall(r"[^\W\d_]+", literal)
        named = any(w[0].isupper() and len(w) > 3 and re.search(rf"\b{w}\b", texts) for w in words)
        if literal and literal in texts and (named or len(words) >= 2):
            found.append(literal)
    return found


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_no_code_cell_hard_codes_the_kit_document(source):
    cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
    offending = {c.get("id"): text_specific_literals("".join(c["source"])) for c in cells if c["cell_type"] == "code"}
    assert not {k: v for k, v in offending.items() if v}, "derive these from load_text(...) instead"


def test_the_check_catches_chapter_2s_old_hard_coded_names():
    old = 'for phrase in ["Ulverstade", "Greywater Junction", "Skelding Hill", "Frask"]:\n    pass'
    assert text_specific_literals(old) == ["Ulverstade", "Greywater Junction", "Skelding Hill", "Frask"]
    assert text_specific_literals('x = load_text("long_document")\nprint("full", "total")') == []
