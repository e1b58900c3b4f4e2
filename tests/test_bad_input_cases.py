"""Hand-written cases for each class of bad input issue 16 found: each now raises a clear error naming its argument."""
from __future__ import annotations

import math

import pytest
import torch

import longctx_lab as L
from longctx_lab.multi_gpu_scaling.plots import ring_schedule_plot  # noqa: F401  (imports cleanly)


@pytest.fixture(scope="module")
def tiny():
    return L.tiny_lm(vocab_size=64, max_positions=128)


@pytest.fixture(scope="module")
def bert_tok():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(L.available_models()["minilm"].location)


@pytest.fixture(scope="module")
def paired(bert_tok):
    """A tiny Llama whose vocabulary fits the MiniLM tokenizer."""
    return L.tiny_lm(vocab_size=len(bert_tok), hidden_size=32, n_layers=1, max_positions=128), bert_tok


def raises(exc, *names):
    """pytest.raises whose message must name every one of `names`."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *args):
            handled = self.ctx.__exit__(*args)
            for name in names:
                assert name in str(self.info.value), (name, str(self.info.value))
            return handled
    return _Check()


# ---- token ids outside the model's vocabulary: what a model paired with another model's tokenizer gives

OUT = torch.tensor([1, 2, 3, 500, 4, 5, 6, 7])


def test_out_of_vocab_ids_name_the_sizes_and_the_likely_cause(tiny):
    for call in (lambda: L.segment_loss(tiny, OUT, 4), lambda: L.token_nll(tiny, OUT),
                 lambda: L.attention_maps(tiny, OUT), lambda: L.window_perplexity(tiny, OUT, 4),
                 lambda: L.long_context_nll(tiny, OUT)):
        with raises(ValueError, "input_ids", "vocab_size=64", "another model's tokenizer"):
            call()


def test_tokenizer_larger_than_the_vocabulary_is_refused_for_needles_and_embeddings(tiny, bert_tok):
    tok = bert_tok
    with raises(ValueError, "tokenizer", "vocab_size=64", "another model's tokenizer"):
        L.needle_trial(tiny, tok, 64, 0.5)
    with raises(ValueError, "tokenizer", "vocab_size=64"):
        L.sentence_embeddings(tiny, tok, ["a text"])
    with raises(ValueError, "vocab", "vocab_size"):
        L.measure_latency(tiny, batch=1, seq_len=4, vocab=30000)


# ---- nothing can lose or invent a token without an error

def test_stitch_compares_overlapping_items():
    x = list(range(10))
    with raises(ValueError, "overlap=1"):
        L.stitch(L.split_sequence(x, 3), overlap=1)  # split without overlap: the items differ
    assert L.stitch(L.split_sequence(x, 3, overlap=1), overlap=1) == x
    chunks, mask = L.chunk_ids(torch.arange(10), 4)
    with raises(ValueError, "overlap=1"):
        L.stitch((chunks, mask), overlap=1)
    chunks, mask = L.chunk_ids(torch.arange(10), 4, overlap=1)
    assert L.stitch((chunks, mask), overlap=1).tolist() == list(range(10))


def test_float_ids_and_bool_sizes_and_bare_strings_are_refused(tiny, paired):
    with raises(TypeError, "sequences"):
        L.parallel_processing(tiny, [[1.5, 2.0, 3.0]])
    with raises(TypeError, "sequences"):
        L.test_model(tiny, [torch.tensor([1.5, 2.0])])
    with raises(TypeError, "k"):
        L.ChunkPlan(100, True)
    with raises(TypeError, "texts", "single str"):
        L.sentence_embeddings(*paired, "one sentence")


# ---- NaN and inf never pass a check written as x <= 0

@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_and_inf_are_refused(bad):
    with raises(ValueError, "attention_factor"):
        L.apply_rope(torch.ones(2, 4), torch.arange(2), torch.ones(2), attention_factor=bad)
    with raises(ValueError, "ramp"):
        L.AdaptiveSpan(2, 8, ramp=bad)
    with raises(ValueError, "bytes_per_value"):
        L.kv_cache_bytes(L.llama3_8b_config(), 128, bad)
    with raises(ValueError, "x"):
        L.fake_quantize(torch.tensor([[1.0, bad]]), 8, -1)
    with raises(ValueError, "speedups"):
        L.fit_amdahl([1, 2, 4], [1.0, bad, 3.0])
    with raises(ValueError, "seconds"):
        L.fit_alpha_beta([1024, 4096], [1e-5, bad])


@pytest.mark.parametrize("field, value", [("bandwidth", 0.0), ("bandwidth", -1.0), ("bandwidth", math.nan),
                                          ("latency", -1.0), ("latency", math.inf)])
def test_link_spec_refuses_non_positive_or_nan(field, value):
    with raises(ValueError, field):
        L.LinkSpec(**{"name": "x", "bandwidth": 1e11, "latency": 1e-6, field: value})


@pytest.mark.parametrize("field, value", [("memory_bytes", 0.0), ("flops", -1.0), ("flops", math.nan)])
def test_device_spec_refuses_non_positive_or_nan(field, value):
    with raises(ValueError, field):
        L.DeviceSpec(**{"name": "x", "memory_bytes": 8e10, "flops": 1e15, field: value})


@pytest.mark.parametrize("field, value", [("layers", 0), ("batch", -1), ("params", 0.0), ("d_model", 0)])
def test_step_workload_refuses_non_positive(field, value):
    with raises(ValueError, field):
        L.StepWorkload(**{"params": 7e9, "layers": 32, "d_model": 4096, "n": 4096, field: value})


# ---- huge sizes are bounded or refused before allocating

def test_huge_sizes_are_refused_before_allocating():
    with raises(ValueError, "n"):
        L.ChunkPlan(10**12, 1)
    with raises(ValueError, "spans"):
        L.ChunkPlan(2**31 - 1, 1).spans  # noqa: B018 - the property is the call
    with raises(ValueError, "span"):
        L.adaptive_span_mask(10**12, 1.0, 1.0)
    with raises(ValueError, "world_size"):
        L.ring_schedule(10**12)


def test_k_larger_than_n_behaves_as_k_equals_n():
    plan = L.ChunkPlan(10, 10**6)
    assert plan.m == 1 and plan.spans == [(0, 10)]


# ---- checks run first and name the right argument

def test_context_extension_checks_every_argument_before_any_work(paired):
    with raises(ValueError, "methods"):
        L.compute_extension_results(*paired, methods=("none", "nope"))
    with raises(ValueError, "depths"):
        L.compute_extension_results(*paired, depths=(0.5, 2.0))


def test_attention_statistics_refuse_rows_that_are_not_distributions():
    rows = torch.full((1, 1, 4, 4), 0.5)  # rows sum to 2
    with raises(ValueError, "attn"):
        L.head_stats(rows)
    negative = torch.eye(4)[None, None] * 2 - torch.full((1, 1, 4, 4), 0.25)
    with raises(ValueError, "attn"):
        L.head_stats(negative)


def test_inverted_rope_scaling_ranges_are_refused():
    with raises(ValueError, "beta_slow", "beta_fast"):
        L.scaled_rope_frequencies(64, method="yarn", factor=2.0, beta_fast=1.0, beta_slow=32.0)
    with raises(ValueError, "low_freq_factor", "high_freq_factor"):
        L.scaled_rope_frequencies(64, method="llama3", factor=2.0, low_freq_factor=4.0, high_freq_factor=1.0)


def test_exercise_checkers_take_tensor_answers():
    from longctx_lab.chunking.exercises import count_chunks

    plan = L.ChunkPlan(1000, 128, 32)
    assert count_chunks.check(torch.tensor(plan.m)).correct
    assert count_chunks.check(torch.tensor([1, 2])).status == "invalid"
