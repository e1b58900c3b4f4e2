"""Chapter 1 tests: plan arithmetic, lossless chunking of every input type, tokenizer-exact text chunks."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from longctx_lab import load_minilm, load_text
from longctx_lab.chunking.plan import ChunkPlan, chunk_ids, seed_split_sequence, split_sequence, stitch
from longctx_lab.chunking.text import (
    TextChunk, batch_chunks, chunk_sentences, chunk_text, forward_seconds, sentence_token_spans, spans_kept_whole,
)
from longctx_lab.core.timing import alternating_medians
from longctx_lab.chunking import exercises as ex
from longctx_lab.core.exercise_kit import ____

PROPERTY = settings(max_examples=150, deadline=None)
TEXT_PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def n_k_overlap(draw, max_n: int = 300):
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(1, 64))
    overlap = draw(st.integers(0, k - 1))
    return n, k, overlap


@pytest.fixture(scope="module")
def tok():
    return load_minilm()[1]


@pytest.fixture(scope="module")
def document() -> str:
    return load_text("long_document")


# ---------------------------------------------------------------- plan arithmetic

@pytest.mark.parametrize("n, k, overlap, m", [(10, 4, 0, 3), (10, 4, 1, 3), (10, 4, 2, 4), (4, 4, 0, 1),
                                              (3, 8, 5, 1), (1000, 128, 32, 11), (4096, 512, 0, 8)])
def test_plan_counts(n, k, overlap, m):
    plan = ChunkPlan(n, k, overlap)
    assert plan.m == m
    assert plan.stride == k - overlap
    assert plan.spans[0][0] == 0 and plan.spans[-1][1] == n


@given(n_k_overlap())
@PROPERTY
def test_plan_spans_cover_every_token_with_the_stated_overlap(args):
    n, k, overlap = args
    plan = ChunkPlan(n, k, overlap)
    spans = plan.spans
    assert len(spans) == plan.m
    assert all(0 < end - start <= k for start, end in spans)
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        assert b0 - a0 == plan.stride and a1 - b0 == overlap  # neighbours share exactly `overlap` tokens
    assert plan.duplicated == sum(e - s for s, e in spans) - n
    assert plan.padding == plan.m * k - sum(e - s for s, e in spans)
    assert plan.chunked_scores == plan.m * k * k and plan.full_scores == n * n
    if n > k:
        assert plan.m == math.ceil((n - overlap) / (k - overlap))


@given(n=st.integers(1, 200), m=st.integers(1, 200), overlap=st.integers(0, 40))
@PROPERTY
def test_from_m_gives_m_chunks_with_the_smallest_k(n, m, overlap):
    exact = [k for k in range(overlap + 1, n + overlap + 2) if ChunkPlan(n, k, overlap).m == m]
    if m > n:
        with pytest.raises(ValueError, match="m"):
            ChunkPlan.from_m(n, m, overlap)
        return
    if not exact:
        with pytest.raises(ValueError, match="m="):
            ChunkPlan.from_m(n, m, overlap)
        return
    plan = ChunkPlan.from_m(n, m, overlap)
    assert plan.m == m and plan.overlap == overlap
    assert plan.k == min(exact)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(n=10, k=0), ValueError, "k"), (dict(n=10, k=-3), ValueError, "k"), (dict(n=10, k=2.5), TypeError, "k"),
    (dict(n=10, k=True), TypeError, "k"), (dict(n=0, k=4), ValueError, "n"), (dict(n=10, k=4, overlap=-1), ValueError, "overlap"),
    (dict(n=10, k=4, overlap=4), ValueError, r"overlap=4 is out of range; valid: 0 ≤ overlap ≤ 3 \(k - 1"),
])
def test_plan_rejects_bad_arguments(kwargs, error, name):
    with pytest.raises(error, match=name):
        ChunkPlan(**kwargs)


@pytest.mark.parametrize("n, m, error, name", [(10, 0, ValueError, "m"),
                                               (10, 11, ValueError, r"m=11 is out of range; valid: 1 ≤ m ≤ 10"),
                                               (10, 2.0, TypeError, "m"), (0, 1, ValueError, "n")])
def test_from_m_rejects_bad_arguments(n, m, error, name):
    with pytest.raises(error, match=name):
        ChunkPlan.from_m(n, m)


# ---------------------------------------------------------------- split_sequence and stitch

def _as_kind(values: list[int], kind: str):
    return {"list": lambda: values, "tuple": lambda: tuple(values), "str": lambda: "".join(chr(97 + v % 26) for v in values),
            "tensor": lambda: torch.tensor(values), "array": lambda: np.array(values)}[kind]()


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    return type(a) is type(b) and a == b


@given(args=n_k_overlap(), kind=st.sampled_from(["list", "tuple", "str", "tensor", "array"]), seed=st.integers(0, 99))
@PROPERTY
def test_split_then_stitch_is_lossless_for_every_type(args, kind, seed):
    n, k, overlap = args
    seq = _as_kind(list(np.random.default_rng(seed).integers(0, 1000, n)), kind)
    chunks = split_sequence(seq, max_len=k, overlap=overlap)
    assert all(type(chunk) is type(seq) for chunk in chunks)
    assert [len(c) for c in chunks] == [e - s for s, e in ChunkPlan(n, k, overlap).spans]
    assert _equal(stitch(chunks, overlap=overlap), seq)


@given(seq=st.lists(st.integers(), min_size=1, max_size=300), k=st.integers(1, 50))
@PROPERTY
def test_split_without_overlap_is_the_seeds_function(seq, k):
    assert split_sequence(seq, max_len=k) == seed_split_sequence(seq, max_len=k)


def test_seed_leaves_a_short_last_chunk():
    chunks = seed_split_sequence(list(range(300)), max_len=128)
    assert [len(c) for c in chunks] == [128, 128, 44]


def test_split_tensor_chunks_are_views():
    seq = torch.arange(100)
    chunks = split_sequence(seq, max_len=30, overlap=5)
    assert all(chunk.untyped_storage().data_ptr() == seq.untyped_storage().data_ptr() for chunk in chunks)


@pytest.mark.parametrize("seq, kwargs, error, name", [
    ([], {}, ValueError, "seq is empty"), ("", {}, ValueError, "seq is empty"),
    ({1, 2}, {}, TypeError, "seq must be"), (42, {}, TypeError, "seq must be"), (torch.zeros(2, 3), {}, ValueError, "seq must be 1-D"),
    ([1, 2, 3], dict(max_len=0), ValueError, "max_len"), ([1, 2, 3], dict(max_len=1.5), TypeError, "max_len"),
    ([1, 2, 3], dict(max_len=4, overlap=4), ValueError, r"overlap=4 is out of range; valid: 0 ≤ overlap ≤ 3 \(max_len - 1"),
    ([1, 2, 3], dict(overlap=-2), ValueError, "overlap"),
])
def test_split_rejects_bad_input(seq, kwargs, error, name):
    with pytest.raises(error, match=name):
        split_sequence(seq, **kwargs)


@pytest.mark.parametrize("chunks, kwargs, error, name", [
    ([], {}, ValueError, "chunks is empty"), ("abc", {}, TypeError, "chunks must be"),
    ([[1, 2], "ab"], {}, TypeError, "chunks must all be"), ([[1, 2, 3], [3]], dict(overlap=1), ValueError, "chunk 1"),
    ([[1, 2]], dict(overlap=-1), ValueError, "overlap"), ([[1, 2]], dict(mask=torch.ones(1, 2)), ValueError, "mask"),
    (torch.zeros(2, 4), dict(overlap=4), ValueError, "overlap"), (torch.zeros(2, 4), dict(mask=torch.ones(2, 3)), ValueError, "mask"),
])
def test_stitch_rejects_bad_input(chunks, kwargs, error, name):
    with pytest.raises(error, match=name):
        stitch(chunks, **kwargs)


# ---------------------------------------------------------------- chunk_ids

@given(args=n_k_overlap(), kind=st.sampled_from(["list", "tensor", "array"]), pad_id=st.integers(-5, 5))
@PROPERTY
def test_chunk_ids_rows_are_the_split_chunks_and_stitch_inverts(args, kind, pad_id):
    n, k, overlap = args
    values = list(range(100, 100 + n))
    chunks, mask = chunk_ids(_as_kind(values, kind), k, overlap=overlap, pad_id=pad_id)
    plan = ChunkPlan(n, k, overlap)
    assert chunks.shape == mask.shape == (plan.m, k) and chunks.dtype == torch.long
    for row, row_mask, piece in zip(chunks, mask, split_sequence(values, k, overlap)):
        assert row[row_mask.bool()].tolist() == piece
        assert (row[~row_mask.bool()] == pad_id).all()
    assert int(mask.sum()) == n + plan.duplicated
    assert stitch((chunks, mask), overlap=overlap).tolist() == values
    assert stitch(chunks, overlap=overlap, mask=mask).tolist() == values


@pytest.mark.parametrize("make", [lambda n: torch.arange(n), lambda n: np.arange(n, dtype=np.int64)])
def test_chunk_ids_is_a_view_when_no_padding_is_needed(make):
    ids = make(1000)
    chunks, mask = chunk_ids(ids, k=100, overlap=50)  # (1000 - 50) / 50 = 19 chunks, exactly tiled
    assert chunks.shape == (19, 100)
    base = torch.as_tensor(ids)
    assert chunks.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
    assert chunks.data_ptr() == base.data_ptr()
    assert mask.stride() == (0, 0)  # an expanded single 1: no memory either
    base[150] = -7  # writing through the input shows in every chunk that holds position 150
    assert chunks[2, 50] == -7 and chunks[3, 0] == -7


def test_chunk_ids_pads_only_the_tail():
    chunks, mask = chunk_ids(torch.arange(10), k=4, overlap=1, pad_id=-1)
    assert chunks.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    chunks, mask = chunk_ids(torch.arange(11), k=4, overlap=1, pad_id=-1)
    assert chunks[-1].tolist() == [9, 10, -1, -1] and mask[-1].tolist() == [1, 1, 0, 0]
    assert mask[:-1].all()


@pytest.mark.parametrize("ids, kwargs, error, name", [
    ("hello", dict(k=2), TypeError, "ids must be token ids"), ([], dict(k=2), ValueError, "ids is empty"),
    ([1.5, 2.5], dict(k=2), TypeError, "ids must hold integers"), (["a", "b"], dict(k=2), TypeError, "ids must contain"),
    (torch.zeros(2, 2, dtype=torch.long), dict(k=2), ValueError, "ids must be 1-D"),
    ([1, 2, 3], dict(k=0), ValueError, "k"), ([1, 2, 3], dict(k="4"), TypeError, "k"),
    ([1, 2, 3], dict(k=2, overlap=2), ValueError, "overlap"), ([1, 2, 3], dict(k=2, pad_id=0.5), TypeError, "pad_id"),
])
def test_chunk_ids_rejects_bad_input(ids, kwargs, error, name):
    with pytest.raises(error, match=name):
        chunk_ids(ids, **kwargs)


# ---------------------------------------------------------------- chunk_text

def _assert_matches_tokenizer(text: str, tok, max_length: int, stride: int) -> list[TextChunk]:
    expected = tok(text, truncation=True, max_length=max_length, return_overflowing_tokens=True, stride=stride)["input_ids"]
    chunks = chunk_text(text, tok, max_length, stride=stride)
    assert [chunk.input_ids for chunk in chunks] == [list(ids) for ids in expected]
    content = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    assert [c.token_span for c in chunks] == ChunkPlan(len(content["input_ids"]), max_length - 2, stride).spans
    for chunk in chunks:
        start, end = chunk.token_span
        assert chunk.input_ids == [tok.cls_token_id] + content["input_ids"][start:end] + [tok.sep_token_id]
        assert chunk.char_span == (content["offset_mapping"][start][0], content["offset_mapping"][end - 1][1])
        assert chunk.text == text[chunk.char_span[0]:chunk.char_span[1]]
    return chunks


@pytest.mark.parametrize("max_length, stride", [(512, 0), (128, 0), (128, 32), (64, 61), (3, 0)])
def test_chunk_text_equals_the_tokenizers_overflow_on_the_document(tok, document, max_length, stride):
    chunks = _assert_matches_tokenizer(document, tok, max_length, stride)
    assert chunks[0].char_span[0] == document.index("#") and chunks[-1].char_span[1] == len(document.rstrip())


@pytest.mark.parametrize("name", ["short_paragraph", "long_document"])
def test_chunk_text_on_kit_texts(tok, name):
    _assert_matches_tokenizer(load_text(name), tok, 32, 8)


@given(text=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=300),
       max_length=st.integers(3, 40), data=st.data())
@TEXT_PROPERTY
def test_chunk_text_equals_the_tokenizer_on_any_text(tok, text, max_length, data):
    stride = data.draw(st.integers(0, max_length - 3))
    assume(tok(text, add_special_tokens=False)["input_ids"])
    _assert_matches_tokenizer(text, tok, max_length, stride)


@pytest.mark.parametrize("text, kwargs, error, name", [
    ("", dict(max_length=10), ValueError, "text is empty"), ("   \n", dict(max_length=10), ValueError, "text is empty"),
    (["a b"], dict(max_length=10), TypeError, "text must be a str"), ("\x00\x00", dict(max_length=10), ValueError, "no tokens"),
    ("a b c", dict(max_length=2), ValueError, r"max_length=2 is out of range; valid: max_length ≥ 3"),
    ("a b c", dict(max_length=8.0), TypeError, "max_length"),
    ("a b c", dict(max_length=10, stride=8), ValueError, r"stride=8 is out of range; valid: 0 ≤ stride ≤ 7"),
    ("a b c", dict(max_length=10, stride=-1), ValueError, "stride"),
])
def test_chunk_text_rejects_bad_input(tok, text, kwargs, error, name):
    with pytest.raises(error, match=name):
        chunk_text(text, tok, **kwargs)


def test_chunk_text_needs_a_fast_tokenizer():
    with pytest.raises(TypeError, match="tokenizer"):
        chunk_text("a b c", object(), 10)


def test_batch_chunks_pads_into_a_model_input(tok, document):
    chunks = chunk_text(document, tok, 64)
    batch = batch_chunks(chunks, tok)
    assert batch["input_ids"].shape == (len(chunks), 64)
    assert batch["attention_mask"].sum(1).tolist() == [len(c.input_ids) for c in chunks]
    with pytest.raises(TypeError, match="chunks"):
        batch_chunks([[101, 102]], tok)


# ---------------------------------------------------------------- sentence-aware chunking

def _assert_sentence_chunks(text: str, tok, max_length: int, sentence_spans=None) -> list[TextChunk]:
    chunks = chunk_sentences(text, tok, max_length, sentence_spans)
    ids, _, sentences = sentence_token_spans(text, tok, sentence_spans)
    assert "".join(chunk.text for chunk in chunks) == text  # lossless in characters
    assert [i for c in chunks for i in c.input_ids[1:-1]] == ids  # and in tokens
    assert all(len(c.input_ids) <= max_length for c in chunks)
    assert all(c.input_ids[0] == tok.cls_token_id and c.input_ids[-1] == tok.sep_token_id for c in chunks)
    budget = max_length - 2
    whole = spans_kept_whole([c.token_span for c in chunks], sentences)
    assert all(ok for ok, (s, e) in zip(whole, sentences) if e - s <= budget)  # short sentences never cut
    return chunks


def test_chunk_sentences_on_the_document(tok, document):
    chunks = _assert_sentence_chunks(document, tok, 128)
    fixed = chunk_text(document, tok, 128)
    _, _, sentences = sentence_token_spans(document, tok)
    cut_by_fixed = spans_kept_whole([c.token_span for c in fixed], sentences).count(False)
    assert cut_by_fixed > 0 and len(chunks) >= len(fixed)


@given(lengths=st.lists(st.integers(1, 30), min_size=1, max_size=12), max_length=st.integers(3, 24))
@TEXT_PROPERTY
def test_chunk_sentences_keeps_sentences_whole_when_they_fit(tok, lengths, max_length):
    sentences = [" ".join(["word"] * length) + "." for length in lengths]
    text = " ".join(sentences)
    spans, start = [], 0
    for sentence in sentences:
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    _assert_sentence_chunks(text, tok, max_length, spans)


def test_spans_kept_whole():
    assert spans_kept_whole([(0, 4), (3, 7)], [(0, 2), (2, 5), (3, 7), (1, 6)]) == [True, False, True, False]


def test_chunk_sentences_rejects_bad_input(tok):
    with pytest.raises(ValueError, match="max_length"):
        chunk_sentences("One. Two.", tok, 2)
    with pytest.raises(TypeError, match="text"):
        chunk_sentences(b"One. Two.", tok, 10)


# ---------------------------------------------------------------- exercises

@pytest.mark.parametrize("exercise", ex.EXERCISES)
def test_exercise_placeholder_is_not_attempted(exercise):
    assert exercise.check(____).status == "not attempted"
    assert exercise.hint().startswith("Hint 1/") and exercise.solution()


def test_exercise_answers(tok):
    assert ex.count_chunks.check(ChunkPlan(1000, 128, 32).m).correct
    assert ex.count_chunks.check(10).status == "wrong"
    assert ex.count_chunks.check(math.ceil(1000 / 128)).status == "wrong"
    assert ex.memory_ratio.check(8).correct
    assert ex.memory_ratio.check(64).status == "wrong"
    assert ex.content_per_chunk.check(62).correct
    assert ex.content_per_chunk.check(64).status == "wrong"
    right = ex.smallest_whole_overlap_answer()
    assert ex.whole_sentence_overlap.check(right).correct
    assert ex.whole_sentence_overlap.check(right - 1).status == "wrong"
    assert ex.whole_sentence_overlap.check(right + 1).status == "wrong"


def test_alternating_medians_calls_each_in_turn_and_reports_medians():
    calls = []
    medians = alternating_medians({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeat=3,
                                  warmup=2)
    assert calls == ["a", "b"] * 5  # warm-up rounds run but are not timed
    assert set(medians) == {"a", "b"} and all(t >= 0 for t in medians.values())
    with pytest.raises(ValueError, match="repeat"):
        alternating_medians({"a": lambda: None}, repeat=0)


def test_forward_seconds_times_each_batch_under_inference_mode():
    seen = []
    model = torch.nn.Module()
    model.forward = lambda **batch: seen.append((sorted(batch), torch.is_inference_mode_enabled()))
    seconds = forward_seconds(model, {"one": {"input_ids": 1}, "two": {"input_ids": 2, "attention_mask": 3}},
                              repeat=2, warmup=0)
    assert set(seconds) == {"one", "two"} and all(t >= 0 for t in seconds.values())
    assert seen == [(["input_ids"], True), (["attention_mask", "input_ids"], True)] * 2
