"""Wall-clock timing that stays meaningful on a busy machine: callables take turns, medians are compared."""
from __future__ import annotations

import statistics
import time
from typing import Callable

from .checks import as_int

__all__ = ["alternating_medians"]


def alternating_medians(fns: dict[str, Callable[[], object]], repeat: int = 5, warmup: int = 1) -> dict[str, float]:
    """Median wall time in seconds of each named callable, the callables taking turns (one call each per round).

    Taking turns makes a busy machine slow them all alike, so their ratio stays meaningful.
    """
    repeat = as_int("repeat", repeat, 1)
    warmup = as_int("warmup", warmup, 0)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for round_ in range(warmup + repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}
