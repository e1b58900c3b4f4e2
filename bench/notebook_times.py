"""How long each chapter notebook takes top to bottom, written into the README and the notebook headers.

    python bench/notebook_times.py                        # run every notebook (fresh kernel, offline), print times
    python bench/notebook_times.py --write                # ... and rewrite README.md's run-time column and headers
    python bench/notebook_times.py --from-outputs --write # no run: use the stored outputs' cell timings
    python bench/notebook_times.py 02 05_compression      # only the notebooks whose names contain these
    python bench/notebook_times.py --lang zh              # only the Chinese edition (default: both)

A run executes an in-memory copy of each notebook with nbclient in a fresh kernel; the notebook files'
outputs are never touched. `--from-outputs` reads the per-cell timings that `jupyter nbconvert --execute`
(nbclient) stores in the executed notebooks, so the times can be refreshed right after the notebooks
are, without running them again (kernel start-up is then not counted). `--write` replaces, in each
notebook's header, the one line of the form

    **Run time:** about 3 min 10 s top to bottom on a 2-core x86_64 CPU (measured by `bench/notebook_times.py`; ...).

and, in README.md, the last column of each chapter row and the line "Run times (measured by ...".
The Chinese edition (notebooks/zh/) has its own line, "**运行时间**：…", and README.zh.md its own table
and note. The header lines live in the chapter's source (notebook_sources/), so the script rewrites
the line there and in the edition rendered from it, keeping the two equal (tools/editions.py).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "bench/notebook_times.py"
LANGS = ("en", "zh")
FOLDER = {"en": "notebooks", "zh": "notebooks/zh"}  # where each edition's chapters live
README = {"en": "README.md", "zh": "README.zh.md"}
# The header line the script owns (one per notebook and language). Text before and after it on the line is kept.
RUN_TIME_LINE = re.compile(r"\*\*Run time:\*\*[^\n]*?\(measured by `bench/notebook_times\.py`[^)\n]*\)\.")
ZH_RUN_TIME_LINE = re.compile(r"\*\*运行时间\*\*：[^\n]*?（由 `bench/notebook_times\.py` 测得[^）\n]*）。")
# A README chapter row: | [NN_name](notebooks/NN_name.ipynb) | what you learn | run time |  (README.zh.md: notebooks/zh/)
README_ROW = re.compile(r"^(?P<head>\|\s*\[(?P<stem>\d\d_\w+)\]\(notebooks/(?P=stem)\.ipynb\)\s*\|.*\|)"
                        r"(?P<time>[^|\n]*)\|[ \t]*$", re.MULTILINE)
ZH_README_ROW = re.compile(r"^(?P<head>\|\s*\[(?P<stem>\d\d_\w+)\]\(notebooks/zh/(?P=stem)\.ipynb\)\s*\|.*\|)"
                           r"(?P<time>[^|\n]*)\|[ \t]*$", re.MULTILINE)
README_NOTE = re.compile(r"^Run times \(measured by `bench/notebook_times\.py`.*$", re.MULTILINE)
ZH_README_NOTE = re.compile(r"^运行时间（由 `bench/notebook_times\.py`.*$", re.MULTILINE)
PATTERNS = {"en": (RUN_TIME_LINE, README_ROW, README_NOTE), "zh": (ZH_RUN_TIME_LINE, ZH_README_ROW, ZH_README_NOTE)}
SOURCE_WORDS = {"from the cell timings stored with its outputs": "按输出中保存的各单元格计时",
                "in a fresh kernel": "在新内核中运行"}


def round_seconds(seconds: float) -> int:
    """Seconds rounded to what a reader needs: 5 s below a minute, 10 s below ten minutes, then whole minutes."""
    if not seconds >= 0:
        raise ValueError(f"seconds must be a number >= 0, got {seconds!r}")
    step = 5 if seconds < 60 else 10 if seconds < 600 else 60
    return max(5, int(step * round(seconds / step)))


def format_duration(seconds: float, lang: str = "en") -> str:
    """'35 s', '3 min 10 s', '12 min' (rounded by `round_seconds`); in Chinese '35 秒', '3 分 10 秒', '12 分钟'."""
    total = round_seconds(seconds)
    minutes, rest = divmod(total, 60)
    if lang == "zh":
        return f"{rest} 秒" if not minutes else f"{minutes} 分 {rest} 秒" if rest else f"{minutes} 分钟"
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def machine_description() -> str:
    """'2-core x86_64 CPU': the cores this process may use and the architecture."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return f"{cores}-core {platform.machine() or 'unknown'} CPU"


def machine_in_chinese(machine: str) -> str:
    """'2-core x86_64 CPU' → '2 核 x86_64 CPU'."""
    return re.sub(r"^(\d+)-core ", r"\1 核 ", machine)


def run_time_line(seconds: float, machine: str, lang: str = "en") -> str:
    """The header line `--write` puts into a notebook of edition `lang`."""
    if lang == "zh":
        return (f"**运行时间**：在 {machine_in_chinese(machine)} 上从头到尾约 {format_duration(seconds, 'zh')}"
                f"（由 `{SCRIPT}` 测得；机器繁忙或较旧时会更久）。")
    return (f"**Run time:** about {format_duration(seconds)} top to bottom on a {machine} "
            f"(measured by `{SCRIPT}`; a busy or older machine takes longer).")


def readme_note(machine: str, date: str, source: str, lang: str = "en") -> str:
    """The README line under the chapter table that says how the times were measured."""
    if lang == "zh":
        return (f"运行时间（由 `{SCRIPT}` 在 {machine_in_chinese(machine)} 上测得，{date}）：每个笔记本离线从头运行到尾，"
                f"{SOURCE_WORDS.get(source, source)}；机器繁忙或较旧时会更久。")
    return (f"Run times (measured by `{SCRIPT}` on a {machine}, {date}): each notebook top to bottom, offline, "
            f"{source}; a busy or older machine takes longer.")


def update_header(nb, seconds: float, machine: str, lang: str = "en") -> bool:
    """Rewrite the notebook's one run-time line of edition `lang` in place; True if its text changed.

    In a chapter source (notebook_sources/, both languages) only the cells tagged with `lang` count.
    Raises ValueError unless the notebook has exactly one such line.
    """
    pattern = PATTERNS[lang][0]
    cells = [cell for cell in nb.cells if cell.cell_type == "markdown" and cell.metadata.get("lang", lang) == lang]
    found = [(cell, len(pattern.findall(cell.source))) for cell in cells]
    total = sum(count for _, count in found)
    if total != 1:
        raise ValueError(f"expected exactly one run-time line matching {pattern.pattern!r}, found {total}")
    cell = next(cell for cell, count in found if count)
    new = pattern.sub(lambda _: run_time_line(seconds, machine, lang), cell.source)
    changed = new != cell.source
    cell.source = new
    return changed


def update_readme(text: str, times: dict[str, float], machine: str, date: str, source: str, lang: str = "en") -> str:
    """README text (README.zh.md for "zh") with each timed chapter's run-time cell and the measurement note rewritten."""
    _, row_pattern, note_pattern = PATTERNS[lang]
    rows = {m.group("stem") for m in row_pattern.finditer(text)}
    missing = sorted(set(times) - rows)
    if missing:
        raise ValueError(f"{README[lang]} has no chapter row for {missing}")
    if len(note_pattern.findall(text)) != 1:
        raise ValueError(f"{README[lang]} needs exactly one line matching {note_pattern.pattern!r}")

    def row(match: re.Match) -> str:
        stem = match.group("stem")
        if stem not in times:
            return match.group(0)
        return f"{match.group('head')} ~{format_duration(times[stem], lang)} |"

    text = row_pattern.sub(row, text)
    return note_pattern.sub(lambda _: readme_note(machine, date, source, lang), text)


def _timestamp(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def stored_seconds(nb) -> float | None:
    """Seconds from the first code cell's start to the last one's end, from the stored cell timings (None if absent)."""
    timings = [cell.metadata.get("execution", {}) for cell in nb.cells if cell.cell_type == "code"]
    if not timings:
        return None
    try:
        start = _timestamp(timings[0].get("iopub.execute_input") or timings[0]["iopub.status.busy"])
        end = _timestamp(timings[-1].get("iopub.status.idle") or timings[-1]["shell.execute_reply"])
    except (KeyError, ValueError):
        return None
    return (end - start).total_seconds()


def stored_date(nb) -> str | None:
    """The day the stored outputs were made (UTC), from the first code cell's timing."""
    timings = [cell.metadata.get("execution", {}) for cell in nb.cells if cell.cell_type == "code"]
    stamp = timings[0].get("iopub.execute_input") if timings else None
    return _timestamp(stamp).date().isoformat() if stamp else None


def _offline_environment() -> None:
    """Environment the kernels inherit: offline, socket guard on, result store off, this checkout's package first on the path."""
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
                      LONGCTX_LAB_OFFLINE_GUARD="1", LONGCTX_LAB_RESULTS="off")  # a first run's time, not a re-run's
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    paths = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(ROOT)]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)


def execute_seconds(path: Path, timeout: int = 600) -> float:
    """Wall seconds to run a copy of the notebook top to bottom in a fresh kernel (start-up included)."""
    from nbclient import NotebookClient

    _offline_environment()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def notebook_paths(root: Path, selected: list[str], lang: str = "en") -> list[Path]:
    """The chapter notebooks of edition `lang` under `root` (those whose names contain one of `selected`)."""
    paths = sorted((root / FOLDER[lang]).glob("[0-9][0-9]_*.ipynb"))
    if selected:
        paths = [p for p in paths if any(name in p.stem for name in selected)]
    if not paths:
        raise SystemExit(f"no notebooks match {selected} under {root / FOLDER[lang]}")
    return paths


def write_times(root: Path, times: dict[str, float], machine: str, date: str, source: str,
                lang: str = "en") -> list[str]:
    """Rewrite each timed chapter's header (its source and its `lang` edition) and the README; returns changed files."""
    changed = []
    for stem, seconds in times.items():
        # The chapter's source (notebook_sources/, both languages) and the edition rendered from it change alike.
        for path in (root / "notebook_sources" / f"{stem}.ipynb", root / FOLDER[lang] / f"{stem}.ipynb"):
            if not path.exists():
                continue
            nb = nbformat.read(path, as_version=4)
            if update_header(nb, seconds, machine, lang):
                nbformat.write(nb, path)
                changed.append(str(path.relative_to(root)))
    readme = root / README[lang]
    text = readme.read_text(encoding="utf-8")
    new = update_readme(text, times, machine, date, source, lang)
    if new != text:
        readme.write_text(new, encoding="utf-8")
        changed.append(README[lang])
    return changed


def _time_edition(args, lang: str) -> tuple[dict[str, float], set] | None:
    """Seconds per chapter of one edition (stored or measured), printed as they come; None if one was never timed."""
    times: dict[str, float] = {}
    dates = set()
    for path in notebook_paths(args.root, args.notebooks, lang):
        if args.from_outputs:
            nb = nbformat.read(path, as_version=4)
            seconds = stored_seconds(nb)
            if seconds is None:
                print(f"{path.relative_to(args.root)}: no stored cell timings: execute it first", file=sys.stderr)
                return None
            dates.add(stored_date(nb))
        else:
            seconds = execute_seconds(path, args.timeout)
        times[path.stem] = seconds
        print(f"{lang} {path.stem:24} {seconds:7.1f} s   -> about {format_duration(seconds)}", flush=True)
    return times, dates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="run only notebooks whose names contain one of these")
    parser.add_argument("--write", action="store_true", help="rewrite the READMEs and the notebook headers")
    parser.add_argument("--from-outputs", action="store_true",
                        help="do not run: use the cell timings stored in the executed notebooks")
    parser.add_argument("--lang", choices=LANGS, action="append",
                        help="only this edition (repeatable; default: every edition present)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--machine", default=None, help="override the machine description, e.g. '2-core x86_64 CPU'")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)  # tests point it at a copy
    args = parser.parse_args(argv)

    machine = args.machine or machine_description()
    langs = args.lang or [lang for lang in LANGS if (args.root / FOLDER[lang]).is_dir()]
    if not args.from_outputs and hasattr(os, "getloadavg"):
        print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    measured = {}
    for lang in langs:
        timed = _time_edition(args, lang)
        if timed is None:
            return 1
        measured[lang] = timed
    if not args.from_outputs and hasattr(os, "getloadavg"):
        print(f"load average after:  {os.getloadavg()[0]:.2f} (on {machine})")
    if args.write:
        for lang, (times, dates) in measured.items():
            if args.from_outputs:
                date = max(d for d in dates if d) if any(dates) else dt.date.today().isoformat()
                source = "from the cell timings stored with its outputs"
            else:
                date = dt.date.today().isoformat()
                source = "in a fresh kernel"
            for name in write_times(args.root, times, machine, date, source, lang):
                print(f"rewrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
