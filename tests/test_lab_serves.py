"""`make lab` serves the notebooks: JupyterLab answers 200 on 127.0.0.1, and PORT / NO_BROWSER are honoured."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_lab_passes_port_and_no_browser():
    out = subprocess.run(["make", "-n", "-o", ".venv/.longctx-lab-installed", "lab", "PORT=9123", "NO_BROWSER=1"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "--port=9123" in out and "--no-browser" in out and "root_dir=notebooks" in out
    default = subprocess.run(["make", "-n", "-o", ".venv/.longctx-lab-installed", "lab"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "--no-browser" not in default and "--port=8888" in default


def test_jupyterlab_serves_the_notebooks(tmp_path):
    port = _free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.root_dir=notebooks", "--IdentityProvider.token=", "--ServerApp.password="]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, status, listing = time.monotonic() + 60, None, b""
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5) as response:
                    status = response.status
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5) as response:
                    listing = response.read()
            except OSError:
                time.sleep(0.5)
        assert status == 200
        assert b"00_start_here.ipynb" in listing
    finally:
        server.terminate()
        server.wait(timeout=20)
