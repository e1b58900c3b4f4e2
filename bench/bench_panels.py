"""Every live panel's latency per control change (p95), against the 100 ms a classroom slider needs.

Each control is moved, as a user would, to its low end, middle and high end, in turn, over several
rounds; a move is timed from setting the widget to the panel's PNG being ready (linking, render and
rasterising). Model-backed panels are timed on cached work: untimed rounds fill their cache first
(once as revisits, served from the panel's memo of drawn views, and once with that memo emptied, so
every move draws a new figure from cached results). The ratio printed is p95 / 100 ms (goal <= 1);
the CPU time beside the wall time shows how much of the latter a loaded machine added.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).parent))
from harness import Row, print_rows  # noqa: E402

GOAL_S = 0.100
ROUNDS = 3


def _positions(control) -> list[tuple[str, object]]:
    """(attribute, value) moves taking a control to its low end, middle and high end, read at move time."""
    if hasattr(control, "index") and hasattr(control, "options"):  # dropdowns, toggles, selection sliders
        last = len(control.options) - 1
        return [("index", 0), ("index", last // 2), ("index", last)]
    low, high, step = control.min, control.max, getattr(control, "step", 1) or 1
    middle = low + round((high - low) / 2 / step) * step
    return [("value", low), ("value", type(low)(middle)), ("value", high)]


def _round(panel, timed: bool, errors: list) -> list[tuple[float, float]]:
    """One pass over every control's three positions; (wall, CPU) seconds of each move that changed a value.

    CPU time is printed beside the wall time because a shared machine's load inflates the latter.

    A move that raises is recorded in `errors` (a panel must never raise; the bench still finishes).
    """
    times = []
    for name, control in panel.controls.items():
        for position in range(3):
            attribute, value = _positions(control)[position]  # the range may have moved with another control
            if getattr(control, attribute) == value:
                continue  # not a move: nothing would redraw
            start, cpu = time.perf_counter(), time.process_time()
            try:
                setattr(control, attribute, value)
            except Exception as error:  # noqa: BLE001 - counted and reported, not hidden
                errors.append(f"{name}={value}: {error}")
                continue
            if timed:
                times.append((time.perf_counter() - start, time.process_time() - cpu))
    return times


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(0.95 * len(values)))]


def panel_latency(make: Callable[[], object], warm: bool = False, forget_views: bool = False) -> dict:
    """Median and p95 wall seconds per control move of the panel built by `make()`, p95 CPU seconds, moves, errors.

    `forget_views` drops a warmed panel's drawn views (keeping its results), so each move draws a new figure.
    """
    panel, errors = make(), []
    if warm:
        for _ in range(2):  # the linked ranges settle after a round; a second one reaches every setting
            _round(panel, False, errors)
    if forget_views:
        from longctx_lab.core.panels import ResultCache

        panel.views = ResultCache(max_items=1)  # every move misses: results cached, figure drawn anew
    times = [t for _ in range(ROUNDS) for t in _round(panel, True, errors)]
    wall, cpu = [w for w, _ in times], [c for _, c in times]
    return {"median": statistics.median(wall), "p95": _p95(wall), "cpu_p95": _p95(cpu), "moves": len(times),
            "errors": errors}


def _fake_grid() -> dict:
    """A compression grid of made-up reports: the panel only draws it, so real scores would change nothing."""
    from longctx_lab.compression.yardstick import VariantReport

    return {(s, b): VariantReport(f"{b} {s}", int(90e6 * b / 32 * (1 - s / 2)), 0.9 - s / 4, 1 - s / 5 - (32 - b) / 500,
                                  0.9 - s / 3) for s in (0.0, 0.25, 0.5, 0.75) for b in (32, 16, 8)}


def _attention_maps(layers: int = 4, heads: int = 9, t: int = 512) -> torch.Tensor:
    """Causal softmax maps of the size 03_attention uses (T = 512), random scores; layers kept few for memory."""
    scores = torch.randn(layers, heads, t, t, generator=torch.Generator().manual_seed(0))
    return scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)


def panels() -> dict[str, tuple[Callable[[], object], dict]]:
    """Each notebook's panel, built as its notebook builds it (model-backed ones on a tiny model), and how to time it."""
    from longctx_lab import head_stats, tiny_lm
    from longctx_lab.attention.widgets import head_pattern_panel, span_mask_panel
    from longctx_lab.chunking.widgets import chunk_panel
    from longctx_lab.compression.widgets import compression_panel
    from longctx_lab.context_extension.widgets import needle_heatmap_panel, rope_scaling_panel
    from longctx_lab.multi_gpu_scaling.widgets import cost_model_panel
    from longctx_lab.segment_loss.widgets import segment_loss_panel
    from longctx_lab.start_here.widgets import cost_panel

    maps = _attention_maps()
    stats = head_stats(maps)
    ids = torch.randint(0, 256, (2048,), generator=torch.Generator().manual_seed(0))
    model = tiny_lm(seed=0, attn_implementation="sdpa", max_positions=2048)
    row = maps[1, 1, -1].flip(0)
    segment = lambda: segment_loss_panel(model, ids, k=128, m=4, stride=64)  # noqa: E731
    return {
        "00 cost_panel": (lambda: cost_panel(n=4096, k=512), {}),
        "01 chunk_panel": (lambda: chunk_panel(k=126, overlap=0), {}),
        "02 segment_loss_panel (tiny model, settings revisited)": (segment, {"warm": True}),
        # Context, not a change on cached work: a setting's first figure is drawn once, right after its
        # model run (seconds), so this cost only shows for results precomputed elsewhere.
        "02 segment_loss_panel (tiny model, results cached, first figure)": (
            segment, {"warm": True, "forget_views": True, "goal": ""}),
        "03 head_pattern_panel": (lambda: head_pattern_panel(maps, stats=stats), {}),
        "03 span_mask_panel": (lambda: span_mask_panel(row), {}),
        "04 cost_model_panel": (lambda: cost_model_panel(P=8, n=32768, link="NVLink 4 (H100)"), {}),
        "05 compression_panel": (lambda: compression_panel(_fake_grid()), {}),
        "06 rope_scaling_panel": (lambda: rope_scaling_panel("yarn", 4.0), {}),
        "06 needle_heatmap_panel": (lambda: needle_heatmap_panel(), {}),
    }


def run() -> list[Row]:
    rows = []
    for name, (make, how) in panels().items():
        goal = how.pop("goal", "<= 1")
        got = panel_latency(make, **how)
        errors = got["errors"]
        raised = f", {len(errors)} moves RAISED (first: {errors[0][:80]})" if errors else ""
        rows.append(Row(f"panel {name}: p95 per change / 100 ms",
                        f"median {got['median'] * 1e3:.0f} ms, p95 {got['p95'] * 1e3:.0f} ms "
                        f"(CPU p95 {got['cpu_p95'] * 1e3:.0f} ms) over {got['moves']} moves{raised}",
                        "goal 100 ms", got["p95"] / GOAL_S, goal))
    return rows


if __name__ == "__main__":
    print_rows(run())
