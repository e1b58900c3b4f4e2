"""Where the test suite's time goes: run the README's test command with --durations=0 and sum by part.

    python bench/suite_time.py                 # run the suite (about 5 minutes), then print the breakdown
    python bench/suite_time.py --log FILE      # summarise a saved `pytest --durations=0` log instead

Parts: each notebook (nbval), the browser tests, and the unit-test files. Per-test durations add up to
more than the wall time when pytest-xdist runs two workers; the wall time is printed last.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", "notebooks", "tests", "--nbval",
           "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "--durations=0", "-q",
           "-p", "no:cacheprovider"]
DURATION = re.compile(r"^([\d.]+)s (call|setup|teardown)\s+(\S+?)(?:::|\s|$)")


def part_of(path: str) -> str:
    """The part of the suite a test file belongs to: a notebook, the browser tests, or a unit-test file."""
    if path.endswith(".ipynb"):
        return f"nbval {Path(path).stem}"
    if path.startswith("tests/browser/"):
        return "browser tests"
    return f"unit {Path(path).stem}"


def breakdown(log: str) -> dict[str, float]:
    """Seconds per part, from the `slowest durations` section of a pytest log."""
    seconds: dict[str, float] = defaultdict(float)
    for line in log.splitlines():
        match = DURATION.match(line.strip())
        if match:
            seconds[part_of(match.group(3))] += float(match.group(1))
    return dict(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", type=Path, help="a saved pytest log with --durations=0")
    parser.add_argument("--save", type=Path, help="also write the whole pytest log here")
    args = parser.parse_args()
    wall = None
    if args.log:
        log = args.log.read_text()
    else:
        start = time.perf_counter()
        log = subprocess.run(COMMAND, cwd=ROOT, capture_output=True, text=True).stdout
        wall = time.perf_counter() - start
        if args.save:
            args.save.write_text(log)
        print(log.splitlines()[-1] if log else "(no output)")
    parts = breakdown(log)
    notebooks = sum(v for k, v in parts.items() if k.startswith("nbval"))
    units = sum(v for k, v in parts.items() if k.startswith("unit"))
    print(f"{'part':<40} {'seconds':>8}")
    for name, value in sorted(parts.items(), key=lambda kv: -kv[1])[:25]:
        print(f"{name:<40} {value:8.1f}")
    print(f"{'all notebooks':<40} {notebooks:8.1f}\n{'all unit tests':<40} {units:8.1f}\n"
          f"{'browser tests':<40} {parts.get('browser tests', 0.0):8.1f}")
    if wall is not None:
        print(f"{'wall time (two workers)':<40} {wall:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
