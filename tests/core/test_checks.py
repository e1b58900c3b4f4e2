"""The shared argument checks: one message style (argument, value, valid range), bools never numbers."""
import numpy as np
import pytest
import torch

from longctx_lab.core.checks import (as_float, as_ids, as_int, check_causal_lm, check_choice, check_length,
                                     check_module)


def test_as_int_accepts_integral_numbers_and_names_the_range():
    assert as_int("k", np.int64(3), 1) == 3 and type(as_int("k", np.int64(3), 1)) is int
    assert as_int("seed", -5) == -5
    with pytest.raises(ValueError, match=r"^k=0 is out of range; valid: k ≥ 1$"):
        as_int("k", 0, 1)
    with pytest.raises(ValueError, match=r"^m=11 is out of range; valid: 1 ≤ m ≤ 10$"):
        as_int("m", 11, 1, 10)
    with pytest.raises(ValueError, match=r"valid: 0 ≤ overlap ≤ 3 \(k - 1\)$"):
        as_int("overlap", 4, 0, 3, note="k - 1")
    for bad in (2.0, True, "3", None):
        with pytest.raises(TypeError, match="k must be an int, got"):
            as_int("k", bad, 1)


def test_as_float_bounds_open_or_closed_and_finite():
    assert as_float("p", 1, 0, 1) == 1.0
    with pytest.raises(ValueError, match=r"p=1.5 is out of range; valid: 0 ≤ p ≤ 1"):
        as_float("p", 1.5, 0, 1)
    with pytest.raises(ValueError, match=r"valid: 0 ≤ amount < 1"):
        as_float("amount", 1.0, 0, 1, high_open=True)
    with pytest.raises(ValueError, match=r"valid: base > 1"):
        as_float("base", 1, 1, low_open=True)
    with pytest.raises(ValueError, match="nan"):
        as_float("x", float("nan"))
    with pytest.raises(TypeError, match="x must be a number"):
        as_float("x", False)


def test_as_ids_one_sequence_of_at_least_two_ids():
    assert as_ids([1, 2, 3]).tolist() == [1, 2, 3]
    assert as_ids(torch.tensor([[4, 5]])).shape == (2,)
    with pytest.raises(TypeError, match="input_ids"):
        as_ids([1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        as_ids([7])
    with pytest.raises(ValueError, match="batch of 2"):
        as_ids(torch.zeros(2, 4, dtype=torch.long))


def test_model_checks():
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module \(e.g. from load_minilm\(\)\), got str"):
        check_module("nope", example="load_minilm()")
    check_module(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="causal LM"):
        check_causal_lm(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"k=9 exceeds the model's max_position_embeddings=8 \(one window\)"):
        check_length("k", 9, 8, "one window")
    check_length("k", 9, None, "no limit")
    assert check_choice("mode", "full", ("full", "disjoint")) == "full"
    with pytest.raises(ValueError, match=r"mode='x' is not a valid choice; valid: \('full', 'disjoint'\)"):
        check_choice("mode", "x", ("full", "disjoint"))
