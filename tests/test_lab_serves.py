"""`make lab` serves the notebooks: JupyterLab answers 200 on 127.0.0.1, and PORT / NO_BROWSER are honoured."""
import os
import subprocess
import sys
from pathlib import Path

from .servers import LOCAL, free_port, root_flag, serving

ROOT = Path(__file__).resolve().parent.parent


def test_make_lab_passes_port_and_no_browser():
    out = subprocess.run(["make", "-n", "-o", ".venv/.longctx-lab-installed", "lab", "PORT=9123", "NO_BROWSER=1",
                          "LANG=C.UTF-8"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "--port=9123" in out and "--no-browser" in out and "root_dir=notebooks " in out
    assert "LONGCTX_LAB_LANG=en" in out
    default = subprocess.run(["make", "-n", "-o", ".venv/.longctx-lab-installed", "lab"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "--no-browser" not in default and "--port=8888" in default


def test_make_lab_lang_zh_opens_the_chinese_edition():
    for lang in ("zh", "zh_CN.UTF-8"):  # by hand, or from a Chinese locale
        out = subprocess.run(["make", "-n", "-o", ".venv/.longctx-lab-installed", "lab", f"LANG={lang}"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        assert "root_dir=notebooks/zh" in out and "LONGCTX_LAB_LANG=zh" in out, out


def test_jupyterlab_serves_the_notebooks(tmp_path):
    port = free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.root_dir=notebooks", "--IdentityProvider.token=", "--ServerApp.password="] + root_flag()
    with serving(command, port, "/lab", ROOT, env, tmp_path / "server.log") as base:
        with LOCAL.open(f"{base}/api/contents", timeout=10) as response:
            listing = response.read()
    assert b"00_start_here.ipynb" in listing
