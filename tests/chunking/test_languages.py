"""Chinese text in chapter 1: sentences, chunks that never cut a character, token inflation, bits per character."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longctx_lab import (bits_per_byte, bits_per_character, chunk_sentences, chunk_text, decodes_cleanly,
                         load_qwen_tokenizer, load_text, sentence_token_spans, spans_kept_whole, split_sentences,
                         token_inflation)

ZH = "长文本先被分割成多个固定长度的片段，再分别送入模型。"  # 26 characters, written for this test


@pytest.fixture(scope="module")
def smol():
    from transformers import AutoTokenizer

    from longctx_lab import smollm2_cache_path

    path = smollm2_cache_path()
    if (path / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(str(path))
    from longctx_lab import load_smollm2

    return load_smollm2()[1]


@pytest.fixture(scope="module")
def minilm():
    from transformers import AutoTokenizer

    from longctx_lab import available_models

    return AutoTokenizer.from_pretrained(available_models()["minilm"].location)


@pytest.fixture(scope="module")
def qwen():
    return load_qwen_tokenizer()


def test_split_sentences_chinese_ends():
    text = "“你好吗？”他问。我很好！真的……你呢？不错；谢谢。Fine. 他说：「走吧。」然后走了"
    got = [text[s:e] for s, e in split_sentences(text)]
    assert got == ["“你好吗？”", "他问。", "我很好！", "真的……", "你呢？", "不错；", "谢谢。", "Fine.",
                   "他说：「走吧。」", "然后走了"]


def test_daodejing_sentences():
    text = load_text("daodejing")
    spans = split_sentences(text)
    chapters = [text[s:e] for s, e in spans if text[s:e].startswith("## ")]
    assert len(chapters) == 81 and chapters[0] == "## 第一章" and chapters[-1] == "## 第八十一章"
    body = [text[s:e] for s, e in spans if not text[s] == "#"]
    assert len(body) > 500 and all(sentence[-1] in "。！？；" for sentence in body)


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="道可非常。！？；…”」）a .\n", max_size=60))
def test_split_sentences_chinese_property(text):
    spans = split_sentences(text)
    prev = 0
    for s, e in spans:
        assert prev <= s < e and text[prev:s].strip() == "" and text[s:e] == text[s:e].strip()
        prev = e
    assert text[prev:].strip() == ""


@pytest.mark.parametrize("max_length", [16, 40, 128])
def test_chunk_sentences_cuts_no_chinese_sentence(minilm, smol, max_length):
    text = load_text("daodejing")[:1500]
    for tokenizer in (minilm, smol):
        chunks = chunk_sentences(text, tokenizer, max_length)
        _, _, sentences = sentence_token_spans(text, tokenizer)
        budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
        kept = spans_kept_whole([c.token_span for c in chunks], sentences)
        too_long = [b - a > budget for a, b in sentences]
        assert all(k or long for k, long in zip(kept, too_long))
        assert "".join(c.text for c in chunks) == text
        if max_length == 128:
            assert all(kept)  # no Chinese sentence of this text is longer than 126 tokens: 0 cut


def test_byte_tokens_split_characters(smol):
    ids = smol.encode(ZH, add_special_tokens=False)
    assert len(ids) > 1.4 * len(ZH)  # more tokens than characters: characters are spelled in bytes
    careless = [ids[i:i + 5] for i in range(0, len(ids), 5)]  # every 5 tokens, blind to characters
    assert not all(decodes_cleanly(smol, piece) for piece in careless)


@pytest.mark.parametrize("max_length,stride", [(8, 0), (16, 4), (64, 10)])
def test_chunk_text_never_cuts_a_character(smol, max_length, stride):
    text = load_text("daodejing")[:800]
    for chunk in chunk_text(text, smol, max_length, stride):
        a, b = chunk.char_span
        assert "\ufffd" not in chunk.text and chunk.text == text[a:b]
        assert a == 0 or text[a - 1:a + 1] == text[a - 1] + text[a]  # spans index whole characters (str)
    for chunk in chunk_sentences(text, smol, max_length):
        assert "\ufffd" not in chunk.text


def test_qwen_claim_and_inflation(smol, minilm, qwen):
    assert len(qwen.encode(ZH)) <= 20 and len(smol.encode(ZH, add_special_tokens=False)) >= 40
    assert qwen.decode(qwen.encode(ZH)) == ZH and len(qwen) > 150_000
    texts = {"zh": load_text("daodejing"), "en": load_text("long_document")}
    rows = {(r["text"], r["tokenizer"]): r for r in
            token_inflation(texts, {"smollm2": smol, "minilm": minilm, "qwen": qwen}, window=8192)}
    assert 1.5 < rows["zh", "smollm2"]["tokens_per_char"] < 1.9
    assert 0.2 < rows["en", "smollm2"]["tokens_per_char"] < 0.3
    assert rows["zh", "qwen"]["tokens_per_char"] < 0.6 * rows["zh", "smollm2"]["tokens_per_char"]
    assert rows["zh", "minilm"]["unk_fraction"] > 0.4 and rows["en", "minilm"]["unk_fraction"] < 0.01
    assert rows["zh", "smollm2"]["unk_fraction"] is None and rows["zh", "qwen"]["unk_fraction"] is None
    row = rows["zh", "smollm2"]
    assert row["chars_per_window"] == int(8192 / row["tokens_per_char"]) and row["bytes"] == len(texts["zh"].encode())


def test_token_inflation_errors(smol):
    with pytest.raises(TypeError, match="texts"):
        token_inflation(["a"], {"s": smol})
    with pytest.raises(ValueError, match="texts\\['x'\\]"):
        token_inflation({"x": " "}, {"s": smol})
    with pytest.raises(TypeError, match="tokenizers\\['s'\\]"):
        token_inflation({"x": "a b"}, {"s": 3})


def test_bits_per_character_by_hand():
    # 10 nats over "道可道" (3 characters, 9 UTF-8 bytes): 10 / ln 2 = 14.427 bits.
    assert bits_per_character(10.0, "道可道") == pytest.approx(10 / math.log(2) / 3)
    assert bits_per_byte(10.0, "道可道") == pytest.approx(10 / math.log(2) / 9)
    assert bits_per_character(10.0, "abc") == bits_per_byte(10.0, "abc")
    with pytest.raises(ValueError, match="empty"):
        bits_per_character(1.0, "")
    with pytest.raises(ValueError, match="total_nll_nats"):
        bits_per_byte(-1.0, "a")
