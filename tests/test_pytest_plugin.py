"""The project's pytest plugin: the run order, and the result store on for notebook kernels, off for unit tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from tests.pytest_plugin import run_order

ROOT = Path(__file__).resolve().parent.parent


def test_english_notebooks_first_heaviest_first_then_tests_then_chinese():
    paths = [Path("tests/test_layout.py"), Path("notebooks/zh/05_compression.ipynb"), Path("notebooks/01_chunking.ipynb"),
             Path("notebooks/05_compression.ipynb"), Path("tests/core/test_data.py"), Path("notebooks/zh/01_chunking.ipynb")]
    ordered = sorted(paths, key=run_order)
    assert [p.as_posix() for p in ordered] == [
        "notebooks/05_compression.ipynb", "notebooks/01_chunking.ipynb", "tests/test_layout.py", "tests/core/test_data.py",
        "notebooks/zh/05_compression.ipynb", "notebooks/zh/01_chunking.ipynb"]


def test_a_notebook_kernel_started_after_a_unit_test_uses_the_result_store(tmp_path):
    # A unit test sets LONGCTX_LAB_RESULTS=off in the worker; the kernel of a notebook run after it must not inherit it.
    (tmp_path / "test_first.py").write_text("def test_first():\n    pass\n")
    (tmp_path / "zh").mkdir()  # a Chinese notebook: the plugin runs it after the unit tests
    cell = nbformat.v4.new_code_cell('import os\nprint(os.environ.get("LONGCTX_LAB_RESULTS"))', execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="None\n")]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [cell]
    nbformat.write(notebook, tmp_path / "zh" / "probe.ipynb")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the project's addopts
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LONGCTX_LAB_RESULTS": "off"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.pytest_plugin", "-p", "no:randomly", "-v",
                             "--nbval", "--nbval-current-env", "test_first.py", "zh/probe.ipynb"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "test_first.py::test_first PASSED" in result.stdout, result.stdout[-2000:]
    assert "probe::ipynb::Cell 0 PASSED" in result.stdout, result.stdout[-2000:]
