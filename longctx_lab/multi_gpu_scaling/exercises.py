"""Chapter 4 exercises: the ring, the causal imbalance, Amdahl's limit and per-rank score memory.

Each checker recognises the mistakes the chapter anticipates (counting the own block, P for P², the
limit 1/s for S(P), ...) and explains them.
"""
from __future__ import annotations

import math

from ..core.answers import Mistake, NumberAnswer
from ..core.exercise_kit import N_, Exercise
from .ring import causal_block_counts, ring_schedule
from .scaling import amdahl_speedup

__all__ = ["EXERCISES", "amdahl_limit", "causal_imbalance", "ring_transfers", "score_memory"]

_P_RING = 8
ring_transfers = Exercise(
    title=N_("Transfers around the ring"),
    question=N_("Ring attention with P = 8 ranks: how many key/value blocks does each rank RECEIVE in one pass?"),
    checker=NumberAnswer(
        len(ring_schedule(_P_RING)) - 1, whole=True,
        fields={"P": _P_RING},
        mistakes=[
            Mistake(_P_RING, N_("{answer} = P counts the rank's own block too; it starts with its own block, so it "
                                "receives only the others.")),
            Mistake(_P_RING * (_P_RING - 1), N_("{answer} counts the blocks all ranks receive together; the question "
                                                "asks about one rank.")),
            Mistake(2 * (_P_RING - 1), N_("{answer} counts keys and values as separate transfers; a key/value block "
                                          "travels as one, once per ring step.")),
            Mistake(1, N_("{answer} is what a rank receives in one ring step; the pass has a step for every other "
                          "rank's block.")),
            Mistake(-1, N_("a rank receives a whole number of blocks, at least 0; {answer} is not possible."),
                    when=lambda x: x < 0, invalid=True),
        ],
        too_small=N_("{answer} is too few: each rank must see every rank's key/value block once."),
        too_large=N_("{answer} is too many: each rank sees every block exactly once, and its own needs no "
                     "transfer."),
    ),
    hints=[N_("Each rank must see every block once, and it starts with its own."),
           N_("Count the ring steps after the first: the own block needs no transfer.")],
    solution_text=N_("P − 1 = 7: a rank starts with its own block and receives the other seven, one per step "
                  "(`len(ring_schedule(8)) - 1`)."),
)

_P_CAUSAL = 4
_COUNTS = causal_block_counts(_P_CAUSAL)
causal_imbalance = Exercise(
    title=N_("The causal load imbalance"),
    question=N_("Causal ring attention with P = 4: the busiest rank computes how many times as many score blocks "
             "as the least busy one?"),
    checker=NumberAnswer(
        max(_COUNTS) // min(_COUNTS), whole=True,
        fields={"P": _P_CAUSAL},
        mistakes=[
            Mistake(1, N_("{answer} would be the non-causal ring, where every rank computes all P blocks; under a "
                          "causal mask a query block skips the key blocks to its right, so early ranks do less.")),
            Mistake(_P_CAUSAL**2, N_("{answer} = P² is the number of blocks in the whole (non-causal) grid; compare "
                                     "the busiest rank with the least busy one.")),
            Mistake(sum(_COUNTS), N_("{answer} is the total number of blocks computed by all ranks; compare the "
                                     "busiest rank with the least busy one.")),
            Mistake(min(_COUNTS) / max(_COUNTS), N_("{answer} is the inverse, least busy / busiest; the question asks "
                                                    "how many times as many the busiest rank computes.")),
            Mistake(max(_COUNTS) / (sum(_COUNTS) / _P_CAUSAL),
                    N_("{answer} compares the busiest rank with the average rank; the question compares it with "
                       "the least busy one.")),
            Mistake((_P_CAUSAL + 1) / (2 * _P_CAUSAL),
                    N_("{answer} = (P + 1)/(2P) is the efficiency that the imbalance leaves; the question asks for "
                       "the ratio of the busiest rank's blocks to the least busy rank's.")),
            Mistake(0, N_("a ratio of block counts is positive; {answer} is not possible."),
                    when=lambda x: x <= 0, invalid=True),
        ],
        too_small=N_("{answer} is too small: count the blocks rank 0 and rank P − 1 compute "
                     "(causal_block_counts(4))."),
        too_large=N_("{answer} is too large: count the blocks rank 0 and rank P − 1 compute "
                     "(causal_block_counts(4))."),
    ),
    hints=[N_("Under a causal mask a query block never looks at key blocks to its right."),
           N_("Rank r keeps the blocks of ranks 0..r: count them for r = 0 and r = 3 (`causal_block_counts(4)`).")],
    solution_text=N_("Rank 0 computes 1 block, rank 3 computes 4: a ratio of 4 = P. Striped or zig-zag block "
                  "assignment (each rank takes one early and one late block) evens this out."),
)

_S, _P_AMDAHL = 0.05, 16
amdahl_limit = Exercise(
    title=N_("Amdahl's limit"),
    question=N_("A serial fraction s = 0.05 was measured. What speedup does Amdahl's law predict for P = 16?"),
    checker=NumberAnswer(
        amdahl_speedup(_S, _P_AMDAHL), rel=0.01,
        fields={"P": _P_AMDAHL, "s": _S},
        mistakes=[
            Mistake(_P_AMDAHL, N_("{answer} = P is the ideal, linear speedup; the serial fraction s caps it: "
                                  "S(P) = 1 / (s + (1 − s)/P).")),
            Mistake(1 / _S, N_("{answer} = 1/s is the limit for P → ∞; at P = {P} the parallel part still takes "
                               "(1 − s)/P of the time.")),
            Mistake((1 - _S) * _P_AMDAHL, N_("{answer} = (1 − s) · P scales only the parallel part; the time is the "
                                             "sum of the serial and the parallel parts, S = 1 / (s + (1 − s)/P).")),
            Mistake(_S + (1 - _S) / _P_AMDAHL, N_("{answer} is the time left, s + (1 − s)/P, as a fraction of the "
                                                  "serial run; the speedup is its inverse.")),
            Mistake(1 / ((1 - _S) + _S / _P_AMDAHL), N_("{answer} swaps the serial and parallel fractions: s = {s} is "
                                                        "the part that cannot be split.")),
            Mistake(amdahl_speedup(_S, _P_AMDAHL) / _P_AMDAHL,
                    N_("{answer} is the parallel efficiency S(P)/P; the question asks for the speedup S(P).")),
            Mistake(0, N_("a speedup is positive; {answer} is not possible."), when=lambda x: x <= 0, invalid=True),
        ],
        too_small=N_("{answer} is too small: S(P) = 1 / (s + (1 − s)/P)."),
        too_large=N_("{answer} is too large: S(P) = 1 / (s + (1 − s)/P), and even P → ∞ gives only 1/s."),
    ),
    hints=[N_("S(P) = 1 / (s + (1 − s)/P)."),
           N_("1 / (0.05 + 0.95/16): the serial part alone caps the speedup at 1/s = 20.")],
    solution_text=N_("S = 1 / (0.05 + 0.95/16) ≈ {speedup:.2f} (`amdahl_speedup(0.05, 16)`); even P → ∞ gives only "
                     "1/s = 20."),
    values={"speedup": amdahl_speedup(0.05, 16)},
)

_NS, _PS = 4096, 4
_BLOCK = math.ceil(_NS / _PS)
score_memory = Exercise(
    title=N_("Score memory per rank"),
    question=N_("n = 4096 tokens, P = 4 ranks: how many times smaller is one rank's largest score block "
             "(n/P x n/P per head) than the full n x n score matrix?"),
    checker=NumberAnswer(
        _NS**2 // _BLOCK**2, whole=True,
        fields={"P": _PS, "block": _BLOCK},
        mistakes=[
            Mistake(_PS, N_("{answer} = P is how much one side of the block shrinks; the block shrinks on both "
                            "sides, (n/P) × (n/P) against n × n.")),
            Mistake(_BLOCK, N_("{answer} = n/P is the side of one rank's block; the question asks by what factor the "
                               "block is smaller than n × n.")),
            Mistake(_BLOCK**2, N_("{answer} is the number of scores in one rank's block; the question asks by what "
                                  "factor it is smaller than n × n.")),
            Mistake(_BLOCK**2 / _NS**2, N_("{answer} is the block's share of the full matrix; the question asks how "
                                           "many times smaller it is, the inverse.")),
            Mistake(0, N_("a reduction factor is positive; {answer} is not possible."),
                    when=lambda x: x <= 0, invalid=True),
        ],
        too_small=N_("{answer} is too small: compare n × n with (n/P) × (n/P)."),
        too_large=N_("{answer} is too large: compare n × n with (n/P) × (n/P)."),
    ),
    hints=[N_("Both sides of the block shrink by P."), N_("(n / (n/P))² = P².")],
    solution_text=N_("(4096 / 1024)² = 16 = P²: the block is 1024 x 1024 instead of 4096 x 4096. "
                  "Blockwise (flash) attention shrinks it further, to block x block."),
)

EXERCISES = [ring_transfers, causal_imbalance, amdahl_limit, score_memory]
