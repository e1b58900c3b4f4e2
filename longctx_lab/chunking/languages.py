"""What a tokenizer does to each language: token inflation, the window in characters, and bits per character.

A context window is counted in tokens. SmolLM2's byte-level BPE was trained mostly on English, so it
spends 1.6 tokens on a character of Chinese prose (often one token per UTF-8 byte) against about 0.25
on English: the same 8,192-token window holds about 5,000 Chinese characters but 35,000 English ones.
A Chinese-aware vocabulary (Qwen's) needs a fraction of that; MiniLM's WordPiece turns most Chinese into
[UNK]. Perplexity is per token, so it cannot compare texts cut into different tokens: bits per
character (or per byte) divides the same total loss by something every tokenizer agrees on.
"""
from __future__ import annotations

import math
from typing import Any

from ..core.checked import checked
from ..core.checks import as_float, as_int
from ..core.tokenizers import encode_text, tokenizer_name, unknown_token_fraction

__all__ = ["bits_per_byte", "bits_per_character", "decodes_cleanly", "token_inflation"]


def _check_named(name: str, value: Any, what: str) -> dict:
    if not isinstance(value, dict) or not value:
        raise TypeError(f"{name} must be a non-empty dict {{name: {what}}}, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{name} keys must be names (str), got {type(key).__name__} {key!r}")
    return value


@checked(window=(1, None))
def token_inflation(texts: dict, tokenizers: dict, window: int = 8192) -> list[dict]:
    """Per (text, tokenizer): characters, tokens, tokens per character, characters per `window` tokens, [UNK] share.

    `texts` maps a name to a text, `tokenizers` a name to a tokenizer (Hugging Face or
    `load_qwen_tokenizer()`). Rows come text by text in the dicts' order; `unk_fraction` is None for
    tokenizers without an unknown token (byte-level BPE spells every text). Taught in 01_chunking, § Chunking real text.
    """
    texts, tokenizers = _check_named("texts", texts, "text"), _check_named("tokenizers", tokenizers, "tokenizer")
    window = as_int("window", window, 1)
    for name, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"texts[{name!r}] must be a non-empty str")
    for name, tokenizer in tokenizers.items():
        if not callable(getattr(tokenizer, "encode", None)):
            raise TypeError(f"tokenizers[{name!r}] must have encode(), got {type(tokenizer).__name__}")
    rows = []
    for text_name, text in texts.items():
        for tok_name, tokenizer in tokenizers.items():
            n_tokens = len(encode_text(tokenizer, text))
            per_char = n_tokens / len(text)
            has_unk = getattr(tokenizer, "unk_token_id", None) is not None and "byte" not in _kind(tokenizer)
            rows.append({
                "text": text_name, "tokenizer": tok_name, "characters": len(text),
                "bytes": len(text.encode("utf-8")), "tokens": n_tokens, "tokens_per_char": per_char,
                "chars_per_window": int(window / per_char) if n_tokens else None,
                "unk_fraction": unknown_token_fraction(tokenizer, text) if has_unk else None,
            })
    return rows


def _kind(tokenizer: Any) -> str:
    """'byte-level' for byte-level BPE (GPT-2 style, Qwen), 'wordpiece' for BERT-style, else ''."""
    if tokenizer_name(tokenizer).startswith("Qwen"):
        return "byte-level"
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return ""
    model = type(backend.model).__name__.lower()
    pre = type(backend.pre_tokenizer).__name__.lower() if backend.pre_tokenizer is not None else ""
    return "byte-level" if "bytelevel" in pre else "wordpiece" if "wordpiece" in model else ""


@checked
def bits_per_character(total_nll_nats: float, text: str) -> float:
    """A text's total loss (NLL in nats, summed over its tokens) in bits per character: Σ NLL / ln 2 / characters.

    Comparable across tokenizers and languages, unlike perplexity (exp of the loss per token).
    Taught in 01_chunking, § Chunking real text.
    """
    total = as_float("total_nll_nats", total_nll_nats, 0)
    if not text:
        raise ValueError("text is empty; bits per character needs at least one character")
    return total / math.log(2) / len(text)


@checked
def bits_per_byte(total_nll_nats: float, text: str) -> float:
    """A text's total loss (NLL in nats) in bits per UTF-8 byte: Σ NLL / ln 2 / bytes (a Chinese character is 3 bytes).

    Taught in 01_chunking, § Chunking real text.
    """
    total = as_float("total_nll_nats", total_nll_nats, 0)
    if not text:
        raise ValueError("text is empty; bits per byte needs at least one byte")
    return total / math.log(2) / len(text.encode("utf-8"))


@checked
def decodes_cleanly(tokenizer, ids: list[int]) -> bool:
    """Whether `ids` decode without U+FFFD '�', the mark of a character cut between byte tokens.

    Taught in 01_chunking, § Chunking real text.
    """
    return "\ufffd" not in tokenizer.decode(list(ids))
