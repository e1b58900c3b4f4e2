"""Presenter mode (`make present`): Voila on 127.0.0.1 with the kit's own template and kernels started ahead.

    python tools/present.py notebooks/01_chunking.ipynb --port 8866   # one chapter, prepared at start
    python tools/present.py notebooks --port 8866 --no-browser        # the edition's chapters, run when opened

* Template `presenter` (tools/voila/templates/presenter/): Voila's lab template with no CDN link, and the cells
  tagged `learner-only` (exercise answers, hints, solutions) run but not shown.
* Preheated kernels: at start Voila runs each served chapter in a kernel of its own and keeps the rendered
  page, so opening it shows the panels at once instead of after the whole chapter ran (1-4 minutes). Its
  heavy results come from the result store when an earlier run left them, so that start is quicker too.
  After a chapter is opened Voila prepares the next kernel for it in the background. By default one chapter
  is preheated and a folder is not (eight chapters at once would hold 1-2 GB of memory each); --pool-size sets
  it (0: off, each opening then runs the chapter, as plain Voila does).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

# Voila finds templates in <a JUPYTER_PATH entry>/voila/templates/<name>/.
TEMPLATES_ROOT = Path(__file__).resolve().parent
TEMPLATE = "presenter"
LEARNER_ONLY = "learner-only"  # the cell tag the template hides


def voila_command(target: Path, port: int, open_browser: bool = False, pool_size: int | None = None) -> list[str]:
    """The voila command line that serves `target` (a notebook or a folder of them) in presenter mode."""
    if pool_size is None:
        pool_size = 0 if target.is_dir() else 1
    command = [sys.executable, "-m", "voila", str(target), "--Voila.ip=127.0.0.1", f"--port={port}",
               f"--template={TEMPLATE}"]
    if pool_size > 0:
        # Preheating renders without progressive rendering (Voila refuses both at once).
        command += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
        if (target / "zh").is_dir():
            # The English edition's folder holds the Chinese one in zh/: prepare only the edition served.
            # Voila matches the pattern against each notebook's absolute path, from its start.
            other_edition = re.escape(str((target / "zh").resolve()) + os.sep)
            command.append(f"--VoilaKernelManager.preheat_denylist={json.dumps([other_edition])}")
    if not open_browser:
        command.append("--no-browser")
    return command


def voila_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's) with the kit's template folder first on JUPYTER_PATH."""
    env = dict(os.environ if env is None else env)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(TEMPLATES_ROOT), env.get("JUPYTER_PATH")]))
    return env


def main(argv: list[str] | None = None) -> None:
    """Replace this process with Voila serving the chosen chapter or folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="a notebook, or a folder of notebooks")
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    parser.add_argument("--pool-size", type=int, default=None,
                        help="kernels prepared per chapter (0: none; default 1 for a notebook, 0 for a folder)")
    args = parser.parse_args(argv)
    if not args.target.exists():
        parser.error(f"{args.target} does not exist")
    command = voila_command(args.target, args.port, not args.no_browser, args.pool_size)
    print(" ".join(command), flush=True)
    os.execve(sys.executable, command, voila_env())


if __name__ == "__main__":
    main()
