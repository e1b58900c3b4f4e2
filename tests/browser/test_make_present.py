"""`make present` runs Voila on 127.0.0.1 over notebooks/ (checked with make -n; no browser needed)."""
from __future__ import annotations

import re
import subprocess

from .conftest import ROOT


def test_make_present_serves_the_notebooks_with_voila_on_loopback():
    """`make present` (and NB=<chapter>) runs Voila on 127.0.0.1 over notebooks/; checked with make -n."""
    def dry_run(*args: str) -> str:
        return subprocess.run(["make", "-n", "-o", ".venv/.longctx-lab-installed", "present", *args], cwd=ROOT,
                              capture_output=True, text=True).stdout

    everything = dry_run("VOILA_PORT=9124", "NO_BROWSER=1")
    assert re.search(r"voila notebooks\b", everything), everything
    assert "--port=9124" in everything and "--Voila.ip=127.0.0.1" in everything and "--no-browser" in everything
    assert "voila notebooks/01_chunking.ipynb" in dry_run("NB=01_chunking", "LANG=C.UTF-8")
    chinese = dry_run("NB=01_chunking", "LANG=zh")
    assert "voila notebooks/zh/01_chunking.ipynb" in chinese and "LONGCTX_LAB_LANG=zh" in chinese
