"""The package's shape: the root's public names equal the committed snapshot, and importing it stays light."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "public_names.txt"
HEAVY = ("ipywidgets", "matplotlib", "bertviz")


@pytest.fixture(scope="module")
def fresh_import() -> dict:
    """What a fresh `import longctx_lab` offers and loads (a new interpreter: other tests import more)."""
    code = ("import json, sys, longctx_lab\n"
            "print(json.dumps({'names': sorted(n for n in dir(longctx_lab) if not n.startswith('_')),\n"
            f"                  'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT,
                            env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_root_public_names_equal_the_snapshot(fresh_import):
    """A name disappears from `longctx_lab` (or appears) only with a deliberate edit of tests/public_names.txt."""
    snapshot = SNAPSHOT.read_text().split()
    missing = sorted(set(snapshot) - set(fresh_import["names"]))
    added = sorted(set(fresh_import["names"]) - set(snapshot))
    assert not missing and not added, f"missing from longctx_lab: {missing}; not in the snapshot: {added}"


def test_import_stays_light(fresh_import):
    """No widget, plotting or bertviz library is imported until a panel or figure is used."""
    assert fresh_import["heavy"] == []
