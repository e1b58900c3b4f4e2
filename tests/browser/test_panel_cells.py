"""The browser tests' notebook cutter keeps exactly the cells a panel needs (no browser needed here)."""
from __future__ import annotations

import nbformat
import pytest

from .conftest import NOTEBOOKS
from .panel_cells import cells_for, names_defined, names_used, panel_notebook


def _notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title")]
                                    + [nbformat.v4.new_code_cell(source) for source in sources])


def test_names_a_cell_defines_and_uses():
    source = "%matplotlib inline\nimport a.b as c, d.e\ndef top(v):\n    x = w\n    return x\ny = [h for h in z]\nfor i in q: pass"
    assert names_defined(source) == {"c", "d", "top", "y", "i"}  # not x (local) nor h (comprehension)
    assert {"w", "z", "q"} <= names_used(source)


def test_keeps_the_wanted_cell_what_it_uses_and_the_first_cell():
    notebook = _notebook("import lab", "model = lab.load()", "slow = model.train()", "data = lab.text()",
                         "data = data.lower()", "panel = lab.panel(model, data)", "after = panel.update()")
    assert cells_for(notebook, lambda source: "lab.panel(" in source) == [1, 2, 4, 5, 6]  # not the slow cell, nor after


def test_the_nearest_definition_wins():
    notebook = _notebook("import lab", "x = lab.a()", "x = lab.b()", "lab.show(x)")
    assert cells_for(notebook, lambda source: "show" in source) == [1, 3, 4]


def test_no_matching_cell_is_an_error():
    with pytest.raises(ValueError, match="wanted"):
        cells_for(_notebook("import lab"), lambda source: "panel" in source)


@pytest.mark.parametrize("name, call", [("00_start_here.ipynb", "cost_panel("), ("01_chunking.ipynb", "chunk_panel(")])
def test_a_chapter_cut_to_its_panel_has_no_outputs(tmp_path, name, call):
    kept = panel_notebook(NOTEBOOKS / name, tmp_path / "panel.ipynb", lambda source: call in source)
    cut = nbformat.read(tmp_path / "panel.ipynb", as_version=4)
    assert len(cut.cells) == len(kept) >= 2 and call in cut.cells[-1].source
    assert all(cell.outputs == [] and cell.execution_count is None for cell in cut.cells)
