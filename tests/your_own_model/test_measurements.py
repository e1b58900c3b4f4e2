"""Each measurement on each random architecture (tiny: seconds), cross-checked against the chapters' own functions."""
from __future__ import annotations

import math

import pytest
import torch

import longctx_lab as L

from .conftest import DECODERS, family_model

ROPE = ["llama", "qwen2", "mistral", "gpt_neox"]
NO_NEXT_TOKEN = "encoder without a next-token head"


def ids_for(tokenizer, n: int) -> torch.Tensor:
    return L.report_text_ids(tokenizer, L.load_text("short_paragraph"), n)[0]


def test_report_text_ids_repeats_the_text():
    _, tokenizer = family_model("llama")
    once = tokenizer.encode("One two three.\n\n", add_special_tokens=False)
    ids, n_once = L.report_text_ids(tokenizer, "One two three.", 3 * len(once) + 1)
    assert n_once == len(once) and ids.tolist() == once * 3 + once[:1]
    with pytest.raises(ValueError, match="text is empty"):
        L.report_text_ids(tokenizer, "   ", 10)


@pytest.mark.parametrize("family", DECODERS)
def test_loss_and_perplexity(family):
    m, tokenizer = family_model(family)
    ids = ids_for(tokenizer, 200)
    loss = L.measure_loss_by_position(m, ids, [100, 200])
    reference = L.long_context_nll(m, ids)  # (199,), chapter 6's own per-token NLL
    assert loss["nll"][0] == pytest.approx(float(reference[0]), rel=1e-4)
    assert loss["nll_last_half"][1] == pytest.approx(float(reference[100:199].mean()), rel=1e-4)
    cut = L.long_context_nll(m, ids[100:200])  # the same tokens with their context starting at 100
    assert loss["context_gain"][1] == pytest.approx(float(cut.mean() - reference[100:199].mean()), abs=1e-3)
    ppl = L.measure_perplexity(m, ids, [100, 200])
    assert ppl["runs"][0]["in_window"] == pytest.approx(math.exp(float(reference.double().mean())), rel=1e-4)
    assert not ppl["beyond_measured"] and ppl["runs"][0]["beyond"] is None  # 200 < 256 trained positions
    if family in ROPE:
        assert [r["method"] for r in ppl["runs"]] == ["none", "yarn"] and ppl["suggest_max_tokens"] == 512
        longer = L.measure_perplexity(m, ids_for(tokenizer, 320), [160, 320])
        assert longer["beyond_measured"] and longer["runs"][0]["beyond"] > 0
        assert longer["runs"][1] == dict(longer["runs"][1], method="yarn", factor=2.0)
    else:  # learned absolute positions: nothing to stretch, and no position past the table
        assert [r["method"] for r in ppl["runs"]] == ["none"] and not ppl["rope"]
        with pytest.raises(ValueError, match="learned absolute positions"):
            L.measure_perplexity(m, ids, method="yarn", factor=2.0)


@pytest.mark.parametrize("family", DECODERS)
def test_needle_attention_prefill_kv(family):
    m, tokenizer = family_model(family)
    grid = L.measure_needle_grid(m, tokenizer, [64, 96], (0.5,))
    assert grid["lengths"] == [64, 96] and len(grid["found"]) == 2 and all(1 <= r[0] <= 10 for r in grid["rank"])
    ids = ids_for(tokenizer, 128)
    attention = L.measure_attention(m, ids[:40])
    stats = L.layer_head_stats(m, ids[:40])  # (L, H)
    assert attention["mean_distance"] == pytest.approx(stats.mean_distance.mean(-1).tolist(), abs=1e-3)
    assert attention["sink_mass"] == pytest.approx(stats.sink_mass.mean(-1).tolist(), abs=1e-3)
    prefill = L.measure_prefill(m, ids, [32, 64])
    assert prefill["lengths"] == [32, 64] and all(s > 0 for s in prefill["seconds"])
    assert all(b > 0 for b in prefill["peak_bytes"])
    kv = L.measure_kv_int8(m, ids)
    if family == "mistral":  # a window of 8 keeps 7 tokens in the cache: nothing to quantize
        assert kv == {"measured": False, "reason": "window", "sliding_window": 8}
    else:
        curve = L.kv_quant_curve(m, ids, (None, 8), window=8, group=4, chunk=4)
        assert kv["ppl_fp"] == pytest.approx(curve[0].ppl, rel=1e-3) and kv["ppl_int8"] == pytest.approx(
            curve[1].ppl, rel=1e-3) and kv["memory_ratio"] > 0  # head_dim 4: scales outweigh the savings


def test_attention_switches_to_eager_and_back():
    m, tokenizer = family_model("llama")
    m.set_attn_implementation("sdpa")
    try:
        result = L.measure_attention(m, ids_for(tokenizer, 40))
        assert m.config._attn_implementation == "sdpa" and len(result["sink_mass"]) == m.config.num_hidden_layers
    finally:
        m.set_attn_implementation("eager")


def test_an_encoder_is_refused_with_the_reason():
    m, tokenizer = family_model("bert")
    ids = torch.arange(5, 69)
    for call in (lambda: L.measure_loss_by_position(m, ids), lambda: L.measure_perplexity(m, ids),
                 lambda: L.measure_needle_grid(m, tokenizer, [64]), lambda: L.measure_attention(m, ids),
                 lambda: L.measure_prefill(m, ids, [32]), lambda: L.measure_kv_int8(m, ids)):
        with pytest.raises(ValueError, match=NO_NEXT_TOKEN):
            call()
