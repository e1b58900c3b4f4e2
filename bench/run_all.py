"""Run every bench/bench_*.py (each defines `run() -> list[Row]`) and print one table of ratios."""
from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Row, machine_label, print_rows  # noqa: E402


def main(selected: list[str]) -> int:
    rows: list[Row] = []
    failed = []
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        if selected and not any(name in path.stem for name in selected):
            continue
        print(f"running {path.name} ...", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # worker processes unpickle its functions by module name
        try:
            spec.loader.exec_module(module)
            rows.extend(module.run())
        except Exception:  # one broken benchmark should not hide the others' numbers
            traceback.print_exc()
            failed.append(path.name)
    print(f"\nMachine: {machine_label()}")
    print_rows(rows)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
