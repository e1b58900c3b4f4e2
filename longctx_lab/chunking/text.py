"""Chunking real text: tokenizer-exact chunks with character spans, sentence-aware chunks, and their cost."""
from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ..core.checked import checked
from ..core.checks import as_int, check_choice
from ..core.data import split_sentences
from ..core.timing import alternating_medians

__all__ = ["TextChunk", "chunk_text", "sentence_token_spans", "chunk_sentences", "spans_kept_whole", "batch_chunks", "encoder_flops", "forward_seconds"]


@checked
@dataclass(frozen=True)
class TextChunk:
    """One chunk of a text: its model-ready ids, where it sits in the text, and that text.

    `input_ids` include the tokenizer's special tokens; `token_span` is the [start, end) range of
    its content tokens in the whole text's tokenization without special tokens.
    Taught in 01_chunking, § Chunking real text.
    """

    input_ids: list[int]
    char_span: tuple[int, int]
    text: str
    token_span: tuple[int, int]


def _check_text(text: Any, tokenizer: Any) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text is empty or only whitespace; there is nothing to chunk")
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(f"tokenizer must be a fast (Rust-backed) transformers tokenizer that reports offsets, "
                        f"got {type(tokenizer).__name__}")


def _check_text_args(text: Any, tokenizer: Any, max_length: Any) -> tuple[int, int]:
    """(max_length, content budget) after validating the text, the tokenizer and max_length."""
    _check_text(text, tokenizer)
    specials = tokenizer.num_special_tokens_to_add(pair=False)
    max_length = as_int("max_length", max_length, specials + 1)
    return max_length, max_length - specials


def _special_frame(tokenizer) -> tuple[list[int], list[int]]:
    """The special ids the tokenizer puts before and after one sequence (e.g. [CLS] ... [SEP])."""
    probe = tokenizer("a", return_special_tokens_mask=True)
    ids, special = probe["input_ids"], probe["special_tokens_mask"]
    first, last = special.index(0), len(special) - special[::-1].index(0)
    return list(ids[:first]), list(ids[last:])


@checked
def chunk_text(text: str, tokenizer, max_length: int, stride: int = 0) -> list[TextChunk]:
    """Chunk `text` exactly as `tokenizer(text, truncation=True, max_length=max_length,
    return_overflowing_tokens=True, stride=stride)` does, adding each chunk's character span.

    HF's stride is the number of tokens a chunk shares with the previous one (our overlap), so the
    content tokens follow `ChunkPlan(n, max_length - specials, stride)`.
    Taught in 01_chunking, § Chunking real text.
    """
    max_length, budget = _check_text_args(text, tokenizer, max_length)
    stride = as_int("stride", stride, 0, budget - 1)  # the Rust tokenizer panics beyond this
    encoding = tokenizer(text, truncation=True, max_length=max_length, return_overflowing_tokens=True,
                         stride=stride)
    # Every overflow chunk is framed alike ([CLS] ... [SEP] for BERT), so the content sits between
    # `before` and `after` specials; only its two end tokens' offsets are needed for the span.
    prefix, suffix = _special_frame(tokenizer)
    before, after = len(prefix), len(suffix)
    chunks, start = [], 0
    for i, ids in enumerate(encoding["input_ids"]):
        n_content = len(ids) - before - after
        if n_content < 1:
            raise ValueError("text produced no tokens (only characters the tokenizer drops); nothing to chunk")
        first, last = encoding.token_to_chars(i, before), encoding.token_to_chars(i, before + n_content - 1)
        char_span = (first.start, last.end)
        chunks.append(TextChunk(ids, char_span, text[char_span[0]:char_span[1]], (start, start + n_content)))
        start += n_content - stride
    return chunks


@checked
def sentence_token_spans(text: str, tokenizer, sentence_spans: Sequence[tuple[int, int]] | None = None):
    """The text's content token ids, their character offsets, and each sentence's [start, end) token range.

    Sentences come from `longctx_lab.core.data.split_sentences` unless `sentence_spans` (character spans)
    are given; a token belongs to the last sentence starting at or before its last character, so every
    token lands in exactly one sentence. Taught in 01_chunking, § Sentence-aware chunking.
    """
    _check_text(text, tokenizer)
    if sentence_spans is None:
        sentence_spans = split_sentences(text)
    starts = sorted(int(start) for start, _ in sentence_spans) or [0]
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    ids, offsets = list(encoding["input_ids"]), list(encoding["offset_mapping"])
    if not ids:
        raise ValueError("text produced no tokens (only characters the tokenizer drops); nothing to chunk")
    # A token belongs to the sentence holding its last character: byte-level BPE tokens such as " The"
    # start on the space before a sentence, but their word is in it.
    owner = [max(bisect.bisect_right(starts, max(begin, end - 1)) - 1, 0) for begin, end in offsets]
    spans, begin = [], 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or owner[i] != owner[begin]:
            spans.append((begin, i))
            begin = i
    return ids, offsets, spans


@checked
def chunk_sentences(text: str, tokenizer, max_length: int,
                    sentence_spans: Sequence[tuple[int, int]] | None = None) -> list[TextChunk]:
    """Pack whole sentences into chunks of at most `max_length` tokens (special tokens included).

    A chunk is cut inside a sentence only when that sentence alone exceeds the budget. Lossless: the
    chunks' content tokens, in order, are the whole text's tokenization, and their `text`s joined
    give back `text` (each chunk's character span runs to where the next one starts).
    Taught in 01_chunking, § Sentence-aware chunking.
    """
    max_length, budget = _check_text_args(text, tokenizer, max_length)
    ids, offsets, sentences = sentence_token_spans(text, tokenizer, sentence_spans)
    token_spans: list[tuple[int, int]] = []
    start = end = 0
    for s_start, s_end in sentences:
        if s_end - start <= budget:
            end = s_end
            continue
        if end > start:
            token_spans.append((start, end))
            start = end
        while s_end - start > budget:  # a sentence longer than the budget: cut it, the rest carries on
            token_spans.append((start, start + budget))
            start += budget
        end = s_end
    token_spans.append((start, end))
    char_starts = [0] + [offsets[a][0] for a, _ in token_spans[1:]] + [len(text)]
    prefix, suffix = _special_frame(tokenizer)
    return [
        TextChunk(prefix + ids[a:b] + suffix, (char_starts[i], char_starts[i + 1]),
                  text[char_starts[i]:char_starts[i + 1]], (a, b))
        for i, (a, b) in enumerate(token_spans)
    ]


@checked
def spans_kept_whole(chunk_spans: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[bool]:
    """For each [start, end) span (e.g. a sentence's tokens), whether some chunk contains it whole.

    Taught in 01_chunking, § Sentence-aware chunking.
    """
    return [any(c_start <= start and end <= c_end for c_start, c_end in chunk_spans) for start, end in spans]


@checked
def batch_chunks(chunks: Sequence[TextChunk], tokenizer, return_tensors: str = "pt"):
    """Pad the chunks' ids into one batch with an attention mask: the model input the seed never built.

    Taught in 01_chunking, § Why the seed's pipeline fails.
    """
    if not chunks or not all(isinstance(chunk, TextChunk) for chunk in chunks):
        raise TypeError("chunks must be a non-empty list of TextChunk (from chunk_text or chunk_sentences)")
    check_choice("return_tensors", return_tensors, ("pt", "np"))
    return tokenizer.pad({"input_ids": [chunk.input_ids for chunk in chunks]}, return_tensors=return_tensors)


@checked
def encoder_flops(batch: int, length: int, d_model: int = 384, n_layers: int = 6) -> dict[str, float]:
    """Forward FLOPs of a BERT-style encoder on a (batch, length) input: dense 24·d² per token, attention 4·d per score.

    Taught in 01_chunking, § What chunking costs.
    """
    batch, length = as_int("batch", batch, 1), as_int("length", length, 1)
    dense = 24.0 * batch * length * d_model**2 * n_layers
    attention = 4.0 * batch * length**2 * d_model * n_layers
    return {"dense": dense, "attention": attention, "total": dense + attention}


@checked(repeat=(1, 1000), warmup=(0, 1000))
def forward_seconds(model: torch.nn.Module, batches: dict[str, Any], repeat: int = 5, warmup: int = 1) -> dict[str, float]:
    """Median wall time in seconds of `model(**batch)` for each named batch, under inference mode.

    The batches take turns (one call each per round), so a busy machine slows them all alike and
    their ratio stays meaningful. Taught in 01_chunking, § What chunking costs.
    """
    with torch.inference_mode():
        return alternating_medians({name: functools.partial(model, **batch) for name, batch in batches.items()},
                                   repeat, warmup)
