"""Model loading (cached checkpoint vs first GGUF conversion) and this machine's fp32 matmul rate."""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Row, matmul_flops, print_rows  # noqa: E402

from longctx_lab import load_smollm2  # noqa: E402


def _load_seconds() -> float:
    start = time.perf_counter()
    load_smollm2()
    return time.perf_counter() - start


def run() -> list[Row]:
    """Time a first conversion into an empty cache, then cached loads; measure the matmul rate."""
    previous = os.environ.get("LONGCTX_LAB_CACHE")
    with tempfile.TemporaryDirectory() as empty_cache:
        os.environ["LONGCTX_LAB_CACHE"] = empty_cache
        try:
            first = _load_seconds()
            cached = min(_load_seconds() for _ in range(3))
        finally:
            if previous is None:
                os.environ.pop("LONGCTX_LAB_CACHE")
            else:
                os.environ["LONGCTX_LAB_CACHE"] = previous
    flops = matmul_flops()
    return [
        Row("SmolLM2 load: first conversion / cached", f"{first:.1f} s first", f"{cached:.2f} s cached",
            first / cached, ">= 10x"),
        Row("fp32 matmul rate (1024², quoted for MFU)", f"{flops / 1e9:.0f} GFLOP/s", "1 GFLOP/s", flops / 1e9),
    ]


if __name__ == "__main__":
    print_rows(run())
