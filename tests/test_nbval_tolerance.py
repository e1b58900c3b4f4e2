"""The number-tolerant notebook comparison passes what it must and fails what it must."""
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, strategies as st

from tests.nbval_tolerance import (
    align_within_tolerance, cell_rtol, compare_text, is_progress_bar, last_digit_unit, numbers_agree, split_numbers,
    without_progress_bars)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("stored, got", [
    ("ppl 21.92\n", "ppl 21.91\n"),                         # the flip seen on another machine
    ("ppl 21.92\n", "ppl 21.93\n"),
    ("|  9.99 | x |\n", "| 10.00 | x |\n"),                  # a wider number in an aligned column
    ("ratio 1.00e-03\n", "ratio 1.01e-03\n"),
    ("cos 0.944, top-1 95.7 %\n", "cos 0.945, top-1 95.7 %\n"),
    ("value 1000.0\n", "value 1000.9\n"),                   # rtol 1e-3 of 1000 is wider than 0.1
    ("-0.00 and 3.\n", "0.00 and 3.\n"),
    ("tokens 4683, fp16 and int8\n", "tokens 4683, fp16 and int8\n"),
])
def test_agreeing_outputs_pass(stored, got):
    assert compare_text(stored, got).equal


@pytest.mark.parametrize("stored, got, why", [
    ("ppl 21.92\n", "ppl 25.0\n", "within its printed precision"),
    ("ppl 21.92\n", "loss 21.92\n", "text after number"),        # a changed word
    ("m = 293 segments\n", "m = 294 segments\n", "within"),      # a changed integer
    ("a 1.5 b\n", "a 1.5 b 2.0\n", "numbers stored"),            # an extra number
    ("one 1.0\ntwo 2.0\n", "one 1.0\n", "numbers stored"),       # a missing line
    ("one\ntwo\n", "one\n", "text after number"),                # a missing line, no numbers
    ("ppl 21.92\n", "ppl 21.92", "text after number"),            # a lost newline
    ("top-1 95.7 %\n", "top-1 96.6 %\n", "within"),              # one retrieval item flipped
    ("3 heads\n", "3.0 heads\n", "within"),                       # an integer printed as a float
])
def test_disagreeing_outputs_fail(stored, got, why):
    verdict = compare_text(stored, got)
    assert not verdict.equal
    assert why in verdict.reason


def test_exact_mode_compares_characters():
    assert not compare_text("21.92", "21.91", rtol=None).equal
    assert compare_text("21.92", "21.92", rtol=None).equal


def test_the_boundary_is_decimal_not_binary():
    # 0.3 - 0.2 is 0.09999999999999998 in binary floats; in decimal it is exactly one unit.
    assert numbers_agree("0.2", "0.3", Decimal(0))
    assert not numbers_agree("0.2", "0.31", Decimal(0))
    assert last_digit_unit("21.92") == Decimal("0.01")
    assert last_digit_unit("1.00e-03") == Decimal("1e-5")


def test_hyphens_in_words_are_not_signs():
    text, numbers = split_numbers("fp-16 top-1 is -0.5")
    assert numbers == ["16", "1", "-0.5"]
    assert text == ["fp-", " top-", " is ", ""]


@pytest.mark.parametrize("tags, expected", [
    ((), Decimal("1e-3")), (["nbval-exact"], None), (["nbval-rtol=1e-2"], Decimal("1e-2")),
    (["other", "nbval-rtol=0.5"], Decimal("0.5")),
])
def test_cell_tags_choose_the_tolerance(tags, expected):
    assert cell_rtol(tags) == expected


@pytest.mark.parametrize("tag", ["nbval-rtol=abc", "nbval-rtol=-1", "nbval-rtol=nan"])
def test_bad_rtol_tags_are_refused(tag):
    with pytest.raises(ValueError, match="nbval-rtol"):
        cell_rtol([tag])


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 6))
def test_a_number_always_agrees_with_itself_and_not_with_a_far_one(value, digits):
    printed = f"{value:.{digits}f}"
    assert compare_text(f"x {printed}\n", f"x {printed}\n").equal
    far = f"{value + 2 * max(10 ** -digits, 1e-3 * abs(value)) + 1:.{digits}f}"
    assert not compare_text(f"x {printed}\n", f"x {far}\n").equal


def test_align_keeps_stored_text_only_where_it_agrees():
    ref = [nbformat.v4.new_output("stream", name="stdout", text="ppl 21.92\n"),
           nbformat.v4.new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1)]
    test = [nbformat.v4.new_output("stream", name="stdout", text="ppl 21.91\n"),
            nbformat.v4.new_output("execute_result", data={"text/plain": "0.9"}, execution_count=1)]
    aligned = align_within_tolerance(test, ref, skip_compare=(), sanitize=lambda s: s, rtol=Decimal("1e-3"))
    assert aligned[0]["text"] == "ppl 21.92\n"          # agrees: replaced by the stored text
    assert aligned[1]["data"]["text/plain"] == "0.9"    # disagrees: left for nbval to report
    assert test[0]["text"] == "ppl 21.91\n"             # the new outputs themselves are untouched


def _notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for count, (source, stored, tags) in enumerate(cells, start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=count)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
        cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    return nb


def _widget(text: str) -> dict:
    return nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2, "version_minor": 0},
        "text/plain": text})


def test_only_progress_bars_are_left_out():
    bar = _widget("蒸馏一个 2 层的学生模型:   0%|          | 0/40 [00:00<?, ?it/s]")
    panel = _widget("VBox(children=(IntSlider(value=128),))")
    printed = nbformat.v4.new_output("stream", name="stdout", text="42%|x| 1/2 [ is printed text, kept\n")
    assert is_progress_bar(bar) and not is_progress_bar(panel) and not is_progress_bar(printed)
    assert without_progress_bars([bar, panel, printed]) == [panel, printed]


def test_nbval_uses_the_tolerance_end_to_end(tmp_path):
    """A real nbval run over a real kernel: the plugin passes what agrees and fails what does not."""
    nb = _notebook([
        ("print(21.91)", "21.92\n", ()),                       # passes: last digit
        ("print(25.0)", "21.92\n", ()),                        # fails: far off
        ("print(21.91)", "21.92\n", ("nbval-exact",)),         # fails: exact cell
        ("print(22.0)", "21.92\n", ("nbval-rtol=1e-2",)),      # passes: widened cell
        ("print('m = 7')", "m = 8\n", ()),                     # fails: an integer
    ])
    bar = _widget("training:   0%|          | 0/40 [00:00<?, ?it/s]")
    for count, shown in ((6, bar), (7, _widget("VBox(children=(IntSlider(value=128),))"))):
        cell = nbformat.v4.new_code_cell("print('done')", execution_count=count)
        cell.outputs = [shown, nbformat.v4.new_output("stream", name="stdout", text="done\n")]
        nb.cells.append(cell)  # 5 passes: a progress bar is not compared; 6 fails: a panel went missing
    path = tmp_path / "tolerance.ipynb"
    nbformat.write(nb, path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.pytest_plugin", "--nbval", "--nbval-current-env",
         "-p", "no:cacheprovider", "-o", "addopts=", "-o", "nbval_rtol=1e-3", "-rA", "-q",
         "--rootdir", str(ROOT), str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = result.stdout
    outcomes = {}
    for line in out.splitlines():
        for word in ("PASSED", "FAILED"):
            if line.startswith(word) and "::Cell" in line:
                outcomes[int(line.split("::Cell ")[1].split()[0])] = word
    assert outcomes == {0: "PASSED", 1: "FAILED", 2: "FAILED", 3: "PASSED", 4: "FAILED", 5: "PASSED", 6: "FAILED"}, out
    assert "21.92" in out and "25.0" in out, "nbval's own diff report names both values"
