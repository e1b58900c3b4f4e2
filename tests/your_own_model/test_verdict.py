"""The verdict on constructed numbers: each of the three limits binds, in both directions."""
from __future__ import annotations

import pytest

import longctx_lab as L
from longctx_lab.core.i18n import set_language

LENGTHS = [1024, 2048, 4096, 8192]
DEPTHS = [0.1, 0.5, 0.9]
ALL = [[True] * 3] * 4


def verdict(found=ALL, ppl=(20.0, 19.0, 18.0, 18.5), gain=(0.3, 0.1, 0.05, 0.02)):
    return L.effective_context(LENGTHS, found, DEPTHS, list(ppl), 20.0, list(gain))


def test_everything_passes_so_the_measurement_binds():
    v = verdict()
    assert v["tokens"] == 8192 and v["bound"] == "measured" and v["reason"]["suggest"] == 16384
    assert all(c["needle"] and c["perplexity"] and c["loss"] for c in v["checks"])


def test_a_lost_pass_key_binds():
    found = [[True] * 3, [True] * 3, [True, False, True], [True] * 3]
    v = verdict(found=found)
    assert v["tokens"] == 2048 and v["bound"] == "needle" and v["reason"] == {"length": 4096, "depth": 0.5,
                                                                             "ratio": 0.9}
    assert v["checks"][3]["needle"]  # later lengths are still reported, but the first failure binds


def test_blown_up_perplexity_binds():
    v = verdict(ppl=(20.0, 19.0, 18.0, 45.0))
    assert v["tokens"] == 4096 and v["bound"] == "perplexity" and v["checks"][3]["ppl_ratio"] == 2.25
    assert verdict(ppl=(20.0, 19.0, 18.0, 39.0))["tokens"] == 8192  # 1.95 × is not a blow-up


def test_far_context_that_no_longer_helps_binds():
    v = verdict(gain=(0.3, -0.01, 0.05, 0.02))
    assert v["tokens"] == 1024 and v["bound"] == "loss" and v["checks"][1]["context_gain"] == -0.01
    assert verdict(gain=(0.3, 0.001, 0.05, 0.02))["tokens"] == 8192  # a small gain is still a gain
    assert L.effective_context(LENGTHS, ALL, DEPTHS, [20.0] * 4, 20.0, [0.3, 0.001, 0.05, 0.02],
                               min_gain=0.01)["tokens"] == 1024


def test_the_shortest_length_failing_gives_zero():
    v = verdict(found=[[False] * 3] + [[True] * 3] * 3)
    assert v["tokens"] == 0 and v["bound"] == "needle"
    set_language("en")
    assert "did not use even the shortest measured context (1024 tokens)" in L.verdict_sentence(v, 1024)


def test_the_sentence_names_the_limit():
    set_language("en")
    assert "pass key was lost at 4096 tokens (depth 0.5)" in L.verdict_sentence(
        verdict(found=[[True] * 3, [True] * 3, [True, False, True], [True] * 3]), 1024)
    assert "--max-tokens 16384" in L.verdict_sentence(verdict(), 1024)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="same non-zero length"):
        L.effective_context(LENGTHS, ALL[:2], DEPTHS, [1.0] * 4, 1.0, [1.0] * 4)
    with pytest.raises(ValueError, match="increasing"):
        L.effective_context(LENGTHS[::-1], ALL, DEPTHS, [1.0] * 4, 1.0, [1.0] * 4)


def test_learned_positions_name_their_own_limit():
    set_language("en")
    v = dict(verdict(), bound="positions", reason={"length": 1008, "trained": 1024})
    assert "up to the 1024 learned positions" in L.verdict_sentence(v, 128)
