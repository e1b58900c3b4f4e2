"""The exercise kit and every chapter's exercises: placeholder / right / wrong / invalid, layered hints,
answer types handled once for all checkers, the chapters' anticipated mistakes and their explanations,
and checkers that never raise on anything a learner can type."""
import dataclasses
import math
import string
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from longctx_lab.attention import exercises as attention
from longctx_lab.chunking import exercises as chunking
from longctx_lab.compression import exercises as compression
from longctx_lab.context_extension import exercises as extension
from longctx_lab.core import answer_types, answers
from longctx_lab.core import exercise_kit as kit
from longctx_lab.core.answer_types import as_number
from longctx_lab.core.answers import Mistake, NumberAnswer, PairAnswer, expect_close, expect_equal
from longctx_lab.core.exercise_kit import ____, Exercise, Invalid, is_placeholder, shown
from longctx_lab.multi_gpu_scaling import exercises as scaling
from longctx_lab.segment_loss import exercises as segment_loss
from longctx_lab.start_here import exercises as start_here
from longctx_lab.your_own_model import exercises as own_model

CHAPTERS = [start_here, chunking, segment_loss, attention, scaling, compression, extension, own_model]
ALL = [(chapter.__name__.split(".")[1], exercise) for chapter in CHAPTERS for exercise in chapter.EXERCISES]
IDS = [f"{chapter}.{exercise.title}" for chapter, exercise in ALL]
EXERCISES = [exercise for _, exercise in ALL]


def make() -> Exercise:
    return Exercise("m for n=10, k=4", "How many chunks?", expect_equal(3, what="m"),
                    ["Use the ceiling.", "m = ceil(n / k)."], "m = ceil(10 / 4) = 3")


# ---------------------------------------------------------------------------------------------- the kit

def test_placeholder_reads_not_attempted():
    result = make().check(____)
    assert result.status == "not attempted" and not result.correct
    assert "not attempted" in repr(result)
    assert is_placeholder((1, ____)) and is_placeholder({"a": ____}) and not is_placeholder(0)


def test_right_and_wrong_answers():
    ex = make()
    assert ex.check(3).correct and ex.check(3.0).correct and ex.check(np.int64(3)).correct
    wrong = ex.check(2)
    assert wrong.status == "wrong" and "m is not 2" in wrong.message and ".hint()" in wrong.message
    assert "too small" in wrong.message and "too large" in ex.check(4).message


def test_hints_are_layered_and_stop_at_the_last():
    ex = make()
    assert ex.hint().startswith("Hint 1/2")
    assert ex.hint().startswith("Hint 2/2")
    assert ex.hint().startswith("Hint 2/2")
    assert "ceil" in ex.solution()


def test_expect_close_tolerances_and_types():
    check = expect_close(2.0, rel=0.01, what="ratio")
    assert check(2.01) is None
    assert "too large" in check(3.0) and "too small" in check(1.0)
    assert "number" in check("2") and isinstance(check("2"), Invalid)
    assert "number" in check(True) and "bool" in check(True)
    with pytest.raises(ValueError, match="tolerances"):
        expect_close(1.0, rel=-1)


def test_checker_errors_become_wrong_answers_not_crashes():
    def picky(answer):
        raise ValueError("needs a list")

    ex = Exercise("t", "q", picky, ["h"], "s")
    assert ex.check(1).status == "wrong" and "could not be checked" in ex.check(1).message

    def broken(answer):
        raise ZeroDivisionError("oops")

    assert Exercise("t", "q", broken, ["h"], "s").check(1).status == "wrong"


def test_exercise_validation():
    with pytest.raises(TypeError, match="checker"):
        Exercise("t", "q", "not callable", ["h"], "s")
    with pytest.raises(ValueError, match="hint"):
        Exercise("t", "q", expect_equal(1), [], "s")


@pytest.mark.parametrize("answer, whole, phrase", [
    ("8192", True, "expected a whole number, got the string '8192': remove the quotes."),
    ("eight", True, "expected a whole number, got the string 'eight'."),
    ("2.5", False, "expected a number, got the string '2.5': remove the quotes."),
    (None, True, "expected a whole number, got None"),
    (True, True, "expected a whole number, got True: a bool is not a number here."),
    (np.bool_(False), False, "expected a number, got False: a bool is not a number here."),
    (torch.tensor(True), True, "a bool is not a number here"),
    (float("nan"), False, "expected a number, got NaN"),
    (np.float32("nan"), True, "expected a whole number, got NaN"),
    (float("inf"), False, "expected a number, got inf: an infinite value cannot be the answer."),
    (-np.inf, True, "got -inf"),
    (3 + 4j, False, "expected a number, got the complex number (3+4j)."),
    (torch.tensor([1.0, 2.0]), False, "expected a number, got a tensor with 2 elements (shape (2,))"),
    (torch.zeros(2, 3), True, "got a tensor with 6 elements (shape (2, 3))"),
    (np.arange(4), True, "got a NumPy array with 4 elements (shape (4,))"),
    ([8], True, "expected a whole number, got a value of type list: [8]."),
    ({"m": 8}, False, "expected a number, got a value of type dict: {'m': 8}."),
    (b"8", True, "got a value of type bytes"),
])
def test_unusable_answers_get_a_sentence_naming_what_was_given(answer, whole, phrase):
    problem = as_number(answer, whole)
    assert isinstance(problem, Invalid) and phrase in problem


@pytest.mark.parametrize("answer, number", [
    (23, 23), (np.int64(23), 23), (23.0, 23), (np.float32(23), 23), (np.float64(23.0), 23), (np.uint8(23), 23),
    (torch.tensor(23), 23), (torch.tensor([23.0]), 23), (torch.tensor([[23]], dtype=torch.int16), 23),
    (np.array(23), 23), (np.array([23.0]), 23), (Fraction(46, 2), 23), (Decimal("23.0"), 23),
    (torch.tensor(2.5, requires_grad=True), 2.5), (np.float16(2.5), 2.5), (Fraction(5, 2), 2.5),
    (10**400, 10**400), (-0.0, 0),
])
def test_numbers_of_every_kind_become_plain_python_numbers(answer, number):
    value = as_number(answer)
    assert value == number and type(value) is type(number)


def test_huge_and_odd_answers_are_quoted_without_raising():
    assert shown(10**5000) == "~1e+5000" and shown(-10**5000) == "-~1e+5000"
    assert shown("x" * 500).endswith("…'") and len(shown("x" * 500)) <= 60

    class Nasty:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert "Nasty" in as_number(Nasty())


def test_status_invalid_is_reported_as_invalid_not_wrong():
    result = extension.first_miss_length.check("8192")
    assert result.status == "invalid" and not result.correct
    assert result.message == "expected a whole number, got the string '8192': remove the quotes."
    assert repr(result).startswith("✘ invalid: expected a whole number")


def test_pair_answers():
    check = start_here.growth_ratios.checker
    assert check((64, 8)) is None and check([64.0, np.int64(8)]) is None and check(torch.tensor([64, 8])) is None
    assert check(np.array([64, 8])) is None
    assert "got 1 value: (64,)" in check((64,)) and "got 3 values" in check((1, 2, 3))
    assert "expected two numbers as a tuple (a, b), got 64." == check(64)
    assert check((64, "8")).startswith("the second of your two numbers is not usable: expected a number, got "
                                       "the string '8'")
    both = check((10, 9))  # neither anticipated: one sentence per number, in order, each a whole sentence
    assert both.index("attention-score growth") < both.index("The KV-cache growth")


def test_mistakes_match_rounded_floats_but_whole_exercises_match_ints_exactly():
    checker = NumberAnswer(11, whole=True, mistakes=[Mistake(10, "ten"), Mistake(968 / 96, "unrounded")])
    assert checker(10) == "ten" and checker(10.0) == "ten"
    assert checker(10.08) == "unrounded" and checker(10.1) == "unrounded"
    assert isinstance(checker(10.5), Invalid) and "whole number, got 10.5" in checker(10.5)
    ratio = NumberAnswer(8.0, rel=1e-6, mistakes=[Mistake(64, "squared")])
    assert ratio(64) == "squared" and ratio(64.3) == "squared" and ratio(63.0) != "squared"


def test_near_misses_are_told_to_carry_more_digits():
    assert "close" in attention.uniform_entropy.check(2.30).message
    assert "0.1 %" in attention.uniform_entropy.check(2.30).message
    assert "computed exactly" in segment_loss.mean_of_means.check(3.49).message


def test_lazy_checkers_compute_their_answer_once():
    calls = []

    def expected():
        calls.append(1)
        return 5

    checker = NumberAnswer(expected, whole=True)
    assert checker(5) is None and checker(4) is not None and calls == [1]


# ------------------------------------------------------------------------- one verdict per value, any type

def _same_value(value):
    """The same number as the learner could type it: Python int/float, NumPy scalars, tensors, 0-d arrays."""
    forms = [value, float(value), np.float64(value), np.array(value), torch.tensor(float(value), dtype=torch.float64)]
    if float(value).is_integer():
        forms += [int(value), np.int64(int(value)), np.int32(int(value)), torch.tensor(int(value)),
                  torch.tensor([int(value)]), Fraction(int(value))]
    return forms


def test_whole_sentence_overlap_gives_one_verdict_for_23_in_any_type():
    results = {repr(chunking.whole_sentence_overlap.check(form)) for form in _same_value(23)}
    assert len(results) == 1, results
    assert chunking.whole_sentence_overlap.check(np.int64(23)).status == "wrong"


@pytest.mark.parametrize("exercise", [ex for ex in EXERCISES if isinstance(ex.checker, NumberAnswer)],
                         ids=[i for i, ex in zip(IDS, EXERCISES) if isinstance(ex.checker, NumberAnswer)])
def test_numpy_torch_and_python_numbers_get_the_same_verdict(exercise):
    checker = exercise.checker
    values = [checker.expected] + [m.value for m in checker.mistakes] + [checker.expected * 1.5 + 1]
    for value in values:
        verdicts = {repr(exercise.check(form)) for form in _same_value(value)}
        assert len(verdicts) == 1, (value, verdicts)


# ---------------------------------------------------------------------------- every exercise, every mistake

def _example(checker, mistake):
    """An answer that shows the mistake: its value, with the right number where a pair mistake leaves None."""
    if isinstance(mistake.value, tuple):
        return tuple(checker.expected[i] if v is None else v for i, v in enumerate(mistake.value))
    return mistake.value


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_every_exercise_accepts_its_answer_and_knows_the_placeholder(exercise):
    exercise = dataclasses.replace(exercise, _hints_shown=0)  # a chapter's own tests may have asked for hints
    assert exercise.check(____).status == "not attempted"
    assert exercise.check(exercise.checker.expected).correct
    fresh = dataclasses.replace(exercise, _hints_shown=0)  # hints are revealed in turn: leave the shared one alone
    assert fresh.hint().startswith("Hint 1/") and exercise.solution()


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_every_exercise_anticipates_mistakes_and_explains_each(exercise):
    checker = exercise.checker
    assert isinstance(checker, (NumberAnswer, PairAnswer))
    teaching = [m for m in checker.mistakes if not m.invalid]
    assert teaching, f"{exercise.title}: no anticipated mistake"
    for mistake in checker.mistakes:
        answer = _example(checker, mistake)
        result = exercise.check(answer)
        assert result.status == ("invalid" if mistake.invalid else "wrong"), (answer, result)
        normalised = tuple(as_number(a) for a in answer) if isinstance(answer, tuple) else as_number(answer)
        assert str(checker.explain(mistake, normalised)) in result.message, (answer, result)


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_unrecognised_wrong_answers_still_get_a_reason(exercise):
    checker = exercise.checker
    if isinstance(checker, PairAnswer):
        answer = (checker.expected[0] + 1, checker.expected[1] + 1)
    else:
        answer = checker.expected + 1 if checker.whole else checker.expected * 1.37
    result = exercise.check(answer)
    assert result.status in ("wrong", "invalid") and len(result.message) > 30


# The chapters' anticipated mistakes, one row each: the answer a learner who makes it gives, the verdict,
# and words the explanation must contain.
ANTICIPATED = [
    # 00_start_here
    (start_here.score_memory, 64, "wrong", "an fp32 number takes 4 bytes"),
    (start_here.score_memory, 128, "wrong", "fp16"),
    (start_here.score_memory, 268.4, "wrong", "megabytes"),
    (start_here.score_memory, 268435456, "wrong", "size in bytes"),
    (start_here.score_memory, 0.25, "wrong", "GiB"),
    (start_here.score_memory, 2304, "wrong", "all 9 heads"),
    (start_here.score_memory, 0.03125, "wrong", "one row of n scores"),
    (start_here.score_memory, -1, "invalid", "larger than 0 MiB"),
    (start_here.chunks_needed, 7, "wrong", "you used n // k = 7"),
    (start_here.chunks_needed, 7, "wrong", "the last 104 tokens still need a chunk of their own: m = ⌈n / k⌉"),
    (start_here.chunks_needed, 7.8125, "wrong", "round up"),
    (start_here.chunks_needed, 104, "wrong", "length of the last, short chunk"),
    (start_here.chunks_needed, 0, "invalid", "at least one chunk"),
    (start_here.growth_ratios, (8, 64), "wrong", "you swapped the two"),
    (start_here.growth_ratios, (8, 8), "wrong", "they grow 8², not 8×"),
    (start_here.growth_ratios, (512, 8), "wrong", "cubic"),
    (start_here.growth_ratios, (64, 64), "wrong", "not like n²"),
    (start_here.growth_ratios, (64, 16), "wrong", "the factor 2 is in the old size as well as the new"),
    (start_here.growth_ratios, (0, 8), "invalid", "positive"),
    # 01_chunking
    (chunking.count_chunks, 10, "wrong", "drops the last partial chunk, which still needs a segment: "
                                         "m = ⌈(n − o)/(k − o)⌉"),
    (chunking.count_chunks, 10, "wrong", "the first chunk counts too"),
    (chunking.count_chunks, 10.083, "wrong", "round up"),
    (chunking.count_chunks, 10.42, "wrong", "the first chunk covers k tokens"),
    (chunking.count_chunks, 8, "wrong", "ignores the overlap"),
    (chunking.count_chunks, 7, "wrong", "ignores the overlap and drops the last partial chunk"),
    (chunking.count_chunks, 7.8125, "wrong", "ignores the overlap"),
    (chunking.count_chunks, 0, "invalid", "at least one chunk"),
    (chunking.memory_ratio, 64, "wrong", "a single chunk"),
    (chunking.memory_ratio, 0.125, "wrong", "inverse"),
    (chunking.memory_ratio, 1 / 64, "wrong", "one chunk's scores"),
    (chunking.memory_ratio, 1, "wrong", "saves no score memory"),
    (chunking.memory_ratio, -8, "invalid", "positive"),
    (chunking.content_per_chunk, 64, "wrong", "max_length includes the special tokens"),
    (chunking.content_per_chunk, 63, "wrong", "removes one special token"),
    (chunking.content_per_chunk, 126, "wrong", "max_length = 128"),
    (chunking.content_per_chunk, 65, "invalid", "between 1 and 64"),
    (chunking.whole_sentence_overlap, 30, "invalid", "smaller than k = 24"),
    (chunking.whole_sentence_overlap, 24, "invalid", "30 is not" if False else "24 is not a valid overlap"),
    (chunking.whole_sentence_overlap, -1, "invalid", "at least 0"),
    (chunking.whole_sentence_overlap, 23, "wrong", "L − 1 for the longest sentence"),
    (chunking.whole_sentence_overlap, 18, "wrong", "a smaller overlap does too"),
    (chunking.whole_sentence_overlap, 15, "wrong", "a larger overlap is not always safer"),
    (chunking.whole_sentence_overlap, 0, "wrong", "is still cut between two chunks"),
    (chunking.whole_sentence_overlap, 13, "wrong", "sentence 3 (“Her brother Tomas"),
    (chunking.whole_sentence_overlap, 14.5, "invalid", "expected a whole number, got 14.5"),
    # 02_segment_loss
    (segment_loss.scored_tokens, 1000, "wrong", "first token has nothing to be predicted from"),
    (segment_loss.scored_tokens, 999, "wrong", "full (or recurrent)"),
    (segment_loss.scored_tokens, 993, "wrong", "the last partial segment (104 tokens) is a segment too"),
    (segment_loss.scored_tokens, 889, "wrong", "only the 7 full segments"),
    (segment_loss.scored_tokens, 896, "wrong", "only the 7 full segments"),
    (segment_loss.scored_tokens, 1016, "wrong", "n = 1024"),
    (segment_loss.scored_tokens, 1001, "invalid", "between 0 and n = 1000"),
    (segment_loss.mean_of_means, 4.5, "wrong", "mean of the segment means"),
    (segment_loss.mean_of_means, 42, "wrong", "total L"),
    (segment_loss.mean_of_means, 21, "wrong", "number of segments"),
    (segment_loss.mean_of_means, 3, "wrong", "segment 1's own mean"),
    (segment_loss.mean_of_means, 6, "wrong", "segment 2's own mean"),
    (segment_loss.mean_of_means, 33.12, "wrong", "perplexity"),
    (segment_loss.mean_of_means, -3.5, "invalid", "never negative"),
    (segment_loss.sliding_passes, 16, "wrong", "n / s"),
    (segment_loss.sliding_passes, 12, "wrong", "add the first window"),
    (segment_loss.sliding_passes, 4, "wrong", "disjoint count"),
    (segment_loss.sliding_passes, 15, "wrong", "k = 128"),
    (segment_loss.sliding_passes, 0, "invalid", "at least one forward pass"),
    (segment_loss.recurrent_position, 64, "wrong", "index inside the window"),
    (segment_loss.recurrent_position, 64, "wrong", "wrong by 320"),
    (segment_loss.recurrent_position, 0, "wrong", "renumbers the segment from zero"),
    (segment_loss.recurrent_position, 320, "wrong", "first cached token"),
    (segment_loss.recurrent_position, 383, "wrong", "last cached token"),
    (segment_loss.recurrent_position, 385, "wrong", "count from 0"),
    (segment_loss.recurrent_position, 3, "wrong", "segment index"),
    (segment_loss.recurrent_position, -1, "invalid", "count from 0"),
    # 03_attention
    (attention.uniform_entropy, math.log2(10), "wrong", "in bits"),
    (attention.uniform_entropy, 1, "wrong", "base-10 log"),
    (attention.uniform_entropy, -math.log(10), "wrong", "wrong sign"),
    (attention.uniform_entropy, math.log(9), "wrong", "ten of them"),
    (attention.uniform_entropy, 0.2303, "wrong", "one key"),
    (attention.uniform_entropy, 0, "wrong", "one-hot"),
    (attention.uniform_entropy, -5, "invalid", "never negative"),
    (attention.span_mask_value, 1, "wrong", "beyond z"),
    (attention.span_mask_value, 0, "wrong", "z + R = 28"),
    (attention.span_mask_value, 4, "wrong", "divide it by R"),
    (attention.span_mask_value, -0.5, "wrong", "leaves R out"),
    (attention.span_mask_value, 1.5, "wrong", "z and x swapped"),
    (attention.span_mask_value, 2, "invalid", "clamped to [0, 1]"),
    (attention.window_keys, 16, "wrong", "sink"),
    (attention.window_keys, 4, "wrong", "forgets the window"),
    (attention.window_keys, 100, "wrong", "dense attention"),
    (attention.window_keys, 17, "wrong", "one too many"),
    (attention.window_keys, 21, "wrong", "one too many"),
    (attention.window_keys, 84, "wrong", "the window drops"),
    (attention.window_keys, 101, "invalid", "between 1 and n = 100"),
    (attention.block_mask_fraction, 1 / 64, "wrong", "one block's share"),
    (attention.block_mask_fraction, 8, "wrong", "number of chunks"),
    (attention.block_mask_fraction, 0.875, "wrong", "removes"),
    (attention.block_mask_fraction, 0.0625, "wrong", "causal half"),
    (attention.block_mask_fraction, 12.5, "wrong", "percentage"),
    (attention.block_mask_fraction, 1.5, "invalid", "between 0 and 1"),
    # 04_multi_gpu_scaling
    (scaling.ring_transfers, 8, "wrong", "own block"),
    (scaling.ring_transfers, 56, "wrong", "all ranks"),
    (scaling.ring_transfers, 14, "wrong", "keys and values as separate"),
    (scaling.ring_transfers, 1, "wrong", "one ring step"),
    (scaling.ring_transfers, -1, "invalid", "at least 0"),
    (scaling.causal_imbalance, 1, "wrong", "non-causal ring"),
    (scaling.causal_imbalance, 16, "wrong", "P²"),
    (scaling.causal_imbalance, 10, "wrong", "total number of blocks"),
    (scaling.causal_imbalance, 0.25, "wrong", "inverse"),
    (scaling.causal_imbalance, 1.6, "wrong", "average"),
    (scaling.causal_imbalance, 0.625, "wrong", "efficiency"),
    (scaling.causal_imbalance, 0, "invalid", "positive"),
    (scaling.amdahl_limit, 16, "wrong", "linear speedup"),
    (scaling.amdahl_limit, 20, "wrong", "P → ∞"),
    (scaling.amdahl_limit, 15.2, "wrong", "only the parallel part"),
    (scaling.amdahl_limit, 0.1094, "wrong", "its inverse"),
    (scaling.amdahl_limit, 1.05, "wrong", "swaps the serial and parallel"),
    (scaling.amdahl_limit, 0.571, "wrong", "efficiency"),
    (scaling.amdahl_limit, -2, "invalid", "positive"),
    (scaling.score_memory, 4, "wrong", "both sides"),
    (scaling.score_memory, 1024, "wrong", "side of one rank's block"),
    (scaling.score_memory, 1024**2, "wrong", "number of scores"),
    (scaling.score_memory, 1 / 16, "wrong", "the inverse"),
    (scaling.score_memory, 0, "invalid", "positive"),
    # 05_compression
    (compression.kv_bytes_per_token, 65536, "wrong", "only keys"),
    (compression.kv_bytes_per_token, 262144, "wrong", "fp32"),
    (compression.kv_bytes_per_token, 524288, "wrong", "all 32 query heads; only the 8 KV heads are cached"),
    (compression.kv_bytes_per_token, 4096, "wrong", "one layer"),
    (compression.kv_bytes_per_token, 128, "wrong", "KiB"),
    (compression.kv_bytes_per_token, 131072 * 8192, "wrong", "8192 tokens"),
    (compression.kv_bytes_per_token, 0, "invalid", "positive"),
    (compression.gqa_saving, 0.25, "wrong", "inverse"),
    (compression.gqa_saving, 8, "wrong", "number of KV heads"),
    (compression.gqa_saving, 32, "wrong", "number of query heads"),
    (compression.gqa_saving, 24, "wrong", "difference"),
    (compression.gqa_saving, 1, "wrong", "FLOPs"),
    (compression.gqa_saving, -4, "invalid", "positive"),
    (compression.int8_size_ratio, 0.25, "wrong", "only the nn.Linear layers"),
    (compression.int8_size_ratio, 4, "wrong", "one Linear weight"),
    (compression.int8_size_ratio, 1.55, "wrong", "inverse"),
    (compression.int8_size_ratio, 0.47, "wrong", "share of the parameters"),
    (compression.int8_size_ratio, 0.53, "wrong", "still take 1 byte"),
    (compression.int8_size_ratio, 0.5, "wrong", "fp16 or bf16"),
    (compression.int8_size_ratio, 0, "invalid", "positive"),
    (compression.masked_sparsity_size, 0.5, "wrong", "a zero in a dense fp32 tensor still takes 4 bytes"),
    (compression.masked_sparsity_size, 2.0, "wrong", "weight_orig"),
    (compression.masked_sparsity_size, 0, "invalid", "positive"),
    (compression.kv_equals_weights, 3892, "wrong", "counts all 9 query heads"),
    (compression.kv_equals_weights, 3892, "wrong", "only for its 3 KV heads"),
    (compression.kv_equals_weights, 23353, "wrong", "a key AND a value"),
    (compression.kv_equals_weights, 5838, "wrong", "2 bytes per value"),
    (compression.kv_equals_weights, 350300, "wrong", "leaves out the layers"),
    (compression.kv_equals_weights, 1460, "wrong", "batch 8"),
    (compression.kv_equals_weights, 8192, "wrong", "trained context length"),
    (compression.kv_equals_weights, -1, "invalid", "positive"),
    # 06_context_extension
    (extension.full_turn_pairs, 19, "wrong", "index of the last pair"),
    (extension.full_turn_pairs, 12, "wrong", "never complete a turn"),
    (extension.full_turn_pairs, 26, "wrong", "2π radians"),
    (extension.full_turn_pairs, 32, "wrong", "every pair"),
    (extension.full_turn_pairs, 64, "wrong", "head dimension"),
    (extension.full_turn_pairs, 33, "invalid", "32 dimension pairs"),
    (extension.ntk_base, 400000, "wrong", "θ · s"),
    (extension.ntk_base, 383041, "wrong", "exponent (d−2)/d"),
    (extension.ntk_base, 23907, "wrong", "smaller than θ"),
    (extension.ntk_base, 4.183, "wrong", "factor s^(d/(d−2)) alone"),
    (extension.ntk_base, 0.5, "invalid", "larger than 1"),
    (extension.yarn_logit_scale, 0.1 * math.log(8) + 1, "wrong", "square it"),
    (extension.yarn_logit_scale, 0.6853, "wrong", "temperature"),
    (extension.yarn_logit_scale, 0.8279, "wrong", "inverts"),
    (extension.yarn_logit_scale, 1.1888, "wrong", "log₁₀"),
    (extension.yarn_logit_scale, 1.69, "wrong", "log₂"),
    (extension.yarn_logit_scale, 1.0991, "wrong", "square root"),
    (extension.yarn_logit_scale, -1, "invalid", "positive"),
    (extension.first_miss_length, 256, "wrong", "greedy decoding"),
    (extension.first_miss_length, 12288, "wrong", "first length past the trained 8192"),
    (extension.first_miss_length, 16384, "wrong", "every depth"),
    (extension.first_miss_length, 4096, "wrong", "still ranks first at every depth"),
    (extension.first_miss_length, 5000, "invalid", "not a length of the grid"),
    (extension.first_miss_length, "8192", "invalid", "expected a whole number, got the string '8192'"),
    (own_model.int8_cache_fits, 2083333, "correct", "well done"),
    (own_model.int8_cache_fits, 2236962, "wrong", "24 GiB"),
    (own_model.int8_cache_fits, 1041666, "wrong", "fp16 cache"),
    (own_model.int8_cache_fits, 694444, "wrong", "query heads"),
    (own_model.int8_cache_fits, 4166666, "wrong", "keys only"),
    (own_model.int8_cache_fits, 62500000, "wrong", "one layer's cache"),
    (own_model.int8_cache_fits, -5, "invalid", "positive number of tokens"),
    (own_model.rope_factor_needed, 4, "correct", "well done"),
    (own_model.rope_factor_needed, 0.25, "wrong", "inverse"),
    (own_model.rope_factor_needed, 3, "wrong", "extra positions"),
    (own_model.rope_factor_needed, 2, "wrong", "doublings"),
    (own_model.rope_factor_needed, 8, "wrong", "too large"),
    (own_model.batch_on_a_small_gpu, 83886, "correct", "well done"),
    (own_model.batch_on_a_small_gpu, 335544, "wrong", "fits one sequence"),
    (own_model.batch_on_a_small_gpu, 86805, "wrong", "leaves out the weights"),
    (own_model.batch_on_a_small_gpu, 80967, "wrong", "fp32"),
    (own_model.batch_on_a_small_gpu, 167772, "wrong", "int8"),
]


@pytest.mark.parametrize("exercise, answer, status, phrase", ANTICIPATED,
                         ids=[f"{row[0].title}: {row[1]!r}" for row in ANTICIPATED])
def test_anticipated_mistake_gets_its_specific_explanation(exercise, answer, status, phrase):
    result = exercise.check(answer)
    assert result.status == status, result
    assert phrase in result.message, result


def test_every_exercise_has_a_row_of_anticipated_mistakes():
    assert {exercise.title for exercise, *_ in ANTICIPATED} == {exercise.title for exercise in EXERCISES}


# -------------------------------------------------------------------------------- never raise, always judge

_reals = st.one_of(st.integers(), st.integers(min_value=-10**30, max_value=10**30),
                   st.floats(allow_nan=True, allow_infinity=True), st.fractions(),
                   st.decimals(allow_nan=True, allow_infinity=True), st.sampled_from([2**63, -2**64]),
                   st.integers(300, 5000).map(lambda digits: 10**digits))  # past float range and str()'s 4300 digits
_numpy = st.one_of(st.integers(-2**63, 2**63 - 1).map(np.int64), st.floats(width=32).map(np.float32),
                   st.floats().map(np.float64), st.booleans().map(np.bool_), st.integers(0, 255).map(np.uint8),
                   hnp.arrays(st.sampled_from([np.float64, np.int32, np.bool_, np.complex64, "U3"]),
                              hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)))
_tensors = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(torch.tensor),
                     st.integers(-2**62, 2**62).map(torch.tensor), st.booleans().map(torch.tensor),
                     st.lists(st.floats(allow_nan=False, width=32), max_size=4).map(torch.tensor),
                     st.complex_numbers(allow_nan=False, allow_infinity=False, max_magnitude=1e6).map(torch.tensor),
                     st.integers(0, 3).map(lambda n: torch.zeros(n, 2)))
_scalars = st.one_of(_reals, _numpy, _tensors, st.booleans(), st.none(), st.complex_numbers(), st.binary(max_size=4),
                     st.text(max_size=12), st.one_of(st.integers(), st.floats(), st.fractions()).map(str),
                     st.just(____), st.just(object()))
ANSWERS = st.recursive(_scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.tuples(children, children), st.tuples(children),
    st.dictionaries(st.text(max_size=3), children, max_size=2)), max_leaves=6)


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=ANSWERS)
def test_checkers_never_raise_and_always_give_a_verdict(exercise, answer):
    result = exercise.check(answer)
    assert result.status in ("correct", "wrong", "invalid", "not attempted")
    assert isinstance(result.message, str) and result.message
    assert "could not be checked" not in result.message, result  # every answer judged, not rescued from a crash
    assert repr(result)


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_bools_are_never_numbers(exercise):
    for answer in (True, False, np.bool_(True), torch.tensor(False)):
        if isinstance(exercise.checker, PairAnswer):
            answer = (answer, 8)
        result = exercise.check(answer)
        assert result.status == "invalid" and "bool" in result.message


# ------------------------------------------------------------------------ sentences ready for translation

def _templates():
    """Every feedback template: the kit's own and each exercise's mistakes and fallbacks."""
    found = [value for module in (kit, answer_types, answers) for name, value in vars(module).items()
             if name.startswith("_") and isinstance(value, str) and "{" in value]
    found += [t for pair in answer_types._NOT_A_NUMBER.values() for t in pair]
    found += list(answer_types._PAIR_LENGTH) + list(answer_types._PAIR_ITEM)
    for exercise in EXERCISES:
        checker = exercise.checker
        found += [m.message for m in checker.mistakes]
        found += [t for t in (getattr(checker, "too_small", None), getattr(checker, "too_large", None)) if t]
        found += list(getattr(checker, "otherwise", ()))
    return found


def test_feedback_templates_are_whole_sentences_with_named_placeholders():
    templates = _templates()
    assert len(templates) > 150
    for template in templates:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
        assert all(name and name.isidentifier() for name in fields), template  # "{answer}", never "{}" or "{0}"
        # a sentence, not a fragment to glue to another; wrappers end with the whole sentence they wrap
        assert template.rstrip()[-1] in ".?)…" or template.endswith(("{hint}", "{problem}")), template


def test_feedback_is_translated_when_shown(monkeypatch):
    """Each sentence goes through gettext as one template, before its placeholders are filled."""
    seen = []

    def translate(message):
        seen.append(message)
        return f"«{message}»"

    monkeypatch.setattr(kit, "_", translate)
    result = extension.first_miss_length.check("8192")
    assert result.message == "«expected a whole number, got the string '8192': remove the quotes.»"
    assert "expected a whole number, got the string {answer}: remove the quotes." in seen
    wrong = chunking.count_chunks.check(10)
    assert wrong.message.startswith("««10 = (n − o) // (k − o) rounds down") and wrong.message.endswith(
        "counts too.» (Stuck? call .hint())»")
    assert repr(wrong).startswith("«✘ not yet»: ")
    assert chunking.count_chunks.check(11).message == "«Count the chunks — well done.»"


def test_chapter_7_questions_state_smollm2s_real_config():
    shape = own_model._smollm2()
    assert {key: own_model.SHOWN[key] for key in ("layers", "q_heads", "kv_heads", "head_dim", "trained")} == {
        key: shape[key] for key in ("layers", "q_heads", "kv_heads", "head_dim", "trained")}
