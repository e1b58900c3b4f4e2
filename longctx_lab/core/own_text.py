"""The learner's own text: one setting that points every chapter at it in place of the kit's long document.

`use_text("my_notes.txt")` in a notebook, or `LONGCTX_LAB_TEXT=my_notes.txt` before starting Jupyter (or
`make lab`), makes `load_text("long_document")` return that text and `load_text("short_paragraph")` its
first paragraph, so every chapter's cells run on it unchanged. The Daodejing and the other named texts
stay what they are. Set through the environment, a note on stderr says once per session which text is in use.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from .checked import checked
from .i18n import tr

__all__ = ["text_in_use", "use_text"]

ENV_VAR = "LONGCTX_LAB_TEXT"
# Chapters 2 and 5 score the first 1,024 SmolLM2 tokens of the long document, chapter 4 cuts 16 × 128
# MiniLM tokens (repeating a short text): 5,000 characters is about 1,150 English tokens, more in Chinese.
MIN_CHARACTERS = 5000
SHORT_PARAGRAPH_CHARACTERS = (80, 600)  # chapter 3 draws every token of it: keep it to a few lines
REPLACED = ("long_document", "short_paragraph")
_SENTENCE_END = re.compile(r"[.!?](?=\s)|[\u3002\uff01\uff1f]")  # enough to cut one paragraph (data.py splits fully)
_state: dict = {"path": None, "set_in_code": False, "announced": None}


def _read(path: Path, source: str) -> str:
    """The text at `path`, checked: a readable UTF-8 file of at least MIN_CHARACTERS characters."""
    if not path.is_file():
        raise FileNotFoundError(f"{source}={str(path)!r} is not a file; give the path of a .txt or .md file")
    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{source}={str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                         "save it as UTF-8 (any editor's 'Save as… UTF-8')") from None
    if len(text) < MIN_CHARACTERS:
        raise ValueError(f"{source}={str(path)!r} holds {len(text):,} characters; the chapters need at least "
                         f"{MIN_CHARACTERS:,} (chapters 2 and 5 score its first 1,024 tokens)")
    return text


@checked
def use_text(path: str | os.PathLike | None) -> str:
    """Point every chapter at your own text file (None: back to the kit's texts); returns what is now in use.

    Taught in 07_your_own_model, § Your own text.
    """
    if path is None:
        _state.update(path=None, set_in_code=True, announced=None)
        return text_in_use()
    resolved = Path(path).expanduser().resolve()
    _read(resolved, "path")  # fail now, not in the middle of a chapter
    _state.update(path=resolved, set_in_code=True, announced=None)
    return text_in_use()


def own_text_path() -> Path | None:
    """The learner's text file in use: use_text()'s choice, else $LONGCTX_LAB_TEXT, else None."""
    if _state["set_in_code"]:
        return _state["path"]
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env).expanduser().resolve() if env else None


@checked
def text_in_use() -> str:
    """One line saying which text the chapters read as their long document: the kit's own or yours.

    Taught in 07_your_own_model, § Your own text.
    """
    path = own_text_path()
    if path is None:
        return tr("the kit's long document (data/long_document.md)")
    return tr("your text {path}", path=str(path))


def first_paragraph(text: str) -> str:
    """The first paragraph of `text` long enough to read (a heading skipped), cut at a sentence end if long."""
    low, high = SHORT_PARAGRAPH_CHARACTERS
    blocks = [b.strip() for b in text.split("\n\n") if b.strip() and not b.lstrip().startswith("#")]
    paragraph = next((b for b in blocks if len(b) >= low), blocks[0] if blocks else text)
    if len(paragraph) <= high:
        return paragraph
    ends = [match.end() for match in _SENTENCE_END.finditer(paragraph, 0, high)]
    return paragraph[:ends[-1]].strip() if ends else paragraph[:high]


def own_text(name: str) -> str | None:
    """The learner's stand-in for bundled text `name` (None when they set none or `name` is not replaced)."""
    path = own_text_path()
    if path is None or name not in REPLACED:
        return None
    source = "use_text(path)" if _state["set_in_code"] else ENV_VAR
    text = _read(path, source)
    # Say once which text the chapters read when the switch is silent (an environment variable set before Jupyter
    # started); use_text() in code already returned that line to the learner who called it.
    if not _state["set_in_code"] and _state["announced"] != path:
        _state["announced"] = path
        print(tr("longctx_lab: the chapters read {what} in place of the kit's long document", what=str(path)),
              file=sys.stderr)
    return text if name == "long_document" else first_paragraph(text)
