"""The learner's language: gettext domain "longctx_lab", its zh_CN catalogue, and figure text that never shows tofu.

Everything the package shows a learner (panel labels and summaries, exercise questions, feedback,
hints and solutions, figure titles, axes and legends) is written in English, marked where it is
written (`N_` for a template stored for later, `tr` where it is shown, `fig_tr` for text drawn in a
figure) and translated when shown. Error messages stay English: people search for them.

The catalogue is `longctx_lab/locale/zh_CN/LC_MESSAGES/longctx_lab.po`. A wheel carries it compiled
(`setup.py` compiles it while building); an editable install, or a .po edited after the build,
gets it compiled on first use into `$LONGCTX_LAB_CACHE/locale` (the .mo is a build product, never
committed). The language comes from `set_language("zh" | "en")`, else `$LONGCTX_LAB_LANG`, else
English. Chinese figure text needs a CJK font: `cjk_font()` finds an installed one (Noto Sans CJK,
WenQuanYi, PingFang, Microsoft YaHei, ...); without one, figures stay English and say so once.
"""
from __future__ import annotations

import gettext
import hashlib
import os
import re
import sys
import unicodedata
import warnings
from pathlib import Path
from typing import Any

__all__ = ["DOMAIN", "LANGUAGES", "N_", "catalogue", "cell", "cjk_font", "compile_catalogue", "fig_tr", "language",
           "prepare_figures", "set_language", "tr"]

DOMAIN = "longctx_lab"
LANGUAGES = {"en": None, "zh": "zh_CN"}  # the edition's name → its gettext catalogue (English needs none)
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti", "Microsoft YaHei", "SimHei",
             "Noto Sans CJK JP", "Noto Sans CJK TC", "Arial Unicode MS")
_state: dict[str, Any] = {"language": None, "translations": {}, "font": None, "warned": False, "rc": None}


def N_(message: str) -> str:
    """Mark a learner-facing template where it is written (xgettext -k N_); `tr` translates it when shown."""
    return message


def _po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogue(po: Path, mo: Path) -> Path:
    """Compile the catalogue `po` into `mo` (written atomically) with Babel; returns `mo`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as source:
        messages = read_po(source)
    mo.parent.mkdir(parents=True, exist_ok=True)
    partial = mo.with_name(f"{mo.name}.{os.getpid()}.tmp")
    with open(partial, "wb") as target:
        write_mo(target, messages, use_fuzzy=False)
    os.replace(partial, mo)
    return mo


def _mo_for(locale: str) -> Path:
    """The compiled catalogue: the one built beside the .po when it is current, else one compiled into the cache."""
    po = _po_path(locale)
    built = po.with_suffix(".mo")
    if built.exists() and (not po.exists() or built.stat().st_mtime >= po.stat().st_mtime):
        return built
    if not po.exists():
        raise FileNotFoundError(f"no catalogue for {locale}: neither {built} nor {po} exists")
    base = Path(os.environ.get("LONGCTX_LAB_CACHE") or Path.home() / ".cache" / "longctx_lab")
    # Named by the .po's content: two checkouts (or an edited .po) never read each other's compiled file.
    version = hashlib.blake2b(po.read_bytes(), digest_size=8).hexdigest()
    cached = base / "locale" / version / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not cached.exists():
        compile_catalogue(po, cached)
    return cached


def catalogue(lang: str) -> gettext.NullTranslations:
    """The translations for edition `lang` ("zh" or "en"; English is the identity), compiled when needed."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r} is not a valid choice; valid: {tuple(LANGUAGES)}")
    locale = LANGUAGES[lang]
    if locale is None:
        return gettext.NullTranslations()
    if lang not in _state["translations"]:
        with open(_mo_for(locale), "rb") as mo:
            _state["translations"][lang] = gettext.GNUTranslations(mo)
    return _state["translations"][lang]


def language() -> str:
    """The edition the package speaks now: "zh" or "en" (set_language, else $LONGCTX_LAB_LANG, else "en")."""
    if _state["language"] is None:
        chosen = os.environ.get("LONGCTX_LAB_LANG", "").strip().lower().replace("-", "_")
        _state["language"] = "zh" if chosen in ("zh", "zh_cn", "zh_hans", "cn") else "en"
    return _state["language"]


def set_language(lang: str) -> str:
    """Speak `lang` ("zh": 简体中文, or "en") in every panel, exercise and figure made from now on; returns it."""
    if not isinstance(lang, str):
        raise TypeError(f"lang must be a str, \"zh\" or \"en\", got {type(lang).__name__}")
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r} is not a valid choice; valid: {tuple(LANGUAGES)}")
    catalogue(lang)  # a missing or broken catalogue fails here, not in the middle of a panel
    _state["language"] = lang
    _restore_fonts()
    if "matplotlib" in sys.modules:  # otherwise core/drawing.py prepares the fonts when figures are first used
        prepare_figures()
    return lang


def tr(message: str, **fields: Any) -> str:
    """`message` in the learner's language, its named {placeholders} filled from `fields` (only when given)."""
    text = catalogue(language()).gettext(message)
    return text.format(**fields) if fields else text


def cell(text: str, width: int, align: str = "<") -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two), for printed tables."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    space = " " * max(0, width - columns)
    return text + space if align == "<" else space + text


# ----------------------------------------------------------------------------------------------- figure text

def cjk_font() -> str | None:
    """The family name of an installed font that draws Chinese (Noto Sans CJK, WenQuanYi, PingFang, ...), or None."""
    if _state["font"] is None:
        from matplotlib import font_manager

        installed = {entry.name for entry in font_manager.fontManager.ttflist}
        if not installed & set(CJK_FONTS):
            installed |= _register_cjk_files(font_manager)
        _state["font"] = next((name for name in CJK_FONTS if name in installed), "")
    return _state["font"] or None


# File names of the fonts in CJK_FONTS (Noto/Source Han CJK, WenQuanYi, PingFang, Hiragino, Heiti, YaHei, SimHei).
_CJK_FILES = re.compile(r"(?i)(cjk|wqy|wenquanyi|sourcehan|pingfang|hiragino|heiti|msyh|yahei|simhei|arialuni)")


def _register_cjk_files(font_manager) -> set[str]:
    """Add the system's CJK font files to matplotlib; returns every family name it knows after that.

    matplotlib caches its font list the first time it runs, so a font installed after that (the usual
    order: pip install, then apt-get install fonts-noto-cjk) stays invisible until the cache is rebuilt.
    """
    for path in font_manager.findSystemFonts():
        if _CJK_FILES.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable file is skipped, not fatal
                continue
    return {entry.name for entry in font_manager.fontManager.ttflist}


def _restore_fonts() -> None:
    """Put matplotlib's font families back as they were before Chinese figure text changed them."""
    if _state["rc"] is not None:
        from matplotlib import rcParams

        rcParams["font.family"] = _state["rc"]
        _state["rc"] = None


def _figures_in_chinese() -> bool:
    """True when figures can be labelled in Chinese (a CJK font is set as matplotlib's fallback); warns once if not."""
    font = cjk_font()
    if font is None:
        if not _state["warned"]:
            _state["warned"] = True
            warnings.warn("no Chinese (CJK) font is installed, so figures are labelled in English "
                          "(未找到中文字体，图中文字保持英文). Install one (Debian/Ubuntu: apt-get install "
                          "fonts-noto-cjk) and restart the kernel.", stacklevel=4)
        return False
    if _state["rc"] is None:
        from matplotlib import rcParams

        _state["rc"] = list(rcParams["font.family"])
        latin = [name for name in _state["rc"] if name != font] or ["sans-serif"]
        rcParams["font.family"] = latin + [font]  # matplotlib falls back glyph by glyph along this list
    return True


def prepare_figures() -> None:
    """Before any figure is made: in Chinese, add a CJK font to matplotlib's fallback list (or warn once there is none).

    Titles and axis labels take their font when their axes are created, so this runs when the language is set
    and when core/drawing.py is imported, not when the first label is translated.
    """
    if language() != "en":
        _figures_in_chinese()


def fig_tr(message: str, **fields: Any) -> str:
    """Figure text (title, axis label, legend) in the learner's language, or English when no CJK font can draw it."""
    if language() != "en" and _figures_in_chinese():
        return tr(message, **fields)
    return message.format(**fields) if fields else message
