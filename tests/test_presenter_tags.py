"""Presenter mode hides the cells tagged `learner-only`: every exercise's answer, hint and solution cell, and the
Markdown telling a learner to replace `____`, carries the tag; tagging a cell keeps its stored outputs."""
from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebook_sources").glob("[0-9][0-9]_*.ipynb"))
# What a learner-only cell does: check an answer, or print a hint or a solution.
LEARNER_ONLY_CODE = re.compile(r"\.check\(answer\)|\.hint\(\)|\.solution\(\)")


def _load(name: str):
    """A script of tools/ as a module (tools/ is no package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_exercise_answer_hint_and_solution_cells_are_learner_only(source):
    tag = _load("present").LEARNER_ONLY
    cells = [cell for cell in nbformat.read(source, as_version=4).cells if cell.cell_type == "code"]
    untagged = [cell.source[:60] for cell in cells
                if LEARNER_ONLY_CODE.search(cell.source) and tag not in cell.metadata.get("tags", [])]
    assert not untagged, f"{source.name}: tag these cells {tag!r} (presenter mode hides them): {untagged}"
    assert any(tag in cell.metadata.get("tags", []) for cell in cells), f"{source.name} has no {tag!r} cell"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_markdown_about_filling_in_the_blanks_is_learner_only(source):
    tag = _load("present").LEARNER_ONLY
    untagged = [cell.source[:60] for cell in nbformat.read(source, as_version=4).cells
                if cell.cell_type == "markdown" and "`____`" in cell.source and tag not in cell.metadata.get("tags", [])]
    assert not untagged, f"{source.name}: tag these cells {tag!r}, or split the lesson's prose from them: {untagged}"


def test_the_template_hides_the_tag_the_kit_sets():
    template = (ROOT / "tools" / "voila" / "templates" / "presenter" / "index.html.j2").read_text()
    assert f"'{_load('present').LEARNER_ONLY}' in cell.metadata" in template


def test_a_tag_only_change_keeps_the_stored_outputs():
    editions = _load("editions")
    old = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("answer = ____", execution_count=7, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="… not attempted")])])
    new = copy.deepcopy(old)
    new.cells[0].outputs, new.cells[0].execution_count = [], None
    new.cells[0].metadata["tags"] = ["learner-only"]
    assert editions.carry_outputs(new, old) == 1
    assert new.cells[0].outputs == old.cells[0].outputs and new.cells[0].execution_count == 7
