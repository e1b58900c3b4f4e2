"""Tests of longctx_lab.core.data: the bundled texts, split_sentences and the pass-key haystack."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longctx_lab.core import data as D
from tests.smol import smol_tokenizer
from longctx_lab.core.data import (
    answer_ids,
    data_dir,
    distractor_keys,
    list_texts,
    load_text,
    make_haystack,
    split_sentences,
)

# Facts of the long document that recur far apart (chapters use them to show that context helps).
RECURRING = [
    "Caddick Vane", "Ottoline Frask", "Jory Abelwhite", "Perpetua Onsley", "Amos Threlkeld",
    "Hesper Quill", "Merrow Lark", "BRN-4471", "ULV-0932", "Ledger K-17", "Greywater Junction",
    "Skelding", "Tarnwick Reservoir", "38,700", "215 cubic metres", "1,146 metres", "23.4 kilometres",
    "17 locks", "14 March", "9 November 1852", "Lock 9",
]


@pytest.fixture(scope="module")
def smol():
    return smol_tokenizer()


@pytest.fixture(scope="module")
def minilm():
    from transformers import AutoTokenizer

    from longctx_lab.core.models import available_models

    info = available_models()["minilm"]
    if not info.installed:
        pytest.skip(f"MiniLM not installed: {info.install_command}")
    return AutoTokenizer.from_pretrained(info.location)


@pytest.fixture(scope="module")
def tokenizers(smol, minilm):
    return {"smollm2": smol, "minilm": minilm}


# ---- texts -------------------------------------------------------------------------------------

def test_data_dir_and_list_texts():
    assert data_dir().is_dir()
    assert {"long_document", "short_paragraph"} <= set(list_texts())
    assert "README" not in list_texts()


def test_data_dir_env_override(tmp_path, monkeypatch):
    (tmp_path / "mine.txt").write_text("  My own text.\n")
    monkeypatch.setenv("LONGCTX_LAB_DATA", str(tmp_path))
    assert list_texts() == ["mine"] and load_text("mine") == "My own text."
    monkeypatch.setenv("LONGCTX_LAB_DATA", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="LONGCTX_LAB_DATA"):
        data_dir()


def test_load_text_errors():
    with pytest.raises(ValueError, match=r"name='nope'.*long_document"):
        load_text("nope")
    with pytest.raises(TypeError, match="name must be a str"):
        load_text(3)


def test_long_document_length(smol):
    n = len(smol.encode(load_text("long_document"), add_special_tokens=False))
    assert 4_500 <= n <= 6_000


@pytest.mark.parametrize("fact", RECURRING)
def test_recurring_facts_recur_far_apart(fact):
    text = load_text("long_document")
    starts = [m.start() for m in re.finditer(re.escape(fact), text)]
    assert len(starts) >= 2, fact
    assert starts[-1] - starts[0] >= 3_000, fact


def test_long_document_shape():
    text = load_text("long_document")
    assert text.startswith("# ") and text.count("\n## ") >= 8
    words = [len(text[s:e].split()) for s, e in split_sentences(text) if not text[s] == "#"]
    assert sum(w >= 30 for w in words) >= 10 and sum(w <= 8 for w in words) >= 10


def test_short_paragraph():
    text = load_text("short_paragraph")
    assert 40 <= len(text.split()) <= 70
    assert "\n\n" not in text


# ---- split_sentences ---------------------------------------------------------------------------

def _check_spans(text: str, spans: list[tuple[int, int]]) -> None:
    prev = 0
    for s, e in spans:
        assert prev <= s < e <= len(text)
        assert text[prev:s].strip() == ""  # only whitespace is left out
        assert text[s:e] == text[s:e].strip()
        prev = e
    assert text[prev:].strip() == ""
    cuts = [0] + [x for span in spans for x in span] + [len(text)]
    rebuilt = "".join(text[a:b] for a, b in zip(cuts, cuts[1:]))
    assert rebuilt == text


def test_split_sentences_rule():
    text = "# Title\n\nOne. Two!  Three? \"Four.\" Pi is 3.14 today\nand wraps.\n\n## Next\nLast one"
    got = [text[s:e] for s, e in split_sentences(text)]
    assert got == [
        "# Title", "One.", "Two!", "Three?", '"Four."', "Pi is 3.14 today\nand wraps.", "## Next", "Last one",
    ]
    _check_spans(text, split_sentences(text))
    assert split_sentences("") == [] and split_sentences(" \n\n ") == []
    with pytest.raises(TypeError, match="text must be a str"):
        split_sentences(None)


def test_split_sentences_long_document():
    text = load_text("long_document")
    spans = split_sentences(text)
    _check_spans(text, spans)
    assert len(spans) > 150


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="ab .!?#\n\t\"')", max_size=80))
def test_split_sentences_property(text):
    _check_spans(text, split_sentences(text))


# ---- haystack ----------------------------------------------------------------------------------

def _max_sentence_tokens(tok, filler) -> int:
    return max(len(D._encode(tok, " " + s)) for s in D._filler_sentences(filler))


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(["smollm2", "minilm"]),
    n_tokens=st.integers(40, 1500),
    depth=st.floats(0.0, 1.0),
    filler=st.sampled_from([None, "document"]),
    seed=st.integers(0, 10**6),
)
def test_haystack_invariants(tokenizers, name, n_tokens, depth, filler, seed):
    tok = tokenizers[name]
    h = make_haystack(tok, n_tokens, depth, seed=seed, filler=filler)
    assert len(h.input_ids) == n_tokens
    needle = D._encode(tok, " " + D.NEEDLE_TEMPLATE.format(key=h.key))
    question = D._encode(tok, " " + D.QUESTION)
    a, b = h.needle_span
    assert h.input_ids[a:b] == needle and b - a == len(needle)
    assert h.question_span == (n_tokens - len(question), n_tokens)
    assert h.input_ids[h.question_span[0]:] == question
    assert b <= h.question_span[0]
    assert re.fullmatch(r"\d{5}", h.key) and h.key in tok.decode(h.input_ids[a:b]).replace(" ", "")
    # Tolerance: the needle sits at the sentence boundary nearest depth × filler length, so it is off
    # by at most half the longest filler sentence.
    n_fill = n_tokens - len(needle) - len(question)
    assert h.actual_depth == a / n_fill and h.depth == depth
    assert abs(a - depth * n_fill) <= _max_sentence_tokens(tok, filler) / 2
    assert h.text == tok.decode(h.input_ids)


def test_haystack_simple_filler_is_tight(smol):
    for depth in (0.0, 0.25, 0.5, 0.75, 1.0):
        h = make_haystack(smol, 1024, depth, key="48213")
        assert abs(h.actual_depth - depth) <= 0.01
        assert h.text.count("48213") == 2
    assert make_haystack(smol, 1024, 0.0).needle_span[0] == 0
    assert make_haystack(smol, 1024, 1.0).needle_span[1] == make_haystack(smol, 1024, 1.0).question_span[0]


def test_haystack_deterministic_and_seeded(smol):
    assert make_haystack(smol, 300, 0.4, seed=1) == make_haystack(smol, 300, 0.4, seed=1)
    assert make_haystack(smol, 300, 0.4, seed=1).key != make_haystack(smol, 300, 0.4, seed=2).key


def test_haystack_custom_filler_and_answer(smol, minilm):
    h = make_haystack(smol, 120, 0.5, key="777", filler="Boats go slowly. Locks fill up.")
    assert "Boats go slowly." in h.text and len(h.input_ids) == 120
    assert len(make_haystack(minilm, 500, 0.5, filler="short_paragraph").input_ids) == 500
    assert answer_ids(smol, "48213") == smol.encode(" 48213", add_special_tokens=False)
    assert minilm.decode(answer_ids(minilm, "48213")) == "48213"


def test_haystack_errors(smol):
    needle = D._encode(smol, " " + D.NEEDLE_TEMPLATE.format(key="12345"))
    minimum = len(needle) + len(D._encode(smol, " " + D.QUESTION)) + 1
    assert len(make_haystack(smol, minimum, 0.5, key="12345").input_ids) == minimum
    with pytest.raises(ValueError, match=rf"n_tokens={minimum - 1}.*n_tokens ≥ {minimum}"):
        make_haystack(smol, minimum - 1, 0.5, key="12345")
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"depth=.*0 ≤ depth ≤ 1"):
            make_haystack(smol, 200, bad)
    with pytest.raises(TypeError, match="depth must be a number"):
        make_haystack(smol, 200, "0.5")
    for bad in (200.0, "200", True):
        with pytest.raises(TypeError, match="n_tokens must be an int"):
            make_haystack(smol, bad, 0.5)
    with pytest.raises(ValueError, match="n_tokens=0"):
        make_haystack(smol, 0, 0.5)
    for bad in ("12a45", "", "１２３"):
        with pytest.raises(ValueError, match="key="):
            make_haystack(smol, 200, 0.5, key=bad)
    with pytest.raises(TypeError, match="key must be a str"):
        make_haystack(smol, 200, 0.5, key=12345)
    with pytest.raises(TypeError, match="tokenizer must have encode"):
        make_haystack("not a tokenizer", 200, 0.5)
    with pytest.raises(ValueError, match="filler='nope'"):
        make_haystack(smol, 200, 0.5, filler="nope")
    with pytest.raises(ValueError, match="no sentences"):
        make_haystack(smol, 200, 0.5, filler="# only\n\n## headings")


def test_distractor_keys():
    keys = distractor_keys("48213", 20, seed=3)
    assert len(keys) == 20 == len(set(keys)) and "48213" not in keys
    assert all(len(k) == 5 and k[0] != "0" and k.isdigit() for k in keys)
    assert keys == distractor_keys("48213", 20, seed=3)
    assert sorted(distractor_keys("7", 9)) == [d for d in "012345689"]
    assert distractor_keys("48213", 0) == []
    with pytest.raises(ValueError, match=r"count.*≤ 9"):
        distractor_keys("7", 10)
    with pytest.raises(ValueError, match="key="):
        distractor_keys("4x", 2)
