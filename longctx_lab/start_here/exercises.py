"""Exercises for 00_start_here: the arithmetic of long inputs.

Each checker recognises the mistakes the chapter anticipates and explains them; the expected answers are
computed by the kit's own code.
"""
from __future__ import annotations

from ..chunking.plan import ChunkPlan
from ..core.answers import Mistake, NumberAnswer, PairAnswer
from ..core.exercise_kit import N_, Exercise

__all__ = ["EXERCISES", "score_memory", "chunks_needed", "growth_ratios"]

_N = 8192
_SCORES = ChunkPlan(_N, _N).full_scores  # n × n scores of one head
score_memory = Exercise(
    title=N_("Attention-score memory of one head"),
    question=N_("How many MiB (2**20 bytes) does one head's n × n fp32 attention-score matrix take at n = 8192?"),
    checker=NumberAnswer(
        _SCORES * 4 / 2**20, rel=1e-3,
        fields={"n": _N, "heads": 9, "all_heads": _SCORES * 4 * 9 / 2**20},
        mistakes=[
            Mistake(_SCORES / 2**20, N_("{answer} MiB counts one byte per score, but an fp32 number takes 4 bytes.")),
            Mistake(_SCORES * 2 / 2**20, N_("{answer} MiB is the fp16 size (2 bytes per score); the question asks "
                                            "for fp32, 4 bytes per score.")),
            Mistake(_SCORES * 4 / 1e6, N_("{answer} is in megabytes (10**6 bytes); the question asks for MiB, "
                                          "2**20 bytes.")),
            Mistake(_SCORES * 4, N_("{answer} is the size in bytes; divide by 2**20 to get MiB.")),
            Mistake(_SCORES * 4 / 2**30, N_("{answer} is in GiB (2**30 bytes); the question asks for MiB.")),
            Mistake(_SCORES * 4 * 9 / 2**20, N_("{answer} MiB is all {heads} heads of one SmolLM2 layer (the table "
                                                "in the chapter); the question asks for one head.")),
            Mistake(_N * 4 / 2**20, N_("{answer} MiB is one row of n scores; the matrix has n × n of them, one "
                                       "for every query–key pair.")),
            Mistake(0, N_("a size must be larger than 0 MiB; {answer} cannot be the memory of n × n numbers."),
                    when=lambda x: x <= 0, invalid=True),
        ],
        too_small=N_("{answer} MiB is too small: count n × n scores of 4 bytes each, then divide by 2**20."),
        too_large=N_("{answer} MiB is too large: count n × n scores of 4 bytes each, then divide by 2**20."),
    ),
    hints=[N_("There are n × n scores, and an fp32 number is 4 bytes."),
           N_("8192 × 8192 × 4 bytes, then divide by 2**20.")],
    solution_text=N_("8192² scores × 4 bytes = 268,435,456 bytes = 256 MiB — for one head of one layer."),
)

_PLAN = ChunkPlan(1000, 128)
chunks_needed = Exercise(
    title=N_("How many chunks"),
    question=N_("A 1000-token input is cut into chunks of k = 128 tokens with no overlap. How many chunks m?"),
    checker=NumberAnswer(
        _PLAN.m, whole=True,
        fields={"n": 1000, "k": 128, "full": 1000 // 128, "covered": 1000 // 128 * 128, "rest": 1000 % 128},
        mistakes=[
            Mistake(1000 // 128, N_("you used n // k = {answer}: {answer} full chunks cover {covered} tokens, and "
                                    "the last {rest} tokens still need a chunk of their own: m = ⌈n / k⌉.")),
            Mistake(1000 / 128, N_("{answer} = n / k is not a whole number of chunks: a partial chunk is still a "
                                   "chunk, so round up, m = ⌈n / k⌉.")),
            Mistake(1000 % 128, N_("{answer} is the length of the last, short chunk; the question asks how many "
                                   "chunks there are.")),
            Mistake(0, N_("there is at least one chunk for a non-empty input; {answer} is not a number of chunks."),
                    when=lambda x: x < 1, invalid=True),
        ],
        too_small=N_("{answer} chunks of at most k = {k} tokens cannot hold n = {n} tokens: m = ⌈n / k⌉."),
        too_large=N_("{answer} chunks is more than needed: each chunk holds k = {k} tokens, only the last may be "
                     "shorter."),
    ),
    hints=[N_("Seven full chunks cover 896 tokens; what about the rest?"),
           N_("m = ceil(n / k): the last chunk may be shorter than k.")],
    solution_text=N_("m = ceil(1000 / 128) = 8: seven chunks of 128 and a last one of 104 tokens."),
)

growth_ratios = Exercise(
    title=N_("Quadratic vs linear growth"),
    question=N_("Going from n = 1024 to n = 8192 tokens, by what factor do (a) one layer's attention scores and "
             "(b) the KV cache grow? Answer as a tuple (a, b)."),
    checker=PairAnswer(
        (64, 8), rel=1e-9,
        fields={"growth": 8},
        mistakes=[
            Mistake((0, 8), N_("growth factors are positive numbers: {answer} cannot be a pair of growth factors."),
                    when=lambda pair: min(pair) <= 0, invalid=True),
            Mistake((8, 64), N_("you swapped the two: the attention scores are n × n, so they grow with the square "
                                "of the length; the KV cache holds one key and one value per token, so it grows "
                                "like the length.")),
            Mistake((8, None), N_("the attention-score growth is off: the scores are n × n, so when n grows "
                                  "{growth}× they grow {growth}², not {growth}×.")),
            Mistake((512, None), N_("the attention-score growth is off: {first} would be cubic growth; the "
                                    "scores are n × n, quadratic in n.")),
            Mistake((None, 64), N_("the KV-cache growth is off: the cache holds one key and one value per token, so "
                                   "it grows like n, not like n².")),
            Mistake((None, 16), N_("the KV-cache growth is off: keys and values each grow {growth}×, and so does "
                                   "their sum; the factor 2 is in the old size as well as the new.")),
        ],
        otherwise=(N_("the attention-score growth is off: scores grow with n × n."),
                   N_("the KV-cache growth is off: the cache holds one key and one value per token.")),
    ),
    hints=[N_("n grows 8×."), N_("Scores are n², the KV cache is proportional to n.")],
    solution_text=N_("(64, 8): 8² = 64 for the n × n scores, 8 for the per-token keys and values."),
)

EXERCISES = [score_memory, chunks_needed, growth_ratios]
