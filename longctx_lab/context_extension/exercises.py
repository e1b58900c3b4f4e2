"""Exercises for 06_context_extension: wavelengths, the NTK base, YaRN's logit scale, reading the needle grid.

Every expected answer is computed by the kit's own code, so it cannot drift from what the notebook shows;
each checker recognises the mistakes the chapter anticipates (a pair index for a count, the wavelength
without 2π, the base times s, the factor not squared, greedy misses for ranked ones) and explains them.
"""
from __future__ import annotations

import math
from functools import lru_cache

from ..core.answers import Mistake, NumberAnswer
from ..core.exercise_kit import N_, Exercise
from .needle import load_extension_results
from .rope import rope_frequencies, rope_wavelengths, scaled_rope_frequencies

__all__ = ["EXERCISES", "first_miss_length", "full_turn_pairs", "ntk_base", "yarn_logit_scale"]

_HEAD_DIM, _BASE, _TRAINED = 64, 100000.0, 8192
_WAVELENGTHS = rope_wavelengths(rope_frequencies(_HEAD_DIM, _BASE))
_FULL_TURNS = int((_WAVELENGTHS <= _TRAINED).sum())
full_turn_pairs = Exercise(
    title=N_("Which pairs ever turn a full circle?"),
    question=N_("SmolLM2 has head_dim d = 64 (32 dimension pairs) and RoPE base θ = 100000. In how many of the 32 "
             "pairs does the rotation complete at least one full turn within the trained 8192 positions?"),
    checker=NumberAnswer(
        _FULL_TURNS, whole=True,
        fields={"pairs": _HEAD_DIM // 2, "d": _HEAD_DIM, "trained": _TRAINED,
                "slowest": f"{float(_WAVELENGTHS[-1]):,.0f}"},
        mistakes=[
            Mistake(_FULL_TURNS - 1, N_("{answer} is the index of the last pair that turns; pairs are numbered from "
                                        "i = 0, so the number of pairs 0 … {answer} is one more than the last "
                                        "index.")),
            Mistake(_HEAD_DIM // 2 - _FULL_TURNS, N_("{answer} counts the pairs that never complete a turn within "
                                                     "{trained} positions; the question asks for those that do.")),
            Mistake(int((1 / rope_frequencies(_HEAD_DIM, _BASE) <= _TRAINED).sum()),
                    N_("{answer} compares 1/θ_i with {trained}: a full turn is 2π radians, so pair i needs "
                       "2π/θ_i tokens for one turn.")),
            Mistake(_HEAD_DIM // 2, N_("{answer} counts every pair, but the slow pairs turn far more slowly: the "
                                       "slowest needs {slowest} tokens for one turn (pair i turns by θ^(−2i/d) "
                                       "radians per token, with 2i/d, not i/d).")),
            Mistake(_HEAD_DIM, N_("{answer} is the head dimension d; RoPE rotates d/2 = {pairs} pairs.")),
            Mistake(-1, N_("SmolLM2 has {pairs} dimension pairs; {answer} cannot be a number of them."),
                    when=lambda x: x < 0 or x > _HEAD_DIM // 2, invalid=True),
        ],
        too_small=N_("{answer} is too few: count the pairs whose wavelength 2π·θ^(2i/d) is at most {trained} tokens "
                     "(rope_wavelengths(rope_frequencies(64, 1e5)))."),
        too_large=N_("{answer} is too many: count the pairs whose wavelength 2π·θ^(2i/d) is at most {trained} tokens "
                     "(rope_wavelengths(rope_frequencies(64, 1e5)))."),
    ),
    hints=[N_("Pair i turns by θ^(−2i/d) radians per token; its wavelength is 2π·θ^(2i/d) tokens."),
           N_("Solve 2π·θ^(2i/64) ≤ 8192 for i, or count with rope_wavelengths(rope_frequencies(64, 1e5))."),
           N_("i ≤ 32·ln(8192/2π)/ln(100000) ≈ 19.9, and i starts at 0.")],
    solution_text=N_("Wavelength_i = 2π·100000^(i/32). It stays ≤ 8192 while i ≤ 32·ln(8192/(2π))/ln(100000) ≈ 19.9, "
                     "so pairs 0 … 19 turn at least once: {turns} pairs. The other {others} never completed a turn "
                     "in training, so angles past 8192 are new to them: those are the pairs every scaling method "
                     "slows down."),
    values={"turns": _FULL_TURNS, "others": 32 - _FULL_TURNS},
)

_S_NTK = 4.0
_NTK = scaled_rope_frequencies(_HEAD_DIM, _BASE, "ntk", _S_NTK)
_NTK_FACTOR = _S_NTK ** (_HEAD_DIM / (_HEAD_DIM - 2))
ntk_base = Exercise(
    title=N_("The NTK-aware base"),
    question=N_("NTK-aware scaling keeps the fastest pair unchanged and slows the slowest pair by exactly s. "
             "For d = 64, θ = 100000 and s = 4, what new base θ' does that give?"),
    checker=NumberAnswer(
        _BASE * _NTK_FACTOR, rel=1e-3,
        mistakes=[
            Mistake(_BASE * _S_NTK, N_("{answer} = θ · s multiplies the base by s, but the slowest pair's frequency "
                                       "is θ'^(−(d−2)/d), so it slows by only s^((d−2)/d): the base must grow by "
                                       "s^(d/(d−2)).")),
            Mistake(_BASE * _S_NTK ** ((_HEAD_DIM - 2) / _HEAD_DIM),
                    N_("{answer} uses the exponent (d−2)/d; solving θ'^(−(d−2)/d) = θ^(−(d−2)/d)/s for θ' gives "
                       "the exponent d/(d−2).")),
            Mistake(_BASE / _NTK_FACTOR, N_("{answer} is smaller than θ: a smaller base makes every pair turn faster; "
                                            "NTK scaling must slow the slow pairs down, so the base grows.")),
            Mistake(_NTK_FACTOR, N_("{answer} is the factor s^(d/(d−2)) alone; the new base is θ times it.")),
            Mistake(0, N_("a RoPE base is larger than 1; {answer} cannot be one."), when=lambda x: x <= 1,
                    invalid=True),
        ],
        too_small=N_("{answer} is too small: solve θ'^(−(d−2)/d) = θ^(−(d−2)/d) / s for θ'."),
        too_large=N_("{answer} is too large: solve θ'^(−(d−2)/d) = θ^(−(d−2)/d) / s for θ'."),
    ),
    hints=[N_("The slowest pair is i = d/2 − 1, with frequency θ'^(−(d−2)/d)."),
           N_("Ask θ'^(−(d−2)/d) = θ^(−(d−2)/d) / s and solve for θ'."),
           N_("θ' = θ · s^(d/(d−2)).")],
    solution_text=N_("θ'^(−(d−2)/d) = θ^(−(d−2)/d)/s gives θ' = θ·s^(d/(d−2)) = 100000·4^(64/62) ≈ {base:,.0f}. "
                     "Check: scaled_rope_frequencies(64, 1e5, 'ntk', 4).inv_freq[-1] = {slowest:.3e}, a quarter of "
                     "the plain {plain:.3e}."),
    values={"base": _BASE * 4 ** (_HEAD_DIM / (_HEAD_DIM - 2)), "slowest": float(_NTK.inv_freq[-1]),
            "plain": float(rope_frequencies(64, 1e5)[-1])},
)

_S_YARN = 8.0
_YARN = scaled_rope_frequencies(_HEAD_DIM, _BASE, "yarn", _S_YARN)
_FACTOR = _YARN.attention_factor
yarn_logit_scale = Exercise(
    title=N_("YaRN's temperature"),
    question=N_("transformers applies YaRN's attention factor by multiplying cos and sin by it. For s = 8, by what "
             "factor are the attention logits q·k multiplied?"),
    checker=NumberAnswer(
        _FACTOR ** 2, rel=1e-3,
        mistakes=[
            Mistake(_FACTOR, N_("{answer} is the attention factor itself, on cos and sin; q and k are both rotated "
                                "with them, so q·k carries the factor twice: square it.")),
            Mistake(_FACTOR ** -2, N_("{answer} is the temperature t = 1/factor²; the logits are divided by t, that "
                                      "is multiplied by 1/t.")),
            Mistake(1 / _FACTOR, N_("{answer} inverts the factor; cos and sin are multiplied by it, and q·k carries "
                                    "it twice.")),
            Mistake((0.1 * math.log10(_S_YARN) + 1) ** 2, N_("{answer} uses log₁₀; YaRN's factor 0.1·ln s + 1 uses "
                                                             "the natural log.")),
            Mistake((0.1 * math.log2(_S_YARN) + 1) ** 2, N_("{answer} uses log₂; YaRN's factor 0.1·ln s + 1 uses the "
                                                            "natural log.")),
            Mistake(_FACTOR ** 0.5, N_("{answer} takes the square root; q and k each carry the factor, so q·k grows "
                                       "by its square.")),
            Mistake(0, N_("the logits are multiplied by a positive factor; {answer} is not possible."),
                    when=lambda x: x <= 0, invalid=True),
        ],
        too_small=N_("{answer} is too small: the factor is 0.1·ln s + 1, and q·k carries it once from q and once "
                     "from k."),
        too_large=N_("{answer} is too large: the factor is 0.1·ln s + 1, and q·k carries it once from q and once "
                     "from k."),
    ),
    hints=[N_("The attention factor for s = 8 is 0.1·ln 8 + 1."),
           N_("Both q and k are rotated with the scaled cos and sin."),
           N_("Each of q and k grows by the factor, so q·k grows by its square.")],
    solution_text=N_("The factor is 0.1·ln 8 + 1 = {factor:.4f}; q and k each carry it, so the logits grow by its "
                     "square, {square:.4f}: a softmax temperature below 1 that sharpens attention, undoing the blur "
                     "that interpolation adds (YaRN's paper writes it as √(1/t) = 0.1·ln s + 1)."),
    values={"factor": _YARN.attention_factor, "square": _YARN.attention_factor ** 2},
)


@lru_cache(maxsize=1)
def _needle_grid() -> dict:
    """The unscaled needle grid: its lengths, the first ranked miss, where it misses at every depth, the first
    greedy miss and its depth."""
    trials = load_extension_results()["needle"]["none"]
    lengths = sorted({t["n_tokens"] for t in trials})
    greedy = min((t for t in trials if not t["found"]), key=lambda t: (t["n_tokens"], t["depth"]), default=None)
    every = [n for n in lengths if all(t["rank"] > 1 for t in trials if t["n_tokens"] == n)]
    return {"lengths": lengths, "first_miss": min(t["n_tokens"] for t in trials if t["rank"] > 1),
            "every_depth": every[0] if every else None,
            "greedy": None if greedy is None else greedy["n_tokens"],
            "greedy_depth": None if greedy is None else f"{greedy['depth']:.0%}"}


def _first_miss() -> int:
    return _needle_grid()["first_miss"]


def _needle_fields() -> dict:
    grid = _needle_grid()
    return {"lengths": ", ".join(str(n) for n in grid["lengths"]), "trained": _TRAINED,
            "greedy_depth": grid["greedy_depth"]}


def _needle_mistakes() -> list:
    grid = _needle_grid()
    lengths, expected = grid["lengths"], grid["first_miss"]
    mistakes = [Mistake(lengths[0] + 1, N_("{answer} is not a length of the grid ({lengths}); the answer is one of "
                                           "them."),
                        when=lambda x: x not in lengths, invalid=True)]
    if grid["greedy"] is not None and grid["greedy"] < expected:
        mistakes.append(Mistake(grid["greedy"], N_(
            "{answer} is the shortest length where greedy decoding misses (found is False, at depth {greedy_depth}); "
            "the question asks about teacher forcing, rank > 1. Greedy-only scoring under-counts retrieval: there "
            "the key still ranks first although greedy never says it.")))
    if grid["every_depth"] is not None and grid["every_depth"] > expected:
        mistakes.append(Mistake(grid["every_depth"], N_(
            "{answer} is where the unscaled model misses at every depth; the question asks for the shortest length "
            "with any miss — look at every depth, including the very start.")))
    past = next((n for n in lengths if n > _TRAINED and n != grid["every_depth"]), None)
    if past is not None and past > expected:
        mistakes.append(Mistake(past, N_(
            "{answer} is the first length past the trained {trained} tokens; the unscaled model already misses at a "
            "shorter length — look at every depth, including the very start (depth 0 %).")))
    return mistakes


first_miss_length = Exercise(
    title=N_("Where the unscaled model first misses"),
    question=N_("In the cached needle grid (load_extension_results()['needle']['none']), what is the shortest "
             "context length at which teacher forcing ranks some distractor above the true key (rank > 1)?"),
    checker=NumberAnswer(
        _first_miss, whole=True, fields=_needle_fields, mistakes=_needle_mistakes,
        # only lengths of the grid get this far: the others are invalid
        too_small=N_("at {answer} tokens the true key still ranks first at every depth; the first miss comes "
                     "later."),
        too_large=N_("the unscaled model already misses at a shorter length than {answer}; look at every depth, not "
                     "only the middle."),
    ),
    hints=[N_("Each trial is a dict with 'n_tokens', 'depth' and 'rank'."),
           N_("Keep the trials with rank > 1 and take the smallest n_tokens."),
           N_("min(t['n_tokens'] for t in results['needle']['none'] if t['rank'] > 1)")],
    solution_text=N_("min(t['n_tokens'] for t in results['needle']['none'] if t['rank'] > 1) — the first miss is at "
                  "the trained length, with the needle at the very start: the key is then ~8k tokens back, at "
                  "relative distances the model barely saw in training. At 16k unscaled RoPE fails at every depth."),
)

EXERCISES = [full_turn_pairs, ntk_base, yarn_logit_scale, first_miss_length]
