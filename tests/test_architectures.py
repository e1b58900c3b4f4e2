"""Every chapter function on other architectures: it gives the right answer, or a clear error saying why not.

Tiny randomly initialised models built from transformers configs (no downloads; hidden 32, 2 layers,
vocabulary 256): Llama, Qwen2, Mistral (sliding_window=8, shorter than the 24-token input), GPT-NeoX
(partial rotary, rotary_pct=0.5), GPT-2 and OPT (learned absolute positions) and a BERT encoder.
Each test is parametrized over the families, so the report reads as a (family, function) matrix.

Does not apply (the function raises a ValueError that says why):
- BERT × segment_loss (all modes), token_nll, window_perplexity, kv_quant_curve, long_context_nll,
  needle_trial: an encoder has no next-token head.
- BERT × kv_cache_bytes: an encoder keeps no KV cache (no error; the forward returns no cache).
- GPT-2, OPT, BERT × rope_check, use_rope_scaling, any scaling method of long_context_nll and
  needle_trial: learned absolute positions, no RoPE. method="none" works on GPT-2/OPT up to
  max_position_embeddings, and says so past it.
- GPT-NeoX × rope_check: only partial_rotary_factor of each head rotates, and q/k come from one fused
  projection (use_rope_scaling, long_context_nll and needle_trial do work on it).
- Mistral × kv_quant_curve past sliding_window tokens: its cache keeps only the last window − 1 tokens.
- BERT × segment_gradients: no next-token head (see above).
- every decoder × segment_attention: it reads a BERT layer's query/key/value.
attention_maps, head_stats, layer_head_stats and attention_to_needle work on all seven families.
"""
from __future__ import annotations

import functools
import math
import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import transformers as tf  # noqa: E402

import longctx_lab as L  # noqa: E402

V, N, K = 256, 24, 8  # vocabulary, tokens per test input, segment length
WINDOW = 8  # Mistral's sliding window
COMMON = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
              max_position_embeddings=128)
BUILD = {
    "llama": (tf.LlamaConfig, tf.LlamaForCausalLM, dict(COMMON, num_key_value_heads=2)),
    "qwen2": (tf.Qwen2Config, tf.Qwen2ForCausalLM, dict(COMMON, num_key_value_heads=2)),
    "mistral": (tf.MistralConfig, tf.MistralForCausalLM, dict(COMMON, num_key_value_heads=2, sliding_window=WINDOW)),
    "gpt_neox": (tf.GPTNeoXConfig, tf.GPTNeoXForCausalLM, dict(COMMON, rotary_pct=0.5)),
    "gpt2": (tf.GPT2Config, tf.GPT2LMHeadModel, dict(n_embd=32, n_layer=2, n_head=4, n_positions=128)),
    "opt": (tf.OPTConfig, tf.OPTForCausalLM, dict(COMMON, ffn_dim=64, word_embed_proj_dim=32)),
    "bert": (tf.BertConfig, tf.BertModel, dict(COMMON)),
}
FAMILIES = list(BUILD)
DECODERS = [f for f in FAMILIES if f != "bert"]
ROPE = ["llama", "qwen2", "mistral", "gpt_neox"]
ABSOLUTE = ["gpt2", "opt", "bert"]
NO_NEXT_TOKEN = "encoder without a next-token head"


@functools.lru_cache(maxsize=None)
def model(family: str, vocab: int = V, small: bool = False):
    """A tiny random model of `family` in eval mode with eager attention (cached per module run)."""
    config_class, model_class, kwargs = BUILD[family]
    kwargs = dict(kwargs)
    if small:  # the needle models: a real tokenizer's vocabulary, so keep the rest minimal
        for key in ("hidden_size", "n_embd"):
            if key in kwargs:
                kwargs[key] = 16
        for key in ("num_hidden_layers", "n_layer"):
            if key in kwargs:
                kwargs[key] = 1
        if "word_embed_proj_dim" in kwargs:
            kwargs["word_embed_proj_dim"] = 16
        kwargs["max_position_embeddings" if "n_positions" not in kwargs else "n_positions"] = 256
    config = config_class(vocab_size=vocab, **kwargs)
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    return model_class(config).eval()


IDS = torch.randint(3, V, (N,), generator=torch.Generator().manual_seed(1))  # (N,), below the vocabulary


def dense_nll(m, ids=IDS) -> torch.Tensor:
    """Per-token NLL (n − 1,) straight from the model's logits: the independent reference."""
    with torch.no_grad():
        logits = m(input_ids=ids[None]).logits[0, :-1].float()  # (n − 1, V)
    return torch.nn.functional.cross_entropy(logits, ids[1:], reduction="none")


# --- 02_segment_loss ---------------------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("mode", ["full", "disjoint", "sliding", "recurrent"])
def test_segment_loss(family, mode):
    m = model(family)
    if family == "bert":
        with pytest.raises(ValueError, match=NO_NEXT_TOKEN):
            L.segment_loss(m, IDS, K, mode=mode)
        return
    result = L.segment_loss(m, IDS, K, mode=mode)
    total = float(result.per_segment.sum())
    if mode in ("full", "recurrent"):  # recurrent carries every earlier key/value: the same as one pass
        with torch.no_grad():
            own = float(m(IDS[None], labels=IDS[None]).loss) * (N - 1)  # nats
        assert total == pytest.approx(own, rel=1e-4)
    else:  # disjoint, and sliding with stride k: each segment scored alone
        alone = sum(float(dense_nll(m, IDS[s:e]).sum()) for s, e in L.ChunkPlan(N, K).spans)
        assert total == pytest.approx(alone, rel=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_segment_loss_sliding_per_token(family):
    m = model(family)
    if family == "bert":
        with pytest.raises(ValueError, match=NO_NEXT_TOKEN):
            L.segment_loss(m, IDS, K, mode="sliding", stride=3)
        return
    result = L.segment_loss(m, IDS, K, mode="sliding", stride=3)
    expected = torch.full((N,), float("nan"), dtype=torch.float64)
    for begin, end, first in L.sliding_windows(N, K, 3):  # each token scored once, with its window as context
        expected[first:end] = dense_nll(m, IDS[begin:end])[first - begin - 1:].double()
    torch.testing.assert_close(result.per_token, expected, rtol=1e-4, atol=1e-5, equal_nan=True)
    full = L.segment_loss(m, IDS, K, mode="full").per_token
    torch.testing.assert_close(full[1:], dense_nll(m).double(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_segment_gradients(family):
    m = model(family)
    if family == "bert":
        with pytest.raises(ValueError, match=NO_NEXT_TOKEN):
            L.segment_gradients(m, IDS, K)
        return
    one_by_one, batched = L.segment_gradients(m, IDS, K), L.segment_gradients(m, IDS, K, accumulate=False)
    assert one_by_one.total == pytest.approx(float(L.segment_loss(m, IDS, K).per_segment.sum()), rel=1e-4)
    assert one_by_one.grads.keys() == batched.grads.keys() and one_by_one.grads
    for name, grad in one_by_one.grads.items():  # L is a sum: accumulating segment by segment changes nothing
        torch.testing.assert_close(grad, batched.grads[name], rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_token_nll(family):
    m = model(family)
    if family == "bert":
        with pytest.raises(ValueError, match=NO_NEXT_TOKEN):
            L.token_nll(m, IDS)
        return
    torch.testing.assert_close(L.token_nll(m, IDS), dense_nll(m), rtol=1e-4, atol=1e-5)


# --- 03_attention ------------------------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_attention_maps_and_head_stats(family):
    m = model(family)
    maps = L.attention_maps(m, IDS)
    assert maps.shape == (2, 4, N, N)  # (L, H, T, T)
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 4, N), atol=1e-4, rtol=0)
    above = torch.ones(N, N, dtype=torch.bool).triu(1)
    if family == "bert":
        assert float(maps[..., above].min()) > 0  # bidirectional
    else:
        assert float(maps[..., above].abs().max()) == 0  # causal
    if family == "mistral":  # nothing further back than the sliding window
        assert float(maps[..., ~L.sliding_window_mask(N, WINDOW) & ~above].abs().max()) == 0
    stats = L.head_stats(maps)
    assert stats.entropy.shape == (2, 4)
    by_layer = L.layer_head_stats(m, IDS)
    torch.testing.assert_close(by_layer.mean_distance, stats.mean_distance, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_window_perplexity(family):
    m = model(family)
    if family == "bert":
        with pytest.raises(ValueError, match=NO_NEXT_TOKEN):
            L.window_perplexity(m, IDS, 4, 1)
        return
    dense = math.exp(float(dense_nll(m).mean()))  # the model's own attention, Mistral's window included
    assert L.window_perplexity(m, IDS) == pytest.approx(dense, rel=1e-4)
    assert L.window_perplexity(m, IDS, N + 5, 2) == pytest.approx(dense, rel=1e-4)
    windowed = L.window_perplexity(m, IDS, 2, 1)
    assert math.isfinite(windowed) and windowed != pytest.approx(dense, rel=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_segment_attention(family):
    m = model(family)
    if family != "bert":
        with pytest.raises(ValueError, match="BERT layer's query/key/value"):
            L.segment_attention(m, IDS, 0, 0, K)
        return
    result = L.segment_attention(m, IDS, 1, 2, K)
    assert len(result.alpha) == N // K - 1
    for alpha, block in zip(result.alpha, result.model_block):
        assert alpha.shape == block.shape == (K, K)
        torch.testing.assert_close(alpha.sum(-1), torch.ones(K), atol=1e-5, rtol=0)


# --- 05_compression ----------------------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_kv_cache_bytes_matches_the_cache(family):
    m = model(family)
    n = WINDOW - 1 if family == "mistral" else N  # Mistral's cache holds at most window − 1 tokens
    with torch.no_grad():
        out = m(input_ids=IDS[None, :n], use_cache=True)
    cache = getattr(out, "past_key_values", None)
    if family == "bert":
        assert cache is None  # an encoder keeps no KV cache: does not apply
        return
    actual = sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
    assert L.kv_cache_bytes(m.config, n, 4) == actual  # fp32 cache: 4 bytes per value


@pytest.mark.parametrize("family", FAMILIES)
def test_kv_quant_curve(family):
    m = model(family)
    if family == "bert":
        with pytest.raises(ValueError, match=NO_NEXT_TOKEN):
            L.kv_quant_curve(m, IDS, (None, 8), window=4, group=4, chunk=4)
        return
    ids = IDS
    if family == "mistral":
        with pytest.raises(ValueError, match="sliding_window=8"):
            L.kv_quant_curve(m, IDS, (None, 8), window=4, group=4, chunk=4)
        ids = IDS[:WINDOW - 1]
    prefix = len(ids) // 2
    full, eight = L.kv_quant_curve(m, ids, (None, 8), window=2, group=2, chunk=2, prefix=prefix)
    assert full.nll == pytest.approx(float(L.token_nll(m, ids)[prefix - 1:].mean()), rel=1e-4)
    assert eight.nll == pytest.approx(full.nll, rel=0.05)


# --- 06_context_extension ----------------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_rope_check(family):
    m = model(family)
    if family in ABSOLUTE:
        with pytest.raises(ValueError, match="learned absolute positions"):
            L.rope_check(m, IDS)
    elif family == "gpt_neox":
        with pytest.raises(ValueError, match="partial_rotary_factor=0.5"):
            L.rope_check(m, IDS)
    else:
        diffs = L.rope_check(m, IDS, layer=1)
        assert diffs["cos_sin"] < 1e-5 and diffs["attention_weights"] < 1e-5


@pytest.mark.parametrize("family", FAMILIES)
def test_use_rope_scaling_and_long_context_nll(family):
    m = model(family)
    if family == "bert":
        with pytest.raises(ValueError, match=NO_NEXT_TOKEN):
            L.long_context_nll(m, IDS)
    else:  # method="none" needs no RoPE: the plain dense NLL on every decoder
        torch.testing.assert_close(L.long_context_nll(m, IDS, chunk=5), dense_nll(m), rtol=1e-4, atol=1e-5)
    if family in ABSOLUTE:
        with pytest.raises(ValueError, match="learned absolute positions"):
            with L.use_rope_scaling(m, "linear", 2.0):
                pass
        if family != "bert":
            with pytest.raises(ValueError, match="learned absolute positions"):
                L.long_context_nll(m, IDS, "yarn", 2.0)
            long_ids = torch.randint(3, V, (200,), generator=torch.Generator().manual_seed(2))
            with pytest.raises(ValueError, match="max_position_embeddings=128"):
                L.long_context_nll(m, long_ids)
        return
    inv_freq = m.base_model.rotary_emb.inv_freq.clone()
    with L.use_rope_scaling(m, "linear", 2.0) as rotary:
        torch.testing.assert_close(rotary.inv_freq, inv_freq / 2)  # same width (partial rotary kept), half speed
    assert m.base_model.rotary_emb.inv_freq is not None and torch.equal(m.base_model.rotary_emb.inv_freq, inv_freq)
    torch.testing.assert_close(L.long_context_nll(m, IDS, "linear", 1.0), dense_nll(m), rtol=1e-4, atol=1e-5)
    stretched = L.long_context_nll(m, IDS, "linear", 4.0)
    assert not torch.equal(stretched, L.long_context_nll(m, IDS))  # a random tiny model barely notices


@functools.lru_cache(maxsize=1)
def smollm2_tokenizer():
    path = L.smollm2_cache_path()
    if not path.exists():
        pytest.skip(f"the SmolLM2 tokenizer is not converted yet ({path}); load_smollm2() once creates it")
    return tf.AutoTokenizer.from_pretrained(str(path))


@pytest.mark.parametrize("family", FAMILIES)
def test_needle_trial(family):
    tokenizer = smollm2_tokenizer()
    m = model(family, len(tokenizer), small=True)
    if family == "bert":
        with pytest.raises(ValueError, match=NO_NEXT_TOKEN):
            L.needle_trial(m, tokenizer, 120, 0.5)
        return
    if family in ABSOLUTE:
        with pytest.raises(ValueError, match="learned absolute positions"):
            L.needle_trial(m, tokenizer, 120, 0.5, method="linear", factor=2.0)
    trial = L.needle_trial(m, tokenizer, 120, 0.5, n_distractors=3, max_new_tokens=2)
    assert 1 <= trial.rank <= 4
    # Independent: the true key's log-probability by one plain forward over haystack + answer.
    haystack = L.make_haystack(tokenizer, 120, 0.5, seed=0)
    answer = L.answer_ids(tokenizer, trial.key)
    ids = torch.tensor([haystack.input_ids + answer])
    with torch.no_grad():
        logp = m(input_ids=ids).logits[0].float().log_softmax(-1)  # (n, V)
    start = len(haystack.input_ids) - 1
    expected = sum(float(logp[start + i, token]) for i, token in enumerate(answer))
    assert trial.key_logprob == pytest.approx(expected, rel=1e-3, abs=1e-3)
    mass = L.attention_to_needle(m, tokenizer, 120, 0.5)
    assert mass.shape == (1, 4) and float(mass.min()) >= 0 and float(mass.max()) <= 1 + 1e-5  # (L, H)
