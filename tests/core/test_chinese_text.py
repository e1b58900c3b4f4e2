"""Chinese text in core: the bundled Daodejing, Qwen's tokenizer, the [UNK] note and a Chinese haystack."""
from __future__ import annotations

import pytest

from longctx_lab import (flag_unknown_tokens, list_texts, load_qwen_tokenizer, load_text, make_haystack,
                         tokenizer_name, unknown_token_fraction)
from longctx_lab.core import tokenizers as T


@pytest.fixture(scope="module")
def smol():
    from transformers import AutoTokenizer

    from longctx_lab import smollm2_cache_path

    return AutoTokenizer.from_pretrained(str(smollm2_cache_path()))


@pytest.fixture(scope="module")
def minilm():
    from transformers import AutoTokenizer

    from longctx_lab import available_models

    return AutoTokenizer.from_pretrained(available_models()["minilm"].location)


def test_daodejing_is_bundled():
    assert "daodejing" in list_texts()
    text = load_text("daodejing")
    assert text.startswith("# 道德经\n\n## 第一章\n\n道可道，非常道；名可名，非常名。")
    assert text.endswith("天之道，利而不害；圣人之道，为而不争。")
    assert text.count("\n## ") == 81
    han = sum("\u4e00" <= c <= "\u9fff" for c in text)
    assert 5_000 <= han <= 5_800


def test_unknown_token_fraction(minilm, smol):
    assert unknown_token_fraction(minilm, load_text("daodejing")) > 0.4
    assert unknown_token_fraction(minilm, load_text("short_paragraph")) == 0.0
    assert unknown_token_fraction(load_qwen_tokenizer(), "道可道") == 0.0
    assert tokenizer_name(minilm) == "MiniLM" and tokenizer_name(smol) == "SmolLM2"


def test_flag_prints_one_line_once(minilm, capsys, monkeypatch):
    monkeypatch.setattr(T, "_flagged", set())
    assert flag_unknown_tokens(minilm, ["道可道，非常道。"]) > 0.3
    first = capsys.readouterr().out
    assert first.count("\n") == 1 and "MiniLM" in first and "[UNK]" in first
    flag_unknown_tokens(minilm, ["道可道，非常道。"])
    assert capsys.readouterr().out == ""  # once per tokenizer and text
    flag_unknown_tokens(minilm, ["The grass is green."])
    assert capsys.readouterr().out == ""


def test_sentence_embeddings_flags_chinese(capsys, monkeypatch, minilm):
    from transformers import BertConfig, BertModel

    from longctx_lab import sentence_embeddings

    monkeypatch.setattr(T, "_flagged", set())
    config = BertConfig(vocab_size=len(minilm), hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=128)
    sentence_embeddings(BertModel(config).eval(), minilm, ["上善若水。", "水善利万物而不争。"])
    assert "[UNK]" in capsys.readouterr().out
    sentence_embeddings(BertModel(config).eval(), minilm, ["The grass is green."])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("depth", [0.0, 0.37, 1.0])
def test_chinese_haystack(smol, depth):
    for filler in ("daodejing", load_text("daodejing")[300:1200], "天地不仁，以万物为刍狗。"):
        for n in (60, 61, 62, 257, 1000):
            h = make_haystack(smol, n, depth, filler=filler, seed=1)
            assert len(h.input_ids) == n and "\ufffd" not in h.text
            assert f"The pass key is {h.key}." in h.text
    h = make_haystack(load_qwen_tokenizer(), 300, 0.5, filler="daodejing")
    assert len(h.input_ids) == 300 and "\ufffd" not in h.text and "道" in h.text
    assert "。 " not in make_haystack(smol, 400, 1.0, filler="daodejing").text.split("The pass key")[0].rstrip()


def test_english_filler_names_still_checked(smol):
    with pytest.raises(ValueError, match="not a filler name"):
        make_haystack(smol, 64, 0.5, filler="documnet")


def test_unknown_token_note_is_the_flag_line_every_time(minilm, capsys, monkeypatch):
    from longctx_lab import unknown_token_note
    from longctx_lab.core.i18n import set_language

    monkeypatch.setattr(T, "_flagged", set())
    note = unknown_token_note(minilm, ["道可道，非常道。"])
    assert note == unknown_token_note(minilm, ["道可道，非常道。"])  # not once per session: a panel shows it each time
    flag_unknown_tokens(minilm, ["道可道，非常道。"])
    assert capsys.readouterr().out == note + "\n"
    assert unknown_token_note(minilm, ["The grass is green."]) == ""
    assert unknown_token_note(minilm, ["道可道，非常道。"], threshold=1.0) == ""
    try:
        set_language("zh")
        assert unknown_token_note(minilm, ["道可道，非常道。"]).startswith("注意：MiniLM")
    finally:
        set_language("en")
    with pytest.raises(TypeError, match="texts"):
        unknown_token_note(minilm, "道可道")
    with pytest.raises(ValueError, match="threshold"):
        unknown_token_note(minilm, ["道"], threshold=2.0)
