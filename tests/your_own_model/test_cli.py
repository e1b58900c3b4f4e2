"""`python -m longctx_lab report` end to end: each random architecture saved to a folder (in this process), and
SmolLM2 in a fresh interpreter, as a learner runs it."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DECODERS

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "longctx_lab", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def run_here(*args: str, cwd: Path, monkeypatch, capsys) -> tuple[int, str]:
    """The command line's main() in this process (no interpreter start-up): (exit code, stderr)."""
    from longctx_lab.__main__ import main

    monkeypatch.chdir(cwd)
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's errors and parser.exit
        code = exc.code
    return code, capsys.readouterr().err


def check_outputs(out: Path) -> dict:
    data = json.loads((out / "report.json").read_text())
    html = (out / "report.html").read_text()
    assert '<img alt="needle" src="data:image/png;base64,' in html
    assert not re.search(r'(src|href)\s*=\s*["\']?https?://', html)
    assert (out / "report.md").read_text().startswith("# ") and (out / "needle.png").is_file()
    return data


@pytest.mark.parametrize("family", DECODERS)
def test_report_on_a_saved_random_model(family, saved_models, tmp_path, monkeypatch, capsys):
    code, stderr = run_here("report", str(saved_models[family]), "--max-tokens", "128", "--out", str(tmp_path / "out"),
                            cwd=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, stderr[-3000:]
    data = check_outputs(tmp_path / "out")
    assert data["config"]["model_type"] == family and data["settings"]["lengths"] == [64, 128]


def test_an_encoder_is_refused_clearly(saved_models, tmp_path, monkeypatch, capsys):
    code, stderr = run_here("report", str(saved_models["bert"]), "--max-tokens", "128", cwd=tmp_path,
                            monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "encoder without a next-token head" in stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_smollm2_in_chinese_with_the_default_folder(tmp_path):
    # the smallest card (two lengths): the real model end to end in seconds; test_report.py covers the sections
    result = run("report", "smollm2", "--max-tokens", "128", "--lang", "zh", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    data = check_outputs(tmp_path / "report-smollm2")
    assert data["config"]["trained_positions"] == 8192 and data["settings"]["lengths"] == [64, 128]
    assert re.search(r"[\u4e00-\u9fff]", data["verdict_sentence"])


@pytest.mark.parametrize("args, message", [
    (["--max-tokens", "5"], "--max-tokens=5 is out of range"),
    (["--max-tokens", "many"], "is not an int"),
    (["--factor", "2"], "needs --method"),
    (["--method", "yarn", "--factor", "0.5"], "--factor=0.5 is out of range"),
    (["--method", "stretch"], "invalid choice"),
    (["--text", "no/such/file.txt"], "is not a file"),
])
def test_bad_arguments_fail_before_any_model_load(args, message, tmp_path, monkeypatch, capsys):
    import longctx_lab.your_own_model.report as report

    def no_load(*_, **__):
        raise AssertionError("a model was loaded before the arguments were checked")

    monkeypatch.setattr(report, "load_pretrained", no_load)
    code, stderr = run_here("report", "no-such-model-folder", *args, cwd=tmp_path, monkeypatch=monkeypatch,
                            capsys=capsys)
    assert code == 2 and message in stderr, stderr[-2000:]
