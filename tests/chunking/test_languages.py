"""Chinese text in chapter 1: sentences, chunks that never cut a character, token inflation, bits per character."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longctx_lab import (bits_per_byte, bits_per_character, chunk_sentences, chunk_text, decodes_cleanly,
                         load_qwen_tokenizer, load_text, sentence_token_spans, spans_kept_whole, split_sentences,
                         token_inflation)
from tests.smol import smol_tokenizer

ZH = "长文本先被分割成多个固定长度的片段，再分别送入模型。"  # 26 characters, written for this test


@pytest.fixture(scope="module")
def smol():
    return smol_tokenizer()


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


# ------------------------------------------------------------ § Chinese text: what a context window holds

from hypothesis import HealthCheck  # noqa: E402

from longctx_lab import (cut_counts, cut_table, inflation_table, language_losses, loss_table,  # noqa: E402
                         split_sequence, tiny_lm, token_nll)
from longctx_lab.core.i18n import set_language  # noqa: E402


@pytest.fixture(scope="module")
def tiny_smol(smol):
    return tiny_lm(vocab_size=len(smol), max_positions=256, hidden_size=32, n_layers=1)


def test_cut_counts_on_the_daodejing(smol, minilm):
    rows = {r["method"]: r for r in cut_counts(load_text("daodejing"), smol, 128)}
    careless, fixed, whole = rows["careless"], rows["chunk_text"], rows["chunk_sentences"]
    # SmolLM2 adds no special tokens: chunk_text's windows are the careless slices, with the same cut characters
    assert careless["chunks"] == fixed["chunks"] and careless["ids_cut"] == fixed["ids_cut"] > 0
    assert careless["texts_cut"] == careless["ids_cut"] and fixed["texts_cut"] == 0
    assert careless["sentences_cut"] == fixed["sentences_cut"] > 0
    assert whole["ids_cut"] == whole["texts_cut"] == whole["sentences_cut"] == 0
    assert len({r["sentences"] for r in rows.values()}) == 1
    # WordPiece never splits a character: [UNK] decodes as text, not as '�'
    assert all(r["ids_cut"] == r["texts_cut"] == 0 for r in cut_counts(load_text("daodejing")[:600], minilm, 32))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(2, 48), st.integers(0, 600))
def test_chunk_spans_share_at_most_the_cut_character(smol, max_length, start):
    """chunk_text's ids may cut a character (they are the tokenizer's own); its spans never do: neighbours share it."""
    text = load_text("daodejing")[start:start + 400].strip()
    chunks = chunk_text(text, smol, max_length)
    assert chunks[0].char_span[0] == 0 and chunks[-1].char_span[1] == len(text)
    for before, after in zip(chunks, chunks[1:]):
        assert after.text == text[slice(*after.char_span)] and "\ufffd" not in after.text
        shared = before.char_span[1] - after.char_span[0]
        assert shared in (0, 1)
        if shared:  # a character split between the two chunks' ids lies whole in both spans
            assert not text[after.char_span[0]].isascii() and not decodes_cleanly(smol, after.input_ids)


def test_careless_slices_decode_to_replacement_characters(smol):
    ids = smol.encode(ZH, add_special_tokens=False)
    slices = split_sequence(ids, max_len=8)
    assert "".join(smol.decode(piece) for piece in slices) != ZH  # the cut characters are lost as '�'
    assert smol.decode([i for piece in slices for i in piece]) == ZH  # the ids are all there: join, then decode


def test_language_losses_by_hand(tiny_smol, smol):
    texts = {"zh": ZH, "en": "Long texts are cut into chunks of fixed length first."}
    rows = language_losses(tiny_smol, smol, texts)
    assert [r["text"] for r in rows] == ["zh", "en"]
    for row, text in zip(rows, texts.values()):
        ids = [smol.bos_token_id] + smol.encode(text, add_special_tokens=False)
        total = float(token_nll(tiny_smol, ids).sum())
        assert row["tokens"] == len(ids) - 1 and row["characters"] == len(text)
        assert row["bytes"] == len(text.encode()) and row["nll"] == pytest.approx(total, rel=1e-5)
        assert row["ppl"] == pytest.approx(math.exp(total / row["tokens"]), rel=1e-5)
        assert row["bits_per_char"] == pytest.approx(total / math.log(2) / len(text), rel=1e-5)
        assert row["bits_per_token"] * row["tokens"] == pytest.approx(row["bits_per_char"] * row["characters"])
    zh, en = rows
    assert 0.2 < zh["inside_share"] < 0.8 and zh["inside_nll"] is not None
    assert en["inside_share"] == 0 and en["inside_nll"] is None


def test_language_losses_checks_before_running(tiny_smol, smol, minilm):
    with pytest.raises(TypeError, match="texts"):
        language_losses(tiny_smol, smol, {})
    with pytest.raises(ValueError, match="texts\\['x'\\]"):
        language_losses(tiny_smol, smol, {"x": "  "})
    with pytest.raises(ValueError, match="max_position_embeddings"):
        language_losses(tiny_smol, smol, {"long": load_text("daodejing")[:400]})
    with pytest.raises(ValueError, match="tokenizer"):
        language_losses(tiny_smol, minilm, {"zh": ZH})  # BERT's tokenizer has no BOS/EOS to start from
    with pytest.raises(ValueError, match="tokenizer"):
        language_losses(tiny_lm(vocab_size=64), smol, {"zh": ZH})  # ids outside a 64-token vocabulary


def test_smollm2_reads_chinese_worse_though_its_perplexity_is_lower():
    """The lesson's claim on the notebook's own passages: per token Chinese looks easier, per character and byte it is not."""
    from longctx_lab import load_smollm2

    model, tokenizer = load_smollm2()
    zh, en = language_losses(model, tokenizer, {"zh": load_text("daodejing")[:200],
                                                "en": load_text("long_document")[:1200]})
    assert zh["ppl"] < en["ppl"]
    assert zh["bits_per_char"] > 3 * en["bits_per_char"] and zh["bits_per_byte"] > 1.5 * en["bits_per_byte"]
    assert zh["inside_share"] > 0.3 and zh["inside_nll"] < zh["start_nll"]


def test_tables_speak_the_learners_language(smol, minilm, qwen):
    rows = token_inflation({"zh": ZH, "mine": "Some English."}, {"SmolLM2": smol, "MiniLM": minilm, "Qwen": qwen})
    cuts = cut_counts(ZH + ZH, smol, 16)
    losses = [{"text": "zh", "tokens": 40, "characters": 26, "bytes": 78, "ppl": 12.3, "bits_per_token": 3.62,
               "bits_per_char": 5.57, "bits_per_byte": 1.86, "inside_share": 0.4, "inside_nll": 1.5, "start_nll": 3.2},
              {"text": "en", "tokens": 10, "characters": 50, "bytes": 50, "ppl": 30.0, "bits_per_token": 4.9,
               "bits_per_char": 0.98, "bits_per_byte": 0.98, "inside_share": 0.0, "inside_nll": None, "start_nll": 3.4}]
    english = inflation_table(rows), cut_table(cuts), loss_table(losses)
    assert "characters per 8,192-token window" in english[0] and "Chinese" in english[0] and "mine" in english[0]
    assert len(english[0].splitlines()) == 1 + 6 and "—" in english[0]  # no [UNK] share for byte-level BPE
    assert "sentence-aware (chunk_sentences)" in english[1] and " of " in english[1]
    assert "bits per character" in english[2] and "5.57" in english[2] and "—" in english[2]
    try:
        set_language("zh")
        chinese = inflation_table(rows), cut_table(cuts), loss_table(losses)
    finally:
        set_language("en")
    assert "分词器" in chinese[0] and "中文" in chinese[0] and "mine" in chinese[0]
    assert "按句分块" in chinese[1] and "每字符比特数" in chinese[2] and "5.57" in chinese[2]
    for table in (inflation_table, cut_table, loss_table):
        with pytest.raises(TypeError, match="rows"):
            table("rows")
        with pytest.raises(ValueError, match="rows"):
            table([])
        with pytest.raises(ValueError, match="rows\\[0\\] lacks"):
            table([{"text": "zh"}])
