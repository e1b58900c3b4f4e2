"""The exercise framework: placeholder, right, wrong, layered hints, solution."""
import pytest

from longctx_lab.exercises import ____, Exercise, expect_close, expect_equal, is_placeholder


def make() -> Exercise:
    return Exercise("m for n=10, k=4", "How many chunks?", expect_equal(3, what="m"),
                    ["Use the ceiling.", "m = ceil(n / k)."], "m = ceil(10 / 4) = 3")


def test_placeholder_reads_not_attempted():
    result = make().check(____)
    assert result.status == "not attempted" and not result.correct
    assert "not attempted" in repr(result)
    assert is_placeholder((1, ____)) and is_placeholder({"a": ____}) and not is_placeholder(0)


def test_right_and_wrong_answers():
    ex = make()
    assert ex.check(3).correct
    wrong = ex.check(2)
    assert wrong.status == "wrong" and "m is not 2" in wrong.message and ".hint()" in wrong.message


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
    assert "number" in check("2")
    assert "number" in check(True)
    with pytest.raises(ValueError, match="tolerances"):
        expect_close(1.0, rel=-1)


def test_checker_errors_become_wrong_answers_not_crashes():
    def picky(answer):
        raise ValueError("needs a list")

    ex = Exercise("t", "q", picky, ["h"], "s")
    assert ex.check(1).status == "wrong"


def test_exercise_validation():
    with pytest.raises(TypeError, match="checker"):
        Exercise("t", "q", "not callable", ["h"], "s")
    with pytest.raises(ValueError, match="hint"):
        Exercise("t", "q", expect_equal(1), [], "s")
