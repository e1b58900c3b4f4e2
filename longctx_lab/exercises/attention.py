"""Exercises for 03_attention: head statistics, the span mask, the window + sinks mask, the chunk block mask.

Every expected answer is computed by the kit's own code, so it cannot drift from what the notebook shows.
"""
from __future__ import annotations

import torch

from ..attention import adaptive_span_mask, chunk_block_mask, head_stats, sliding_window_mask
from ..chunking import ChunkPlan
from . import Exercise, expect_close

__all__ = ["EXERCISES", "block_mask_fraction", "span_mask_value", "uniform_entropy", "window_keys"]

# Every row spread over the same 10 keys, as query 9 of a causal head is.
_UNIFORM_LAST_ENTROPY = float(head_stats(torch.full((10, 10), 0.1)).entropy)
uniform_entropy = Exercise(
    title="The entropy of an even spread",
    question="Query i = 9 of a causal head spreads its attention evenly over keys 0 … 9. "
             "What is the entropy of that attention row, in nats?",
    checker=expect_close(_UNIFORM_LAST_ENTROPY, rel=1e-3, what="the entropy of a uniform row over 10 keys"),
    hints=["Entropy is -Σ_j a_j log a_j with the natural log.",
           "All ten weights are equal: a_j = 1/10.",
           "-10 · (1/10) · log(1/10) = log 10."],
    solution_text=f"Every weight is 1/10, so the entropy is log 10 = {_UNIFORM_LAST_ENTROPY:.4f} nats — the largest "
                  "any row over 10 keys can have. head_stats reports the mean of this over all queries.",
)

_Z, _R, _X = 20, 8, 24
_MASK_VALUE = float(adaptive_span_mask(32, _Z, _R)[_X])
span_mask_value = Exercise(
    title="Read the span mask",
    question=f"An adaptive-span head has z = {_Z} and ramp R = {_R}. By what factor does the mask m_z(x) "
             f"multiply attention at distance x = {_X} (before renormalising)?",
    checker=expect_close(_MASK_VALUE, rel=1e-6, abs_tol=1e-9, what=f"m_z({_X})"),
    hints=["m_z(x) = clamp((R + z - x) / R, 0, 1).",
           "Up to distance z the mask is 1; over the next R tokens it falls linearly to 0.",
           f"(R + z - x) / R = ({_R} + {_Z} - {_X}) / {_R}."],
    solution_text=f"({_R} + {_Z} - {_X}) / {_R} = {_MASK_VALUE:g}: distance {_X} lies halfway down the ramp "
                  f"[{_Z}, {_Z + _R}]. Check with adaptive_span_mask(32, {_Z}, {_R})[{_X}].",
)

_N, _WINDOW, _SINKS = 100, 16, 4
_WINDOW_KEYS = int(sliding_window_mask(_N, _WINDOW, _SINKS)[_N - 1].sum())


def _check_window_keys(answer) -> str | None:
    if answer == _WINDOW_KEYS:
        return None
    if answer == _WINDOW:
        return "that counts the window but forgets the sink tokens kept at the start."
    if answer == _N:
        return "that is dense attention; the window drops most keys."
    return f"{answer!r} is not the number of keys the last query may attend to."


window_keys = Exercise(
    title="Count the keys under window + sinks",
    question=f"n = {_N} tokens, sliding window w = {_WINDOW}, plus the first {_SINKS} tokens kept as sinks. "
             f"How many keys may the last query (i = {_N - 1}) attend to?",
    checker=_check_window_keys,
    hints=["The window covers keys i - w + 1 … i.",
           "The sinks are keys 0 … sinks - 1; do they overlap the window for i = 99?",
           f"sliding_window_mask({_N}, {_WINDOW}, sinks={_SINKS})[{_N - 1}].sum()."],
    solution_text=f"The window holds {_WINDOW} keys (84 … 99) and the {_SINKS} sinks (0 … 3) lie outside it: "
                  f"{_WINDOW_KEYS} keys. The cost per query no longer grows with n.",
)

_PLAN = ChunkPlan(1024, 128)
_BLOCK_FRACTION = float(chunk_block_mask(_PLAN).float().mean())
block_mask_fraction = Exercise(
    title="What chunking keeps",
    question="n = 1024 tokens are processed as chunks of k = 128 (no overlap), each chunk on its own. "
             "What fraction of the n × n query–key pairs can still attend to each other?",
    checker=expect_close(_BLOCK_FRACTION, rel=1e-6, what="the fraction of the n × n map inside the chunk blocks"),
    hints=["Only pairs inside the same chunk survive: a block-diagonal mask.",
           "There are m blocks of k × k entries each.",
           "m k² / n² = k / n when m k = n."],
    solution_text=f"m = 8 blocks of 128² entries: 8 · 128² / 1024² = {_BLOCK_FRACTION:g} (= k / n). "
                  "chunk_block_mask(ChunkPlan(1024, 128)).float().mean() gives the same.",
)

EXERCISES = [uniform_entropy, span_mask_value, window_keys, block_mask_fraction]
