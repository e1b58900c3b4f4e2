"""bench/notebook_times.py: duration wording, and rewriting the README's run-time column and notebook headers.

The rewriting is tested on copies with made-up timings; the full run (every notebook executed) is the
lead's job after the notebooks are re-executed, so here only a one-cell notebook is executed for real.
"""
import copy
import importlib.util
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("notebook_times", ROOT / "bench" / "notebook_times.py")
nt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nt)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ZH_NOTEBOOKS = sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb"))
EDITIONS = [(path, "en") for path in NOTEBOOKS] + [(path, "zh") for path in ZH_NOTEBOOKS]
# Durations no real run takes (13 to 19 minutes), so every row of the README changes.
FAKE = {p.stem: 787.0 + 61 * i for i, p in enumerate(NOTEBOOKS)}


@pytest.mark.parametrize("seconds, words", [
    (0, "5 s"), (2.4, "5 s"), (7.6, "10 s"), (12.4, "10 s"), (57.4, "55 s"), (58.0, "1 min"), (61, "1 min"),
    (66, "1 min 10 s"), (192.0, "3 min 10 s"), (239.9, "4 min"), (605, "10 min"), (3599, "60 min"),
])
def test_format_duration_rounds_to_what_a_reader_needs(seconds, words):
    assert nt.format_duration(seconds) == words


@pytest.mark.parametrize("seconds, words", [(2.4, "5 秒"), (66, "1 分 10 秒"), (605, "10 分钟")])
def test_format_duration_in_chinese(seconds, words):
    assert nt.format_duration(seconds, "zh") == words
    assert words in nt.run_time_line(seconds, "2-core x86_64 CPU", "zh")
    assert "2 核 x86_64 CPU" in nt.run_time_line(seconds, "2-core x86_64 CPU", "zh")


@pytest.mark.parametrize("bad", [-1, float("nan")])
def test_format_duration_rejects_impossible_times(bad):
    with pytest.raises(ValueError, match="seconds"):
        nt.format_duration(bad)


def test_every_notebook_has_exactly_one_run_time_line_the_script_owns():
    assert len(ZH_NOTEBOOKS) == len(NOTEBOOKS)
    for path, lang in EDITIONS:
        nb = nbformat.read(path, as_version=4)
        pattern = nt.PATTERNS[lang][0]
        lines = [m for c in nb.cells if c.cell_type == "markdown" for m in pattern.findall(c.source)]
        assert len(lines) == 1, f"{path.name}: {lines}"
        header = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
        assert lines[0] in header, f"{path.name}: the run-time line belongs in the header"


def test_update_header_changes_only_the_run_time_line_and_is_idempotent():
    for path, lang in EDITIONS:
        original = nbformat.read(path, as_version=4)
        nb = copy.deepcopy(original)
        assert nt.update_header(nb, FAKE[path.stem], "3-core test CPU", lang)
        changed = [i for i, (a, b) in enumerate(zip(original.cells, nb.cells)) if a != b]
        assert len(changed) == 1
        old, new = original.cells[changed[0]].source, nb.cells[changed[0]].source
        expected = nt.run_time_line(FAKE[path.stem], "3-core test CPU", lang)
        assert expected in new and nt.format_duration(FAKE[path.stem], lang) in expected
        pattern = nt.PATTERNS[lang][0]
        assert pattern.sub("", old) == pattern.sub("", new)  # everything around it kept
        again = copy.deepcopy(nb)
        assert not nt.update_header(again, FAKE[path.stem], "3-core test CPU", lang) and again == nb


def test_update_header_in_a_source_changes_only_its_languages_line():
    source = nbformat.read(ROOT / "notebook_sources" / NOTEBOOKS[1].name, as_version=4)
    for lang in ("en", "zh"):
        nb = copy.deepcopy(source)
        assert nt.update_header(nb, 1234, "3-core test CPU", lang)
        changed = [a for a, b in zip(source.cells, nb.cells) if a != b]
        assert [cell.metadata["lang"] for cell in changed] == [lang]


def test_update_header_refuses_a_notebook_without_or_with_two_lines():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T\n**Run time:** about a minute.")])
    with pytest.raises(ValueError, match="exactly one run-time line"):
        nt.update_header(nb, 10, "x")
    line = nt.run_time_line(30, "2-core x86_64 CPU")
    nb.cells = [nbformat.v4.new_markdown_cell(f"# T\n{line}\n\n{line}")]
    with pytest.raises(ValueError, match="found 2"):
        nt.update_header(nb, 10, "x")


def test_update_readme_rewrites_the_time_column_and_the_note_only():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group("stem") for m in nt.README_ROW.finditer(text)}
    assert rows == {p.stem for p in NOTEBOOKS}, "README's chapter table must list every notebook"
    new = nt.update_readme(text, FAKE, "3-core test CPU", "2030-01-02", "in a fresh kernel")
    for stem, seconds in FAKE.items():
        row = next(m for m in nt.README_ROW.finditer(new) if m.group("stem") == stem)
        assert row.group("time").strip() == f"~{nt.format_duration(seconds)}"
    assert "on a 3-core test CPU, 2030-01-02" in nt.README_NOTE.search(new).group(0)
    changed = [(a, b) for a, b in zip(text.splitlines(), new.splitlines()) if a != b]
    assert len(text.splitlines()) == len(new.splitlines()) and len(changed) == len(FAKE) + 1
    assert nt.update_readme(new, FAKE, "3-core test CPU", "2030-01-02", "in a fresh kernel") == new
    partial = nt.update_readme(text, {"01_chunking": 5.0}, "m", "d", "s")
    assert "~5 s |" in partial and sum(a != b for a, b in zip(text.splitlines(), partial.splitlines())) == 2


def test_update_readme_refuses_an_unknown_chapter_or_a_missing_note():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="no chapter row"):
        nt.update_readme(text, {"99_missing": 1.0}, "m", "d", "s")
    with pytest.raises(ValueError, match="exactly one line"):
        nt.update_readme(nt.README_NOTE.sub("", text), FAKE, "m", "d", "s")


def _timed(cell, start, end):
    cell.metadata["execution"] = {"iopub.execute_input": start, "iopub.status.busy": start,
                                  "iopub.status.idle": end, "shell.execute_reply": end}
    return cell


def test_stored_seconds_spans_first_start_to_last_end():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# T"),
        _timed(nbformat.v4.new_code_cell("1"), "2026-11-26T01:00:00.000000Z", "2026-11-26T01:00:05.000000Z"),
        _timed(nbformat.v4.new_code_cell("2"), "2026-11-26T01:00:05.100000Z", "2026-11-26T01:03:12.500000Z"),
    ])
    assert nt.stored_seconds(nb) == pytest.approx(192.5)
    assert nt.stored_date(nb) == "2026-11-26"
    nb.cells[1].metadata = {}
    assert nt.stored_seconds(nb) is None
    assert nt.stored_seconds(nbformat.v4.new_notebook()) is None


def _copy_of_the_kit(tmp_path: Path) -> Path:
    for name in ("README.md", "README.zh.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("screenshots"))
    shutil.copytree(ROOT / "notebook_sources", tmp_path / "notebook_sources")
    return tmp_path


def test_main_from_outputs_writes_headers_and_readme_and_keeps_outputs(tmp_path, capsys):
    root = _copy_of_the_kit(tmp_path)
    stamps = ("2026-11-26T01:00:00Z", "2026-11-26T01:03:12Z")  # every notebook "took" 192 s
    before = {}
    for path in (root / "notebooks").rglob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        _timed(code[0], stamps[0], stamps[0]), _timed(code[-1], stamps[1], stamps[1])
        nbformat.write(nb, path)
        before[str(path.relative_to(root))] = [c.get("outputs") for c in nb.cells]
    assert nt.main(["--from-outputs", "--write", "--machine", "7-core test CPU", "--root", str(root)]) == 0
    printed = capsys.readouterr().out
    assert "about 3 min 10 s" in printed and "rewrote README.md" in printed
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert readme.count("| ~3 min 10 s |") == len(NOTEBOOKS) and "7-core test CPU, 2026-11-26" in readme
    readme_zh = (root / "README.zh.md").read_text(encoding="utf-8")
    assert readme_zh.count("| ~3 分 10 秒 |") == len(NOTEBOOKS) and "7 核 test CPU 上测得，2026-11-26" in readme_zh
    for path in (root / "notebooks").rglob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert [c.get("outputs") for c in nb.cells] == before[str(path.relative_to(root))]
        header = "\n".join(c.source for c in nb.cells[:4] if c.cell_type == "markdown")
        assert ("**运行时间**：在 7 核 test CPU 上从头到尾约 3 分 10 秒" if path.parent.name == "zh" else
                "**Run time:** about 3 min 10 s top to bottom on a 7-core test CPU") in header
    sys.path.insert(0, str(ROOT / "tools"))
    import editions  # the sources got the same lines, so the editions still match them
    editions.SOURCES, editions.EDITIONS = root / "notebook_sources", {"en": root / "notebooks", "zh": root / "notebooks" / "zh"}
    try:
        assert [line for p in sorted(editions.SOURCES.glob("*.ipynb")) for line in editions.differences(p)] == []
    finally:
        importlib.reload(editions)


def test_main_from_outputs_refuses_a_notebook_that_was_never_timed(tmp_path, capsys):
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]),
                   tmp_path / "notebooks" / "00_x.ipynb")
    assert nt.main(["--from-outputs", "--root", str(tmp_path)]) == 1
    assert "no stored cell timings" in capsys.readouterr().err


def test_main_executes_a_notebook_in_a_fresh_kernel_without_saving_its_outputs(tmp_path, capsys):
    (tmp_path / "notebooks").mkdir()
    line = nt.run_time_line(999, "old CPU")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# 00 · tiny\n\n{line}"),
                                         nbformat.v4.new_code_cell("import os\nprint(os.environ['HF_HUB_OFFLINE'])")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "notebooks" / "00_tiny.ipynb"
    nbformat.write(nb, path)
    (tmp_path / "README.md").write_text(
        "| notebook | what | run time |\n|---|---|---|\n| [00_tiny](notebooks/00_tiny.ipynb) | x | ~1 s |\n\n"
        "Run times (measured by `bench/notebook_times.py`): not yet.\n", encoding="utf-8")
    assert nt.main(["--write", "--timeout", "120", "--root", str(tmp_path)]) == 0
    assert "00_tiny" in capsys.readouterr().out
    saved = nbformat.read(path, as_version=4)
    assert saved.cells[1].outputs == [] and saved.cells[1].execution_count is None  # outputs never saved
    assert "about 999" not in saved.cells[0].source and "top to bottom on a" in saved.cells[0].source
    assert "in a fresh kernel" in (tmp_path / "README.md").read_text(encoding="utf-8")
