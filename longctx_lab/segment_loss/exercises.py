"""Chapter 2 exercises: counting scored tokens, weighting segment losses, sliding passes, recurrent positions.

Each checker recognises the mistakes the chapter warns about (off by one at every boundary, the mean of
means, passes ≈ n/s, renumbered positions) and explains them.
"""
from __future__ import annotations

import math

import torch

from ..chunking.plan import ChunkPlan
from ..core.answers import Mistake, NumberAnswer
from ..core.exercise_kit import N_, Exercise
from .loss import SegmentLoss, sliding_windows

__all__ = ["EXERCISES", "mean_of_means", "recurrent_position", "scored_tokens", "sliding_passes"]

# scored_tokens: a document of N tokens split into disjoint segments of K
N, K = 1000, 128


def _weighting_example() -> SegmentLoss:
    """Two segments scored full-context style: 10 tokens at 3 nats, then 2 tokens at 6 nats."""
    per_token = torch.tensor([float("nan")] + [3.0] * 10 + [6.0] * 2, dtype=torch.float64)
    per_segment = torch.tensor([30.0, 12.0], dtype=torch.float64)
    return SegmentLoss("full", 11, None, None, per_token, per_segment, [(0, 11), (11, 13)], 1)


_M = ChunkPlan(N, K).m
scored_tokens = Exercise(
    title=N_("Tokens scored by disjoint segments"),
    question=N_("A text of n = {n} tokens is scored in disjoint segments of k = {k} (mode='disjoint', no BOS). How "
                "many tokens get a loss? (An int.)"),
    checker=NumberAnswer(
        N - _M, whole=True,
        fields={"n": N, "k": K, "full": N // K, "rest": N % K},
        mistakes=[
            Mistake(N, N_("{answer} scores every token, but inside a segment the first token has nothing to be "
                          "predicted from: each of the m segments loses one token.")),
            Mistake(N - 1, N_("{answer} = n − 1 is what full (or recurrent) scoring gets; disjoint segments each lose "
                              "their first token, not only the text's first one.")),
            Mistake(N - N // K, N_("{answer} = n − n // k counts only the {full} full segments; the last partial "
                                   "segment ({rest} tokens) is a segment too and loses its first token: "
                                   "m = ⌈n / k⌉.")),
            Mistake(N // K * (K - 1), N_("{answer} scores only the {full} full segments; the last partial segment of "
                                         "{rest} tokens is scored too (all but its first token).")),
            Mistake(N // K * K, N_("{answer} keeps only the {full} full segments and scores all their tokens; the last "
                                   "partial segment counts too, and every segment loses its first token.")),
            Mistake(1024 - math.ceil(1024 / 128), N_("{answer} is the chapter's count for n = 1024; this question has "
                                                     "n = {n}.")),
            Mistake(-1, N_("between 0 and n = {n} tokens can be scored; {answer} is not a possible count."),
                    when=lambda x: x < 0 or x > N, invalid=True),
        ],
        too_small=N_("{answer} is too few: each segment scores all its tokens but the first (n − m in all, "
                     "m = ⌈n / k⌉)."),
        too_large=N_("{answer} is too many: each of the m = ⌈n / k⌉ segments cannot score its first token."),
    ),
    hints=[
        N_("Inside one segment, can the model predict the segment's first token?"),
        N_("Each segment scores its length minus one; count the segments m = ⌈n/k⌉ first."),
        N_("m = ⌈{n}/{k}⌉ segments each lose one token: n − m."),
    ],
    solution_text=N_("m = ⌈{n}/{k}⌉ = {m}; each segment's first token has no context, so {n} − {m} = {scored} tokens "
                     "are scored (full or recurrent scoring would score n − 1)."),
    values={"n": N, "k": K, "m": _M, "scored": N - _M},
)

mean_of_means = Exercise(
    title=N_("Token-weighted mean vs mean of means"),
    question=(N_("Segment 1 scores 10 tokens with L₁ = 30 nats, segment 2 scores 2 tokens with L₂ = 12 nats. "
              "What is the mean NLL per token of the whole text, L / N? (A float.)")),
    checker=NumberAnswer(
        _weighting_example().mean, rel=1e-6,
        mistakes=[
            Mistake((3 + 6) / 2, N_("{answer} is the mean of the segment means, (30/10 + 12/2) / 2: it weights the "
                                    "2-token segment like the 10-token one. Divide the total loss L by the total "
                                    "number of scored tokens N.")),
            Mistake(42, N_("{answer} is the total L = L₁ + L₂; the mean per token divides it by the number of scored "
                           "tokens N.")),
            Mistake(42 / 2, N_("{answer} divides L by the number of segments; the mean per token divides it by the "
                               "number of scored tokens N = 10 + 2.")),
            Mistake(3, N_("{answer} is segment 1's own mean, L₁ / 10; the whole text includes segment 2.")),
            Mistake(6, N_("{answer} is segment 2's own mean, L₂ / 2; the whole text includes segment 1.")),
            Mistake(math.exp(3.5), N_("{answer} is a perplexity, e^(L/N); the question asks for the mean NLL L/N "
                                      "itself.")),
            Mistake(-1, N_("a negative log-likelihood is never negative; {answer} cannot be a mean NLL."),
                    when=lambda x: x < 0, invalid=True),
        ],
        too_small=N_("{answer} is too small: add the two losses and divide by all scored tokens, L / N."),
        too_large=N_("{answer} is too large: add the two losses and divide by all scored tokens, L / N."),
    ),
    hints=[
        N_("The mean per token divides the total loss by the total number of scored tokens."),
        N_("L = L₁ + L₂ and N = 10 + 2. Averaging 30/10 and 12/2 weights the short segment like the long one."),
        N_("(30 + 12) / (10 + 2)."),
    ],
    solution_text=(N_("L / N = (30 + 12) / 12 = 3.5 nats per token. The mean of the segment means, (3 + 6) / 2 = 4.5, "
                   "gives the 2-token segment as much weight as the 10-token one. "
                   "In the kit: SegmentLoss.mean vs mean_of_segment_means(result).")),
)

_SN, _SK, _SS = 1024, 256, 64
sliding_passes = Exercise(
    title=N_("Forward passes of a sliding window"),
    question=(N_("Scoring n = 1024 tokens with mode='sliding', window k = 256 and stride s = 64: "
              "how many forward passes (windows) does the loop run? (An int.)")),
    checker=NumberAnswer(
        len(sliding_windows(_SN, _SK, _SS)), whole=True,
        fields={"n": _SN, "k": _SK, "s": _SS},
        mistakes=[
            Mistake(_SN // _SS, N_("{answer} = n / s starts a window at every stride step up to n, but the loop stops "
                                   "at the first window that reaches the end: ⌈(n − k)/s⌉ + 1.")),
            Mistake((_SN - _SK) // _SS, N_("{answer} = (n − k)/s counts the steps between window starts; add the "
                                           "first window: ⌈(n − k)/s⌉ + 1.")),
            Mistake(_SN // _SK, N_("{answer} = n / k is the disjoint count; sliding windows start every s = {s} "
                                   "tokens, not every k.")),
            Mistake(len(sliding_windows(1024, 128, 64)),
                    N_("{answer} is the chapter's count for the window k = 128; this question uses k = {k}.")),
            Mistake(0, N_("scoring a text needs at least one forward pass; {answer} is not a number of passes."),
                    when=lambda x: x < 1, invalid=True),
        ],
        too_small=N_("{answer} windows cannot reach the end: windows start at 0, s, 2s, … until one reaches n."),
        too_large=N_("{answer} windows is more than the loop runs: it stops at the first window that reaches the "
                     "end, begin + k ≥ n."),
    ),
    hints=[
        N_("Windows start at 0, s, 2s, … and the loop stops at the first window that reaches the end."),
        N_("The last window starts at the first multiple of s where begin + k ≥ n."),
        N_("⌈(n − k)/s⌉ + 1."),
    ],
    solution_text=N_("⌈(1024 − 256)/64⌉ + 1 = {windows} windows (check: len(sliding_windows(1024, 256, 64))). Passes "
                     "grow like n/s, each costing a k-token forward."),
    values={"windows": len(sliding_windows(1024, 256, 64))},
)

_I, _RK, _MEMORY = 3, 128, 64
recurrent_position = Exercise(
    title=N_("Position ids with a cropped memory"),
    question=(N_("mode='recurrent', k = 128, memory = 64. Segment i = 3 (counting from 0) starts at token 384 and "
              "sees 64 cached tokens. Which position id must its first token get? (An int.)")),
    checker=NumberAnswer(
        _I * _RK, whole=True,
        fields={"memory": _MEMORY, "start": _I * _RK - _MEMORY, "last": _I * _RK - 1, "shift": _I * _RK - _MEMORY},
        mistakes=[
            Mistake(_MEMORY, N_("{answer} is the token's index inside the window of memory + segment. The cached keys "
                                "were rotated by RoPE at their absolute positions {start}…{last}, so a query numbered "
                                "{answer} would see every distance to them wrong by {shift}: keep the absolute "
                                "position.")),
            Mistake(0, N_("{answer} renumbers the segment from zero, as if it were on its own; the cached keys carry "
                          "positions {start}…{last}, so every query–key distance would be wrong (even negative). "
                          "Keep the absolute position.")),
            Mistake(_I * _RK - _MEMORY, N_("{answer} is the position of the first cached token; the segment's first "
                                           "token comes after all {memory} of them.")),
            Mistake(_I * _RK - 1, N_("{answer} is the position of the last cached token; the segment's first token "
                                     "comes right after it.")),
            Mistake(_I * _RK + 1, N_("{answer} counts positions from 1; position ids count from 0, like the token "
                                     "indices, so a token's position id is its index in the whole text.")),
            Mistake(_I, N_("{answer} is the segment index i; a position id counts tokens, not segments.")),
            Mistake(-1, N_("position ids count from 0; {answer} cannot be one."), when=lambda x: x < 0, invalid=True),
        ],
        too_small=N_("{answer} is too small: with RoPE, the query must keep the absolute position it has in the "
                     "whole text, so its distances to the cached keys are the true ones."),
        too_large=N_("{answer} is too large: with RoPE, the query must keep the absolute position it has in the "
                     "whole text, so its distances to the cached keys are the true ones."),
    ),
    hints=[
        N_("The cached keys were rotated by RoPE at the positions they had when they were computed."),
        N_("RoPE makes a score depend on the distance between query and key positions only."),
        N_("Keep the query at its absolute position, so distances to the cached keys stay true."),
    ],
    solution_text=(N_("384 = 3·128, its absolute position. The cached keys of tokens 320..383 already carry their "
                   "RoPE rotation at 320..383; giving the query position 64 (its index inside the window) would "
                   "make every query–key distance wrong by 320 positions.")),
)

EXERCISES = [scored_tokens, mean_of_means, sliding_passes, recurrent_position]
