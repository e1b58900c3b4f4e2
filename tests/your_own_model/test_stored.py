"""Chapter 7's stored report cards: they load, were made with the defaults, and the live recheck can fail."""
from __future__ import annotations

import copy

import pytest

import longctx_lab as L
from longctx_lab.core.i18n import set_language

from ..smol import smol_tokenizer
from .conftest import family_model


@pytest.fixture(scope="module")
def small_card():
    """A card measured here on a random Llama (128 tokens), and the model and tokenizer it was measured with."""
    m, tokenizer = family_model("llama")
    set_language("en")
    return L.report_card(m, tokenizer, text=L.bundled_text(), max_tokens=128, name="random llama"), m, tokenizer


@pytest.mark.parametrize("key", sorted(L.STORED_CARDS))
def test_stored_cards_were_made_with_the_defaults_on_the_real_config(key):
    from transformers import AutoConfig

    card = L.load_stored_card(key)
    name, method, factor = L.STORED_CARDS[key]
    config = AutoConfig.from_pretrained(str(L.smollm2_cache_path()))
    assert card.name == name and (card.settings["method"], card.settings["factor"]) == (method, factor)
    assert card.settings["lengths"] == L.report_lengths(L.DEFAULT_MAX_TOKENS, L.trained_positions(config))
    assert card.settings["depths"] == list(L.DEPTHS)
    text_tokens = len(smol_tokenizer().encode(L.bundled_text() + "\n\n", add_special_tokens=False))
    assert card.settings["text_tokens"] == text_tokens  # measured on the kit's long document, as it is now
    assert card.config == L.config_card(config)  # the config section is what the code computes today
    assert set(card.sections) == {"loss", "perplexity", "needle", "attention", "prefill", "kv_int8"}
    assert card.markdown().startswith("# Long-context report card")


def test_recheck_agrees_with_its_own_card_and_catches_a_changed_one(small_card):
    card, m, tokenizer = small_card
    text = L.bundled_text()
    live = L.recheck_card(card, m, tokenizer, text)
    assert live["agrees"] and live["length"] == card.settings["lengths"][0] == 64
    assert len(live["nll"]) == 6 and live["found"] == card.sections["needle"]["found"][0]  # bins 1,2,4,…,64
    flipped = copy.deepcopy(card)
    flipped.sections["needle"]["found"][0][0] = not flipped.sections["needle"]["found"][0][0]
    assert not L.recheck_card(flipped, m, tokenizer, text)["agrees"]
    shifted = copy.deepcopy(card)
    shifted.sections["loss"]["nll"][5] += 0.05  # the bin of tokens 32-63; more than another CPU's last digits
    assert not L.recheck_card(shifted, m, tokenizer, text)["agrees"]


def test_compute_stored_cards_measures_each_stored_setting():
    m, tokenizer = family_model("llama")
    cards = L.compute_stored_cards(m, tokenizer, max_tokens=128)
    assert set(cards) == set(L.STORED_CARDS)
    for key, (name, method, factor) in L.STORED_CARDS.items():
        assert cards[key].name == name and cards[key].settings["method"] == method
        assert cards[key].settings["text_tokens"] == cards["smollm2"].settings["text_tokens"]


def test_bad_keys_and_a_missing_file_are_named(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="key='smollm3'.*smollm2"):
        L.stored_card_path("smollm3")
    monkeypatch.setenv("LONGCTX_LAB_DATA", str(tmp_path))
    with pytest.raises(ValueError, match="--precompute"):
        L.load_stored_card("smollm2")


def test_the_stored_cards_stay_the_kits_while_a_learner_text_is_in_use(tmp_path):
    own = tmp_path / "mine.txt"
    own.write_text("A sentence of my own. " * 400, encoding="utf-8")
    L.use_text(own)
    try:
        assert L.load_text() == own.read_text(encoding="utf-8").strip()
        assert L.bundled_text() == (L.data_dir() / "long_document.md").read_text(encoding="utf-8").strip()
    finally:
        L.use_text(None)
    with pytest.raises(ValueError, match="name='nope'"):
        L.bundled_text("nope")
