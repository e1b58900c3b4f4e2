"""Chapter 6's cached-results files: the `--precompute` command line and the versions stamped into each file."""
from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

__all__: list[str] = []  # helpers of needle.py and chinese.py; nothing for the root to re-export


def run_versions(model) -> dict:
    """torch, transformers and Python versions and the device a cached result was computed with."""
    import transformers

    device = model.device
    return {"torch": torch.__version__, "transformers": transformers.__version__, "python": platform.python_version(),
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"}


def precompute_cli(description: str, default_path: Path, compute) -> None:
    """The `--precompute [--out PATH]` command line shared by chapter 6's cached results: run `compute()`, write JSON."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--precompute", action="store_true", help="run everything and write the JSON")
    parser.add_argument("--out", default=None, help=f"output path (default: {default_path})")
    args = parser.parse_args()
    if not args.precompute:
        parser.error("nothing to do: pass --precompute")
    results = compute()
    out = default_path if args.out is None else Path(args.out)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out} in {results['seconds']} s")
