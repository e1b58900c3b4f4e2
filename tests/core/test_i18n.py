"""The learner's language: every marked string has a Chinese entry, set_language switches panels, exercises and
figures both ways, Chinese figures draw real glyphs (no tofu), and the .po follows the glossary."""
from __future__ import annotations

import re
import string
import warnings
from pathlib import Path

import pytest

from longctx_lab.core import i18n
from longctx_lab.core.i18n import set_language
from tests.i18n_strings import ROOT, extract, read_catalogue

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def zh():
    set_language("zh")
    yield
    set_language("en")


@pytest.fixture(scope="module")
def catalogue():
    return {m.id: m.string for m in read_catalogue() if m.id}


def _fields(template: str) -> list:
    return sorted((name, spec) for _, name, spec, _ in string.Formatter().parse(template) if name is not None)


# ------------------------------------------------------------------------------------- catalogue coverage

def test_every_marked_string_is_a_literal():
    _, problems = extract()
    assert not problems, "\n".join(problems)


def test_every_learner_facing_string_has_a_chinese_entry(catalogue):
    messages, _ = extract()
    assert len(messages) > 500
    missing = [f"{places[0]}: {message!r}" for message, places in messages.items() if not catalogue.get(message)]
    assert not missing, "no Chinese entry (run python -m tests.i18n_strings, then translate):\n" + "\n".join(missing)


def test_no_stale_entries(catalogue):
    messages, _ = extract()
    stale = sorted(set(catalogue) - set(messages))
    assert not stale, f"entries no source marks any more (run python -m tests.i18n_strings): {stale}"


def test_translations_keep_every_placeholder_and_are_chinese(catalogue):
    for message, translation in catalogue.items():
        assert _fields(message) == _fields(translation), (message, translation)
        prose = re.sub(r"[\w.]+\([^)]*\)|\w*_\w*|'[^']*'|\{[^}]*\}", "", message)  # code and placeholders out
        if len(re.findall(r"\b[a-z]{3,}\b", prose)) >= 2:
            assert CJK.search(translation), f"untranslated: {message!r} -> {translation!r}"


def test_the_catalogue_compiles_into_the_cache_when_no_mo_is_built(tmp_path, monkeypatch):
    monkeypatch.setenv("LONGCTX_LAB_CACHE", str(tmp_path))
    monkeypatch.setattr(i18n, "LOCALE_DIR", Path(i18n.LOCALE_DIR))
    built = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "longctx_lab.mo"
    if built.exists():
        pytest.skip("a built .mo sits beside the .po (a wheel install)")
    monkeypatch.setitem(i18n._state, "translations", {})
    assert i18n.catalogue("zh").gettext("Exercise") == "练习"
    (compiled,) = (tmp_path / "locale").glob("*/zh_CN/LC_MESSAGES/longctx_lab.mo")
    assert compiled.parts[-4] != "zh_CN"  # the folder above is named by the .po's content


def test_another_catalogue_is_compiled_apart_never_read_stale(tmp_path, monkeypatch):
    """Two checkouts (or an edited .po) sharing one cache each get their own compiled catalogue."""
    monkeypatch.setenv("LONGCTX_LAB_CACHE", str(tmp_path / "cache"))
    for name, word in (("a", "练习"), ("b", "习题")):
        po = tmp_path / name / "zh_CN" / "LC_MESSAGES" / "longctx_lab.po"
        po.parent.mkdir(parents=True)
        po.write_text(f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                      f'msgid "Exercise"\nmsgstr "{word}"\n', encoding="utf-8")
        monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / name)
        monkeypatch.setitem(i18n._state, "translations", {})
        assert i18n.catalogue("zh").gettext("Exercise") == word


# ------------------------------------------------------------------------------------------ switching

def test_language_is_english_by_default_and_errors_stay_english():
    assert i18n.language() == "en"
    with pytest.raises(ValueError, match="lang='fr' is not a valid choice"):
        set_language("fr")
    with pytest.raises(TypeError, match="lang must be a str"):
        set_language(1)


def test_environment_variable_chooses_chinese(monkeypatch):
    monkeypatch.setenv("LONGCTX_LAB_LANG", "zh")
    monkeypatch.setitem(i18n._state, "language", None)
    assert i18n.language() == "zh"
    assert i18n.tr("Exercise") == "练习"
    monkeypatch.setitem(i18n._state, "language", None)
    monkeypatch.delenv("LONGCTX_LAB_LANG")
    assert i18n.language() == "en"


def test_set_language_turns_a_panel_chinese_and_back():
    from longctx_lab.start_here.widgets import cost_panel

    set_language("zh")
    try:
        panel = cost_panel()
        assert panel.controls["n"].description == "n 个词元"
        assert "个块" in panel.view.summary and "注意力分数" in panel.view.summary
    finally:
        set_language("en")
    panel = cost_panel()
    assert panel.controls["n"].description == "n tokens"
    assert panel.view.summary.startswith("n = 4096 tokens") and not CJK.search(panel.view.summary)


def test_set_language_turns_exercise_feedback_chinese_and_back(monkeypatch):
    from longctx_lab.chunking.exercises import count_chunks

    monkeypatch.setattr(count_chunks, "_hints_shown", 0)  # hint() moves a counter: leave it as other tests find it
    set_language("zh")
    try:
        assert repr(count_chunks.check(10)).startswith("✘ 还不对: ")
        assert "向下取整" in count_chunks.check(10).message
        assert count_chunks.check(11).message == "数一数块——做得好。"
        assert "提示" in count_chunks.hint() and CJK.search(count_chunks.solution())
        assert count_chunks.shown_question().startswith("练习 — 数一数块")
    finally:
        set_language("en")
    assert count_chunks.check(11).message == "Count the chunks — well done."
    assert not CJK.search(count_chunks.check(10).message + count_chunks.solution() + count_chunks.shown_question())


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def test_set_language_turns_figure_axes_chinese_and_back():
    from longctx_lab.start_here.plots import cost_growth

    if i18n.cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    args = ([1024, 2048], [1.0, 4.0], [1.0, 2.0])
    set_language("zh")
    try:
        ax = cost_growth(*args).axes[0]
        assert ax.get_xlabel() == "序列长度 n（词元）" and ax.get_ylabel() == "内存（MiB）"
    finally:
        set_language("en")
    ax = cost_growth(*args).axes[0]
    assert ax.get_xlabel() == "sequence length n (tokens)" and ax.get_ylabel() == "memory (MiB)"


# ------------------------------------------------------------------------------------------- fonts

def test_chinese_figures_draw_every_glyph(zh):
    """Rendered to PNG with matplotlib's missing-glyph warning as an error, and each character in a font's charmap."""
    from matplotlib.font_manager import FontProperties, fontManager, get_font

    from longctx_lab.core.panels import figure_png
    from longctx_lab.start_here.plots import concept_map, cost_growth

    font = i18n.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    figures = [concept_map(), cost_growth([1024, 2048], [1.0, 4.0], [1.0, 2.0])]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        for fig in figures:
            assert figure_png(fig).startswith(b"\x89PNG")
    from matplotlib import rcParams

    charmaps = [get_font(fontManager.findfont(FontProperties(family=[family]), fallback_to_default=False)).get_charmap()
                for family in rcParams["font.family"]]
    assert font in rcParams["font.family"]
    chinese = [text for fig in figures for text in _texts(fig) if CJK.search(text)]
    assert len(chinese) >= 8
    for text in chinese:
        for char in set(text) - set(" \n"):
            assert any(ord(char) in charmap for charmap in charmaps), f"no font draws {char!r} in {text!r}"


def test_a_cjk_font_installed_after_matplotlib_cached_its_font_list_is_found(monkeypatch):
    """pip install, then apt-get install fonts-noto-cjk: matplotlib's cached list lacks the font, the kit adds it."""
    from matplotlib import font_manager

    files = [p for p in font_manager.findSystemFonts() if i18n._CJK_FILES.search(p.rsplit("/", 1)[-1])]
    if not files:
        pytest.skip("no CJK font file on this system (apt-get install fonts-noto-cjk)")
    stale = [entry for entry in font_manager.fontManager.ttflist if entry.name not in i18n.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)  # the list as cached before the install
    monkeypatch.setitem(i18n._state, "font", None)
    assert i18n.cjk_font() in i18n.CJK_FONTS


def test_without_a_cjk_font_figures_stay_english_and_say_so_once(zh, monkeypatch):
    from longctx_lab.start_here.plots import cost_growth

    monkeypatch.setitem(i18n._state, "font", "")
    monkeypatch.setitem(i18n._state, "warned", False)
    with pytest.warns(UserWarning, match="no Chinese \\(CJK\\) font"):
        ax = cost_growth([1024, 2048], [1.0, 4.0], [1.0, 2.0]).axes[0]
    assert ax.get_xlabel() == "sequence length n (tokens)"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost_growth([1024, 2048], [1.0, 4.0], [1.0, 2.0])  # said once only
    assert i18n.tr("Exercise") == "练习"  # panels and exercises still speak Chinese


# ------------------------------------------------------------------------------------------ glossary

GLOSSARY = ROOT / "docs" / "glossary.md"


def _glossary() -> dict[str, str]:
    rows = re.findall(r"^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|(?:\s*([^|]*?)\s*\|)?\s*$", GLOSSARY.read_text(), re.M)
    return {en.lower(): zh for en, zh, _ in rows if CJK.search(zh)}


def test_the_glossary_has_at_least_forty_terms_with_the_seeds_own():
    terms = _glossary()
    assert len(terms) >= 40
    for seed_term in ("分段", "段损失", "自适应注意力", "并行处理", "压缩", "上下文长度", "键值缓存", "滑动窗口",
                      "注意力汇聚点"):
        assert any(seed_term in zh for zh in terms.values()), seed_term


# English terms whose every occurrence in a msgid must be rendered with the glossary's Chinese term.
CHECKED_TERMS = {"kv cache": "kv cache", "sliding window": "sliding window", "perplexity": "perplexity",
                 "overlap": "overlap", "stride": "stride", "token": "token", "chunk": "chunk", "segment": "segment",
                 "entropy": "entropy", "sparsity": "sparsity", "speedup": "speedup",
                 "context length": "context length", "query": "query", "queries": "query", "sink": "attention sink",
                 "adaptive span": "adaptive span", "pad token": "padding", "compression": "compression",
                 "parallel processing": "parallel processing", "adaptive attention": "adaptive attention",
                 "wavelength": "wavelength", "serial fraction": "serial fraction", "bandwidth": "bandwidth",
                 "latency": "latency", "distance": "distance", "teacher forcing": "teacher forcing"}


def test_translations_use_the_glossary_terms(catalogue):
    terms = _glossary()
    wrong = []
    for term, entry in CHECKED_TERMS.items():
        chinese = [zh.strip() for zh in re.split(r"[/／、]", terms[entry])]
        pattern = re.compile(rf"\b{re.escape(term)}s?\b", re.I)
        for message, translation in catalogue.items():
            prose = re.sub(r"\{[^}]*\}|`[^`]*`|'[^']*'|\S*[._(\[]\S*|\b[A-Z]\w*[A-Z]\w*", "", message)  # no code
            if pattern.search(prose) and \
                    not any(zh in translation for zh in chinese):
                wrong.append(f"{term} → {terms[entry]}: {message!r} -> {translation!r}")
    assert not wrong, "\n".join(wrong)
