"""Chapter 4 in one process: blockwise attention and the merge rule, shares, Amdahl, fits, the cost model,
the exercises, figures and the live panel. Launches of real workers are in test_workers.py."""
import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from longctx_lab import (
    DEVICE_PRESETS, LINK_PRESETS, LinkSpec, StepWorkload, amdahl_speedup, attend_block, blockwise_attention,
    causal_block_counts, fit_alpha_beta, fit_amdahl, merge_partials, parallel_processing, pick_backend,
    predict_step, ring_attention, ring_schedule, run_distributed, segment_shares, single_process_gradient, tiny_lm,
)
from longctx_lab.multi_gpu_scaling import exercises as ex
from longctx_lab.core.exercise_kit import ____
from longctx_lab.core.drawing import figure_fingerprint
from longctx_lab.multi_gpu_scaling.plots import collectives_plot, ring_schedule_plot, speedup_plot
from longctx_lab.multi_gpu_scaling.widgets import cost_model_panel, render_cost_model


def qkv(b, h, n, d, seed=0):
    return torch.randn(3, b, h, n, d, generator=torch.Generator().manual_seed(seed)).unbind(0)


@settings(max_examples=40, deadline=None)
@given(b=st.integers(1, 2), h=st.integers(1, 3), n=st.integers(1, 70), d=st.sampled_from([1, 4, 16]),
       block=st.integers(1, 80), causal=st.booleans(), seed=st.integers(0, 10_000))
def test_blockwise_attention_equals_sdpa(b, h, n, d, block, causal, seed):
    q, k, v = qkv(b, h, n, d, seed)
    out = blockwise_attention(q, k, v, block, causal=causal)
    assert out.shape == (b, h, n, d)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, is_causal=causal), atol=1e-5, rtol=0)


def test_blockwise_attention_is_stable_for_huge_scores():
    q, k, v = qkv(1, 1, 33, 8)
    q = q * 1e3  # scores of order 1e4: a naive exp() would overflow to inf
    out = blockwise_attention(q, k, v, 5)
    assert torch.isfinite(out).all()
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v), atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 40), cut=st.integers(1, 39), seed=st.integers(0, 1000))
def test_merge_partials_of_a_split_equals_the_whole(n, cut, seed):
    cut = min(cut, n - 1)
    q, k, v = qkv(1, 2, n, 4, seed)
    whole, whole_lse = attend_block(q, k, v)
    left = attend_block(q, k[:, :, :cut], v[:, :, :cut])
    right = attend_block(q, k[:, :, cut:], v[:, :, cut:], 0, cut)
    merged, lse = merge_partials(*left, *right)
    assert torch.allclose(merged, whole, atol=1e-5) and torch.allclose(lse, whole_lse, atol=1e-5)
    swapped, _ = merge_partials(*right, *left)
    assert torch.allclose(swapped, merged, atol=1e-6)


def test_fully_masked_block_is_ignored_by_the_merge():
    q, k, v = qkv(1, 1, 4, 4)
    masked_out, masked_lse = attend_block(q, k, v, q_start=0, k_start=10, causal=True)  # keys all in the future
    assert torch.isneginf(masked_lse).all() and (masked_out == 0).all()
    real = attend_block(q, k, v)
    merged, lse = merge_partials(*real, masked_out, masked_lse)
    assert torch.allclose(merged, real[0]) and torch.allclose(lse, real[1])


def test_blockwise_attention_rejects_bad_input():
    q, k, v = qkv(1, 1, 8, 4)
    with pytest.raises(ValueError, match="block"):
        blockwise_attention(q, k, v, 0)
    with pytest.raises(ValueError, match="same shape"):
        blockwise_attention(q, k[:, :, :4], v, 2)
    with pytest.raises(ValueError, match="q must have shape"):
        blockwise_attention(q[0], k, v, 2)
    with pytest.raises(TypeError, match="k must be a torch.Tensor"):
        blockwise_attention(q, [1], v, 2)
    with pytest.raises(ValueError, match="world_size"):
        ring_attention(q, k, v, 9)  # more ranks than tokens: checked before any process starts


def test_ring_schedule_and_causal_counts():
    assert ring_schedule(3) == [[0, 1, 2], [2, 0, 1], [1, 2, 0]]
    for p in (1, 2, 5):
        schedule = ring_schedule(p)
        assert all(sorted(step[r] for step in schedule) == list(range(p)) for r in range(p))  # every block once
    assert causal_block_counts(4) == [1, 2, 3, 4]
    assert sum(causal_block_counts(6)) == 6 * 7 // 2
    with pytest.raises(ValueError, match="world_size"):
        ring_schedule(0)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 100), p=st.integers(1, 12))
def test_segment_shares_cover_in_order(m, p):
    shares = segment_shares(m, p)
    assert len(shares) == p and shares[0][0] == 0 and shares[-1][1] == m
    assert all(a[1] == b[0] for a, b in zip(shares, shares[1:]))
    sizes = [e - s for s, e in shares]
    assert max(sizes) - min(sizes) <= 1


def test_parallel_processing_in_process_matches_one_by_one():
    model = tiny_lm(seed=1)
    seqs = [torch.arange(5) + 3, [7, 8, 9], torch.arange(12) % 200]
    outs = parallel_processing(model, seqs, batch_size=2)
    assert [o.shape[0] for o in outs] == [5, 3, 12]
    with torch.no_grad():
        for seq, out in zip(seqs, outs):
            alone = model(input_ids=torch.as_tensor(seq)[None]).logits[0]
            assert torch.allclose(out, alone, atol=1e-5)


def test_parallel_processing_rejects_bad_input():
    model = tiny_lm()
    with pytest.raises(TypeError, match="model"):
        parallel_processing("bert", [[1, 2]])
    with pytest.raises(ValueError, match="empty"):
        parallel_processing(model, [])
    with pytest.raises(ValueError, match=r"sequences\[1\]"):
        parallel_processing(model, [[1, 2], []])
    with pytest.raises(ValueError, match="world_size"):
        parallel_processing(model, [[1, 2]], world_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        parallel_processing(model, [[1, 2]], batch_size=0)


def _not_importable(rank, world_size):
    return rank


def test_run_distributed_rejects_bad_arguments():
    with pytest.raises(ValueError, match="fn="):
        run_distributed(lambda rank, world_size: rank, 2)
    _not_importable.__module__ = "__main__"
    with pytest.raises(ValueError, match="fn="):
        run_distributed(_not_importable, 2)
    with pytest.raises(TypeError, match="fn must be callable"):
        run_distributed(3, 2)
    with pytest.raises(ValueError, match="world_size"):
        run_distributed(pick_backend, 0)
    with pytest.raises(ValueError, match="timeout"):
        run_distributed(pick_backend, 1, timeout=0)
    with pytest.raises(ValueError, match="threads"):
        run_distributed(pick_backend, 1, threads=0)
    with pytest.raises(ValueError, match="port"):
        run_distributed(pick_backend, 1, port=70000)
    with pytest.raises(ValueError, match="backend"):
        run_distributed(pick_backend, 1, backend="mpi")


def test_pick_backend_on_this_machine():
    expected = "nccl" if torch.cuda.is_available() and torch.cuda.device_count() >= 2 else "gloo"
    assert pick_backend(2) == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="nccl"):
            pick_backend(2, "nccl")


def test_single_process_gradient_is_the_mean_loss_gradient():
    model = tiny_lm(seed=2)
    segments = torch.randint(0, 256, (3, 9), generator=torch.Generator().manual_seed(0))
    grads = single_process_gradient(model, segments)
    model.zero_grad()
    logits = model(input_ids=segments).logits[:, :-1]
    F.cross_entropy(logits.reshape(-1, 256), segments[:, 1:].reshape(-1)).backward()
    name, param = next(iter(model.named_parameters()))
    assert torch.allclose(grads[name], param.grad, atol=1e-7)


def test_amdahl_and_its_fit():
    assert amdahl_speedup(0.0, 8) == 8 and amdahl_speedup(1.0, 8) == 1
    ps = [1, 2, 4, 8]
    assert fit_amdahl(ps, [amdahl_speedup(0.2, p) for p in ps]) == pytest.approx(0.2)
    assert fit_amdahl([1, 2], [1, 2.5]) == 0.0  # superlinear clips to 0
    with pytest.raises(ValueError, match="serial_fraction"):
        amdahl_speedup(1.5, 2)
    with pytest.raises(ValueError, match="P > 1"):
        fit_amdahl([1, 1], [1, 1])


def test_fit_alpha_beta_recovers_a_line():
    sizes = np.array([1e3, 1e4, 1e5, 1e6])
    alpha, beta = fit_alpha_beta(sizes, 5e-5 + sizes / 2e9)
    assert alpha == pytest.approx(5e-5, rel=1e-6) and beta == pytest.approx(1 / 2e9, rel=1e-6)
    fit = fit_alpha_beta(sizes, 5e-5 + sizes / 2e9)
    assert fit.bandwidth == pytest.approx(2e9, rel=1e-6)
    assert fit.describe() == "alpha =     50 us   bandwidth 1/beta =  2.00 GB/s"
    noisy_alpha, noisy_beta = fit_alpha_beta([1e3, 1e4, 1e6], [3e-4, 1e-4, 1e-3])  # would fit α < 0
    assert noisy_alpha >= 0 and noisy_beta > 0
    with pytest.raises(ValueError, match="sizes_bytes"):
        fit_alpha_beta([1], [1])
    with pytest.raises(ValueError, match="two different sizes"):
        fit_alpha_beta([1024, 1024], [1e-4, 2e-4])
    with pytest.raises(ValueError, match="seconds"):
        fit_alpha_beta([1024, 2048], [1e-4, 0.0])


def test_fit_alpha_beta_says_when_the_bandwidth_is_not_resolved():
    # A busy machine (the 4-size run that once broke chapter 4 in CI): times that fall with size.
    sizes = [1 << 10, 1 << 14, 1 << 18, 1 << 21]
    fit = fit_alpha_beta(sizes, [4.1e-3, 7.8e-3, 3.1e-3, 1.7e-3])
    assert fit.beta == 0.0 and fit.bandwidth == math.inf
    assert fit.alpha == pytest.approx(2.49e-3, rel=0.05)  # a constant: the relative-error mean of the times
    assert "bandwidth not resolved" in fit.describe() and "GB/s" not in fit.describe()
    link = LinkSpec("gloo", fit.bandwidth, fit.alpha)  # the cost model takes it: no per-byte term
    work = StepWorkload(params=10**6, layers=2, d_model=64, n=32, batch=4, training=False, causal=False,
                        bytes_per_value=4, sharded=False)
    assert math.isfinite(predict_step(work, 2, DEVICE_PRESETS["H100 80GB"], link, "data").step_s)
    assert "bandwidth not resolved" in " ".join(
        t.get_text() for t in collectives_plot({"all_reduce": dict(zip(sizes, [4e-3, 7e-3, 3e-3, 2e-3]))},
                                               {"all_reduce": fit}).axes[0].get_legend().get_texts())


def test_cost_model_behaves_like_the_arithmetic():
    device, nvlink, pcie = DEVICE_PRESETS["H100 80GB"], LINK_PRESETS["NVLink 4 (H100)"], LINK_PRESETS["PCIe 4.0 x16"]
    work = StepWorkload(params=6.7e9, layers=32, d_model=4096, n=32768, batch=1)
    one = predict_step(work, 1, device, nvlink, "data")
    assert one.comm_s == 0 and one.efficiency == pytest.approx(1.0)
    data8, seq8 = (predict_step(work, 8, device, nvlink, s) for s in ("data", "sequence"))
    assert data8.efficiency == pytest.approx(1 / 8, rel=0.05)  # one sequence: 7 devices idle
    assert seq8.memory_bytes < data8.memory_bytes and seq8.fits and not data8.fits
    assert predict_step(work, 8, device, pcie, "sequence").comm_s > seq8.comm_s
    dense, attention = StepWorkload(params=1e9, layers=2, d_model=8, n=10, causal=False).flops(1)
    assert dense == 6 * 1e9 * 10 and attention == 3 * 4 * 2 * 8 * 100
    with pytest.raises(ValueError, match="strategy"):
        predict_step(work, 2, device, nvlink, "pipeline")
    with pytest.raises(ValueError, match="world_size"):
        predict_step(work, 0, device, nvlink)


def test_exercises_right_wrong_and_placeholder():
    right = {"ring_transfers": 7, "causal_imbalance": 4, "amdahl_limit": 1 / (0.05 + 0.95 / 16), "score_memory": 16}
    wrong = {"ring_transfers": 8, "causal_imbalance": 2, "amdahl_limit": 16.0, "score_memory": 4}
    for name in right:
        exercise = getattr(ex, name)
        assert exercise.check(right[name]).status == "correct", name
        assert exercise.check(wrong[name]).status == "wrong", name
        assert exercise.check(____).status == "not attempted"
        assert exercise.hint().startswith("Hint 1/") and exercise.solution()


def test_figures_render():
    for fig in (speedup_plot([1, 2, 4], [1, 1.8, 1.9], 0.1, cores=2),
                collectives_plot({"all_reduce": {1024: 1e-4, 1 << 20: 1e-3}}, {"all_reduce": (1e-4, 1e-9)}),
                ring_schedule_plot(3, causal=True)):
        assert figure_fingerprint(fig)
    assert figure_fingerprint(ring_schedule_plot(3, True)) != figure_fingerprint(ring_schedule_plot(3, False))
    with pytest.raises(ValueError, match="world_sizes"):
        speedup_plot([1, 2], [1])


def test_cost_model_render_and_panel():
    view = render_cost_model(P=8, n=32768, link="NVLink 4 (H100)")
    assert set(view.data["predictions"]) == {"data", "sequence"} and "sequence" in view.summary
    panel = cost_model_panel()
    before = figure_fingerprint(panel.view.figure)
    after = panel.update(P=32, link="PCIe 4.0 x16")
    assert after.data["predictions"]["sequence"].world_size == 32
    assert after.data["predictions"]["sequence"].comm_s > view.data["predictions"]["sequence"].comm_s
    assert figure_fingerprint(after.figure) != before
    with pytest.raises(ValueError, match="link"):
        render_cost_model(link="carrier pigeon")
    pickle.dumps(view.data["predictions"])  # plain data: can travel between processes
    assert math.isfinite(after.data["predictions"]["data"].step_s)
