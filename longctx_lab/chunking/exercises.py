"""Exercises for 01_chunking: the plan arithmetic, the memory ratio, special tokens, whole sentences.

Every expected answer is computed by the kit's own code, so it cannot drift from what the notebook shows;
each checker recognises the mistakes the chapter warns about and explains them.
"""
from __future__ import annotations

import math
from functools import lru_cache

from ..core.checked import checked
from ..core.answers import Mistake, NumberAnswer
from ..core.checks import check_choice
from ..core.data import list_texts
from ..core.exercise_kit import N_, Exercise
from .plan import ChunkPlan
from .text import sentence_token_spans, spans_kept_whole

__all__ = ["EXERCISES", "content_per_chunk", "count_chunks", "memory_ratio", "smallest_whole_overlap_answer",
           "whole_sentence_overlap"]

_N, _K, _O = 1000, 128, 32
_PLAN = ChunkPlan(_N, _K, _O)
count_chunks = Exercise(
    title=N_("Count the chunks"),
    question=N_("A text has n = 1000 tokens. You cut it into chunks of k = 128 tokens with overlap o = 32. "
             "How many chunks m do you get?"),
    checker=NumberAnswer(
        _PLAN.m, whole=True,
        fields={"n": _N, "k": _K, "o": _O, "stride": _K - _O},
        mistakes=[
            Mistake((_N - _O) // (_K - _O),
                    N_("{answer} = (n − o) // (k − o) rounds down and drops the last partial chunk, which still "
                       "needs a segment: m = ⌈(n − o)/(k − o)⌉. Counting only the chunks after the first, "
                       "⌈(n − k)/(k − o)⌉, gives the same number: the first chunk counts too.")),
            Mistake((_N - _O) / (_K - _O),
                    N_("{answer} = (n − o)/(k − o) is not a whole number of chunks: the last partial chunk still "
                       "needs a segment, so round up, m = ⌈(n − o)/(k − o)⌉.")),
            Mistake(_N / (_K - _O),
                    N_("{answer} = n/(k − o) is not a whole number of chunks, and the first chunk covers k tokens, "
                       "not k − o: m = ⌈(n − o)/(k − o)⌉.")),
            Mistake(math.ceil(_N / _K),
                    N_("{answer} = ⌈n / k⌉ ignores the overlap: consecutive chunks start only k − o = {stride} "
                       "tokens apart, so more chunks are needed: m = ⌈(n − o)/(k − o)⌉.")),
            Mistake(_N // _K,
                    N_("{answer} = n // k ignores the overlap and drops the last partial chunk: chunks start "
                       "k − o = {stride} tokens apart, and a partial chunk still needs a segment.")),
            Mistake(_N / _K,
                    N_("{answer} = n / k ignores the overlap and is not a whole number of chunks: chunks start "
                       "k − o = {stride} tokens apart, and m = ⌈(n − o)/(k − o)⌉.")),
            Mistake(0, N_("a non-empty text needs at least one chunk; {answer} is not a number of chunks."),
                    when=lambda x: x < 1, invalid=True),
        ],
        too_small=N_("{answer} chunks of k = {k} tokens, starting {stride} tokens apart, cannot cover n = {n} "
                     "tokens: m = ⌈(n − o)/(k − o)⌉."),
        too_large=N_("{answer} chunks is more than needed: chunks start k − o = {stride} tokens apart and the last "
                     "one may be partial, m = ⌈(n − o)/(k − o)⌉."),
    ),
    hints=[N_("Consecutive chunks start k - o tokens apart (the stride)."),
           N_("The first chunk covers k tokens; every further chunk adds only k - o new ones."),
           N_("m = ceil((n - o) / (k - o)); check it with ChunkPlan(1000, 128, 32).m.")],
    solution_text=N_("The stride is 128 - 32 = 96. After the first chunk, 1000 - 128 = 872 tokens remain, needing "
                     "ceil(872 / 96) = 10 more chunks: m = ceil((1000 - 32) / 96) = {m}. ChunkPlan(1000, 128, 32).m = "
                     "{m}."),
    values={"m": _PLAN.m},
)

_MEMORY = ChunkPlan(4096, 512)
_RATIO = _MEMORY.full_scores / _MEMORY.chunked_scores
memory_ratio = Exercise(
    title=N_("Predict the memory ratio"),
    question=N_("n = 4096 tokens, chunks of k = 512, no overlap. By what factor is the attention-score memory of "
             "one full pass (n^2 entries per head) larger than that of the chunked batch (m * k^2)?"),
    checker=NumberAnswer(
        _RATIO, rel=1e-6,
        fields={"m": _MEMORY.m},
        mistakes=[
            Mistake(_RATIO**2, N_("{answer} = (n/k)² compares n² with k², the scores of a single chunk; the batch "
                                  "holds m = {m} chunks, m · k² scores.")),
            Mistake(1 / _RATIO, N_("{answer} is the inverse, chunked / full; the question asks how many times larger "
                                   "the full pass is.")),
            Mistake(1 / _RATIO**2, N_("{answer} is one chunk's scores over the full pass, k²/n²; the question asks "
                                      "for full / chunked, and the batch holds m = {m} chunks.")),
            Mistake(1, N_("{answer} would mean chunking saves no score memory; it is the dense layers' work per "
                          "token that stays the same, while the scores go from n² to m · k².")),
            Mistake(0, N_("a ratio of two memory sizes is positive; {answer} cannot be it."),
                    when=lambda x: x <= 0, invalid=True),
        ],
        too_small=N_("{answer} is too small: divide n² by m · k², with m = n / k chunks."),
        too_large=N_("{answer} is too large: divide n² by m · k², with m = n / k chunks."),
    ),
    hints=[N_("First find m."), N_("With no padding m * k = n, so m * k^2 = n * k."),
           N_("The ratio n^2 / (n k) simplifies to n / k.")],
    solution_text=N_("m = 8 chunks, so the chunked scores take 8 * 512^2 = {chunked:,} entries against 4096^2 = "
                     "{full:,}: a factor n / k = {factor}. The factor grows with n: chunking turns quadratic memory "
                     "into linear."),
    values={"chunked": _MEMORY.chunked_scores, "full": _MEMORY.full_scores,
            "factor": _MEMORY.full_scores // _MEMORY.chunked_scores},
)


@lru_cache(maxsize=1)  # loading MiniLM takes seconds; a learner may check many times
def _minilm_specials() -> int:
    from ..core.models import load_minilm

    return load_minilm()[1].num_special_tokens_to_add(pair=False)


_MAX_LENGTH = 64


def _content_mistakes() -> list:
    specials = _minilm_specials()
    return [
        Mistake(_MAX_LENGTH, N_("{answer} counts every position, but max_length includes the special tokens: each "
                                "chunk is [CLS] + text + [SEP], so {specials} positions are not text.")),
        Mistake(_MAX_LENGTH - 1, N_("{answer} removes one special token, but BERT-style tokenizers wrap every chunk "
                                    "in {specials}: [CLS] at the start and [SEP] at the end.")),
        Mistake(128 - specials, N_("{answer} is the text budget for max_length = 128, the chapter's example; this "
                                   "question uses max_length = {max_length}.")),
        Mistake(0, N_("a chunk of max_length = {max_length} holds between 1 and {max_length} tokens, special tokens "
                      "included; {answer} is not possible."),
                when=lambda x: x < 1 or x > _MAX_LENGTH, invalid=True),
    ]


content_per_chunk = Exercise(
    title=N_("Where did my tokens go?"),
    question=N_("chunk_text(document, tokenizer, max_length=64) with the MiniLM tokenizer: how many tokens of "
             "the document does each full chunk hold?"),
    checker=NumberAnswer(
        lambda: _MAX_LENGTH - _minilm_specials(), whole=True,
        fields=lambda: {"specials": _minilm_specials(), "max_length": _MAX_LENGTH},
        mistakes=_content_mistakes,
        too_small=N_("{answer} is too few: only the special tokens of each chunk are not document text "
                     "(tokenizer.num_special_tokens_to_add() counts them)."),
        too_large=N_("{answer} is too many: max_length = {max_length} counts the special tokens too."),
    ),
    hints=[N_("Print tokenizer.convert_ids_to_tokens(chunks[0].input_ids) and look at both ends."),
           N_("BERT-style tokenizers wrap every chunk in [CLS] ... [SEP]; "
           "tokenizer.num_special_tokens_to_add() counts them.")],
    solution_text=N_("Each chunk is [CLS] + 62 text tokens + [SEP]: max_length counts the special tokens, so the "
                  "text budget per chunk is max_length - 2 = 62, and the plan is ChunkPlan(n, 62, stride)."),
)

_K = 24


@lru_cache(maxsize=1)
def _paragraph(text_name: str = "short_paragraph"):
    """The paragraph's text, its MiniLM token character offsets and its sentences' token spans."""
    from ..core.data import load_text
    from ..core.models import load_minilm

    text = load_text(text_name)
    _, offsets, sentences = sentence_token_spans(text, load_minilm()[1])
    return text, offsets, sentences


@checked
@lru_cache(maxsize=1)
def smallest_whole_overlap_answer(text_name: str = "short_paragraph", k: int = _K) -> int:
    """The smallest overlap with which every sentence of the text lies whole inside some chunk of k tokens.

    Taught in 01_chunking, § Exercises.
    """
    check_choice("text_name", text_name, list_texts())
    _, _, sentences = _paragraph(text_name)
    n = sentences[-1][1]
    for overlap in range(k):
        if all(spans_kept_whole(ChunkPlan(n, k, overlap).spans, sentences)):
            return overlap
    raise ValueError(f"no overlap below k={k} keeps every sentence of {text_name!r} whole")


def _first_cut(overlap: int) -> "int | None":
    """Index of the first sentence no chunk holds whole with this overlap (None: all whole)."""
    _, _, sentences = _paragraph()
    kept = spans_kept_whole(ChunkPlan(sentences[-1][1], _K, overlap).spans, sentences)
    return next((i for i, whole in enumerate(kept) if not whole), None)


def _cut_details(overlap: int) -> dict:
    text, offsets, sentences = _paragraph()
    index = _first_cut(overlap)
    start, end = sentences[index]
    words = text[offsets[start][0]:offsets[end - 1][1]].split()
    opening = " ".join(words[:5]) + (" …" if len(words) > 5 else "")
    return {"sentence": index + 1, "opening": opening, "start": start, "last": end - 1, "length": end - start}


def _overlap_fields() -> dict:
    _, _, sentences = _paragraph()
    longest = max(end - start for start, end in sentences)
    return {"k": _K, "longest": longest, "guarantee": longest - 1}


def _valid_overlap(x) -> bool:
    return isinstance(x, int) and 0 <= x < _K


def _overlap_mistakes() -> list:
    expected = smallest_whole_overlap_answer()
    guarantee = _overlap_fields()["guarantee"]
    works_bigger = next((o for o in range(expected + 1, _K) if o != guarantee and _first_cut(o) is None), _K - 1)
    cut_bigger = next((o for o in range(expected + 1, _K) if _first_cut(o) is not None), expected)
    return [
        Mistake(_K, N_("an overlap must be at least 0 and smaller than k = {k}: with o ≥ k the stride k − o is not "
                       "positive and the chunks never move on. {answer} is not a valid overlap."),
                when=lambda x: not isinstance(x, float) and not 0 <= x < _K, invalid=True),
        Mistake(guarantee, N_("{answer} = L − 1 for the longest sentence (L = {longest} tokens) guarantees that every "
                              "sentence fits wherever the chunks fall, but a luckier placement needs less: the "
                              "question asks for the smallest overlap that works for this text.")),
        Mistake(works_bigger, N_("overlap {answer} keeps every sentence whole, but a smaller overlap does too: try "
                                 "the overlaps in order, o = 0, 1, 2, …"),
                when=lambda x: _valid_overlap(x) and x > expected and _first_cut(x) is None),
        Mistake(cut_bigger, N_("with overlap {answer} sentence {sentence} (“{opening}”, tokens {start}–{last}) is cut "
                               "between two chunks: a larger overlap is not always safer, because it moves every "
                               "chunk start. Try the overlaps in order, o = 0, 1, 2, …"),
                when=lambda x: _valid_overlap(x) and x > expected, details=_cut_details),
        Mistake(0, N_("with overlap {answer} sentence {sentence} (“{opening}”, tokens {start}–{last}, {length} tokens) "
                      "is still cut between two chunks."),
                when=lambda x: _valid_overlap(x) and x < expected, details=_cut_details),
    ]


whole_sentence_overlap = Exercise(
    title=N_("Keep every sentence whole"),
    question=N_("Tokenize the short paragraph with MiniLM and cut it into chunks of k = {k} tokens. What is the "
                "smallest overlap for which every sentence lies whole inside at least one chunk?"),
    values={"k": _K},
    checker=NumberAnswer(smallest_whole_overlap_answer, whole=True, fields=_overlap_fields,
                         mistakes=_overlap_mistakes),
    hints=[N_("sentence_token_spans(text, tokenizer) gives each sentence's token range."),
           N_("spans_kept_whole(ChunkPlan(n, k, o).spans, sentences) tells you which sentences survive; try o = 0, 1, ..."),
           N_("A sentence of L tokens is guaranteed to fit in some chunk once o >= L - 1, "
           "but a luckier placement can need less.")],
    solution_text=N_("Loop over o = 0 … k-1 and stop at the first o where "
                  "all(spans_kept_whole(ChunkPlan(n, k, o).spans, sentences)) holds; "
                  "smallest_whole_overlap_answer() runs exactly that loop."),
)

EXERCISES = [count_chunks, memory_ratio, content_per_chunk, whole_sentence_overlap]
