"""Exercises for 00_start_here: the arithmetic of long inputs."""
from __future__ import annotations

from ..chunking import ChunkPlan
from . import Exercise, expect_close, expect_equal

__all__ = ["score_memory", "chunks_needed", "growth_ratios"]

score_memory = Exercise(
    title="Attention-score memory of one head",
    question="How many MiB (2**20 bytes) does one head's n × n fp32 attention-score matrix take at n = 8192?",
    checker=expect_close(ChunkPlan(8192, 8192).full_scores * 4 / 2**20, rel=1e-3, what="the size in MiB"),
    hints=["There are n × n scores, and an fp32 number is 4 bytes.",
           "8192 × 8192 × 4 bytes, then divide by 2**20."],
    solution_text="8192² scores × 4 bytes = 268,435,456 bytes = 256 MiB — for one head of one layer.",
)

chunks_needed = Exercise(
    title="How many chunks",
    question="A 1000-token input is cut into chunks of k = 128 tokens with no overlap. How many chunks m?",
    checker=expect_equal(ChunkPlan(1000, 128).m, what="m"),
    hints=["Seven full chunks cover 896 tokens; what about the rest?",
           "m = ceil(n / k): the last chunk may be shorter than k."],
    solution_text="m = ceil(1000 / 128) = 8: seven chunks of 128 and a last one of 104 tokens.",
)


def _growth_checker(answer) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "give two numbers: (attention-score growth, KV-cache growth)."
    scores, kv = answer
    if scores != 64:
        return "the attention-score growth is off: scores grow with n × n."
    if kv != 8:
        return "the KV-cache growth is off: the cache holds one key and one value per token."
    return None


growth_ratios = Exercise(
    title="Quadratic vs linear growth",
    question="Going from n = 1024 to n = 8192 tokens, by what factor do (a) one layer's attention scores and "
             "(b) the KV cache grow? Answer as a tuple (a, b).",
    checker=_growth_checker,
    hints=["n grows 8×.", "Scores are n², the KV cache is proportional to n."],
    solution_text="(64, 8): 8² = 64 for the n × n scores, 8 for the per-token keys and values.",
)
