"""The released assignments grade themselves through real nbgrader commands, offline: a correct submission scores
full marks, an untouched one zero, a half-done one in between (chapter 00, three exercises, one kernel each)."""
import csv
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import assignments  # noqa: E402  (tools/ is a folder of scripts, not a package)

CHAPTER = "00_start_here"  # the smallest: three arithmetic exercises, no model to load
BLANK = "answer = ____"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A fresh English course with chapter 00 generated and released by `nbgrader generate_assignment`."""
    if shutil.which("alembic", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("nbgrader is not installed (pip install -e '.[dev]')")
    root = tmp_path_factory.mktemp("course") / "en"
    assignments.write_sources(root, "en", [CHAPTER])
    assignments.release(root, [CHAPTER])
    return root


def answers(notebook) -> list:
    """The notebook's answer cells (nbgrader solution cells), in order."""
    return [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution")]


def submit(course: Path, student: str, values: list) -> None:
    """Hand in the released notebook as `student`, with each answer cell's blank replaced by its value (None: left)."""
    notebook = nbformat.read(course / "release" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    for cell, value in zip(answers(notebook), values):
        if value is not None:
            cell.source = cell.source.replace(BLANK, f"answer = {value!r}")
    folder = course / "submitted" / student / CHAPTER
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{CHAPTER}.ipynb")


def test_the_released_copy_keeps_the_blanks_and_hides_solutions_and_tests(course):
    released = nbformat.read(course / "release" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in released.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "NotImplementedError" not in text
    assert all(cell.source.startswith(BLANK) for cell in answers(released)) and len(answers(released)) == 3


def test_full_zero_and_half_done_submissions_score_full_nothing_and_in_between(course):
    right = [assignments.solution(exercise) for _, exercise in assignments.exercises(CHAPTER)]
    submit(course, "full", right)
    submit(course, "zero", [None, None, None])
    submit(course, "half", [right[0], None, (1, 1)])  # one right, one left blank, one wrong

    grades = assignments.grade(course)  # nbgrader autograde + nbgrader export --to grades.csv

    with open(grades, newline="", encoding="utf-8") as table:
        rows = {row["student_id"]: row for row in csv.DictReader(table) if row["assignment"] == CHAPTER}
    score = {student: float(row["score"]) for student, row in rows.items()}
    assert {float(row["max_score"]) for row in rows.values()} == {3.0}
    assert score["full"] == 3.0 and score["zero"] == 0.0 and score["half"] == 1.0
    # The student's own feedback line ran too: the blank reads "not attempted", the wrong answer "not yet".
    graded = nbformat.read(course / "autograded" / "half" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    shown = [re.sub(r"\s+", " ", "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs))
             for cell in answers(graded)]
    assert "correct" in shown[0] and "not attempted" in shown[1] and "not yet" in shown[2]
