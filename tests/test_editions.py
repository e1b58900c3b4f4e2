"""The English and Chinese editions come from one source and cannot drift (tools/editions.py, DESIGN.md)."""
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import editions  # noqa: E402  (tools/ is a folder of scripts, not a package)

SOURCES = editions.source_paths()
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
# What is not prose: fenced code, inline code, display and inline math, links' targets, HTML tags.
NOT_PROSE = [re.compile(pattern, re.DOTALL) for pattern in
             (r"```.*?```", r"`[^`\n]*`", r"\$\$.*?\$\$", r"\$[^$\n]*\$", r"\]\([^)]*\)", r"<[^>]+>", r"https?://\S+")]
# Words a translator might reach for, and the glossary's term that the Chinese edition uses instead.
GLOSSARY_INSTEAD = {"令牌": "词元", "注意力池": "注意力汇聚点", "注意力水槽": "注意力汇聚点", "KV缓存": "键值缓存",
                    "KV 缓存": "键值缓存", "分片损失": "段损失", "上下文长短": "上下文长度"}


def prose(markdown: str) -> str:
    """A Markdown cell's running text: code, math, link targets and tags removed."""
    for pattern in NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def twins(path: Path) -> list[tuple]:
    """A source's (English cell, Chinese cell) pairs: each English Markdown cell with the cell right after it."""
    cells = nbformat.read(path, as_version=4).cells
    return [(cell, cells[i + 1] if i + 1 < len(cells) else None) for i, cell in enumerate(cells)
            if cell.cell_type == "markdown" and cell.metadata.get("lang") == "en"]


def structure(markdown: str) -> dict:
    """What a translation must keep: heading levels, display formulas and code blocks, in order."""
    return {"headings": [len(m.group(1)) for m in re.finditer(r"^(#+) ", markdown, re.MULTILINE)],
            "formulas": re.findall(r"\$\$.*?\$\$", markdown, re.DOTALL),
            "code blocks": re.findall(r"```.*?```", markdown, re.DOTALL)}


def test_every_chapter_has_a_source():
    chapters = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert chapters and [p.name for p in SOURCES] == chapters


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_committed_editions_equal_the_generators_output(path):
    assert editions.differences(path) == [], "run `make editions` (python tools/editions.py), then `make notebooks`"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_both_editions_run_the_same_code_in_the_same_order(path):
    english, chinese = (nbformat.read(editions.edition_path(path, lang), as_version=4) for lang in ("en", "zh"))
    code = {nb.metadata["longctx_lab"]["edition"]: [c.source for c in nb.cells if c.cell_type == "code"]
            for nb in (english, chinese)}
    language_choice = code["zh"][0]
    assert 'set_language("zh")' in language_choice, "the Chinese edition's first code cell chooses Chinese"
    assert code["zh"][1:] == code["en"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_only_the_language_choice_is_edition_specific_code(path):
    cells = nbformat.read(path, as_version=4).cells
    tagged = [c for c in cells if c.cell_type == "code" and "lang" in c.metadata]
    assert [c.metadata["lang"] for c in tagged] == ["zh"]
    assert next(c for c in cells if c.cell_type == "code") is tagged[0], "language choice comes before other code"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_english_cell_has_its_chinese_twin_right_after_it(path):
    cells = nbformat.read(path, as_version=4).cells
    langs = [c.metadata.get("lang") for c in cells if c.cell_type == "markdown"]
    assert langs.count("en") == langs.count("zh")
    for english, chinese in twins(path):
        assert chinese is not None and chinese.cell_type == "markdown" and chinese.metadata.get("lang") == "zh", (
            f"{path.name}: English cell {english.get('id')} ({english.source[:60]!r}) has no Chinese cell after it")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_twins_keep_headings_formulas_and_code_blocks(path):
    for english, chinese in twins(path):
        assert structure(chinese.source) == structure(english.source), f"{path.name}: cell {english.get('id')}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_english_prose_is_english_and_chinese_prose_is_chinese(path):
    for english, chinese in twins(path):
        text = prose(english.source)
        assert len(CJK.findall(text)) <= 0.05 * max(1, len(LATIN.findall(text))), (
            f"{path.name}: English cell {english.get('id')} is not English: {english.source[:80]!r}")
        text = prose(chinese.source)
        han, latin = len(CJK.findall(text)), len(LATIN.findall(text))
        assert han >= 0.5 * latin and han > 0, (
            f"{path.name}: Chinese cell {chinese.get('id')} looks untranslated ({han} Han characters, "
            f"{latin} Latin letters): {chinese.source[:80]!r}")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_chinese_edition_uses_the_glossarys_terms(path):
    for _, chinese in twins(path):
        for wrong, right in GLOSSARY_INSTEAD.items():
            assert wrong not in chinese.source, f"{path.name}: {wrong!r} in cell {chinese.get('id')}; the glossary says {right!r}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_both_editions_keep_the_notebook_contract(path):
    sections = {"en": ("learning objectives", "run time", "exercise", "summary"),
                "zh": ("学习目标", "运行时间", "练习", "小结")}
    for lang, words in sections.items():
        nb = nbformat.read(editions.edition_path(path, lang), as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
        missing = [word for word in words if word not in text]
        assert not missing, f"{lang} edition of {path.name} lacks {missing}"


def test_render_keeps_shared_code_and_one_language(tmp_path):
    source = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title", metadata={"lang": "en"}),
        nbformat.v4.new_markdown_cell("# 标题", metadata={"lang": "zh"}),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["nbval-ignore-output"]})])
    zh = editions.render(source, "zh", "00_x.ipynb")
    assert [c.source for c in zh.cells] == ["# 标题", "x = 1"]
    assert zh.cells[1].metadata == {"tags": ["nbval-ignore-output"]}
    assert [c.source for c in editions.render(source, "en", "00_x.ipynb").cells] == ["# Title", "x = 1"]


def test_render_refuses_an_untagged_markdown_cell():
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("no language")])
    with pytest.raises(ValueError, match="lang"):
        editions.render(source, "en", "00_x.ipynb")


def test_carry_outputs_keeps_unchanged_cells_and_drops_changed_ones():
    old = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a", execution_count=1),
                                          nbformat.v4.new_code_cell("b", execution_count=2)])
    old.cells[0].outputs = [nbformat.v4.new_output("stream", text="A\n")]
    new = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b changed")])
    assert editions.carry_outputs(new, old) == 1
    assert new.cells[0].outputs[0].text == "A\n" and new.cells[0].execution_count == 1
    assert new.cells[1].outputs == [] and new.cells[1].execution_count is None
