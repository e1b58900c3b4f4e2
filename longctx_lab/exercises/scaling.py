"""Chapter 4 exercises: the ring, the causal imbalance, Amdahl's limit and per-rank score memory."""
from __future__ import annotations

import math

from ..ring_attention import causal_block_counts, ring_schedule
from ..scaling import amdahl_speedup
from . import Exercise, expect_close, expect_equal

__all__ = ["amdahl_limit", "causal_imbalance", "ring_transfers", "score_memory"]

ring_transfers = Exercise(
    title="Transfers around the ring",
    question="Ring attention with P = 8 ranks: how many key/value blocks does each rank RECEIVE in one pass?",
    checker=expect_equal(len(ring_schedule(8)) - 1, what="the number of blocks received"),
    hints=["Each rank must see every block once, and it starts with its own.",
           "Count the ring steps after the first: the own block needs no transfer."],
    solution_text="P − 1 = 7: a rank starts with its own block and receives the other seven, one per step "
                  "(`len(ring_schedule(8)) - 1`).",
)

causal_imbalance = Exercise(
    title="The causal load imbalance",
    question="Causal ring attention with P = 4: the busiest rank computes how many times as many score blocks "
             "as the least busy one?",
    checker=expect_equal(max(causal_block_counts(4)) // min(causal_block_counts(4)), what="the ratio"),
    hints=["Under a causal mask a query block never looks at key blocks to its right.",
           "Rank r keeps the blocks of ranks 0..r: count them for r = 0 and r = 3 (`causal_block_counts(4)`)."],
    solution_text="Rank 0 computes 1 block, rank 3 computes 4: a ratio of 4 = P. Striped or zig-zag block "
                  "assignment (each rank takes one early and one late block) evens this out.",
)

amdahl_limit = Exercise(
    title="Amdahl's limit",
    question="A serial fraction s = 0.05 was measured. What speedup does Amdahl's law predict for P = 16?",
    checker=expect_close(amdahl_speedup(0.05, 16), rel=0.01, what="the speedup at P = 16"),
    hints=["S(P) = 1 / (s + (1 − s)/P).",
           "1 / (0.05 + 0.95/16): the serial part alone caps the speedup at 1/s = 20."],
    solution_text=f"S = 1 / (0.05 + 0.95/16) ≈ {amdahl_speedup(0.05, 16):.2f} (`amdahl_speedup(0.05, 16)`); "
                  "even P → ∞ gives only 1/s = 20.",
)

score_memory = Exercise(
    title="Score memory per rank",
    question="n = 4096 tokens, P = 4 ranks: how many times smaller is one rank's largest score block "
             "(n/P x n/P per head) than the full n x n score matrix?",
    checker=expect_equal(4096**2 // math.ceil(4096 / 4) ** 2, what="the reduction factor"),
    hints=["Both sides of the block shrink by P.", "(n / (n/P))² = P²."],
    solution_text="(4096 / 1024)² = 16 = P²: the block is 1024 x 1024 instead of 4096 x 4096. "
                  "Blockwise (flash) attention shrinks it further, to block x block.",
)
