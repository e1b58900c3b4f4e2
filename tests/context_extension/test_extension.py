"""Chapter 6: RoPE against transformers, scaling methods, the model swap, needle trials, retrieval, the
cached results (recomputed in part, so the cache cannot drift from the code), exercises, figures, panels."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

from longctx_lab.context_extension import exercises as ex
from longctx_lab.context_extension.needle import (
    attention_to_needle, load_extension_results, long_context_nll, needle_trial, repeated_document_ids,
    retrieval_ranks,
)
from longctx_lab.context_extension.plots import needle_grid, perplexity_curves, retrieval_figure
from longctx_lab.context_extension.rope import (
    ROPE_METHODS, apply_rope, rope_check, rope_frequencies, rope_parameters_for, rope_score_by_distance,
    rope_wavelengths, scaled_rope_frequencies, transformers_rope_frequencies, use_rope_scaling,
)
from longctx_lab.context_extension.widgets import needle_heatmap_panel, render_rope_scaling, rope_scaling_panel
from longctx_lab.core.data import load_text, make_haystack
from longctx_lab.core.drawing import figure_fingerprint
from longctx_lab.core.exercise_kit import ____
from longctx_lab.core.models import load_minilm, load_smollm2, tiny_lm


def llama_config(head_dim=64, base=100000.0, max_positions=8192):
    return LlamaConfig(hidden_size=head_dim * 2, num_attention_heads=2, num_key_value_heads=1, head_dim=head_dim,
                       max_position_embeddings=max_positions, rope_theta=base, num_hidden_layers=1,
                       intermediate_size=8, vocab_size=16)


@pytest.fixture(scope="module")
def smollm2():
    return load_smollm2()


@pytest.fixture(scope="module")
def tiny_with_tokenizer(smollm2):
    """A random tiny Llama whose vocabulary fits the SmolLM2 tokenizer: real prompts, instant forwards."""
    return tiny_lm(vocab_size=len(smollm2[1]), max_positions=256), smollm2[1]


def test_rope_frequencies_match_transformers_default():
    config = llama_config()
    expected, _ = LlamaRotaryEmbedding.compute_default_rope_parameters(config)
    assert torch.equal(rope_frequencies(64, 100000.0), expected)
    assert rope_frequencies(64)[0] == 1.0 and rope_frequencies(64)[-1] < rope_frequencies(64)[-2]


@settings(max_examples=40, deadline=None)
@given(method=st.sampled_from(ROPE_METHODS[1:]), factor=st.floats(1.0, 32.0), head_dim=st.sampled_from([16, 64, 128]),
       base=st.sampled_from([10000.0, 100000.0, 500000.0]), seq_len=st.sampled_from([None, 4096, 20000, 70000]))
def test_scaled_frequencies_and_attention_factor_match_transformers(method, factor, head_dim, base, seq_len):
    config = llama_config(head_dim, base)
    expected, attention = transformers_rope_frequencies(config, method, factor, seq_len=seq_len)
    mine = scaled_rope_frequencies(head_dim, base, method, factor, seq_len=seq_len)
    assert torch.allclose(mine.inv_freq, expected, rtol=1e-5, atol=0)
    assert math.isclose(mine.attention_factor, attention, rel_tol=1e-9)


def test_transformers_frequencies_come_from_rope_init_functions():
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    config = llama_config()
    config.rope_parameters = rope_parameters_for("yarn", 4.0)
    inv_freq, attention = ROPE_INIT_FUNCTIONS["yarn"](config, None)
    assert torch.allclose(scaled_rope_frequencies(64, 1e5, "yarn", 4.0).inv_freq, inv_freq, rtol=1e-6)
    assert math.isclose(attention, 0.1 * math.log(4) + 1)


def test_method_formulas():
    plain = rope_frequencies(64)
    assert torch.allclose(scaled_rope_frequencies(64, 1e5, "linear", 4).inv_freq, plain / 4)
    ntk = scaled_rope_frequencies(64, 1e5, "ntk", 4).inv_freq
    assert ntk[0] == plain[0] and math.isclose(float(plain[-1] / ntk[-1]), 4, rel_tol=1e-4)
    yarn = scaled_rope_frequencies(64, 1e5, "yarn", 2)
    assert torch.equal(yarn.inv_freq[:5], plain[:5]) and torch.allclose(yarn.inv_freq[-5:], plain[-5:] / 2)
    # dynamic leaves the frequencies alone until the sequence outgrows the trained length
    assert torch.equal(scaled_rope_frequencies(64, 1e5, "dynamic", 4, seq_len=8000).inv_freq, plain)
    assert bool((scaled_rope_frequencies(64, 1e5, "dynamic", 4, seq_len=9000).inv_freq[1:] < plain[1:]).all())


def test_apply_rope_matches_llama_rotary_embedding():
    config = llama_config(head_dim=32)
    rotary = LlamaRotaryEmbedding(config)
    q, k = torch.randn(2, 1, 3, 10, 32).unbind(0)
    positions = torch.arange(100, 110)
    cos, sin = rotary(q, positions[None])
    q_ref, k_ref = apply_rotary_pos_emb(q, k, cos, sin)
    inv_freq = rope_frequencies(32, 100000.0)
    assert torch.allclose(apply_rope(q, positions, inv_freq), q_ref, atol=1e-5)
    assert torch.allclose(apply_rope(k, positions, inv_freq), k_ref, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), shift=st.integers(0, 5000), method=st.sampled_from(ROPE_METHODS))
def test_rope_is_a_rotation_and_only_relative_distance_matters(seed, shift, method):
    generator = torch.Generator().manual_seed(seed)
    q, k = torch.randn(2, 16, generator=generator).double().unbind(0)  # fp64: angles exact to ~1e-12
    inv_freq = scaled_rope_frequencies(16, 1e4, method, 1.0 if method == "none" else 3.0).inv_freq
    rotated = apply_rope(q[None], torch.tensor([shift]), inv_freq)[0]
    assert rotated.dtype == torch.float64
    assert torch.isclose(rotated.norm(), q.norm(), rtol=1e-12)
    score_at = lambda mq, mk: float(apply_rope(q[None], torch.tensor([mq]), inv_freq)[0]  # noqa: E731
                                    @ apply_rope(k[None], torch.tensor([mk]), inv_freq)[0])
    assert math.isclose(score_at(7 + shift, shift), score_at(7, 0), rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(float(rope_score_by_distance(q, k, inv_freq, [7])[0]), score_at(7, 0), rel_tol=1e-9,
                        abs_tol=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), shift=st.integers(0, 5000))
def test_fp32_rope_drifts_no_more_than_angle_rounding_allows(seed, shift):
    # Like transformers, fp32 x gets fp32 angles: position·θ is rounded to ~6e-8 relative, so the
    # "only distance matters" score drifts with absolute position, by at most |q||k|·(position·2⁻²³ + 1e-6).
    q, k = torch.randn(2, 16, generator=torch.Generator().manual_seed(seed)).unbind(0)
    inv_freq = rope_frequencies(16, 1e4)
    score_at = lambda mq, mk: float(apply_rope(q[None], torch.tensor([mq]), inv_freq)[0]  # noqa: E731
                                    @ apply_rope(k[None], torch.tensor([mk]), inv_freq)[0])
    exact = float(rope_score_by_distance(q.double(), k.double(), inv_freq, [7])[0])
    bound = float(q.norm() * k.norm()) * ((7 + shift) * 2.0**-23 + 1e-6)
    assert abs(score_at(7 + shift, shift) - exact) <= 2 * bound


def test_wavelengths():
    assert torch.allclose(rope_wavelengths(torch.tensor([1.0, 0.5])), torch.tensor([2 * math.pi, 4 * math.pi]))
    with pytest.raises(ValueError, match="inv_freq"):
        rope_wavelengths(torch.tensor([1.0, 0.0]))


@pytest.mark.parametrize("call, match", [
    (lambda: rope_frequencies(63), "head_dim"),
    (lambda: rope_frequencies(64, 0.5), "base"),
    (lambda: scaled_rope_frequencies(64, 1e5, "yarn", 0.5), "factor"),
    (lambda: scaled_rope_frequencies(64, 1e5, "none", 2.0), "factor"),
    (lambda: scaled_rope_frequencies(64, 1e5, "longer", 2.0), "method"),
    (lambda: rope_parameters_for("linear", float("nan")), "factor"),
    (lambda: apply_rope(torch.zeros(3, 8), torch.arange(3), rope_frequencies(16)), "last dim"),
    (lambda: apply_rope(torch.zeros(3, 16), torch.arange(4), rope_frequencies(16)), "positions"),
])
def test_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_use_rope_scaling_equals_a_model_built_with_that_config():
    model = tiny_lm(max_positions=64)
    ids = torch.randint(0, 256, (1, 100))
    for method in ("linear", "yarn", "dynamic", "ntk"):
        config = model.config.__class__.from_dict(model.config.to_dict())
        config.rope_parameters = rope_parameters_for(method, 2.0, model.config.rope_parameters["rope_theta"], 64, 16)
        reference = LlamaForCausalLM(config).eval()
        reference.load_state_dict(model.state_dict())
        original = model.model.rotary_emb
        with torch.no_grad(), use_rope_scaling(model, method, 2.0):
            scaled = model(ids).logits
        assert model.model.rotary_emb is original
        with torch.no_grad():
            assert torch.allclose(scaled, reference(ids).logits, atol=1e-5)
            assert not torch.allclose(scaled, model(ids).logits, atol=1e-3)


def test_use_rope_scaling_rejects_bad_input():
    with pytest.raises(ValueError, match="factor"):
        with use_rope_scaling(tiny_lm(), "linear", 0.5):
            pass
    with pytest.raises(TypeError, match="model"):
        with use_rope_scaling(torch.nn.Linear(2, 2), "linear", 2.0):
            pass


def test_rope_check_on_tiny_model():
    diffs = rope_check(tiny_lm(), torch.randint(0, 256, (40,)), layer=1)
    assert diffs["cos_sin"] < 1e-6 and diffs["attention_weights"] < 1e-5
    with pytest.raises(ValueError, match="layer"):
        rope_check(tiny_lm(), torch.arange(5), layer=2)
    with pytest.raises(ValueError, match="eager"):
        rope_check(tiny_lm(attn_implementation="sdpa"), torch.arange(5))


def test_rope_check_on_smollm2_real_activations():
    model, tokenizer = load_smollm2(attn_implementation="eager")
    diffs = rope_check(model, tokenizer.encode("The pass key is 48213. Remember it."), layer=5)
    assert diffs["cos_sin"] < 1e-5 and diffs["attention_weights"] < 1e-5


def test_long_context_nll_past_the_trained_length():
    model = tiny_lm(max_positions=64)
    ids = torch.randint(0, 256, (100,))
    nll = long_context_nll(model, ids, chunk=7)
    with torch.no_grad():
        logits = model(ids[None]).logits[0, :-1]
    assert nll.shape == (99,)
    assert torch.allclose(nll, torch.nn.functional.cross_entropy(logits, ids[1:], reduction="none"), atol=1e-5)
    assert not torch.allclose(long_context_nll(model, ids, "linear", 2.0), nll, atol=1e-4)
    with pytest.raises(ValueError, match="input_ids"):
        long_context_nll(model, ids[:1])


def test_long_context_nll_rejects_a_batch_instead_of_flattening_it():
    model = tiny_lm(max_positions=64)
    with pytest.raises(ValueError, match="input_ids"):
        long_context_nll(model, torch.randint(0, 256, (2, 20)))
    with pytest.raises(TypeError, match="input_ids"):
        long_context_nll(model, torch.rand(20))


def test_repeated_document_ids(smollm2):
    ids = repeated_document_ids(smollm2[1], 12000)
    assert ids.shape == (12000,)
    period = len(smollm2[1].encode(load_text("long_document") + "\n\n",
                                   add_special_tokens=False))
    assert torch.equal(ids[period:2 * period], ids[:period])


def test_needle_trial_on_tiny_model(tiny_with_tokenizer):
    model, tokenizer = tiny_with_tokenizer
    trial = needle_trial(model, tokenizer, 80, 0.5, n_distractors=4)
    assert trial.n_tokens == 80 and 1 <= trial.rank <= 5 and len(trial.key) == 5
    assert trial.found == (trial.key in trial.generated)
    assert trial.key_logprob < 0
    for kwargs, match in [(dict(n_tokens=80, depth=1.5), "depth"), (dict(n_tokens=10, depth=0.5), "n_tokens")]:
        with pytest.raises(ValueError, match=match):
            needle_trial(model, tokenizer, **kwargs)


def test_attention_to_needle_matches_output_attentions(tiny_with_tokenizer):
    model, tokenizer = tiny_with_tokenizer
    mass = attention_to_needle(model, tokenizer, 60, 0.3)
    haystack = make_haystack(tokenizer, 60, 0.3)
    with torch.no_grad():
        attentions = model(torch.tensor([haystack.input_ids]), output_attentions=True).attentions
    start, end = haystack.needle_span
    expected = torch.stack([a[0, :, -1, start:end].sum(-1) for a in attentions])
    assert mass.shape == (2, 4) and torch.allclose(mass, expected, atol=1e-6)


def test_retrieval_ranks_find_the_needle(smollm2):
    encoder, encoder_tokenizer = load_minilm()
    haystack = make_haystack(smollm2[1], 600, 0.6, filler="document")
    needle = f"The pass key is {haystack.key}."
    ranks = retrieval_ranks(encoder, encoder_tokenizer, haystack.text, needle, [32, 128])
    assert set(ranks) == {32, 128} and all(r >= 1 for r in ranks.values())
    assert ranks[128] <= 2  # the needle sentence matches the question far better than filler
    with pytest.raises(ValueError, match="needle"):
        retrieval_ranks(encoder, encoder_tokenizer, haystack.text, "not there at all", [32])
    calls = []
    hook = encoder.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        with pytest.raises(ValueError, match=r"chunk size=600 .*510"):
            retrieval_ranks(encoder, encoder_tokenizer, haystack.text, needle, [32, 600])
    finally:
        hook.remove()
    assert not calls, "the chunk sizes must be checked before the encoder runs"


def test_retrieval_ranks_warns_about_unknown_tokens_when_read_back_from_the_store(tmp_path, monkeypatch, capsys):
    from longctx_lab.core import result_store, tokenizers

    monkeypatch.setenv("LONGCTX_LAB_CACHE", str(tmp_path))
    monkeypatch.setenv("LONGCTX_LAB_RESULTS", "on")
    monkeypatch.setattr(result_store, "MIN_SECONDS", 0.0)
    encoder, encoder_tokenizer = load_minilm()
    text = load_text("daodejing")[:1500]
    needle = text[700:720]
    first = retrieval_ranks(encoder, encoder_tokenizer, text, needle, [32], query=needle)
    assert "[UNK]" in capsys.readouterr().out and list((tmp_path / "results").glob("_retrieval_ranks-*.pt"))
    monkeypatch.setattr(tokenizers, "_flagged", set())  # a new session: the note is due again
    assert retrieval_ranks(encoder, encoder_tokenizer, text, needle, [32], query=needle) == first
    assert "[UNK]" in capsys.readouterr().out


def test_cached_results_have_the_promised_shape():
    results = load_extension_results()
    settings_ = results["settings"]
    assert settings_["ppl_tokens"] > settings_["trained_positions"]
    for method in settings_["methods"]:
        assert len(results["perplexity"][method]) == math.ceil((settings_["ppl_tokens"] - 1) / settings_["bin_size"])
    for method in settings_["grid_methods"]:
        grid, lengths, depths = needle_grid(results, method, "rank")
        assert grid.shape == (len(depths), len(lengths)) and not np.isnan(grid).any()
    assert np.asarray(results["attention"]["mass"]).shape == (30, 9)


def test_cache_matches_a_recomputed_subset(smollm2):
    """Recompute the cheapest cached numbers on this machine: a drifted code path shows up here."""
    model, tokenizer = smollm2
    results = load_extension_results()
    stored = next(t for t in results["needle"]["yarn"] if t["n_tokens"] == 256 and t["depth"] == 0.4)
    trial = needle_trial(model, tokenizer, 256, 0.4, method="yarn", factor=results["settings"]["factor"])
    assert (trial.key, trial.rank, trial.found) == (stored["key"], stored["rank"], stored["found"])
    assert math.isclose(trial.key_logprob, stored["key_logprob"], abs_tol=0.02)
    bin_size = results["settings"]["bin_size"]
    ids = repeated_document_ids(tokenizer, bin_size + 1)
    nll = long_context_nll(model, ids, "linear", results["settings"]["factor"])
    assert math.isclose(float(nll.mean()), results["perplexity"]["linear"][0], abs_tol=0.01)


def test_exercises_right_wrong_and_placeholder():
    results = load_extension_results()
    first_miss = min(t["n_tokens"] for t in results["needle"]["none"] if t["rank"] > 1)
    cases = [(ex.full_turn_pairs, 20, 32), (ex.ntk_base, 100000 * 4 ** (64 / 62), 400000.0),
             (ex.yarn_logit_scale, (0.1 * math.log(8) + 1) ** 2, 0.1 * math.log(8) + 1),
             (ex.first_miss_length, first_miss, 256)]
    assert len(ex.EXERCISES) >= 3 and {c[0].title for c in cases} == {e.title for e in ex.EXERCISES}
    for exercise, right, wrong in cases:
        assert exercise.check(right).status == "correct"
        assert exercise.check(wrong).status == "wrong"
        assert exercise.check(____).status == "not attempted"
        assert exercise.hint().startswith("Hint 1/") and exercise.solution()


def test_rope_panel_updates_data_and_figure():
    panel = rope_scaling_panel("yarn", 2.0)
    before = figure_fingerprint(panel.view.figure)
    view = panel.update(method="linear", factor=4.0)
    assert view.data["stretched"] == 32 and view.data["untouched"] == 0
    assert figure_fingerprint(view.figure) != before
    assert math.isclose(render_rope_scaling("yarn", 4.0).data["attention_factor"], 0.1 * math.log(4) + 1)


def test_needle_panel_updates_from_the_cache():
    panel = needle_heatmap_panel()
    before = figure_fingerprint(panel.view.figure)
    view = panel.update(method="linear", measure="rank")
    assert view.data["grid"].shape == (len(view.data["depths"]), len(view.data["lengths"]))
    assert figure_fingerprint(view.figure) != before
    with pytest.raises(ValueError, match="measure"):
        needle_grid(load_extension_results(), "none", "speed")


def test_other_figures_draw():
    results = load_extension_results()
    fig = perplexity_curves(results["perplexity"], results["settings"]["bin_size"], 8192, [5000])
    assert len(fig.axes[0].lines) >= len(results["perplexity"])
    assert len(retrieval_figure({32: 1, 128: 2}, {32: 20, 128: 5}).axes) == 1
