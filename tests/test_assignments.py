"""`make assignments` (tools/assignments.py): every chapter's exercises become an nbgrader source notebook
whose solutions pass the kit's own checkers, in both editions; no nbgrader run here (test_assignments_grading.py)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import assignments  # noqa: E402  (tools/ is a folder of scripts, not a package)

CJK = re.compile(r"[\u4e00-\u9fff]")
CHAPTERS = assignments.chapters()
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


def by_id(notebook) -> dict:
    """The notebook's cells by nbgrader grade_id."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells}


def run_solution(cell) -> object:
    """The `answer` a solution cell's solution block assigns (the block only, as the autograder's solution has)."""
    from longctx_lab.core.exercise_kit import ____

    namespace = {"____": ____}
    exec(SOLUTION.search(cell.source).group(1), namespace)
    return namespace["answer"]


def test_every_chapter_with_exercises_is_an_assignment():
    folders = sorted(p.parent.name for p in (ROOT / "longctx_lab").glob("*/exercises.py"))
    assert sorted(assignments.folder(name) for name in CHAPTERS) == folders
    assert assignments.editions() == ["en", "zh"]  # notebooks/zh/ exists, so the Chinese course is built too


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_exercise_appears_once_with_points_and_a_passing_solution(lang):
    for chapter in CHAPTERS:
        notebook = assignments.source_notebook(chapter, lang)
        cells = by_id(notebook)
        assert len(cells) == len(notebook.cells), f"{chapter}: duplicate grade_id"
        names = [name for name, _ in assignments.exercises(chapter)]
        assert len(set(names)) == len(names)
        assert sorted(key for key in cells if key.startswith("test_")) == sorted(f"test_{n}" for n in names)
        assert f"longctx_lab.set_language({lang!r})" in cells["setup"].source
        for name, exercise in assignments.exercises(chapter):
            question, answer, test = (cells[f"{kind}_{name}"] for kind in ("question", "answer", "test"))
            assert question.metadata.nbgrader["locked"] and answer.metadata.nbgrader["solution"]
            assert test.metadata.nbgrader["grade"] and test.metadata.nbgrader["points"] == assignments.POINTS > 0
            assert f"ex.{name}.check(answer).correct" in test.source.split("### BEGIN HIDDEN TESTS")[1]
            assert exercise.check(run_solution(answer)).correct, f"{chapter}.{name}: the solution fails its check"
            if lang == "zh":
                assert CJK.search(question.source), f"{chapter}.{name}: the Chinese question is not Chinese"
                assert question.source.startswith("### 练习")
            else:
                assert not CJK.search(question.source), f"{chapter}.{name}: Chinese text in the English question"


def test_the_course_folder_holds_config_and_sources(tmp_path):
    paths = assignments.write_sources(tmp_path / "zh", "zh", CHAPTERS[:1], feedback=False)
    assert paths == [tmp_path / "zh" / "source" / CHAPTERS[0] / f"{CHAPTERS[0]}.ipynb"]
    config = (tmp_path / "zh" / "nbgrader_config.py").read_text(encoding="utf-8")
    assert 'code_stub = {"python": "answer = ____"}' in config and "longctx-lab-zh" in config
    answer = next(cell for cell in assignments.source_notebook(CHAPTERS[0], "en", feedback=False).cells
                  if cell.metadata.nbgrader["solution"])
    assert answer.source.endswith("### END SOLUTION")  # no live check() line without feedback


def test_a_solution_its_own_checker_rejects_is_refused():
    from longctx_lab.core.answers import NumberAnswer
    from longctx_lab.core.exercise_kit import Exercise

    broken = Exercise("t", "q", NumberAnswer(lambda: 3, whole=True), ["h"], "s")
    broken.checker.expected  # computed once: 3 …
    broken.checker.is_right = lambda number: False  # … but the checker accepts nothing
    with pytest.raises(ValueError, match="fails its own check"):
        assignments.solution(broken)


def test_make_assignments_runs_the_generator():
    make = ["make", "-n", "-o", ".venv/.longctx-lab-installed"]
    out = subprocess.run([*make, "assignments", "FEEDBACK=0"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "tools/assignments.py --no-feedback" in out and "HF_HUB_OFFLINE=1" in out
    out = subprocess.run([*make, "grade"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "tools/assignments.py --grade" in out
