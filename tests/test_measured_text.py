"""Text that matches what runs: computed sentences about measurements, chapter pointers, no stray outputs.

A sentence about a measured result is either printed from the measurement (these functions) or phrased
to hold on every CPU; these tests pin the printed ones down on made-up measurements.
"""
import ast
import json
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from longctx_lab import ScalingPoint, VariantReport, half_precision_note, half_precision_units, scaling_note
from longctx_lab.segment_loss.costs import _without_profiler_chatter, forward_cost

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
AMX = {"bf16": "AMX-BF16", "fp16": None}
NONE = {"bf16": None, "fp16": None}


# ---- chapter 5: why bf16 / fp16 ran as fast as they did ---------------------------------------------

@pytest.mark.parametrize("flags, expected", [
    ({"avx2", "fma"}, {"bf16": None, "fp16": None}),  # e.g. AMD Zen 3, Intel Skylake client
    ({"avx512f", "avx512_bf16"}, {"bf16": "AVX512-BF16", "fp16": None}),  # AMD Zen 4, Cooper Lake
    ({"avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16"}, {"bf16": "AMX-BF16", "fp16": "AVX512-FP16"}),
    ({"amx_bf16", "amx_fp16"}, {"bf16": "AMX-BF16", "fp16": "AMX-FP16"}),  # Granite Rapids
    (["fp", "asimd", "fphp", "asimdhp", "bf16"], {"bf16": "Arm BF16", "fp16": "Arm FP16"}),  # Neoverse V1
    (["AMX_BF16"], {"bf16": "AMX-BF16", "fp16": None}),
])
def test_half_precision_units_from_flags(flags, expected):
    assert half_precision_units(flags) == expected


def test_half_precision_units_detects_this_machine():
    units = half_precision_units()
    assert set(units) == {"bf16", "fp16"} and all(v is None or isinstance(v, str) for v in units.values())


@pytest.mark.parametrize("bad", ["avx2", b"avx2", 5])
def test_half_precision_units_rejects_a_non_iterable(bad):
    with pytest.raises(TypeError, match="flags"):
        half_precision_units(bad)


def test_note_on_a_cpu_with_bf16_matrix_units(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    note = half_precision_note({"fp32": 0.062, "bf16": 0.0216, "fp16": 0.247}, units=AMX)
    assert note.startswith("On this machine bf16 ran 2.9× faster than fp32, because this CPU has bf16 matrix "
                           "instructions (AMX-BF16).")
    assert "fp16 ran 4.0× slower than fp32: this CPU has no fp16 matrix instructions" in note


def test_note_on_a_cpu_without_them():
    note = half_precision_note({"fp32": 3.37, "bf16": 4.51}, units=NONE)
    assert note == ("On this machine bf16 ran 1.3× slower than fp32: this CPU has no bf16 matrix instructions, "
                    "so bf16 matrix products convert every value to fp32 and back.")


def test_note_when_the_measurement_and_the_hardware_disagree(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    assert ", although this CPU has no bf16" in half_precision_note({"fp32": 2.0, "bf16": 1.0}, units=NONE)
    assert ", although this CPU has bf16 matrix instructions (AMX-BF16)." in half_precision_note(
        {"fp32": 1.0, "bf16": 2.0}, units=AMX)


def test_note_names_the_onednn_cap_that_hides_the_units(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")  # how the test suite simulates an older CPU
    note = half_precision_note({"fp32": 1.0, "bf16": 2.0}, units=AMX)
    assert "2.0× slower" in note and "ONEDNN_MAX_CPU_ISA=AVX2 keeps" in note
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")
    assert "because this CPU has bf16" in half_precision_note({"fp32": 2.0, "bf16": 1.0}, units=AMX)


def test_note_takes_variant_reports_as_the_notebook_has_them():
    reports = [VariantReport(name, 1, 1.0, 1.0, 1.0, latency_s=s) for name, s in
               (("fp32", 0.06), ("int8", 0.02), ("bf16", 0.03), ("fp16", 0.24))]
    note = half_precision_note(reports, units=NONE)
    assert "bf16 ran 2.0× faster" in note and "fp16 ran 4.0× slower" in note and "int8" not in note


@given(st.floats(0.5, 2.0), st.sampled_from([AMX, NONE]))
def test_note_prints_the_number_and_says_faster_or_slower_only_well_away_from_one(ratio, units):
    note = half_precision_note({"fp32": ratio, "bf16": 1.0}, units=units)
    if 1 / 1.1 < ratio < 1.1:
        assert "faster" not in note and "slower" not in note and f"({ratio:.2f}×)" in note
    else:
        shown = ratio if ratio >= 1.1 else 1 / ratio
        assert f"{shown:.1f}×" in note and ("faster" in note) == (ratio >= 1.1)


@pytest.mark.parametrize("latencies, error, match", [
    ({"bf16": 1.0}, ValueError, "fp32"),
    ({"fp32": 1.0, "int8": 1.0}, ValueError, "bf16"),
    ({"fp32": 0.0, "bf16": 1.0}, ValueError, "fp32"),
    ({"fp32": 1.0, "bf16": -1.0}, ValueError, "bf16"),
    ({"fp32": 1.0, "bf16": math.inf}, ValueError, "bf16"),
    ({"fp32": True, "bf16": 1.0}, ValueError, "fp32"),
    ({"fp32": 1.0, "bf16": None}, ValueError, "bf16"),
    ("fp32", TypeError, "latencies"),
    ([("fp32", 1.0)], TypeError, "latencies"),
])
def test_note_rejects_bad_latencies(latencies, error, match):
    with pytest.raises(error, match=match):
        half_precision_note(latencies, units=NONE)


def test_note_rejects_bad_units():
    with pytest.raises(TypeError, match="units"):
        half_precision_note({"fp32": 1.0, "bf16": 1.0}, units=["AMX-BF16"])


# ---- chapter 4: this machine's cores and the measured speedups ----------------------------------------

def _points(*seconds):
    return [ScalingPoint(p, s, 16) for p, s in zip((1, 2, 4, 8), seconds)]


def test_scaling_note_prints_cores_and_speedups_as_numbers():
    note = scaling_note(_points(0.524, 0.263, 0.275), cores=2)
    assert note == ("This machine has 2 CPU cores, so P workers can use at most min(P, 2) of them. Measured: "
                    "P = 2: 1.99× the speed of P = 1; P = 4: 1.91× the speed of P = 1 (more workers than cores).")
    assert "more workers" not in scaling_note(_points(1.0, 0.5, 0.25), cores=4)
    assert scaling_note(_points(1.0), cores=1) == ("This machine has 1 CPU core, so P workers can use at most "
                                                   "min(P, 1) of them.")
    assert f"has {os.cpu_count()} CPU" in scaling_note(_points(1.0, 0.6))


@pytest.mark.parametrize("points, cores, error, match", [
    ([], 2, ValueError, "points"),
    (_points(1.0, 0.5)[1:], 2, ValueError, "P = 1"),
    (["P = 1"], 2, ValueError, "points"),
    (_points(0.0, 0.5), 2, ValueError, "time"),
    (_points(1.0, 0.5), 0, ValueError, "cores"),
    (_points(1.0, 0.5), True, TypeError, "cores"),
    (_points(1.0, 0.5), 2.0, TypeError, "cores"),
])
def test_scaling_note_rejects_bad_input(points, cores, error, match):
    with pytest.raises(error, match=match):
        scaling_note(points, cores)


# ---- chapter 2: the profiler's chatter stays out of the notebook ------------------------------------

def test_forward_cost_leaves_no_profiler_chatter_on_stderr(capfd):
    import torch

    seconds, peak = forward_cost(lambda: torch.ones(64, 64) @ torch.ones(64, 64))
    assert seconds > 0 and peak > 0
    assert "USDT" not in capfd.readouterr().err


def test_other_native_stderr_lines_still_come_through(capfd):
    with _without_profiler_chatter():
        os.write(2, b"USDT:2026-11-26 01:33:33 10670:10670 SyncActivityProfilerHandler.cpp:52] profiler_start\n"
                    b"a real warning\n"
                    b"STAGE:2026-11-26 01:33:34 10670:10670 SyncActivityProfilerHandler.cpp:60] Completed Stage\n")
    err = capfd.readouterr().err
    assert "a real warning" in err and "USDT" not in err and "STAGE" not in err


# ---- the notebooks: pointers, the chapter table, stray outputs ----------------------------------------

def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _markdown(path):
    return ["".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("index", range(len(NOTEBOOKS)), ids=[p.stem for p in NOTEBOOKS])
def test_every_chapter_ends_with_a_pointer_to_the_next(index):
    last = _markdown(NOTEBOOKS[index])[-1]
    assert "**Next:**" in last, f"{NOTEBOOKS[index].name}'s last cell has no **Next:** pointer"
    pointer = last[last.index("**Next:**"):]
    if index + 1 < len(NOTEBOOKS):
        following = NOTEBOOKS[index + 1].name
        assert f"]({following})" in pointer, f"{NOTEBOOKS[index].name} should point to {following}"
    else:
        assert "last chapter" in pointer


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_links_point_to_notebooks_that_exist(path):
    for target in re.findall(r"\]\(([^)\s]+\.ipynb)\)", "\n".join(_markdown(path))):
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_chapter_zero_table_lists_every_chapter():
    first = _markdown(NOTEBOOKS[0])[0]
    for path in NOTEBOOKS:
        assert f"| `{path.stem}` |" in first, f"00's chapter table lacks {path.stem}"


def _last_statement(source: str):
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    body = ast.parse(code).body
    return body[-1] if body else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_ends_by_showing_a_generator_or_another_object_address(path):
    for index, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "code":
            continue
        last = _last_statement("".join(cell["source"]))
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
            name = getattr(last.value.func, "attr", getattr(last.value.func, "id", ""))
            assert not name.endswith("manual_seed"), f"{path.name} cell {index} shows a torch.Generator"
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/plain", ""))
            assert not re.search(r"<[\w.]+ (object )?at 0x[0-9a-f]+>", text), f"{path.name} cell {index}: {text}"
