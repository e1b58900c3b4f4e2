"""Exercises for 03_attention: head statistics, the span mask, the window + sinks mask, the chunk block mask.

Every expected answer is computed by the kit's own code, so it cannot drift from what the notebook shows;
each checker recognises the mistakes the chapter anticipates and explains them.
"""
from __future__ import annotations

import math

import torch

from ..chunking.plan import ChunkPlan
from ..core.answers import Mistake, NumberAnswer
from ..core.exercise_kit import N_, Exercise
from .adaptive_span import adaptive_span_mask
from .maps import chunk_block_mask, head_stats, sliding_window_mask

__all__ = ["EXERCISES", "block_mask_fraction", "span_mask_value", "uniform_entropy", "window_keys"]

# Every row spread over the same 10 keys, as query 9 of a causal head is.
_UNIFORM_LAST_ENTROPY = float(head_stats(torch.full((10, 10), 0.1)).entropy)
uniform_entropy = Exercise(
    title=N_("The entropy of an even spread"),
    question=N_("Query i = 9 of a causal head spreads its attention evenly over keys 0 … 9. "
             "What is the entropy of that attention row, in nats?"),
    checker=NumberAnswer(
        _UNIFORM_LAST_ENTROPY, rel=1e-3,
        mistakes=[
            Mistake(math.log2(10), N_("{answer} is log₂ 10, the entropy in bits; the chapter measures entropy in "
                                      "nats, with the natural log.")),
            Mistake(math.log10(10), N_("{answer} uses the base-10 log; entropy in nats uses the natural log, "
                                       "−Σ a_j ln a_j.")),
            Mistake(-math.log(10), N_("{answer} has the wrong sign: entropy is −Σ a_j log a_j, and every log a_j is "
                                      "negative, so the entropy is positive.")),
            Mistake(math.log(9), N_("{answer} = ln 9 spreads over 9 keys; a causal query i = 9 sees keys 0 … 9, ten of "
                                    "them.")),
            Mistake(0.1 * math.log(10), N_("{answer} is the contribution of one key, −a_j ln a_j; the entropy sums "
                                           "all ten of them.")),
            Mistake(0, N_("{answer} is the entropy of a one-hot row, all attention on one key; an even spread is the "
                          "other extreme, the largest entropy a row can have.")),
            Mistake(-1, N_("entropy is never negative; {answer} cannot be the entropy of an attention row."),
                    when=lambda x: x < 0, invalid=True),
        ],
        too_small=N_("{answer} is too small: with all ten weights equal to 1/10, add up −a_j ln a_j over the ten "
                     "keys."),
        too_large=N_("{answer} is too large: no row over 10 keys has an entropy above that of the even spread; "
                     "add up −a_j ln a_j with a_j = 1/10."),
    ),
    hints=[N_("Entropy is -Σ_j a_j log a_j with the natural log."),
           N_("All ten weights are equal: a_j = 1/10."),
           N_("-10 · (1/10) · log(1/10) = log 10.")],
    solution_text=N_("Every weight is 1/10, so the entropy is log 10 = {entropy:.4f} nats — the largest any row over "
                     "10 keys can have. head_stats reports the mean of this over all queries."),
    values={"entropy": _UNIFORM_LAST_ENTROPY},
)

_Z, _R, _X = 20, 8, 24
_MASK_VALUE = float(adaptive_span_mask(32, _Z, _R)[_X])
span_mask_value = Exercise(
    title=N_("Read the span mask"),
    question=N_("An adaptive-span head has z = {z} and ramp R = {R}. By what factor does the mask m_z(x) multiply "
                "attention at distance x = {x} (before renormalising)?"),
    checker=NumberAnswer(
        _MASK_VALUE, rel=1e-6, abs_tol=1e-9,
        fields={"z": _Z, "R": _R, "x": _X, "end": _Z + _R},
        mistakes=[
            Mistake(1, N_("the mask is 1 only up to distance z = {z}; x = {x} lies beyond z, on the ramp where the "
                          "mask falls linearly towards 0.")),
            Mistake(0, N_("the mask reaches 0 only at distance z + R = {end}; x = {x} is still on the ramp.")),
            Mistake(_R + _Z - _X, N_("{answer} = R + z − x is the numerator; divide it by R.")),
            Mistake((_Z - _X) / _R, N_("{answer} leaves R out of the numerator: the mask is (R + z − x)/R, clamped to "
                                       "[0, 1].")),
            Mistake((_R + _X - _Z) / _R, N_("{answer} has z and x swapped: the mask is (R + z − x)/R, falling as the "
                                            "distance x grows.")),
            Mistake(-1, N_("the mask is clamped to [0, 1]; {answer} cannot be a mask value."),
                    when=lambda x: x < 0 or x > 1, invalid=True),
        ],
        too_small=N_("{answer} is too small: compute (R + z − x)/R and clamp it to [0, 1]."),
        too_large=N_("{answer} is too large: compute (R + z − x)/R and clamp it to [0, 1]."),
    ),
    hints=[N_("m_z(x) = clamp((R + z - x) / R, 0, 1)."),
           N_("Up to distance z the mask is 1; over the next R tokens it falls linearly to 0."),
           N_("(R + z - x) / R = ({R} + {z} - {x}) / {R}.")],
    solution_text=N_("({R} + {z} - {x}) / {R} = {mask:g}: distance {x} lies halfway down the ramp [{z}, {end}]. "
                     "Check with adaptive_span_mask(32, {z}, {R})[{x}]."),
    values={"z": _Z, "R": _R, "x": _X, "end": _Z + _R, "mask": _MASK_VALUE},
)

_N, _WINDOW, _SINKS = 100, 16, 4
_WINDOW_KEYS = int(sliding_window_mask(_N, _WINDOW, _SINKS)[_N - 1].sum())
window_keys = Exercise(
    title=N_("Count the keys under window + sinks"),
    question=N_("n = {n} tokens, sliding window w = {w}, plus the first {sinks} tokens kept as sinks. How many keys "
                "may the last query (i = {last}) attend to?"),
    checker=NumberAnswer(
        _WINDOW_KEYS, whole=True,
        fields={"n": _N, "w": _WINDOW, "sinks": _SINKS, "last_sink": _SINKS - 1, "first": _N - _WINDOW,
                "last": _N - 1},
        mistakes=[
            Mistake(_WINDOW, N_("that counts the window but forgets the sink tokens kept at the start.")),
            Mistake(_SINKS, N_("that counts the sinks but forgets the window of the last w = {w} keys.")),
            Mistake(_N, N_("that is dense attention; the window drops most keys.")),
            Mistake(_WINDOW + 1, N_("{answer} counts keys i − w … i, one too many: the window is the last w keys, "
                                    "i − w + 1 … i, the query's own key included.")),
            Mistake(_WINDOW + _SINKS + 1, N_("{answer} counts the window as i − w … i, one too many: the window is "
                                             "the last w keys, i − w + 1 … i; then add the sinks.")),
            Mistake(_N - _WINDOW, N_("{answer} = n − w counts the keys the window drops, not the ones it keeps.")),
            Mistake(0, N_("the last query may attend to between 1 and n = {n} keys; {answer} is not possible."),
                    when=lambda x: x < 1 or x > _N, invalid=True),
        ],
        too_small=N_("{answer} is too few: the last query keeps the window of keys {first} … {last} and the "
                     "sinks 0 … {last_sink}."),
        too_large=N_("{answer} is too many: the last query keeps only its window of w = {w} keys and the "
                     "{sinks} sinks."),
    ),
    hints=[N_("The window covers keys i - w + 1 … i."),
           N_("The sinks are keys 0 … sinks - 1; do they overlap the window for i = 99?"),
           N_("sliding_window_mask({n}, {w}, sinks={sinks})[{last}].sum().")],
    solution_text=N_("The window holds {w} keys (84 … 99) and the {sinks} sinks (0 … 3) lie outside it: {keys} keys. "
                     "The cost per query no longer grows with n."),
    values={"n": _N, "w": _WINDOW, "sinks": _SINKS, "last": _N - 1, "keys": _WINDOW_KEYS},
)

_PLAN = ChunkPlan(1024, 128)
_BLOCK_FRACTION = float(chunk_block_mask(_PLAN).float().mean())
block_mask_fraction = Exercise(
    title=N_("What chunking keeps"),
    question=N_("n = 1024 tokens are processed as chunks of k = 128 (no overlap), each chunk on its own. "
             "What fraction of the n × n query–key pairs can still attend to each other?"),
    checker=NumberAnswer(
        _BLOCK_FRACTION, rel=1e-6,
        fields={"m": _PLAN.m},
        mistakes=[
            Mistake(_BLOCK_FRACTION / _PLAN.m,
                    N_("{answer} is one block's share, k²/n²; there are m = {m} blocks on the diagonal.")),
            Mistake(1 / _BLOCK_FRACTION, N_("{answer} = n / k is the number of chunks, not a fraction of the pairs; "
                                            "a fraction lies between 0 and 1.")),
            Mistake(1 - _BLOCK_FRACTION, N_("{answer} is the fraction chunking removes; the question asks what "
                                            "survives.")),
            Mistake(_BLOCK_FRACTION / 2, N_("{answer} counts only the causal half; the question asks about all n × n "
                                            "query–key pairs.")),
            Mistake(100 * _BLOCK_FRACTION, N_("{answer} looks like a percentage; give the fraction, between 0 and "
                                              "1.")),
            Mistake(-1, N_("a fraction lies between 0 and 1; {answer} is not one."),
                    when=lambda x: x < 0 or x > 1, invalid=True),
        ],
        too_small=N_("{answer} is too small: count the pairs inside the m diagonal blocks of k × k, then divide by "
                     "n²."),
        too_large=N_("{answer} is too large: only pairs inside the same chunk survive, m blocks of k × k out of "
                     "n²."),
    ),
    hints=[N_("Only pairs inside the same chunk survive: a block-diagonal mask."),
           N_("There are m blocks of k × k entries each."),
           N_("m k² / n² = k / n when m k = n.")],
    solution_text=N_("m = 8 blocks of 128² entries: 8 · 128² / 1024² = {fraction:g} (= k / n). "
                     "chunk_block_mask(ChunkPlan(1024, 128)).float().mean() gives the same."),
    values={"fraction": _BLOCK_FRACTION},
)

EXERCISES = [uniform_entropy, span_mask_value, window_keys, block_mask_fraction]
