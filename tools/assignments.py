"""Graded assignments for a course: nbgrader source notebooks built from the chapters' exercises (`make assignments`).

    python tools/assignments.py                  # write course/en and course/zh, then release every assignment
    python tools/assignments.py --no-release     # only the nbgrader source notebooks (no nbgrader run)
    python tools/assignments.py --no-feedback    # released answer cells without the live check() line
    python tools/assignments.py --grade          # autograde every collected submission, export grades.csv

Each edition is one nbgrader course (a class is taught in one language): `course/en/` and, when
`notebooks/zh/` exists, `course/zh/`, each with its own `nbgrader_config.py` and gradebook. For every
chapter with exercises (`longctx_lab/<folder>/exercises.py`) the assignment `NN_name` holds one notebook,
`source/NN_name/NN_name.ipynb`: a setup cell (language, `ex`, `____`), then per exercise

* the question, as the exercise itself shows it in that language (a read-only Markdown cell);
* an answer cell: the correct value between `### BEGIN SOLUTION` / `### END SOLUTION`, which nbgrader's
  ClearSolutions turns into `answer = ____` in the released copy (the kit reads the blank as "not
  attempted", never a crash), followed by the kit's live `check()` line unless --no-feedback;
* a read-only autograder cell worth 1 point whose hidden test asserts `ex.<name>.check(answer).correct`:
  the kit's own checker is the autograder.

Every solution is the checker's own expected value, and is checked with `exercise.check()` before it is
written. The course folders are generated (kept out of git); this script rebuilds them.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = {"en": ROOT / "notebooks", "zh": ROOT / "notebooks" / "zh"}
COURSE = ROOT / "course"
POINTS = 1  # every exercise is worth the same: the chapters do not rank them
NBGRADER = [sys.executable, "-m", "nbgrader"]

# nbgrader's config for one course: the released starter keeps the kit's blank, kernels stay offline.
CONFIG = '''\
# nbgrader configuration for the {lang} edition of longctx-lab's assignments (written by tools/assignments.py).
import os

c = get_config()  # noqa: F821 (nbgrader provides get_config)
c.CourseDirectory.course_id = "longctx-lab-{lang}"
# A released answer cell keeps the kit's blank: check() reads it as "not attempted", never a crash.
c.ClearSolutions.code_stub = {{"python": "answer = ____"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Autograding runs each notebook in a kernel; an exercise may load a bundled model first (seconds on a CPU).
c.Execute.timeout = 900
# Grading never needs the network: the kernels inherit these (the kit's socket guard refuses outside hosts).
for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "LONGCTX_LAB_OFFLINE_GUARD"):
    os.environ.setdefault(name, "1")
'''

TEXT = {
    "en": {
        "title": "# Assignment · {chapter}",
        "intro": "Replace each `____` with your answer and run the cell{feedback}. Each exercise is worth "
                 "{points} point, graded by the kit's own checkers when you hand the notebook in. Do not delete, "
                 "copy or move cells; the read-only cells hold the questions and the grader's tests.",
        "feedback": ": the line below your answer tells you whether it is right, and `ex.<name>.hint()` gives a hint",
        "setup": "Run this cell first.",
        "test": "# Autograder test ({points} point): the kit's checker for this exercise. Leave this cell as it is.",
    },
    "zh": {
        "title": "# 作业 · {chapter}",
        "intro": "把每个 `____` 换成你的答案，再运行该单元格{feedback}。每道练习 {points} 分，交作业后由工具包自带的"
                 "检查器自动评分。请不要删除、复制或移动单元格；只读单元格里是题目和评分测试。",
        "feedback": "：答案下面那一行会告诉你答得对不对，卡住了可以调用 `ex.<名称>.hint()` 看提示",
        "setup": "请先运行这个单元格。",
        "test": "# 自动评分测试（{points} 分）：本题的检查器。请保持本单元格不变。",
    },
}


def editions() -> list[str]:
    """The editions to build: English, and Chinese whenever `notebooks/zh/` exists."""
    return [lang for lang, folder in EDITIONS.items() if folder.is_dir()]


def chapters() -> list[str]:
    """Names (NN_name) of the chapters whose package folder has an exercises.py, in course order."""
    names = sorted(path.stem for path in EDITIONS["en"].glob("[0-9][0-9]_*.ipynb"))
    return [name for name in names if (ROOT / "longctx_lab" / folder(name) / "exercises.py").is_file()]


def folder(chapter: str) -> str:
    """The chapter's package folder: its notebook name without the number (01_chunking -> chunking)."""
    return chapter.split("_", 1)[1]


def exercises(chapter: str) -> list[tuple[str, object]]:
    """The chapter's exercises in notebook order, each with the name `ex.<name>` reaches it by."""
    module = importlib.import_module(f"longctx_lab.{folder(chapter)}.exercises")
    names = {id(value): name for name, value in vars(module).items() if not name.startswith("_")}
    return [(names[id(exercise)], exercise) for exercise in module.EXERCISES]


def solution(exercise) -> object:
    """The exercise's correct answer, from its checker's expected value; refuses one its own check() rejects."""
    value = exercise.checker.expected
    result = exercise.check(value)
    if not result.correct:
        raise ValueError(f"the expected value {value!r} of {exercise.title!r} fails its own check: {result!r}")
    literal = repr(value)  # what the notebook holds is this literal, not the value: it must pass too
    if not exercise.check(ast.literal_eval(literal)).correct:
        raise ValueError(f"{literal} does not round-trip for {exercise.title!r}")
    return value


def chapter_title(chapter: str, lang: str) -> str:
    """The chapter's heading in the `lang` edition, e.g. "01 · Chunking: m segments of length k"."""
    first = nbformat.read(EDITIONS[lang] / f"{chapter}.ipynb", as_version=4).cells[0].source
    return first.splitlines()[0].lstrip("# ").strip()


def markdown_escape(text: str) -> str:
    """`text` shown literally in Markdown: the characters that would start emphasis, code or HTML are escaped."""
    for char in "\\`*_[]<>|$":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "  \n")


def _cell(kind: str, source: str, grade_id: str, **nbgrader) -> nbformat.NotebookNode:
    """A cell with nbgrader's metadata (schema 3): its id, and whether it is locked, an answer or a test."""
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    flags = {"grade": False, "solution": False, "locked": False} | nbgrader
    return make(source, metadata={"nbgrader": {"grade_id": grade_id, "schema_version": 3, **flags}})


def source_notebook(chapter: str, lang: str, feedback: bool = True) -> nbformat.NotebookNode:
    """The nbgrader source notebook of `chapter` in `lang`: setup, then question, answer, hidden test per exercise."""
    from longctx_lab import set_language
    from longctx_lab.core.i18n import language

    before = language()
    set_language(lang)  # questions and worked solutions come out in the edition's language
    try:
        text = TEXT[lang]
        intro = text["intro"].format(feedback=text["feedback"] if feedback else "", points=POINTS)
        cells = [
            _cell("markdown", text["title"].format(chapter=chapter_title(chapter, lang)) + "\n\n" + intro,
                  "title", locked=True),
            _cell("code", f"# {text['setup']}\nimport longctx_lab\n\nlongctx_lab.set_language({lang!r})\n"
                          f"from longctx_lab.{folder(chapter)} import exercises as ex\n"
                          "from longctx_lab.core.exercise_kit import ____", "setup", locked=True),
        ]
        for name, exercise in exercises(chapter):
            worked = "\n".join(f"# {line}" for line in exercise.solution().splitlines())
            answer = f"### BEGIN SOLUTION\n{worked}\nanswer = {solution(exercise)!r}\n### END SOLUTION"
            cells += [
                _cell("markdown", "### " + markdown_escape(exercise.shown_question()).replace("  \n", "\n\n", 1),
                      f"question_{name}", locked=True),
                _cell("code", answer + (f"\nex.{name}.check(answer)" if feedback else ""), f"answer_{name}",
                      solution=True),
                _cell("code", text["test"].format(points=POINTS) + "\n### BEGIN HIDDEN TESTS\n"
                              f"assert ex.{name}.check(answer).correct, ex.{name}.check(answer)\n"
                              "### END HIDDEN TESTS", f"test_{name}", grade=True, locked=True, points=POINTS),
            ]
    finally:
        set_language(before)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata.longctx_lab = {"edition": lang, "assignment": chapter}
    return notebook


def write_sources(course: Path, lang: str, names: list[str], feedback: bool = True) -> list[Path]:
    """Write `course/nbgrader_config.py` and one source notebook per chapter; returns the notebooks' paths."""
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG.format(lang=lang), encoding="utf-8")
    paths = []
    for chapter in names:
        path = course / "source" / chapter / f"{chapter}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_notebook(chapter, lang, feedback), path)
        paths.append(path)
    return paths


def nbgrader(course: Path, *args: str) -> None:
    """Run one nbgrader command inside the course folder (where it finds nbgrader_config.py); fails loudly."""
    # nbgrader runs `alembic` (its gradebook migrations) from PATH: put this environment's scripts first.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    subprocess.run([*NBGRADER, *args], cwd=course, check=True, env={**os.environ, "PATH": path})


def release(course: Path, names: list[str]) -> None:
    """`nbgrader generate_assignment` for each chapter: the student copies land in `course/release/NN_name/`."""
    if sorted(names) == sorted(path.name for path in (course / "source").iterdir()):
        nbgrader(course, "generate_assignment", "*", "--force")  # one nbgrader start instead of one per chapter
        return
    for chapter in names:
        nbgrader(course, "generate_assignment", chapter, "--force")


def grade(course: Path) -> Path | None:
    """Autograde every assignment that has submissions under `course/submitted/<student>/`, then export the
    gradebook to `course/grades.csv` (None when nothing was submitted)."""
    if not any(path.is_dir() for path in (course / "submitted").glob("*/*")):
        return None
    nbgrader(course, "autograde", "*", "--force")  # every assignment, every student, in one nbgrader start
    nbgrader(course, "export", "--to", "grades.csv")
    return course / "grades.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="only the chapters whose names contain these (e.g. 00 07)")
    parser.add_argument("--course", type=Path, default=COURSE, help="the folder holding one course per edition")
    parser.add_argument("--lang", choices=sorted(EDITIONS), action="append", help="one edition (default: all)")
    parser.add_argument("--no-release", action="store_true", help="write the sources only")
    parser.add_argument("--no-feedback", action="store_true", help="no live check() line under the answers")
    parser.add_argument("--grade", action="store_true", help="autograde the collected submissions, export grades")
    args = parser.parse_args(argv)
    langs = args.lang or editions()
    if args.grade:
        for lang in langs:
            grades = grade(args.course / lang)
            print(f"{lang}: " + (f"grades in {grades}" if grades else "no submissions under submitted/"))
        return 0
    names = [name for name in chapters() if not args.chapters or any(part in name for part in args.chapters)]
    for lang in langs:
        course = args.course / lang
        if not args.chapters:  # a full rebuild: a chapter whose exercises are gone goes too
            shutil.rmtree(course / "source", ignore_errors=True)
        write_sources(course, lang, names, feedback=not args.no_feedback)
        if not args.no_release:
            release(course, names)
        print(f"{lang}: {len(names)} assignments in {course / ('source' if args.no_release else 'release')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
