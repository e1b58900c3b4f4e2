"""What a tokenizer does to each language: token inflation, the window in characters, and bits per character.

A context window is counted in tokens. SmolLM2's byte-level BPE was trained mostly on English, so it
spends 1.6 tokens on a character of Chinese prose (often one token per UTF-8 byte) against about 0.25
on English: the same 8,192-token window holds about 5,000 Chinese characters but 35,000 English ones.
A Chinese-aware vocabulary (Qwen's) needs a fraction of that; MiniLM's WordPiece turns most Chinese into
[UNK]. Byte tokens also let a chunk boundary cut a character in two (`cut_counts`: the tokenizer's own
windows do, the kit's character spans and sentence-aware chunks never do). Perplexity is per token, so it
cannot compare texts cut into different tokens: bits per character (or per byte) divides the same total
loss by something every tokenizer agrees on (`language_losses`).
"""
from __future__ import annotations

import math
from typing import Any

import torch

from ..core.checked import checked
from ..core.checks import as_float, as_int, check_causal_lm, check_ids_in_vocab, check_length
from ..core.i18n import N_, cell, tr
from ..core.tokenizers import encode_text, tokenizer_name, unknown_token_fraction
from .plan import split_sequence
from .text import chunk_sentences, chunk_text, sentence_token_spans, spans_kept_whole

__all__ = ["bits_per_byte", "bits_per_character", "cut_counts", "cut_table", "decodes_cleanly", "inflation_table",
           "language_losses", "loss_table", "token_inflation"]

# Text names shown in the learner's language; any other name is shown as given.
LANGUAGE_NAMES = {"zh": N_("Chinese"), "en": N_("English")}


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
    tokenizers without an unknown token (byte-level BPE spells every text). Name texts "zh" and "en" and
    tables and figures call them Chinese and English in the learner's language.
    Taught in 01_chunking, § Chinese text: what a context window holds.
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
                "window": window, "chars_per_window": int(window / per_char) if n_tokens else None,
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
    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    total = as_float("total_nll_nats", total_nll_nats, 0)
    if not text:
        raise ValueError("text is empty; bits per character needs at least one character")
    return total / math.log(2) / len(text)


@checked
def bits_per_byte(total_nll_nats: float, text: str) -> float:
    """A text's total loss (NLL in nats) in bits per UTF-8 byte: Σ NLL / ln 2 / bytes (a Chinese character is 3 bytes).

    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    total = as_float("total_nll_nats", total_nll_nats, 0)
    if not text:
        raise ValueError("text is empty; bits per byte needs at least one byte")
    return total / math.log(2) / len(text.encode("utf-8"))


@checked
def decodes_cleanly(tokenizer, ids: list[int]) -> bool:
    """Whether `ids` decode without U+FFFD '�', the mark of a character cut between byte tokens.

    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    return "\ufffd" not in tokenizer.decode(list(ids))


# ------------------------------------------------------------------------------- rows, checked and printed

INFLATION_KEYS = ("text", "tokenizer", "characters", "tokens", "tokens_per_char", "window", "chars_per_window",
                  "unk_fraction")
CUT_KEYS = ("method", "chunks", "ids_cut", "texts_cut", "sentences_cut", "sentences")
LOSS_KEYS = ("text", "tokens", "characters", "bytes", "ppl", "bits_per_token", "bits_per_char", "bits_per_byte",
             "inside_share", "inside_nll", "start_nll")
CUT_METHODS = {"careless": N_("careless slices (split_sequence)"), "chunk_text": N_("fixed windows (chunk_text)"),
               "chunk_sentences": N_("sentence-aware (chunk_sentences)")}


def check_rows(name: str, rows, keys: tuple[str, ...], source: str) -> list[dict]:
    """`rows` as a non-empty list of dicts holding `keys` (what `source` returns), else TypeError/ValueError naming `name`."""
    if not isinstance(rows, (list, tuple)) or isinstance(rows, str):
        raise TypeError(f"{name} must be the list of rows {source} returns, got {type(rows).__name__}")
    if not rows:
        raise ValueError(f"{name} is empty; pass the rows {source} returns")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TypeError(f"{name}[{i}] must be a dict (a row of {source}), got {type(row).__name__}")
        missing = [key for key in keys if key not in row]
        if missing:
            raise ValueError(f"{name}[{i}] lacks {missing}; valid rows come from {source}")
    return list(rows)


def text_label(name: str, translate=tr) -> str:
    """A text's display name: "zh"/"en" as Chinese/English in the learner's language, any other name unchanged."""
    return translate(LANGUAGE_NAMES[name]) if name in LANGUAGE_NAMES else str(name)


def _lines(header: list[tuple[str, int, str]], body: list[list[str]]) -> str:
    """A printed table: `header` holds (title, width, align) per column, `body` the cells (wide characters counted twice)."""
    lines = [" ".join(cell(title, width, align) for title, width, align in header)]
    lines += [" ".join(cell(value, width, align) for value, (_, width, align) in zip(row, header)) for row in body]
    return "\n".join(line.rstrip() for line in lines)


@checked
def inflation_table(rows: list[dict]) -> str:
    """token_inflation's rows as a printed table, headers in the learner's language: tokens per character and per window.

    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    rows = check_rows("rows", rows, INFLATION_KEYS, "token_inflation")
    header = [(tr(N_("text")), 8, "<"), (tr(N_("tokenizer")), 10, "<"), (tr(N_("characters")), 10, ">"),
              (tr(N_("tokens")), 8, ">"), (tr(N_("tokens / character")), 18, ">"),
              (tr(N_("characters per {window:,}-token window"), window=rows[0]["window"]), 34, ">"),
              (tr(N_("[UNK] share")), 11, ">")]
    body = [[text_label(r["text"]), r["tokenizer"], f"{r['characters']:,}", f"{r['tokens']:,}",
             f"{r['tokens_per_char']:.2f}", f"{r['chars_per_window']:,}" if r["chars_per_window"] else "—",
             "—" if r["unk_fraction"] is None else f"{r['unk_fraction']:.0%}"] for r in rows]
    return _lines(header, body)


# ------------------------------------------------------------------------------- cutting text exactly

@checked
def cut_counts(text: str, tokenizer, max_length: int) -> list[dict]:
    """What three chunkings of `text` into ≤ `max_length` tokens cut: characters (ids decoding to '�') and sentences.

    Rows, in order: "careless" (the content ids sliced every k tokens with split_sequence, then
    decoded), "chunk_text" (the tokenizer's own windows; each chunk's text is its char_span) and
    "chunk_sentences". `ids_cut` counts chunks whose ids do not decode cleanly, `texts_cut` chunks
    whose text holds '�', `sentences_cut` sentences (lab.split_sentences) no chunk holds whole.
    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    fixed = chunk_text(text, tokenizer, max_length)  # validates text, tokenizer and max_length first
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
    ids, _, sentences = sentence_token_spans(text, tokenizer)
    careless = split_sequence(ids, max_len=budget)  # (m,) lists of ≤ budget ids, blind to characters
    careless_spans = [(i * budget, i * budget + len(piece)) for i, piece in enumerate(careless)]
    whole = chunk_sentences(text, tokenizer, max_length)
    rows = []
    for method, pieces, texts, spans in (
            ("careless", careless, [tokenizer.decode(piece) for piece in careless], careless_spans),
            ("chunk_text", [c.input_ids for c in fixed], [c.text for c in fixed], [c.token_span for c in fixed]),
            ("chunk_sentences", [c.input_ids for c in whole], [c.text for c in whole], [c.token_span for c in whole])):
        rows.append({"method": method, "chunks": len(pieces),
                     "ids_cut": sum(not decodes_cleanly(tokenizer, piece) for piece in pieces),
                     "texts_cut": sum("\ufffd" in piece for piece in texts),
                     "sentences_cut": spans_kept_whole(spans, sentences).count(False), "sentences": len(sentences)})
    return rows


@checked
def cut_table(rows: list[dict]) -> str:
    """cut_counts' rows as a printed table, headers in the learner's language.

    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    rows = check_rows("rows", rows, CUT_KEYS, "cut_counts")
    header = [(tr(N_("chunking")), 34, "<"), (tr(N_("chunks")), 7, ">"), (tr(N_("ids cut a character")), 20, ">"),
              (tr(N_("texts with '�'")), 16, ">"), (tr(N_("sentences cut")), 16, ">")]
    body = [[tr(CUT_METHODS.get(r["method"], r["method"])), str(r["chunks"]), str(r["ids_cut"]), str(r["texts_cut"]),
             tr(N_("{cut} of {total}"), cut=r["sentences_cut"], total=r["sentences"])] for r in rows]
    return _lines(header, body)


# ------------------------------------------------------------------------------- comparing across languages

@checked
def language_losses(model, tokenizer, texts: dict) -> list[dict]:
    """Per text, a causal LM's loss on all its tokens, as perplexity per token and as bits per token, character and byte.

    Each text is scored in one forward pass after the tokenizer's BOS token (else its EOS token), so
    the summed NLL covers every character. Also the share of tokens that continue a character begun
    by the token before (byte pieces: their offsets share a character) and the mean NLL of those and
    of the others. Rows in the dict's order. Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    texts = _check_named("texts", texts, "text")
    for name, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"texts[{name!r}] must be a non-empty str")
    device, max_positions = check_causal_lm(model)
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(f"tokenizer must be a fast transformers tokenizer (it reports character offsets), "
                        f"got {type(tokenizer).__name__}")
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if start is None:
        raise ValueError("tokenizer has neither a BOS nor an EOS token to put before each text")
    encoded = {}
    for name, text in texts.items():  # every check before the first forward pass
        encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        ids = torch.tensor([start] + list(encoding["input_ids"]))  # (n + 1,)
        check_length(f"tokens of texts[{name!r}] + 1", ids.numel(), max_positions, "one pass must fit the positions")
        check_ids_in_vocab(ids, model, tokenizer, name=f"the tokenizer's ids of texts[{name!r}]")
        encoded[name] = (ids, list(encoding["offset_mapping"]))
    rows = []
    for name, (ids, offsets) in encoded.items():
        with torch.inference_mode():
            logits = model(input_ids=ids[None].to(device)).logits[0, :-1].float()  # (n, V): predicts ids[1:]
            nll = torch.nn.functional.cross_entropy(logits, ids[1:].to(device), reduction="none").cpu()  # (n,)
        inside = torch.tensor([i > 0 and offsets[i][0] < offsets[i - 1][1] for i in range(len(offsets))])  # (n,)
        text, total, n = texts[name], float(nll.sum()), len(offsets)
        rows.append({"text": name, "tokens": n, "characters": len(text), "bytes": len(text.encode("utf-8")),
                     "nll": total, "ppl": math.exp(total / n), "bits_per_token": total / math.log(2) / n,
                     "bits_per_char": bits_per_character(total, text), "bits_per_byte": bits_per_byte(total, text),
                     "inside_share": float(inside.float().mean()),
                     "inside_nll": float(nll[inside].mean()) if inside.any() else None,
                     "start_nll": float(nll[~inside].mean())})
    return rows


@checked
def loss_table(rows: list[dict]) -> str:
    """language_losses' rows as a printed table, one column per text, row names in the learner's language.

    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    rows = check_rows("rows", rows, LOSS_KEYS, "language_losses")
    measures = [
        (N_("tokens"), lambda r: f"{r['tokens']:,}"), (N_("characters"), lambda r: f"{r['characters']:,}"),
        (N_("UTF-8 bytes"), lambda r: f"{r['bytes']:,}"), (N_("perplexity per token"), lambda r: f"{r['ppl']:.3g}"),
        (N_("bits per token"), lambda r: f"{r['bits_per_token']:.3g}"),
        (N_("bits per character"), lambda r: f"{r['bits_per_char']:.3g}"),
        (N_("bits per byte"), lambda r: f"{r['bits_per_byte']:.3g}"),
        (N_("tokens that continue a character"), lambda r: f"{r['inside_share']:.0%}"),
        (N_("mean loss of those tokens (nats)"), lambda r: "—" if r["inside_nll"] is None else f"{r['inside_nll']:.3g}"),
        (N_("other tokens' mean loss (nats)"), lambda r: f"{r['start_nll']:.3g}"),
    ]
    header = [("", 34, "<")] + [(text_label(r["text"]), 10, ">") for r in rows]
    body = [[tr(label)] + [show(r) for r in rows] for label, show in measures]
    return _lines(header, body)
