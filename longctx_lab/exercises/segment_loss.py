"""Chapter 2 exercises: counting scored tokens, weighting segment losses, sliding passes, recurrent positions."""
from __future__ import annotations

import torch

from ..chunking import ChunkPlan
from ..segment_loss import SegmentLoss, sliding_windows
from . import Exercise, expect_close, expect_equal

__all__ = ["mean_of_means", "recurrent_position", "scored_tokens", "sliding_passes"]

# scored_tokens: a document of N tokens split into disjoint segments of K
N, K = 1000, 128


def _weighting_example() -> SegmentLoss:
    """Two segments scored full-context style: 10 tokens at 3 nats, then 2 tokens at 6 nats."""
    per_token = torch.tensor([float("nan")] + [3.0] * 10 + [6.0] * 2, dtype=torch.float64)
    per_segment = torch.tensor([30.0, 12.0], dtype=torch.float64)
    return SegmentLoss("full", 11, None, None, per_token, per_segment, [(0, 11), (11, 13)], 1)


scored_tokens = Exercise(
    title="Tokens scored by disjoint segments",
    question=(f"A text of n = {N} tokens is scored in disjoint segments of k = {K} (mode='disjoint', no BOS). "
              "How many tokens get a loss? (An int.)"),
    checker=expect_equal(N - ChunkPlan(N, K).m, what="the number of scored tokens"),
    hints=[
        "Inside one segment, can the model predict the segment's first token?",
        "Each segment scores its length minus one; count the segments m = ⌈n/k⌉ first.",
        f"m = ⌈{N}/{K}⌉ segments each lose one token: n − m.",
    ],
    solution_text=(f"m = ⌈{N}/{K}⌉ = {ChunkPlan(N, K).m}; each segment's first token has no context, so "
                   f"{N} − {ChunkPlan(N, K).m} = {N - ChunkPlan(N, K).m} tokens are scored "
                   "(full or recurrent scoring would score n − 1)."),
)

mean_of_means = Exercise(
    title="Token-weighted mean vs mean of means",
    question=("Segment 1 scores 10 tokens with L₁ = 30 nats, segment 2 scores 2 tokens with L₂ = 12 nats. "
              "What is the mean NLL per token of the whole text, L / N? (A float.)"),
    checker=expect_close(_weighting_example().mean, rel=1e-6, what="the mean NLL per token"),
    hints=[
        "The mean per token divides the total loss by the total number of scored tokens.",
        "L = L₁ + L₂ and N = 10 + 2. Averaging 30/10 and 12/2 weights the short segment like the long one.",
        "(30 + 12) / (10 + 2).",
    ],
    solution_text=("L / N = (30 + 12) / 12 = 3.5 nats per token. The mean of the segment means, (3 + 6) / 2 = 4.5, "
                   "gives the 2-token segment as much weight as the 10-token one. "
                   "In the kit: SegmentLoss.mean vs mean_of_segment_means(result)."),
)

sliding_passes = Exercise(
    title="Forward passes of a sliding window",
    question=("Scoring n = 1024 tokens with mode='sliding', window k = 256 and stride s = 64: "
              "how many forward passes (windows) does the loop run? (An int.)"),
    checker=expect_equal(len(sliding_windows(1024, 256, 64)), what="the number of windows"),
    hints=[
        "Windows start at 0, s, 2s, … and the loop stops at the first window that reaches the end.",
        "The last window starts at the first multiple of s where begin + k ≥ n.",
        "⌈(n − k)/s⌉ + 1.",
    ],
    solution_text=(f"⌈(1024 − 256)/64⌉ + 1 = {len(sliding_windows(1024, 256, 64))} windows "
                   "(check: len(sliding_windows(1024, 256, 64))). Passes grow like n/s, each costing a k-token forward."),
)

recurrent_position = Exercise(
    title="Position ids with a cropped memory",
    question=("mode='recurrent', k = 128, memory = 64. Segment i = 3 (counting from 0) starts at token 384 and "
              "sees 64 cached tokens. Which position id must its first token get? (An int.)"),
    checker=expect_equal(3 * 128, what="the position id"),
    hints=[
        "The cached keys were rotated by RoPE at the positions they had when they were computed.",
        "RoPE makes a score depend on the distance between query and key positions only.",
        "Keep the query at its absolute position, so distances to the cached keys stay true.",
    ],
    solution_text=("384 = 3·128, its absolute position. The cached keys of tokens 320..383 already carry their "
                   "RoPE rotation at 320..383; giving the query position 64 (its index inside the window) would "
                   "make every query–key distance wrong by 320 positions."),
)
