"""Run chapters top to bottom on another text, as a learner with LONGCTX_LAB_TEXT would: does every cell still run?

    python tools/run_on_text.py TEXT_FILE [NOTEBOOK ...]   (default: every English chapter)

Executes each notebook on a fresh kernel with LONGCTX_LAB_TEXT=TEXT_FILE, offline, keeping nothing (the
committed notebooks are not touched), and prints one line per notebook: the seconds it took, or the first
failing cell and its error. Exit status 1 if any notebook failed. Not part of `make test` (minutes per
chapter on another text: nothing is cached for it); `make own-text-check TEXT=…` runs it.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent


def run(notebook: Path, text: Path) -> str | None:
    """Execute `notebook` with the learner's text set; None when every cell ran, else the failure."""
    nb = nbformat.read(notebook, as_version=4)
    os.environ.update(LONGCTX_LAB_TEXT=str(text), HF_HUB_OFFLINE="1", LONGCTX_LAB_OFFLINE_GUARD="1")
    client = NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        return str(exc).strip().splitlines()[-1][:300]
    return None


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    text = Path(argv[0]).expanduser().resolve()
    if not text.is_file():
        print(f"TEXT_FILE={str(text)!r} is not a file", file=sys.stderr)
        return 2
    notebooks = [Path(a).resolve() for a in argv[1:]] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    failed = 0
    for notebook in notebooks:
        started = time.perf_counter()
        error = run(notebook, text)
        seconds = time.perf_counter() - started
        failed += error is not None
        print(f"{notebook.relative_to(ROOT)}: {'ran every cell' if error is None else 'FAILED: ' + error} "
              f"({seconds:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
