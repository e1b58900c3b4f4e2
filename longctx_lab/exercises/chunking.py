"""Exercises for 01_chunking: the plan arithmetic, the memory ratio, special tokens, whole sentences.

Every expected answer is computed by the kit's own code, so it cannot drift from what the notebook shows.
"""
from __future__ import annotations

from functools import lru_cache

from ..chunking import ChunkPlan, sentence_token_spans, spans_kept_whole
from . import Exercise, expect_close, expect_equal

__all__ = ["EXERCISES", "content_per_chunk", "count_chunks", "memory_ratio", "smallest_whole_overlap_answer",
           "whole_sentence_overlap"]

_PLAN = ChunkPlan(1000, 128, 32)
count_chunks = Exercise(
    title="Count the chunks",
    question="A text has n = 1000 tokens. You cut it into chunks of k = 128 tokens with overlap o = 32. "
             "How many chunks m do you get?",
    checker=expect_equal(_PLAN.m, what="m for n=1000, k=128, o=32"),
    hints=["Consecutive chunks start k - o tokens apart (the stride).",
           "The first chunk covers k tokens; every further chunk adds only k - o new ones.",
           "m = ceil((n - o) / (k - o)); check it with ChunkPlan(1000, 128, 32).m."],
    solution_text=f"The stride is 128 - 32 = 96. After the first chunk, 1000 - 128 = 872 tokens remain, "
                  f"needing ceil(872 / 96) = 10 more chunks: m = ceil((1000 - 32) / 96) = {_PLAN.m}. "
                  f"ChunkPlan(1000, 128, 32).m = {_PLAN.m}.",
)

_MEMORY = ChunkPlan(4096, 512)
memory_ratio = Exercise(
    title="Predict the memory ratio",
    question="n = 4096 tokens, chunks of k = 512, no overlap. By what factor is the attention-score memory of "
             "one full pass (n^2 entries per head) larger than that of the chunked batch (m * k^2)?",
    checker=expect_close(_MEMORY.full_scores / _MEMORY.chunked_scores, rel=1e-6, what="the ratio n^2 / (m k^2)"),
    hints=["First find m.", "With no padding m * k = n, so m * k^2 = n * k.",
           "The ratio n^2 / (n k) simplifies to n / k."],
    solution_text=f"m = 8 chunks, so the chunked scores take 8 * 512^2 = {_MEMORY.chunked_scores:,} entries against "
                  f"4096^2 = {_MEMORY.full_scores:,}: a factor n / k = "
                  f"{_MEMORY.full_scores // _MEMORY.chunked_scores}. The factor grows with n: chunking turns "
                  "quadratic memory into linear.",
)


@lru_cache(maxsize=1)  # loading MiniLM takes seconds; a learner may check many times
def _minilm_specials() -> int:
    from ..models import load_minilm

    return load_minilm()[1].num_special_tokens_to_add(pair=False)


def _check_content(answer) -> str | None:
    expected = 64 - _minilm_specials()
    if answer == expected:
        return None
    if answer == 64:
        return "64 counts every position, but some positions of each chunk are not text."
    return f"{answer!r} is not the number of text tokens in a full 64-token MiniLM chunk."


content_per_chunk = Exercise(
    title="Where did my tokens go?",
    question="chunk_text(document, tokenizer, max_length=64) with the MiniLM tokenizer: how many tokens of "
             "the document does each full chunk hold?",
    checker=_check_content,
    hints=["Print tokenizer.convert_ids_to_tokens(chunks[0].input_ids) and look at both ends.",
           "BERT-style tokenizers wrap every chunk in [CLS] ... [SEP]; "
           "tokenizer.num_special_tokens_to_add() counts them."],
    solution_text="Each chunk is [CLS] + 62 text tokens + [SEP]: max_length counts the special tokens, so the "
                  "text budget per chunk is max_length - 2 = 62, and the plan is ChunkPlan(n, 62, stride).",
)

_K = 24


@lru_cache(maxsize=1)
def smallest_whole_overlap_answer(text_name: str = "short_paragraph", k: int = _K) -> int:
    """The smallest overlap with which every sentence of the text lies whole inside some chunk of k tokens.

    Taught in 01_chunking, § Exercises.
    """
    from ..data import load_text
    from ..models import load_minilm

    _, _, sentences = sentence_token_spans(load_text(text_name), load_minilm()[1])
    n = sentences[-1][1]
    for overlap in range(k):
        if all(spans_kept_whole(ChunkPlan(n, k, overlap).spans, sentences)):
            return overlap
    raise ValueError(f"no overlap below k={k} keeps every sentence of {text_name!r} whole")


def _check_overlap_answer(answer) -> str | None:
    expected = smallest_whole_overlap_answer()
    if answer == expected:
        return None
    if isinstance(answer, int) and answer > expected:
        return f"overlap {answer} works, but a smaller one does too."
    return f"with overlap {answer!r} at least one sentence is still cut between two chunks."


whole_sentence_overlap = Exercise(
    title="Keep every sentence whole",
    question=f"Tokenize the short paragraph with MiniLM and cut it into chunks of k = {_K} tokens. What is the "
             "smallest overlap for which every sentence lies whole inside at least one chunk?",
    checker=_check_overlap_answer,
    hints=["sentence_token_spans(text, tokenizer) gives each sentence's token range.",
           "spans_kept_whole(ChunkPlan(n, k, o).spans, sentences) tells you which sentences survive; try o = 0, 1, ...",
           "A sentence of L tokens is guaranteed to fit in some chunk once o >= L - 1, "
           "but a luckier placement can need less."],
    solution_text="Loop over o = 0 … k-1 and stop at the first o where "
                  "all(spans_kept_whole(ChunkPlan(n, k, o).spans, sentences)) holds; "
                  "smallest_whole_overlap_answer() runs exactly that loop.",
)

EXERCISES = [count_chunks, memory_ratio, content_per_chunk, whole_sentence_overlap]
