"""Chapter 5: pruning, int8, distillation, KV-cache size and quantization, the panel and the exercises."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from longctx_lab.compression.grid import build_variant, compression_grid
from longctx_lab.compression.kv_cache import (
    fake_quantize, kv_cache_bytes, kv_quant_curve, kv_quant_nll, kv_quantized_bytes, llama3_8b_config,
)
from longctx_lab.compression.plots import kv_growth_chart, kv_quant_chart, tradeoff_chart
from longctx_lab.compression.variants import (
    cast_weights, distill, head_importance, linear_sparsity, prune, prune_heads, quantize_int8,
)
from longctx_lab.compression.widgets import compression_panel, render_compression
from longctx_lab.compression.yardstick import (
    embedding_score, evaluate_variant, load_retrieval_eval, measure_latency, model_size_bytes, sentence_embeddings,
)
from longctx_lab.compression import exercises as ex
from longctx_lab.core.exercise_kit import ____
from longctx_lab.core.drawing import figure_fingerprint
from longctx_lab.core.models import load_minilm, load_smollm2, tiny_lm
from longctx_lab.core.panels import ResultCache


@pytest.fixture(scope="module")
def minilm():
    return load_minilm(attn_implementation="sdpa")


@pytest.fixture(scope="module")
def items():
    return load_retrieval_eval()


@pytest.fixture(scope="module")
def small_items(items):
    return items[::8]  # 26 items, every topic


@pytest.fixture(scope="module")
def reference(minilm, small_items):
    model, tok = minilm
    return embedding_score(model, tok, small_items).embeddings


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def snapshot(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


# ---- the yardstick -------------------------------------------------------------------------------

def test_eval_set_is_large_unique_and_complete(items):
    assert len(items) >= 200
    assert len({it["passage"] for it in items}) == len(items) == len({it["query"] for it in items})
    assert all(it["query"] and it["passage"] and it["topic"] for it in items)
    assert [it["id"] for it in items] == list(range(len(items)))


def test_sentence_embeddings_are_unit_mean_pooled_and_order_preserving(minilm):
    model, tok = minilm
    texts = ["A short one.", "A noticeably longer sentence about canal locks and their keepers.", "Mid length text."]
    emb = sentence_embeddings(model, tok, texts)
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(3))
    for i, text in enumerate(texts):  # alone: no padding, so a plain mean over tokens
        enc = tok(text, return_tensors="pt")
        alone = torch.nn.functional.normalize(model(**enc).last_hidden_state.mean(1), dim=-1)[0]
        torch.testing.assert_close(emb[i], alone, atol=1e-5, rtol=1e-4)
    with pytest.raises(TypeError, match="texts"):
        sentence_embeddings(model, tok, "not a list")
    with pytest.raises(TypeError, match="model"):
        sentence_embeddings("bert", tok, texts)


def test_minilm_retrieves_and_reference_shape_is_checked(minilm, small_items, reference):
    model, tok = minilm
    score = embedding_score(model, tok, small_items, reference)
    assert score.top1 >= 0.9 and score.fidelity_min > 0.9999
    with pytest.raises(ValueError, match="reference"):
        embedding_score(model, tok, small_items, reference[:-1])


# ---- sizes -----------------------------------------------------------------------------------------

def test_model_size_counts_parameters_buffers_and_packed_int8(minilm):
    model, _ = minilm
    tiny = tiny_lm()
    expected = sum(p.numel() * 4 for p in tiny.parameters()) + sum(b.numel() * b.element_size() for b in tiny.buffers())
    assert model_size_bytes(tiny) == expected
    ratio = model_size_bytes(quantize_int8(model)) / model_size_bytes(model)
    assert 0.62 < ratio < 0.67  # the fp32 word-embedding table keeps int8 from reaching 0.25
    with pytest.raises(TypeError, match="model"):
        model_size_bytes({"weight": torch.zeros(3)})


# ---- unstructured pruning --------------------------------------------------------------------------

@settings(max_examples=6, deadline=None)
@given(amount=st.floats(0.0, 0.95), scope=st.sampled_from(["global", "layer"]))
def test_prune_reaches_the_requested_sparsity_and_leaves_input_alone(amount, scope):
    model = tiny_lm()
    before = snapshot(model)
    pruned = prune(model, amount, scope=scope)
    assert same_state(before, model.state_dict())
    assert linear_sparsity(pruned) == pytest.approx(amount, abs=0.01)
    assert not any("weight_orig" in k or "mask" in k for k in pruned.state_dict())  # prune.remove was applied
    if scope == "layer":
        tied = pruned.model.embed_tokens.weight
        for module in pruned.modules():
            if isinstance(module, torch.nn.Linear) and module.weight is not tied:
                assert (module.weight == 0).float().mean().item() == pytest.approx(amount, abs=0.02)


def test_prune_keeps_the_largest_weights_and_the_dense_size():
    model = tiny_lm()
    pruned = prune(model, 0.5)
    original = torch.cat([m.weight.flatten() for m in model.model.layers.modules() if isinstance(m, torch.nn.Linear)])
    kept = torch.cat([m.weight.flatten() for m in pruned.model.layers.modules() if isinstance(m, torch.nn.Linear)])
    threshold = original.abs().kthvalue(original.numel() // 2).values  # the tied LM head is not pruned
    assert (kept[original.abs() > threshold] == original[original.abs() > threshold]).all()
    assert model_size_bytes(pruned) == model_size_bytes(model)  # masking is not shrinking


def test_prune_skips_a_head_tied_to_the_embedding():
    model = tiny_lm()
    model.lm_head.weight = model.model.embed_tokens.weight
    pruned = prune(model, 0.9)
    assert pruned.lm_head.weight is pruned.model.embed_tokens.weight
    assert (pruned.model.embed_tokens.weight != 0).all()


@pytest.mark.parametrize("amount, error", [(-0.1, ValueError), (1.0, ValueError), (1.5, ValueError),
                                           ("half", TypeError), (True, TypeError)])
def test_prune_rejects_bad_amounts(amount, error):
    with pytest.raises(error, match="amount"):
        prune(tiny_lm(), amount)


def test_prune_rejects_non_models_and_bad_scope():
    with pytest.raises(TypeError, match="model"):
        prune([1, 2, 3], 0.5)
    with pytest.raises(ValueError, match="scope"):
        prune(tiny_lm(), 0.5, scope="row")


# ---- structured (head) pruning ---------------------------------------------------------------------

def test_prune_heads_equals_zeroing_those_heads_and_shrinks(minilm):
    model, tok = minilm
    before = snapshot(model)
    scores = torch.arange(72, dtype=torch.float).reshape(6, 12)  # heads 0..2 of every layer go at 25 %
    pruned = prune_heads(model, 0.25, scores=scores)
    assert same_state(before, model.state_dict())
    assert pruned.encoder.layer[0].attention.self.query.out_features == 9 * 32
    assert pruned.config.pruned_heads[3] == [0, 1, 2]
    assert model_size_bytes(pruned) < model_size_bytes(model)
    # Reference: keep every weight but zero the removed heads' columns of the attention output projection.
    masked = prune(model, 0.0)
    for layer in masked.encoder.layer:
        layer.attention.output.dense.weight.data[:, : 3 * 32] = 0
    enc = tok(["The lock keeper opened the upper gate at dawn."], return_tensors="pt")
    with torch.inference_mode():
        torch.testing.assert_close(pruned(**enc).last_hidden_state, masked(**enc).last_hidden_state,
                                   atol=1e-4, rtol=1e-4)


def test_prune_via_structured_flag_and_default_scores(minilm):
    model, _ = minilm
    pruned = prune(model, 0.5, structured=True)
    assert all(layer.attention.self.num_attention_heads == 6 for layer in pruned.encoder.layer)
    with pytest.raises(ValueError, match="scores"):
        prune_heads(model, 0.25, scores=torch.zeros(6, 11))
    with pytest.raises(ValueError, match="fraction"):
        prune_heads(model, 1.0)
    with pytest.raises(TypeError, match="BERT"):
        prune_heads(tiny_lm(), 0.25)


def test_head_importance_is_positive_per_layer_and_head(minilm, small_items):
    model, tok = minilm
    scores = head_importance(model, tok, [it["passage"] for it in small_items[:8]])
    assert scores.shape == (6, 12) and (scores > 0).all()
    assert scores.std() > 0


# ---- quantization and casting ----------------------------------------------------------------------

def test_quantize_int8_is_faithful_and_leaves_input_alone(minilm, small_items, reference):
    model, tok = minilm
    before = snapshot(model)
    q = quantize_int8(model)
    assert same_state(before, model.state_dict())
    assert not any(type(m) is torch.nn.Linear for m in q.modules())
    score = embedding_score(q, tok, small_items, reference)
    assert score.fidelity_mean > 0.95 and score.top1 >= 0.85
    with pytest.raises(TypeError, match="per_channel"):
        quantize_int8(model, per_channel="yes")
    with pytest.raises(TypeError, match="model"):
        quantize_int8("minilm")


def test_cast_weights_halves_the_size_and_rejects_other_dtypes():
    model = tiny_lm()
    half = cast_weights(model, torch.bfloat16)
    assert next(half.parameters()).dtype == torch.bfloat16 and next(model.parameters()).dtype == torch.float32
    assert model_size_bytes(half) < 0.51 * model_size_bytes(model)
    with pytest.raises(ValueError, match="dtype"):
        cast_weights(model, torch.int8)


def test_measure_latency_and_evaluate_variant(minilm, small_items, reference):
    model, tok = minilm
    assert measure_latency(model, batch=1, seq_len=8, repeat=1) > 0
    report = evaluate_variant("fp32", model, tok, small_items, reference, latency_batch=1, seq_len=8)
    assert report.size_bytes == model_size_bytes(model) and report.latency_s > 0 and report.top1 >= 0.9


# ---- distillation ----------------------------------------------------------------------------------

def test_distill_builds_a_smaller_student_and_improves_it(minilm, small_items):
    model, tok = minilm
    before = snapshot(model)
    texts = [it["passage"] for it in small_items]
    untrained = distill(model, tok, texts, n_layers=2, steps=1, lr=1e-12)
    student = distill(model, tok, texts, n_layers=2, steps=12, batch_size=8, lr=3e-4)
    assert same_state(before, model.state_dict())
    assert len(student.encoder.layer) == 2 and not student.training
    assert model_size_bytes(student) < model_size_bytes(model)
    target = sentence_embeddings(model, tok, texts)
    fid = [(sentence_embeddings(s, tok, texts) * target).sum(-1).mean().item() for s in (untrained, student)]
    assert fid[1] > fid[0]
    with pytest.raises(ValueError, match="n_layers"):
        distill(model, tok, texts, n_layers=6)
    with pytest.raises(ValueError, match="steps"):
        distill(model, tok, texts, steps=0)


# ---- the KV cache ----------------------------------------------------------------------------------

def test_kv_cache_bytes_for_smollm2_and_llama3_8b():
    model, _ = load_smollm2()
    assert kv_cache_bytes(model.config, 1, 2) == 2 * 30 * 3 * 64 * 2
    assert kv_cache_bytes(llama3_8b_config(), 1, 2) == 128 * 1024  # 128 KiB per token
    assert kv_cache_bytes(llama3_8b_config(32), 8192, 2) == 4 * kv_cache_bytes(llama3_8b_config(), 8192, 2)
    with pytest.raises(ValueError, match="seq_len"):
        kv_cache_bytes(model.config, -1, 2)
    with pytest.raises(ValueError, match="bytes_per_value"):
        kv_cache_bytes(model.config, 10, 0)
    with pytest.raises(TypeError, match="config"):
        kv_cache_bytes({"layers": 2}, 10, 2)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 10_000), batch=st.integers(1, 8), bpv=st.sampled_from([0.5, 1, 2, 4]))
def test_kv_cache_bytes_is_linear(n, batch, bpv):
    config = llama3_8b_config()
    assert kv_cache_bytes(config, n, bpv, batch) == pytest.approx(n * batch * bpv / 2 * kv_cache_bytes(config, 1, 2))


def test_kv_quantized_bytes_accounting():
    config = llama3_8b_config()
    assert kv_quantized_bytes(config, 1000, 8, window=128, group=64, n_quantized=0) == kv_cache_bytes(config, 1000, 2)
    ratio8 = kv_quantized_bytes(config, 8192, 8, 128, 64) / kv_cache_bytes(config, 8192, 2)
    ratio4 = kv_quantized_bytes(config, 8192, 4, 128, 64) / kv_cache_bytes(config, 8192, 2)
    assert 0.5 < ratio8 < 0.56 and 0.25 < ratio4 < 0.31
    with pytest.raises(ValueError, match="bits"):
        kv_quantized_bytes(config, 100, 3, 16, 16)


@pytest.mark.parametrize("window, group, error, match", [
    (128, 0, ValueError, "group=0 is out of range"), (128, -64, ValueError, "group"),
    (-1, 64, ValueError, "window=-1 is out of range"), (128, True, TypeError, "group must be an int"),
    (128.0, 64, TypeError, "window must be an int"),
])
def test_kv_quantized_bytes_rejects_bad_window_and_group(window, group, error, match):
    with pytest.raises(error, match=match):  # group=0 used to be a ZeroDivisionError
        kv_quantized_bytes(llama3_8b_config(), 1000, 8, window, group)


@settings(max_examples=15, deadline=None)
@given(bits=st.sampled_from([2, 4, 8]), dim=st.sampled_from([-1, -2]), seed=st.integers(0, 1000))
def test_fake_quantize_error_is_at_most_half_a_step(bits, dim, seed):
    x = torch.randn(2, 3, 16, 8, generator=torch.Generator().manual_seed(seed)) * 3
    q = fake_quantize(x, bits, dim)
    step = (x.amax(dim, keepdim=True) - x.amin(dim, keepdim=True)) / (2**bits - 1)
    assert ((q - x).abs() <= step / 2 + 1e-5).all()
    one_slice = q[0, 0, :, 0] if dim == -2 else q[0, 0, 0]  # values sharing one scale
    assert len(torch.unique(one_slice)) <= 2**bits


def test_fake_quantize_matches_torch_per_channel_fake_quant():
    x = torch.randn(64, 8)  # per channel = one scale per column, stats over the 64 tokens (dim 0)
    low, high = x.amin(0), x.amax(0)
    scale = (high - low) / 255
    zero = torch.round(-low / scale).to(torch.int32)
    ours = fake_quantize(x, 8, dim=0)
    torch_fq = torch.fake_quantize_per_channel_affine(x, scale, zero, 1, 0, 255)
    assert (ours - torch_fq).abs().max() <= scale.max() * 1.01  # differ only by the integer zero point


def test_fake_quantize_rejects_bad_bits_and_inputs():
    with pytest.raises(ValueError, match="bits"):
        fake_quantize(torch.randn(4, 4), 3, -1)
    with pytest.raises(TypeError, match="x"):
        fake_quantize(torch.arange(4), 8, -1)


def test_kv_quant_baseline_equals_one_full_forward():
    model = tiny_lm()
    ids = torch.randint(0, 256, (1, 150), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        logits = model(input_ids=ids).logits[0]
    nll = torch.nn.functional.cross_entropy(logits[99:-1], ids[0, 100:]).item()
    result = kv_quant_nll(model, ids, None, prefix=100, chunk=16)
    assert result.nll == pytest.approx(nll, abs=1e-4) and result.n_scored == 50 and result.memory_ratio == 1


def test_kv_quant_curve_orders_bits_and_keeps_the_window_exact():
    model = tiny_lm()
    ids = torch.randint(0, 256, (300,), generator=torch.Generator().manual_seed(2))
    fp, int8, int2 = kv_quant_curve(model, ids, (None, 8, 2), window=32, group=32, chunk=32)
    assert int8.n_quantized > 0 and int8.n_quantized % 32 == 0
    assert abs(int8.nll - fp.nll) < abs(int2.nll - fp.nll)
    assert abs(int8.nll - fp.nll) / fp.nll < 0.01
    assert int2.memory_ratio < int8.memory_ratio < 1
    untouched = kv_quant_nll(model, ids, 4, window=300, group=32, chunk=32)  # window covers everything
    assert untouched.n_quantized == 0 and untouched.nll == pytest.approx(fp.nll, abs=1e-6)


def test_kv_quant_rejects_bad_arguments():
    model, ids = tiny_lm(), torch.arange(50)
    with pytest.raises(ValueError, match="bits"):
        kv_quant_nll(model, ids, 3)
    with pytest.raises(ValueError, match="prefix"):
        kv_quant_nll(model, ids, 8, prefix=50)
    with pytest.raises(ValueError, match="group"):
        kv_quant_nll(model, ids, 8, group=0)
    with pytest.raises(TypeError, match="input_ids"):
        kv_quant_nll(model, ids.float(), 8)
    with pytest.raises(TypeError, match="model"):
        kv_quant_nll("smollm2", ids, 8)


# ---- figures and the live panel --------------------------------------------------------------------

@pytest.fixture(scope="module")
def grid(minilm, small_items):
    model, tok = minilm
    sub = small_items[:12]
    return compression_grid(model, tok, sub, embedding_score(model, tok, sub).embeddings,
                            sparsities=(0.0, 0.5), bits=(32, 8), cache=ResultCache())


def test_compression_grid_is_cached(minilm, small_items):
    model, tok = minilm
    cache = ResultCache()
    sub = small_items[:6]
    ref = embedding_score(model, tok, sub).embeddings
    first = compression_grid(model, tok, sub, ref, sparsities=(0.0,), bits=(32,), cache=cache)
    again = compression_grid(model, tok, sub, ref, sparsities=(0.0,), bits=(32,), cache=cache)
    assert cache.misses == 1 and first[(0.0, 32)] is again[(0.0, 32)]
    with pytest.raises(ValueError, match="bits"):
        build_variant(model, 0.0, 4)


def test_render_and_panel_change_with_the_controls(grid):
    view = render_compression(0.0, 32, grid)
    assert view.data["fidelity_mean"] == pytest.approx(1.0, abs=1e-5) and "fp32" in view.summary
    panel = compression_panel(grid)
    before = figure_fingerprint(panel.view.figure)
    moved = panel.update(sparsity=0.5, bits=8)
    assert moved.data["sparsity"] == 0.5 and moved.data["bits"] == 8
    assert moved.data["fidelity_mean"] < view.data["fidelity_mean"]
    assert moved.data["size_bytes"] < view.data["size_bytes"]
    assert figure_fingerprint(moved.figure) != before
    with pytest.raises(ValueError, match="grid"):
        render_compression(0.25, 32, grid)


def test_charts_draw_every_variant(grid):
    reports = list(grid.values())
    fig = tradeoff_chart(reports)
    assert len(fig.axes) == 2 and len(fig.axes[0].collections) == len(reports)
    with pytest.raises(ValueError, match="quality"):
        tradeoff_chart(reports, quality="speed")
    growth = kv_growth_chart({"Llama-3-8B": llama3_8b_config(), "no GQA": llama3_8b_config(32)}, max_len=4096)
    assert len(growth.axes[0].lines) == 2
    model = tiny_lm()
    curve = kv_quant_curve(model, torch.arange(120) % 256, (None, 8), window=16, group=16, chunk=16)
    assert len(kv_quant_chart(curve).axes[0].lines) == 1


# ---- exercises -------------------------------------------------------------------------------------

@pytest.mark.parametrize("exercise, right, wrong", [
    (ex.kv_bytes_per_token, 131072, 65536),
    (ex.gqa_saving, 4, 2),
    (ex.masked_sparsity_size, 1.0, 0.5),
    (ex.int8_size_ratio, 0.64, 0.25),
    (ex.kv_equals_weights, math.ceil(sum(p.numel() for p in load_smollm2()[0].parameters()) * 2 / 23040), 1024),
])
def test_exercises_accept_right_reject_wrong_and_placeholder(exercise, right, wrong):
    assert exercise.check(right).status == "correct"
    assert exercise.check(wrong).status == "wrong"
    assert exercise.check(____).status == "not attempted"
    assert exercise.hint().startswith("Hint 1/") and exercise.solution()
