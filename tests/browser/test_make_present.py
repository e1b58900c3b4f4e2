"""`make present` runs tools/present.py (Voila on 127.0.0.1, the kit's template, preheated kernels) over notebooks/.

Checked with make -n and the launcher's command line; no browser or server needed.
"""
from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

from .conftest import ROOT

spec = importlib.util.spec_from_file_location("present", ROOT / "tools" / "present.py")
present = importlib.util.module_from_spec(spec)
spec.loader.exec_module(present)


def dry_run(*args: str) -> str:
    """What `make present ARGS` would run."""
    return subprocess.run(["make", "-n", "-o", ".venv/.longctx-lab-installed", "present", *args], cwd=ROOT,
                          capture_output=True, text=True).stdout


def test_make_present_serves_the_edition_or_one_chapter_through_the_launcher():
    everything = dry_run("VOILA_PORT=9124", "NO_BROWSER=1")
    assert "tools/present.py notebooks --port=9124" in everything and "--no-browser" in everything, everything
    assert "--pool-size" not in everything  # the launcher's default: a folder is not preheated
    assert "tools/present.py notebooks/01_chunking.ipynb" in dry_run("NB=01_chunking", "LANG=C.UTF-8")
    chinese = dry_run("NB=07_your_own_model", "LANG=zh", "PRESENT_POOL=0")
    assert "tools/present.py notebooks/zh/07_your_own_model.ipynb" in chinese and "LONGCTX_LAB_LANG=zh" in chinese
    assert "--pool-size=0" in chinese


def test_the_launcher_runs_voila_on_loopback_with_the_kit_template_and_preheated_kernels():
    chapter = present.voila_command(ROOT / "notebooks" / "01_chunking.ipynb", 9124)
    assert chapter[1:3] == ["-m", "voila"] and "--Voila.ip=127.0.0.1" in chapter and "--port=9124" in chapter
    assert "--template=presenter" in chapter and "--preheat_kernel=True" in chapter and "--no-browser" in chapter
    folder = present.voila_command(ROOT / "notebooks", 9124, open_browser=True)
    assert "--template=presenter" in folder and "--preheat_kernel=True" not in folder and "--no-browser" not in folder
    warm_folder = present.voila_command(ROOT / "notebooks", 9124, pool_size=1)
    assert any(flag.startswith("--VoilaKernelManager.preheat_denylist") for flag in warm_folder)  # not zh/ too
    path = present.voila_env({"JUPYTER_PATH": "/elsewhere"})["JUPYTER_PATH"]
    assert Path(path.split(":")[0], "voila", "templates", present.TEMPLATE, "index.html.j2").is_file()
    assert path.endswith(":/elsewhere")
