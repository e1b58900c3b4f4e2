"""Tests for chapter 2: token_nll, segment_loss in its four modes, and the training-side gradients."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from longctx_lab import available_models, tiny_lm
from longctx_lab.segment_loss.costs import segment_gradients
from longctx_lab.segment_loss.loss import (
    SegmentLoss,
    loss_by_position,
    mean_of_segment_means,
    segment_loss,
    sliding_windows,
    token_nll,
)


@pytest.fixture(scope="module")
def model():
    return tiny_lm(seed=0, attn_implementation="sdpa")


@pytest.fixture(scope="module")
def ids():
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (50,), generator=generator)


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert torch.equal(a.isnan(), b.isnan()), "the two runs scored different tokens"
    return float((a - b).abs().nan_to_num(0).max())


def test_token_nll_matches_the_models_own_loss(model, ids):
    nll = token_nll(model, ids)
    assert nll.shape == (ids.numel() - 1,)
    with torch.no_grad():
        reference = model(input_ids=ids[None], labels=ids[None]).loss  # HF's mean over n - 1 tokens
    assert float(nll.mean()) == pytest.approx(float(reference), abs=1e-5)


def test_token_nll_accepts_a_list_and_a_row(model, ids):
    assert torch.allclose(token_nll(model, ids.tolist()), token_nll(model, ids[None]))


def test_full_mode_scores_n_minus_1_tokens(model, ids):
    result = segment_loss(model, ids, 8, "full")
    assert result.n_tokens == ids.numel() - 1
    assert result.total == pytest.approx(float(token_nll(model, ids).double().sum()), rel=1e-6)
    assert result.passes == 1
    assert result.mean == pytest.approx(result.total / result.n_tokens)
    assert result.ppl == pytest.approx(math.exp(result.mean))


def test_disjoint_equals_scoring_each_segment_alone(model, ids):
    result = segment_loss(model, ids, 8, "disjoint")  # 50 = 6 x 8 + 2: the padded last segment matters
    assert result.m == 7 and result.spans[-1] == (48, 50)
    for i, (start, end) in enumerate(result.spans):
        alone = token_nll(model, ids[start:end]).double()
        assert float(result.per_segment[i]) == pytest.approx(float(alone.sum()), abs=1e-4)
        assert torch.isnan(result.per_token[start])
    assert result.n_tokens == ids.numel() - result.m


def test_disjoint_loses_context_so_it_differs_from_full(model, ids):
    assert segment_loss(model, ids, 8, "disjoint").total != pytest.approx(segment_loss(model, ids, 8, "full").total)


def test_sliding_with_stride_k_equals_disjoint(model, ids):
    sliding = segment_loss(model, ids, 8, "sliding", stride=8)
    disjoint = segment_loss(model, ids, 8, "disjoint")
    assert _max_diff(sliding.per_token, disjoint.per_token) < 1e-6
    assert sliding.spans == disjoint.spans and sliding.passes == disjoint.passes


def _hf_docs_sliding_nll(model, ids: torch.Tensor, k: int, stride: int) -> tuple[float, int]:
    """The loop of the transformers docs page "Perplexity of fixed-length models", summed instead of averaged."""
    seq_len, prev_end, total, count = ids.numel(), 0, 0.0, 0
    for begin in range(0, seq_len, stride):
        end = min(begin + k, seq_len)
        trg_len = end - prev_end
        input_ids = ids[None, begin:end]
        target_ids = input_ids.clone()
        target_ids[:, :-trg_len] = -100
        with torch.no_grad():
            loss = model(input_ids=input_ids, labels=target_ids).loss
        scored = int((target_ids[:, 1:] != -100).sum())
        total += float(loss) * scored
        count += scored
        prev_end = end
        if end == seq_len:
            break
    return total, count


@pytest.mark.parametrize("stride", [1, 3, 4, 8])
def test_sliding_matches_the_transformers_docs_algorithm(model, ids, stride):
    result = segment_loss(model, ids, 8, "sliding", stride=stride)
    total, count = _hf_docs_sliding_nll(model, ids, 8, stride)
    assert result.n_tokens == count
    assert result.total == pytest.approx(total, rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 200), k=st.integers(2, 40), data=st.data())
def test_sliding_windows_score_every_token_once(n, k, data):
    stride = data.draw(st.integers(1, k))
    windows = sliding_windows(n, k, stride)
    scored = [t for _, end, first in windows for t in range(first, end)]
    expected = list(range(1, n)) if stride < k or n <= k else [t for t in range(1, n) if t % k]
    assert scored == expected
    assert all(end - begin <= k for begin, end, _ in windows)
    assert len(windows) == (1 if n <= k else math.ceil((n - k) / stride) + 1)


def test_recurrent_equals_full(model, ids):
    recurrent = segment_loss(model, ids, 8, "recurrent")
    full = segment_loss(model, ids, 8, "full")
    assert recurrent.n_tokens == ids.numel() - 1
    assert _max_diff(recurrent.per_token, full.per_token) < 1e-4
    assert recurrent.passes == 7


def test_recurrent_with_enough_memory_is_full_and_with_none_differs(model, ids):
    full = segment_loss(model, ids, 8, "full")
    assert _max_diff(segment_loss(model, ids, 8, "recurrent", memory=64).per_token, full.per_token) < 1e-4
    assert _max_diff(segment_loss(model, ids, 8, "recurrent", memory=0).per_token, full.per_token) > 1e-3


def test_cropped_memory_keeps_absolute_positions():
    # One layer: cached keys depend only on their own token and position, so a segment with memory M
    # must see exactly what a fresh pass over the M memory tokens plus the segment sees (RoPE is relative).
    one_layer = tiny_lm(seed=1, n_layers=1, attn_implementation="sdpa")
    ids = torch.randint(0, 256, (40,), generator=torch.Generator().manual_seed(1))
    k, memory = 8, 5
    result = segment_loss(one_layer, ids, k, "recurrent", memory=memory)
    for start in range(k, 40, k):
        fresh = token_nll(one_layer, ids[start - memory : start + k]).double()
        assert _max_diff(result.per_token[start + 1 : start + k], fresh[-(k - 1):]) < 1e-5


def test_modes_agree_on_an_eager_model(ids):
    eager = tiny_lm(seed=0, attn_implementation="eager")
    full = segment_loss(eager, ids, 8, "full")
    assert _max_diff(segment_loss(eager, ids, 8, "recurrent").per_token, full.per_token) < 1e-4


@pytest.mark.skipif(not available_models()["smollm2"].installed, reason="SmolLM2 package not installed")
def test_recurrent_equals_full_on_smollm2():
    from longctx_lab import load_smollm2

    smol, _ = load_smollm2()
    ids = torch.randint(100, 20000, (128,), generator=torch.Generator().manual_seed(0))
    full = segment_loss(smol, ids, 64, "full")
    recurrent = segment_loss(smol, ids, 64, "recurrent")
    assert _max_diff(recurrent.per_token, full.per_token) < 1e-4


def test_loss_by_position_has_no_score_at_disjoint_segment_starts(model, ids):
    curve = loss_by_position(segment_loss(model, ids, 8, "disjoint"))
    assert curve.shape == (8,) and torch.isnan(curve[0]) and not curve[1:].isnan().any()
    assert not loss_by_position(segment_loss(model, ids, 8, "full")).isnan().any()


def test_mean_of_means_differs_only_with_unequal_segments(model, ids):
    unequal = segment_loss(model, ids, 8, "full")  # 50 tokens: segments of 7, 8, ..., 8, 2 scored tokens
    assert mean_of_segment_means(unequal) != pytest.approx(unequal.mean, abs=1e-4)
    equal = segment_loss(model, ids[:48], 8, "disjoint")
    assert mean_of_segment_means(equal) == pytest.approx(equal.mean, rel=1e-9)


def test_accumulated_segment_gradients_equal_the_batched_gradient(model, ids):
    accumulated = segment_gradients(model, ids, 8, accumulate=True)
    batched = segment_gradients(model, ids, 8, accumulate=False)
    assert accumulated.grads.keys() == batched.grads.keys() and accumulated.grads
    for name, grad in batched.grads.items():
        assert torch.allclose(accumulated.grads[name], grad, atol=1e-5), name
    assert accumulated.total == pytest.approx(segment_loss(model, ids, 8, "disjoint").total, rel=1e-5)
    assert accumulated.backward_passes == 7 and batched.backward_passes == 1
    assert 0 < accumulated.saved_bytes < batched.saved_bytes / 3
    assert all(p.grad is None for p in model.parameters())


def test_result_is_a_segment_loss(model, ids):
    result = segment_loss(model, ids, 16)
    assert isinstance(result, SegmentLoss) and result.mode == "disjoint"
    assert result.per_token.shape == (50,) and result.per_segment.shape == (4,)
    assert float(result.per_segment.sum()) == pytest.approx(float(result.per_token.nansum()))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"k": 1}, ValueError, "k"),
        ({"k": 2.5}, TypeError, "k"),
        ({"k": 8, "mode": "causal"}, ValueError, "mode"),
        ({"k": 8, "mode": "sliding", "stride": 0}, ValueError, "stride"),
        ({"k": 8, "mode": "sliding", "stride": 9}, ValueError, "stride"),
        ({"k": 8, "mode": "disjoint", "stride": 4}, ValueError, "stride"),
        ({"k": 8, "mode": "recurrent", "memory": -1}, ValueError, "memory"),
        ({"k": 8, "mode": "full", "memory": 4}, ValueError, "memory"),
    ],
)
def test_bad_arguments_are_clear_errors(model, ids, kwargs, error, match):
    with pytest.raises(error, match=match):
        segment_loss(model, ids, **kwargs)


@pytest.mark.parametrize(
    "bad, error",
    [
        (torch.tensor([], dtype=torch.long), ValueError),
        (torch.tensor([5]), ValueError),
        (torch.zeros(2, 10, dtype=torch.long), ValueError),
        (torch.zeros(10), TypeError),
        ("some text", TypeError),
        ([1.0, 2.0], TypeError),
    ],
)
def test_bad_input_ids_are_clear_errors(model, bad, error):
    with pytest.raises(error, match="input_ids"):
        segment_loss(model, bad, 8)
    with pytest.raises(error, match="input_ids"):
        token_nll(model, bad)


def test_too_long_for_the_model_is_a_clear_error():
    short = tiny_lm(seed=0, max_positions=32, attn_implementation="sdpa")
    ids = torch.randint(0, 256, (40,), generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="max_position_embeddings"):
        segment_loss(short, ids, 8, "full")
    with pytest.raises(ValueError, match="max_position_embeddings"):
        token_nll(short, ids)
    assert segment_loss(short, ids, 8, "disjoint").n_tokens == 35  # segments fit even if n does not
    assert segment_loss(short, ids, 8, "recurrent", memory=16).n_tokens == 39


def test_a_model_that_is_not_a_model_is_a_type_error(ids):
    with pytest.raises(TypeError, match="model"):
        segment_loss(torch.nn.Linear(2, 2), ids, 8)


def test_exercises_accept_right_reject_wrong_and_know_the_placeholder():
    from longctx_lab.core.exercise_kit import ____
    from longctx_lab.segment_loss import exercises as ex

    right_and_wrong = [
        (ex.scored_tokens, 992, 999),
        (ex.mean_of_means, 3.5, 4.5),
        (ex.sliding_passes, 13, 16),
        (ex.recurrent_position, 384, 64),
    ]
    for exercise, right, wrong in right_and_wrong:
        assert exercise.check(right).status == "correct", exercise.title
        assert exercise.check(wrong).status == "wrong", exercise.title
        assert exercise.check(____).status == "not attempted"
        assert exercise.hint().startswith("Hint 1/") and exercise.solution()


def test_forward_cost_prints_nothing_to_native_stderr():
    """torch.profiler's C++ side writes 'USDT: profiler_start' to fd 2; a learner must not see it."""
    import subprocess
    import sys
    code = ("import torch\nfrom longctx_lab.segment_loss.costs import forward_cost\n"
            "seconds, peak = forward_cost(lambda: torch.ones(64, 64) @ torch.ones(64, 64))\n"
            "assert peak > 0, peak\nprint('peak', peak)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "peak" in result.stdout
    assert "USDT" not in result.stderr and "profiler_start" not in result.stderr, result.stderr
