"""The transformers shims: the cache keyword, eager attention, per-layer attention hooks, pooling."""
import pytest
import torch

from longctx_lab.core.hf import cache_kwargs, mean_pool, new_cache, per_layer_attention, require_eager
from longctx_lab.core.models import tiny_lm


def test_cache_helpers_pick_the_forward_keyword_and_refuse_models_without_a_cache():
    model = tiny_lm(seed=0)
    cache = new_cache(model)
    kwargs = cache_kwargs(model, cache)
    assert kwargs["use_cache"] is True and len(kwargs) == 2
    assert any(kwargs.get(name) is cache for name in ("cache", "past_key_values"))

    class NoCache(torch.nn.Module):
        def forward(self, input_ids):
            return input_ids

    with pytest.raises(TypeError, match="past_key_values"):
        cache_kwargs(NoCache(), cache)


def test_per_layer_attention_sees_every_layer_and_needs_eager():
    model = tiny_lm(seed=0, n_layers=3)
    ids = torch.arange(1, 9)[None]
    rows = per_layer_attention(model, ids, lambda weights: weights.sum(-1))  # (H, T): each row sums to 1
    assert len(rows) == 3 and all(torch.allclose(r, torch.ones_like(r)) for r in rows)
    with pytest.raises(ValueError, match="eager"):
        require_eager(tiny_lm(seed=0, attn_implementation="sdpa"))


def test_mean_pool_averages_real_tokens_and_normalises():
    hidden = torch.tensor([[[3.0, 4.0], [100.0, 100.0]]])  # the second token is padding
    pooled = mean_pool(hidden, torch.tensor([[1, 0]]))
    assert torch.allclose(pooled, torch.tensor([[0.6, 0.8]]))
