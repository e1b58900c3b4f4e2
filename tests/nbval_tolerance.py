"""Number-tolerant nbval: a stored output means "this number, within its printed precision".

nbval compares a re-run cell's text with the committed text character for character, so one
last-digit flip on another CPU (21.92 → 21.91) turns the suite red. PyTorch promises no bit-equal
results across CPUs, thread counts or math libraries, and rounding at print time cannot fix that
(every rounding has boundaries). So the project compares outputs this way:

* every character that is not part of a number must match exactly, after the sanitize file, with
  runs of spaces and tabs read as one space (a wider number must not break an aligned table);
* both texts must hold the same count of numbers;
* integers (no decimal point, no exponent) must match exactly;
* a printed float passes when |got − stored| ≤ max(one unit of the stored number's last printed
  digit, rtol·|stored|), computed in decimal arithmetic, so 21.915 has no binary rounding edge.

A tqdm progress bar shown as a notebook widget is not compared (in a terminal tqdm writes to stderr, which
nbval already skips): whether a bar appears depends on the run, not on the lesson — a result read back
from the result store shows none.

rtol is 1e-3 unless pyproject's `nbval_rtol` option says otherwise. A cell tag `nbval-exact` turns
tolerance off for that cell; `nbval-rtol=1e-2` sets that cell's rtol.

How it plugs in: nbval has no comparison hook, so `pytest_collection_modifyitems` swaps each
collected `IPyNbCell`'s class for `TolerantCell`, whose `compare_outputs` first replaces every new
value that agrees with the stored one within tolerance by the stored value, then hands both to
nbval's own comparison. Values that disagree reach nbval untouched, so its diff report stays as
readable as ever.
"""
from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import NamedTuple

DEFAULT_RTOL = Decimal("1e-3")
EXACT_TAG = "nbval-exact"
RTOL_TAG_PREFIX = "nbval-rtol="

# A number as people print it: optional sign, digits with an optional fraction, optional exponent.
# A sign counts only where it cannot be a hyphen inside a word ("fp-16", "x-3" keep their dash).
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
SPACES = re.compile(r"[ \t]+")
# tqdm's text: "desc:  40%|████      | 16/40 [00:02<00:03,  7.1it/s]"
PROGRESS_BAR = re.compile(r"\d+%\|[^|\n]*\|\s*\d+/\d+\s*\[")
WIDGET = "application/vnd.jupyter.widget-view+json"


class Verdict(NamedTuple):
    """Whether two outputs agree within tolerance, and if not, the first reason why."""

    equal: bool
    reason: str = ""


def split_numbers(text: str) -> tuple[list[str], list[str]]:
    """The text around the numbers (spaces collapsed) and the numbers themselves, in order."""
    pieces = NUMBER.split(text)
    numbers = NUMBER.findall(text)
    return [SPACES.sub(" ", piece) for piece in pieces], numbers


def is_integer(token: str) -> bool:
    """An integer as printed: no decimal point and no exponent."""
    return not any(mark in token for mark in ".eE")


def last_digit_unit(token: str) -> Decimal:
    """One unit of the last printed digit: 21.92 → 0.01, 1.00e-03 → 1e-5, 3. → 1."""
    value = Decimal(token)
    exponent = value.as_tuple().exponent
    return Decimal(1).scaleb(exponent)


def numbers_agree(stored: str, got: str, rtol: Decimal = DEFAULT_RTOL) -> bool:
    """One printed number against its stored value: integers exactly, floats within tolerance."""
    if is_integer(stored) or is_integer(got):
        return is_integer(stored) and is_integer(got) and int(stored) == int(got)
    stored_value, got_value = Decimal(stored), Decimal(got)
    allowed = max(last_digit_unit(stored), rtol * abs(stored_value))
    return abs(got_value - stored_value) <= allowed


def compare_text(stored: str, got: str, rtol: Decimal | float | str | None = DEFAULT_RTOL) -> Verdict:
    """Compare a stored output with a new one under the project's rules; rtol None means exactly."""
    if rtol is None:
        return Verdict(stored == got, "" if stored == got else "texts differ (nbval-exact)")
    rtol = Decimal(str(rtol))
    stored_text, stored_numbers = split_numbers(stored)
    got_text, got_numbers = split_numbers(got)
    if len(stored_numbers) != len(got_numbers):
        return Verdict(False, f"{len(stored_numbers)} numbers stored, {len(got_numbers)} printed")
    for index, (stored_piece, got_piece) in enumerate(zip(stored_text, got_text)):
        if stored_piece != got_piece:
            return Verdict(False, f"text after number {index} differs: {stored_piece!r} vs {got_piece!r}")
    for stored_number, got_number in zip(stored_numbers, got_numbers):
        if not numbers_agree(stored_number, got_number, rtol):
            return Verdict(False, f"{got_number} is not {stored_number} within its printed precision"
                                  f" or rtol {rtol}")
    return Verdict(True)


def cell_rtol(tags, default: Decimal = DEFAULT_RTOL) -> Decimal | None:
    """The tolerance a cell's tags ask for: None for `nbval-exact`, else `nbval-rtol=…` or the default."""
    tags = list(tags or ())
    if EXACT_TAG in tags:
        return None
    for tag in tags:
        if tag.startswith(RTOL_TAG_PREFIX):
            value = tag[len(RTOL_TAG_PREFIX):]
            try:
                rtol = Decimal(value)
            except ArithmeticError:
                raise ValueError(f"cell tag {tag!r}: {value!r} is not a number") from None
            if not rtol.is_finite() or rtol < 0:
                raise ValueError(f"cell tag {tag!r}: rtol must be a finite number >= 0")
            return rtol
    return default


def _values_by_key(outputs, skip_compare):
    """(output, key) pairs of every compared text value, grouped by key in output order, as nbval groups them."""
    grouped: dict[str, list[tuple[dict, str, str]]] = {}
    for output in outputs:
        if output.get("output_type") == "stream":
            grouped.setdefault(output["name"], []).append((output, "text", output["name"]))
            continue
        for mime, value in output.get("data", {}).items():
            if mime not in skip_compare and isinstance(value, str):
                grouped.setdefault(mime, []).append((output["data"], mime, mime))
    return grouped


def align_within_tolerance(test_outputs, ref_outputs, skip_compare, sanitize, rtol):
    """A copy of test_outputs in which each value that agrees with its stored twin is the stored value."""
    test_outputs = copy.deepcopy(test_outputs)
    if rtol is None:
        return test_outputs
    test_values = _values_by_key(test_outputs, skip_compare)
    ref_values = _values_by_key(ref_outputs, skip_compare)
    for key, refs in ref_values.items():
        tests = test_values.get(key, [])
        if len(tests) != len(refs):
            continue  # nbval reports the differing count
        for (test_holder, test_field, _), (ref_holder, ref_field, _) in zip(tests, refs):
            stored, got = ref_holder[ref_field], test_holder[test_field]
            if compare_text(sanitize(stored), sanitize(got), rtol).equal:
                test_holder[test_field] = stored
    return test_outputs


def is_progress_bar(output: dict) -> bool:
    """A tqdm.auto progress bar displayed in a notebook: a widget whose plain-text form is a tqdm line."""
    data = output.get("data", {})
    text = data.get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    return WIDGET in data and PROGRESS_BAR.search(text) is not None


def without_progress_bars(outputs: list) -> list:
    """The outputs with every progress-bar display removed."""
    return [output for output in outputs if not is_progress_bar(output)]


def install(config, items):
    """Give every collected nbval cell the tolerant comparison (called from the project's pytest plugin)."""
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to adapt
        return
    default = Decimal(str(config.getini("nbval_rtol") or DEFAULT_RTOL))

    class TolerantCell(IPyNbCell):
        """An nbval cell whose printed numbers are compared within their printed precision."""

        def compare_outputs(self, test, ref, skip_compare=None):
            skip = skip_compare or self.parent.skip_compare
            rtol = cell_rtol(self.cell.metadata.get("tags", ()), default)
            test, ref = without_progress_bars(test), without_progress_bars(ref)
            aligned = align_within_tolerance(test, ref, skip, self.sanitize, rtol)
            return super().compare_outputs(aligned, ref, skip_compare)

    for item in items:
        if type(item) is IPyNbCell:
            item.__class__ = TolerantCell
