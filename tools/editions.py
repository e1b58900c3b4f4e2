"""Render each chapter's one source into its English and Chinese editions (`make editions`).

    python tools/editions.py            # write notebooks/NN_name.ipynb and notebooks/zh/NN_name.ipynb
    python tools/editions.py --check    # exit 1 if a committed edition differs from what the source gives
    python tools/editions.py 01 06      # only the chapters whose names contain these

The source of chapter NN is `notebook_sources/NN_name.ipynb`, kept without outputs:

* a code cell is shared by both editions, byte for byte (its tags too);
* a Markdown cell carries `"lang": "en"` or `"lang": "zh"` in its metadata and goes to that edition only,
  so each English cell sits right above its Chinese twin and a translator sees both;
* a code cell tagged with a `lang` exists in that edition only: the Chinese edition's first code cell,
  `longctx_lab.set_language("zh")`, is the one such cell.

Writing an edition keeps the outputs of every code cell whose source did not change (matched in order,
like a diff), so a prose-only edit needs no re-execution; `make notebooks` executes the editions after.
tests/test_editions.py checks that the committed editions equal this script's output.
"""
from __future__ import annotations

import argparse
import copy
import difflib
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "notebook_sources"
EDITIONS = {"en": ROOT / "notebooks", "zh": ROOT / "notebooks" / "zh"}
LANG_KEY = "lang"
# Metadata that an executed edition adds to a cell and that the source never holds.
RUN_METADATA = ("execution",)


def source_paths(patterns: list[str] | None = None) -> list[Path]:
    """The chapters' sources, optionally only those whose names contain one of `patterns`."""
    paths = sorted(SOURCES.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in paths if not patterns or any(pattern in p.stem for pattern in patterns)]


def edition_path(source: Path, lang: str) -> Path:
    """Where the `lang` edition of a chapter's source lives."""
    return EDITIONS[lang] / source.name


def cell_language(cell) -> str | None:
    """The edition a source cell belongs to ("en", "zh"), or None for a shared code cell."""
    lang = cell.get("metadata", {}).get(LANG_KEY)
    if cell["cell_type"] == "markdown" and lang not in EDITIONS:
        raise ValueError(f"markdown cell {cell.get('id')!r} needs metadata {LANG_KEY!r} in {sorted(EDITIONS)}, "
                         f"got {lang!r}")
    if lang is not None and lang not in EDITIONS:
        raise ValueError(f"cell {cell.get('id')!r} has {LANG_KEY}={lang!r}; valid: {sorted(EDITIONS)}")
    return lang


def render(source_nb, lang: str, name: str):
    """The `lang` edition of source notebook `name`, without outputs: its shared cells and its language's cells."""
    if lang not in EDITIONS:
        raise ValueError(f"lang={lang!r} is not an edition; valid: {sorted(EDITIONS)}")
    edition = nbformat.v4.new_notebook()
    edition.metadata = copy.deepcopy(source_nb.metadata)
    edition.metadata["longctx_lab"] = {"edition": lang, "generated_from": f"notebook_sources/{name}"}
    for cell in source_nb.cells:
        if cell_language(cell) not in (None, lang):
            continue
        rendered = copy.deepcopy(cell)
        rendered.metadata.pop(LANG_KEY, None)
        if rendered.cell_type == "code":
            rendered.outputs, rendered.execution_count = [], None
        edition.cells.append(rendered)
    return edition


def carry_outputs(new_nb, old_nb) -> int:
    """Copy into `new_nb` the outputs of `old_nb`'s code cells whose source is unchanged; returns how many."""
    def code(nb):
        return [cell for cell in nb.cells if cell.cell_type == "code"]

    new_code, old_code = code(new_nb), code(old_nb)
    matcher = difflib.SequenceMatcher(a=[c.source for c in old_code], b=[c.source for c in new_code],
                                      autojunk=False)
    carried = 0
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            old, new = old_code[block.a + offset], new_code[block.b + offset]
            new.outputs, new.execution_count = old.get("outputs", []), old.get("execution_count")
            for key in RUN_METADATA:
                if key in old.metadata:
                    new.metadata[key] = old.metadata[key]
            carried += 1
    if carried == len(new_code) and "widgets" in old_nb.metadata:  # widget views in outputs need their state
        new_nb.metadata["widgets"] = old_nb.metadata["widgets"]
    return carried


def comparable(nb) -> list[tuple]:
    """What the generator decides about a notebook: each cell's type, id, source and non-run metadata."""
    rows = []
    for cell in nb.cells:
        metadata = {key: value for key, value in cell.metadata.items() if key not in RUN_METADATA}
        rows.append((cell.cell_type, cell.get("id"), cell.source, metadata))
    return rows


def build(path: Path, lang: str):
    """The `lang` edition of the chapter at `path`, with the committed edition's unchanged outputs carried over."""
    edition = render(nbformat.read(path, as_version=4), lang, path.name)
    target = edition_path(path, lang)
    if target.exists():
        carry_outputs(edition, nbformat.read(target, as_version=4))
    return edition


def _shown(path: Path) -> str:
    """A path as a reader finds it: relative to the checkout when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def differences(path: Path) -> list[str]:
    """The editions of one chapter that differ (cells, sources, tags) from what its source renders."""
    stale = []
    source_nb = nbformat.read(path, as_version=4)
    for lang in EDITIONS:
        target = edition_path(path, lang)
        if not target.exists():
            stale.append(f"{_shown(target)} is missing")
            continue
        expected = render(source_nb, lang, path.name)
        if comparable(expected) != comparable(nbformat.read(target, as_version=4)):
            stale.append(f"{_shown(target)} differs from {_shown(path)}")
    return stale


def main(argv: list[str] | None = None) -> int:
    """Write (or --check) the editions of the chosen chapters."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="only chapters whose names contain these")
    parser.add_argument("--check", action="store_true", help="compare, do not write; exit 1 on a difference")
    args = parser.parse_args(argv)
    paths = source_paths(args.chapters)
    if not paths:
        parser.error(f"no source notebook in {SOURCES} matches {args.chapters}")
    if args.check:
        stale = [line for path in paths for line in differences(path)]
        print("\n".join(stale) or f"{len(paths)} chapters: both editions match their sources")
        return 1 if stale else 0
    for path in paths:
        for lang in EDITIONS:
            edition = build(path, lang)
            target = edition_path(path, lang)
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(edition, target)
            waiting = sum(1 for cell in edition.cells if cell.cell_type == "code" and cell.execution_count is None)
            print(f"{_shown(target)}: {waiting} code cells to execute" if waiting else f"{_shown(target)}: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
