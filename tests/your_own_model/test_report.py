"""report_card in-process on a random Llama: sections, verdict, the three renderings, files, load, compare, Chinese."""
from __future__ import annotations

import json
import re

import pytest

import longctx_lab as L
from longctx_lab.core.i18n import set_language

from .conftest import family_model


@pytest.fixture(scope="module")
def card():
    m, tokenizer = family_model("llama")
    set_language("en")
    return L.report_card(m, tokenizer, max_tokens=256, name="random llama")


def test_the_card_has_every_section(card):
    assert card.settings["lengths"] == [64, 128, 256] and card.name == "random llama"
    assert set(card.sections) == {"loss", "perplexity", "needle", "attention", "prefill", "kv_int8"}
    assert card.config["attention"]["kv_heads"] == 2 and card.elapsed_s >= 0
    assert card.verdict["bound"] in ("needle", "perplexity", "loss", "measured")
    json.dumps(card.as_dict())  # JSON-ready


def test_renderings_are_self_contained(card):
    md, html = card.markdown(), card.html()
    for heading in ("## Verdict", "## From the config", "## Loss by position", "## Pass key by length and depth",
                    "## What an int8 KV cache costs"):
        assert heading in md
    assert html.count('<img alt="') == 5 and 'src="data:image/png;base64,' in html
    assert not re.search(r'(src|href)="https?://', html) and "<script" not in html
    assert card._repr_markdown_().startswith("# Long-context report card")
    assert repr(card).startswith("ReportCard(") and "effective context" in repr(card) and "\n" not in repr(card)


def test_write_and_load(card, tmp_path):
    paths = card.write(tmp_path / "out")
    assert {"html", "md", "json"} <= set(paths) and (tmp_path / "out" / "needle.png").is_file()
    assert "](needle.png)" in paths["md"].read_text()
    again = L.ReportCard.load(paths["json"])
    assert again.sections == json.loads(json.dumps(card.sections)) and again.verdict["tokens"] == card.verdict["tokens"]
    table = L.compare_reports(card, again)
    assert table.count("|") > 30 and "random llama" in table and "effective context" in table
    with pytest.raises(ValueError, match="cards"):
        L.compare_reports(card)
    with pytest.raises(TypeError, match="cards"):
        L.compare_reports(card, "other")


def test_chinese_headings(card):
    set_language("zh")
    try:
        md = card.markdown(images={})
    finally:
        set_language("en")
    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert len(headings) == 8
    for heading in headings:
        assert re.search(r"[\u4e00-\u9fff]", heading), heading
    assert re.search(r"[\u4e00-\u9fff]", md.splitlines()[0])


def test_scaled_report_and_refusals():
    m, tokenizer = family_model("llama")
    scaled = L.report_card(m, tokenizer, max_tokens=128, method="yarn", factor=2.0)
    assert [r["method"] for r in scaled.sections["perplexity"]["runs"]] == ["yarn", "none"]
    gpt2, gpt2_tokenizer = family_model("gpt2")
    with pytest.raises(ValueError, match="learned absolute positions"):
        L.report_card(gpt2, gpt2_tokenizer, max_tokens=128, method="yarn", factor=2.0)
    bert, bert_tokenizer = family_model("bert")
    with pytest.raises(ValueError, match="encoder without a next-token head"):
        L.report_card(bert, bert_tokenizer, max_tokens=128)
    with pytest.raises(ValueError, match="tokenizer is required"):
        L.report_card(m, max_tokens=128)
    with pytest.raises(ValueError, match="no tokenizer"):
        L.report_card("tiny", max_tokens=128)
    with pytest.raises(ValueError, match="max_tokens"):
        L.report_card(m, tokenizer, max_tokens=16)
