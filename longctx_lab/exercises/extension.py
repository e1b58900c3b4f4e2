"""Exercises for 06_context_extension: wavelengths, the NTK base, YaRN's logit scale, reading the needle grid.

Every expected answer is computed by the kit's own code, so it cannot drift from what the notebook shows.
"""
from __future__ import annotations

from functools import lru_cache

from ..extension import rope_frequencies, rope_wavelengths, scaled_rope_frequencies
from ..needle import load_extension_results
from . import Exercise, expect_close, expect_equal

__all__ = ["EXERCISES", "first_miss_length", "full_turn_pairs", "ntk_base", "yarn_logit_scale"]

_HEAD_DIM, _BASE, _TRAINED = 64, 100000.0, 8192
_WAVELENGTHS = rope_wavelengths(rope_frequencies(_HEAD_DIM, _BASE))
_FULL_TURNS = int((_WAVELENGTHS <= _TRAINED).sum())
full_turn_pairs = Exercise(
    title="Which pairs ever turn a full circle?",
    question="SmolLM2 has head_dim d = 64 (32 dimension pairs) and RoPE base θ = 100000. In how many of the 32 "
             "pairs does the rotation complete at least one full turn within the trained 8192 positions?",
    checker=expect_equal(_FULL_TURNS, what="the number of pairs with wavelength ≤ 8192"),
    hints=["Pair i turns by θ^(−2i/d) radians per token; its wavelength is 2π·θ^(2i/d) tokens.",
           "Solve 2π·θ^(2i/64) ≤ 8192 for i, or count with rope_wavelengths(rope_frequencies(64, 1e5)).",
           "i ≤ 32·ln(8192/2π)/ln(100000) ≈ 19.9, and i starts at 0."],
    solution_text=f"Wavelength_i = 2π·100000^(i/32). It stays ≤ 8192 while "
                  f"i ≤ 32·ln(8192/(2π))/ln(100000) ≈ 19.9, "
                  f"so pairs 0 … 19 turn at least once: {_FULL_TURNS} pairs. The other {32 - _FULL_TURNS} never "
                  "completed a turn in training, so angles past 8192 are new to them: those are the pairs every "
                  "scaling method slows down.",
)

_NTK = scaled_rope_frequencies(_HEAD_DIM, _BASE, "ntk", 4.0)
ntk_base = Exercise(
    title="The NTK-aware base",
    question="NTK-aware scaling keeps the fastest pair unchanged and slows the slowest pair by exactly s. "
             "For d = 64, θ = 100000 and s = 4, what new base θ' does that give?",
    checker=expect_close(_BASE * 4 ** (_HEAD_DIM / (_HEAD_DIM - 2)), rel=1e-3, what="the new base"),
    hints=["The slowest pair is i = d/2 − 1, with frequency θ'^(−(d−2)/d).",
           "Ask θ'^(−(d−2)/d) = θ^(−(d−2)/d) / s and solve for θ'.",
           "θ' = θ · s^(d/(d−2))."],
    solution_text=f"θ'^(−(d−2)/d) = θ^(−(d−2)/d)/s gives θ' = θ·s^(d/(d−2)) = 100000·4^(64/62) ≈ "
                  f"{_BASE * 4 ** (_HEAD_DIM / (_HEAD_DIM - 2)):,.0f}. Check: "
                  f"scaled_rope_frequencies(64, 1e5, 'ntk', 4).inv_freq[-1] = {float(_NTK.inv_freq[-1]):.3e}, "
                  f"a quarter of the plain {float(rope_frequencies(64, 1e5)[-1]):.3e}.",
)

_YARN = scaled_rope_frequencies(_HEAD_DIM, _BASE, "yarn", 8.0)
yarn_logit_scale = Exercise(
    title="YaRN's temperature",
    question="transformers applies YaRN's attention factor by multiplying cos and sin by it. For s = 8, by what "
             "factor are the attention logits q·k multiplied?",
    checker=expect_close(_YARN.attention_factor ** 2, rel=1e-3, what="the logit factor"),
    hints=["The attention factor for s = 8 is 0.1·ln 8 + 1.",
           "Both q and k are rotated with the scaled cos and sin.",
           "Each of q and k grows by the factor, so q·k grows by its square."],
    solution_text=f"The factor is 0.1·ln 8 + 1 = {_YARN.attention_factor:.4f}; q and k each carry it, so the "
                  f"logits grow by its square, {_YARN.attention_factor ** 2:.4f}: a softmax temperature below 1 "
                  f"that sharpens attention, undoing the blur that interpolation adds "
                  f"(YaRN's paper writes it as √(1/t) = 0.1·ln s + 1).",
)


@lru_cache(maxsize=1)
def _first_miss() -> int:
    results = load_extension_results()
    missed = [t["n_tokens"] for t in results["needle"]["none"] if t["rank"] > 1]
    return min(missed)


def _check_first_miss(answer) -> str | None:
    expected = _first_miss()
    if answer == expected:
        return None
    if isinstance(answer, (int, float)) and answer > expected:
        return "the unscaled model already misses at a shorter length; look at every depth, not only the middle."
    return f"{answer!r} is too short: at that length the true key still ranks first at every depth."


first_miss_length = Exercise(
    title="Where the unscaled model first misses",
    question="In the cached needle grid (load_extension_results()['needle']['none']), what is the shortest "
             "context length at which teacher forcing ranks some distractor above the true key (rank > 1)?",
    checker=_check_first_miss,
    hints=["Each trial is a dict with 'n_tokens', 'depth' and 'rank'.",
           "Keep the trials with rank > 1 and take the smallest n_tokens.",
           "min(t['n_tokens'] for t in results['needle']['none'] if t['rank'] > 1)"],
    solution_text="min(t['n_tokens'] for t in results['needle']['none'] if t['rank'] > 1) — the first miss is at "
                  "the trained length, with the needle at the very start: the key is then ~8k tokens back, at "
                  "relative distances the model barely saw in training. At 16k unscaled RoPE fails at every depth.",
)

EXERCISES = [full_turn_pairs, ntk_base, yarn_logit_scale, first_miss_length]
