"""Tests of recurring_phrases: chapter 2's recurring names are found in the text given, not typed in."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from longctx_lab import phrase_token_spans, recurring_phrases
from tests.smol import smol_tokenizer

FILLER = "The day was calm and the road was long. " * 6


@pytest.fixture(scope="module")
def tok():
    return smol_tokenizer()


def _n(tok, text):
    return len(tok(text, add_special_tokens=False)["input_ids"])


def test_a_name_repeated_in_a_later_segment_is_found_and_ranked_by_its_first_cost(tok):
    text = f"Ulverstade Quarry opened. Zanthrop Vell came. {FILLER} Ulverstade Quarry closed. Zanthrop Vell left."
    per_token = torch.ones(_n(tok, text))
    found = recurring_phrases(tok, text, per_token, k=8)
    assert set(found) == {"Ulverstade Quarry", "Zanthrop Vell"}
    # make the second name's first mention costlier: it must come first
    s, e = phrase_token_spans(tok, text, "Zanthrop Vell", per_token.numel())[0]
    per_token[s + 1:e] = 50.0
    assert recurring_phrases(tok, text, per_token, k=8)[0] == "Zanthrop Vell"


def test_a_repeat_inside_the_same_segment_is_not_a_far_fact(tok):
    text = f"Ulverstade Quarry, yes, Ulverstade Quarry. {FILLER}"
    assert recurring_phrases(tok, text, torch.ones(_n(tok, text)), k=512) == []
    assert recurring_phrases(tok, text, torch.ones(_n(tok, text)), k=4) == ["Ulverstade Quarry"]


def test_only_the_scored_tokens_count(tok):
    text = f"Ulverstade Quarry opened. {FILLER} Ulverstade Quarry closed."
    first_mention_only = phrase_token_spans(tok, text, "Ulverstade Quarry", 10 ** 6)[1][0]
    assert recurring_phrases(tok, text, torch.ones(first_mention_only), k=8) == []


def test_chinese_text_gives_chinese_phrases(tok):
    text = "天地不仁，以万物为刍狗。" + "道可道，非常道。" * 12 + "圣人不仁，以百姓为刍狗。"
    found = recurring_phrases(tok, text, torch.ones(_n(tok, text)), k=8, top=8)
    assert found and all("\u4e00" <= ch <= "\u9fff" for phrase in found for ch in phrase)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(2, 64), top=st.integers(1, 6), seed=st.integers(0, 1000))
def test_results_are_distinct_non_nested_and_at_most_top(k, top, seed):
    tok = smol_tokenizer()
    text = f"Greywater Junction and Skelding Hill. {FILLER} Greywater Junction. Skelding Hill. Greywater."
    per_token = torch.rand(_n(tok, text), generator=torch.Generator().manual_seed(seed))
    found = recurring_phrases(tok, text, per_token, k=k, top=top)
    assert len(found) <= top and len(set(found)) == len(found)
    assert not any(a != b and a in b for a in found for b in found)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"k": 1}, ValueError, "k"), ({"top": 0}, ValueError, "top"),
    ({"per_token": torch.ones(2, 3)}, ValueError, "per_token must be 1-D"), ({"text": 5}, TypeError, "text"),
])
def test_bad_arguments_name_themselves(tok, kwargs, error, match):
    args = {"tokenizer": tok, "text": "Ab Cd. Ab Cd.", "per_token": torch.ones(6), "k": 2} | kwargs
    with pytest.raises(error, match=match):
        recurring_phrases(**args)
