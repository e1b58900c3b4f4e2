"""Chapter 3: attention maps, head statistics, segment attention, window masks, adaptive span, exercises."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from longctx_lab import (
    AdaptiveSpan,
    ChunkPlan,
    adaptive_span_mask,
    attention_maps,
    chunk_block_mask,
    distance_profile,
    head_stats,
    layer_head_stats,
    load_minilm,
    make_span_task,
    segment_attention,
    sliding_window_mask,
    tiny_lm,
    train_adaptive_span,
    window_additive_mask,
    window_perplexity,
)
from longctx_lab.attention import exercises as ex
from longctx_lab.core.exercise_kit import ____


def _uniform_causal(t: int) -> torch.Tensor:
    attn = torch.tril(torch.ones(t, t))
    return attn / attn.sum(-1, keepdim=True)


# ---- head statistics on hand-made matrices with known answers ----

def test_head_stats_identity():
    stats = head_stats(torch.eye(6))
    assert stats.mean_distance == 0 and stats.span90 == 0 and stats.entropy == 0
    assert stats.sink_mass == pytest.approx(1 / 6)


def test_head_stats_uniform_causal():
    t = 4
    stats = head_stats(_uniform_causal(t))
    assert float(stats.mean_distance) == pytest.approx(sum(i / 2 for i in range(t)) / t)
    assert float(stats.entropy) == pytest.approx(sum(math.log(i + 1) for i in range(t)) / t)
    assert float(stats.sink_mass) == pytest.approx(sum(1 / (i + 1) for i in range(t)) / t)
    # Row i needs distance D with (D + 1) / (i + 1) >= 0.9: rows 0..3 -> 0, 1, 2, 3.
    assert float(stats.span90) == pytest.approx((0 + 1 + 2 + 3) / 4)


def test_head_stats_all_on_first_token_and_batch_shape():
    t = 8
    sink = torch.zeros(t, t)
    sink[:, 0] = 1.0
    stats = head_stats(torch.stack([sink, torch.eye(t)])[None])  # (1, 2, T, T)
    assert stats.mean_distance.shape == (1, 2)
    assert float(stats.sink_mass[0, 0]) == 1.0
    assert float(stats.mean_distance[0, 0]) == pytest.approx((t - 1) / 2)
    assert float(stats.span90[0, 0]) == pytest.approx((t - 1) / 2)


def test_head_stats_span90_split_row():
    attn = torch.zeros(3, 3)
    attn[0, 0] = 1.0
    attn[1, 1] = 1.0
    attn[2] = torch.tensor([0.5, 0.0, 0.5])  # half at distance 0, half at 2
    assert float(head_stats(attn).span90) == pytest.approx(2 / 3)
    assert float(head_stats(attn, mass=0.5).span90) == 0.0


def test_distance_profile_bidirectional_and_mass():
    attn = torch.softmax(torch.randn(2, 5, 5, generator=torch.Generator().manual_seed(0)), -1)
    profile = distance_profile(attn)
    assert torch.allclose(profile.sum(-1), torch.ones(2, 5))
    assert torch.allclose(profile[:, 2, 1], attn[:, 2, 1] + attn[:, 2, 3])


@pytest.mark.parametrize("bad, match", [(torch.ones(3, 4), "attn"), ([[1.0]], "attn")])
def test_head_stats_bad_input(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        head_stats(bad)
    with pytest.raises(ValueError, match="mass"):
        head_stats(torch.eye(3), mass=0)


# ---- attention maps and streaming statistics on a tiny model ----

@pytest.fixture(scope="module")
def tiny():
    return tiny_lm(seed=0)


def test_attention_maps_shape_rows_causal(tiny):
    ids = torch.randint(0, 256, (12,), generator=torch.Generator().manual_seed(1))
    maps = attention_maps(tiny, ids)
    cfg = tiny.config
    assert maps.shape == (cfg.num_hidden_layers, cfg.num_attention_heads, 12, 12)
    assert torch.allclose(maps.sum(-1), torch.ones(maps.shape[:-1]), atol=1e-5)
    assert torch.all(maps.triu(1) == 0)
    assert attention_maps(tiny, ids, layers=[1]).shape[0] == 1
    with pytest.raises(ValueError, match="layers"):
        attention_maps(tiny, ids, layers=[5])
    with pytest.raises(ValueError, match="input_ids"):
        attention_maps(tiny, ids[:1])


def test_attention_maps_needs_eager():
    with pytest.raises(ValueError, match="eager"):
        attention_maps(tiny_lm(seed=0, attn_implementation="sdpa"), torch.arange(8))


def test_layer_head_stats_matches_full_maps(tiny):
    ids = torch.randint(0, 256, (20,), generator=torch.Generator().manual_seed(2))
    full = head_stats(attention_maps(tiny, ids))
    streamed = layer_head_stats(tiny, ids)
    for name, value in full.as_dict().items():
        assert torch.allclose(value, getattr(streamed, name), atol=1e-5), name


# ---- window masks ----

@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), window=st.integers(1, 45), sinks=st.integers(0, 8))
def test_sliding_window_mask_counts(n, window, sinks):
    mask = sliding_window_mask(n, window, sinks)
    assert mask.dtype == torch.bool and mask.shape == (n, n)
    assert not mask.triu(1).any()
    for i in range(n):
        expected = min(i + 1, window) + min(sinks, max(0, i + 1 - window))
        assert int(mask[i].sum()) == expected
        assert bool(mask[i, i])


def test_sliding_window_mask_bad_input():
    with pytest.raises(ValueError, match="window"):
        sliding_window_mask(5, 0)
    with pytest.raises(TypeError, match="sinks"):
        sliding_window_mask(5, 2, sinks=1.5)


@pytest.mark.parametrize("implementation", ["eager", "sdpa"])
def test_full_causal_4d_mask_reproduces_unmasked_logits(implementation):
    model = tiny_lm(seed=0, attn_implementation=implementation)
    ids = torch.randint(0, 256, (1, 32), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        plain = model(ids).logits
        masked = model(ids, attention_mask=window_additive_mask(32, None)).logits
        windowed = model(ids, attention_mask=window_additive_mask(32, 4)).logits
    assert torch.allclose(plain, masked, atol=1e-5)
    assert not torch.allclose(plain, windowed, atol=1e-3)  # the custom mask is honoured, not ignored
    assert torch.allclose(plain[:, :4], windowed[:, :4], atol=1e-5)  # the first w queries see the same keys


def test_window_perplexity_dense_and_wide_window_agree(tiny):
    ids = torch.randint(0, 256, (24,), generator=torch.Generator().manual_seed(4))
    dense = window_perplexity(tiny, ids)
    assert window_perplexity(tiny, ids, window=24) == pytest.approx(dense, rel=1e-5)
    assert window_perplexity(tiny, ids, window=2) != pytest.approx(dense, rel=1e-3)
    assert window_additive_mask(5, 2).shape == (1, 1, 5, 5)


def test_chunk_block_mask():
    mask = chunk_block_mask(ChunkPlan(10, 4))
    assert mask.shape == (10, 10) and mask[0, 3] and not mask[3, 4] and mask[9, 8]
    assert int(mask.sum()) == 16 + 16 + 4
    assert float(chunk_block_mask(ChunkPlan(1024, 128)).float().mean()) == pytest.approx(128 / 1024)
    with pytest.raises(TypeError, match="plan"):
        chunk_block_mask((10, 4))


# ---- adaptive span ----

@settings(max_examples=50, deadline=None)
@given(span=st.integers(1, 64), z=st.floats(0, 80), R=st.floats(0.5, 32))
def test_adaptive_span_mask_is_the_papers_formula(span, z, R):
    mask = adaptive_span_mask(span, z, R)
    assert mask.shape == (span,)
    for x in range(span):
        assert float(mask[x]) == pytest.approx(min(max((R + z - x) / R, 0.0), 1.0), abs=1e-5)


def test_adaptive_span_mask_per_head_and_bad_input():
    assert adaptive_span_mask(10, torch.tensor([0.0, 5.0]), 2).shape == (2, 10)
    with pytest.raises(ValueError, match="span"):
        adaptive_span_mask(0, 1.0, 2)
    with pytest.raises(ValueError, match="R"):
        adaptive_span_mask(4, 1.0, 0)


def test_adaptive_span_masked_renormalised_equals_masked_softmax():
    generator = torch.Generator().manual_seed(5)
    b, h, t = 2, 3, 10
    module = AdaptiveSpan(h, max_span=8, ramp=3.0)
    with torch.no_grad():
        module.fraction.copy_(torch.tensor([0.1, 0.5, 1.0]))
    scores = torch.randn(b, h, t, t, generator=generator)
    distance = (torch.arange(t)[:, None] - torch.arange(t)[None, :]).clamp(min=0)
    causal = torch.arange(t)[None, :] <= torch.arange(t)[:, None]
    scores = scores.masked_fill(~causal, float("-inf"))
    out = module(scores.softmax(-1))
    m = torch.stack([adaptive_span_mask(t, float(z), 3.0) for z in module.z.detach()])  # (H, T)
    m = m * (torch.arange(t) < 8)  # nothing beyond max_span
    weights = m[:, distance] * torch.exp(scores)
    expected = weights / weights.sum(-1, keepdim=True)
    assert torch.allclose(out, expected, atol=1e-6)


def test_adaptive_span_penalty_gradient_and_spans():
    module = AdaptiveSpan(2, max_span=16, ramp=4.0, init_fraction=0.5)
    module.penalty().backward()
    assert torch.all(module.fraction.grad > 0)
    assert module.spans().tolist() == [12.0, 12.0]
    with pytest.raises(ValueError, match="attn"):
        module(torch.ones(1, 3, 4, 4))
    with pytest.raises(ValueError, match="n_heads"):
        AdaptiveSpan(0, 4)


def test_make_span_task_targets():
    task = make_span_task(4, 16, generator=torch.Generator().manual_seed(0))
    ids, targets = task.input_ids, task.targets
    assert torch.all(targets[:, 0] == -100)
    assert torch.all(targets[task.is_query] == ids[:, :1].expand(-1, 16)[task.is_query])
    plain = ~task.is_query
    plain[:, 0] = False
    assert torch.all(targets[plain] == ids[:, :-1][plain[:, 1:]])
    assert task.is_query[:, :8].sum() == 0 and torch.all(task.is_query.sum(-1) == 4)


def test_train_adaptive_span_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = train_adaptive_span(steps=2, length=16, batch=4, seed=5)
    assert torch.equal(torch.rand(3), expected)  # the caller's random stream is where it was
    again = train_adaptive_span(steps=2, length=16, batch=4, seed=5)
    assert first.spans == again.spans and first.losses == again.losses


def test_train_adaptive_span_runs_and_penalty_shrinks_spans():
    free = train_adaptive_span(steps=15, length=16, span_penalty=0.0, batch=8)
    squeezed = train_adaptive_span(steps=15, length=16, span_penalty=50.0, batch=8)
    assert len(free.spans) == 4 and all(8.0 <= s <= 16.0 for s in free.spans)
    assert float(squeezed.model.span.z.detach().sum()) < float(free.model.span.z.detach().sum())
    with pytest.raises(ValueError, match="steps"):
        train_adaptive_span(steps=0)


# ---- the seed's segment attention on MiniLM ----

@pytest.fixture(scope="module")
def minilm():
    return load_minilm()


def test_segment_attention_scaled_equals_models_block(minilm):
    model, tokenizer = minilm
    ids = tokenizer("The lantern was left on the bench by the lock gate when the rain began to fall.",
                    return_tensors="pt").input_ids
    scaled = segment_attention(model, ids, layer=2, head=3, k=6, scale=True)
    plain = segment_attention(model, ids, layer=2, head=3, k=6)
    assert len(scaled.alpha) == ChunkPlan(ids.shape[1], 6).m - 1
    for alpha, block in zip(scaled.alpha, scaled.model_block):
        assert torch.allclose(alpha, block, atol=1e-4)  # softmax restricted to a block = renormalised block
    assert scaled.context[0].shape == (6, model.config.hidden_size // model.config.num_attention_heads)
    assert plain.entropy < scaled.entropy  # without 1/sqrt(d) the logits are sqrt(32) times sharper
    assert all(0 < mass < 1 for mass in scaled.model_mass)
    with pytest.raises(ValueError, match="head"):
        segment_attention(model, ids, layer=0, head=12, k=6)
    with pytest.raises(ValueError, match="k"):
        segment_attention(model, ids, layer=0, head=0, k=ids.shape[1])


# ---- exercises ----

def test_exercises_right_wrong_placeholder():
    cases = [(ex.uniform_entropy, math.log(10), 1.0), (ex.span_mask_value, 0.5, 1.0), (ex.window_keys, 20, 16),
             (ex.block_mask_fraction, 0.125, 0.5)]
    assert len(ex.EXERCISES) >= 3
    for exercise, right, wrong in cases:
        assert exercise.check(right).status == "correct"
        assert exercise.check(wrong).status == "wrong"
        assert exercise.check(____).status == "not attempted"
        assert exercise.hint().startswith("Hint 1/")
        assert exercise.solution()
    assert "sink" in repr(ex.window_keys.check(16))
