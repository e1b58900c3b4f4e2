"""Loaded first (pyproject: `-p tests.pytest_plugin`): offline environment and nbval conventions.

Environment variables set here are inherited by every notebook kernel nbval starts, and the
package installs its socket guard when it sees LONGCTX_LAB_OFFLINE_GUARD=1, so kernels are
guarded too.
"""
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["LONGCTX_LAB_OFFLINE_GUARD"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The stored outputs were made on the kit's own texts: a learner's LONGCTX_LAB_TEXT must not leak in.
os.environ.pop("LONGCTX_LAB_TEXT", None)

import importlib.util  # noqa: E402
from pathlib import Path  # noqa: E402

# Load the guard by path: importing the package here would make every test file's collection
# depend on every chapter module importing cleanly.
_spec = importlib.util.spec_from_file_location(
    "longctx_lab_offline_guard", Path(__file__).resolve().parent.parent / "longctx_lab" / "core" / "offline.py")
_guard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_guard)
_guard.install_socket_guard()


def pytest_collectstart(collector):
    """nbval: never compare stderr (warnings, progress bars) or SVG renderings; text/plain still is."""
    if type(collector).__name__ == "IPyNbFile":
        collector.skip_compare += ("stderr", "image/svg+xml")


def pytest_addoption(parser):
    parser.addini("nbval_rtol", "relative tolerance for printed floats in notebook outputs "
                  "(tests/nbval_tolerance.py)", default="1e-3")


# The English notebooks whose heavy cells take longest first, so the two workers finish them early.
HEAVY_FIRST = ("05_compression", "02_segment_loss", "07_your_own_model", "03_attention", "06_context_extension",
               "00_start_here", "04_multi_gpu_scaling", "01_chunking")


def run_order(path) -> tuple:
    """Where a test file runs: English notebooks (heaviest first), then the other tests, then the Chinese notebooks.

    A Chinese notebook reads its heavy results from the result store once its English twin has stored them;
    started at the same time it would wait on the store's lock instead, and keep a worker idle.
    """
    if path.suffix != ".ipynb":
        return (1, 0)
    rank = HEAVY_FIRST.index(path.stem) if path.stem in HEAVY_FIRST else len(HEAVY_FIRST)
    return (2, rank) if path.parent.name == "zh" else (0, rank)


def pytest_collection_modifyitems(config, items):
    """nbval: compare printed numbers within their printed precision (tests/nbval_tolerance.py); the run order above.

    The sort is stable, so a notebook's cells stay in order. pytest-xdist keeps this order only with
    --no-loadscope-reorder (pyproject's addopts); by default it sorts files by their number of tests.
    """
    from tests import nbval_tolerance
    nbval_tolerance.install(config, items)
    items.sort(key=lambda item: run_order(item.path))


# pytest-xdist runs tests in several worker processes: give each an equal share of the cores, so
# torch's thread pools (and the notebook kernels, which inherit this environment) do not oversubscribe.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, str(_share))


def pytest_runtest_setup(item):
    """Unit tests compute everything afresh; notebook kernels (started by their first cell) use the result store.

    The store (longctx_lab/core/result_store.py) lets a chapter's second edition, and a second `make test`,
    reuse what the first computed with the same code, arguments and settings. A unit test must exercise
    the code, so it runs with the store off (the store's own tests turn it on in a temporary folder).
    """
    if item.path.suffix == ".ipynb":  # an nbval cell (tests/nbval_tolerance.py made its class TolerantCell)
        os.environ.pop("LONGCTX_LAB_RESULTS", None)
    else:
        os.environ["LONGCTX_LAB_RESULTS"] = "off"
