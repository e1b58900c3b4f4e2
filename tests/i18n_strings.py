"""The learner-facing strings of the package, found as xgettext would, and the zh_CN catalogue kept in step.

`extract()` walks every module with `ast` and collects the first argument of each call to a marker
(`N_`, `tr`, `fig_tr`, and `_` inside core): a string literal is a message; anything else built on the
spot (an f-string, a `+` of literals) is a mistake, because no catalogue can hold it.

    python -m tests.i18n_strings      # add new messages to the .po (empty msgstr), drop stale ones, keep the rest
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "longctx_lab"
PO = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES" / "longctx_lab.po"
MARKERS = {"N_", "tr", "fig_tr", "_"}


def _marker(node: ast.Call) -> str | None:
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
    return name if name in MARKERS else None


def extract() -> tuple[dict[str, list[str]], list[str]]:
    """({message: ["path:line", ...]}, ["path:line: what is wrong"]) over every module of the package."""
    messages: dict[str, list[str]] = defaultdict(list)
    problems: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), where)):
            if not isinstance(node, ast.Call) or not _marker(node) or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if first.value.strip():
                    messages[first.value].append(f"{where}:{node.lineno}")
            elif isinstance(first, (ast.JoinedStr, ast.BinOp)):
                problems.append(f"{where}:{node.lineno}: {_marker(node)}() of an f-string or a sum: use one "
                                f"template with named {{placeholders}}")
    return dict(messages), problems


def read_catalogue(path: Path = PO):
    """The .po as a Babel Catalog."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as source:
        return read_po(source, locale="zh_CN")


def update_catalogue(path: Path = PO) -> tuple[int, int]:
    """Rewrite the .po: every extracted message in source order, translations kept; returns (new, dropped)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    messages, problems = extract()
    if problems:
        raise SystemExit("\n".join(problems))
    old = read_catalogue(path) if path.exists() else Catalog(locale="zh_CN")
    known = {m.id: m.string for m in old if m.id}
    catalog = Catalog(locale="zh_CN", domain="longctx_lab", project="longctx-lab", version="0.1.0",
                      charset="utf-8", fuzzy=False)
    for message, places in messages.items():
        locations = [(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places]
        catalog.add(message, known.get(message, ""), locations=locations)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as target:
        write_po(target, catalog, width=0, omit_header=False, sort_output=False, include_previous=False)
    return len(set(messages) - set(known)), len(set(known) - set(messages))


if __name__ == "__main__":
    new, dropped = update_catalogue()
    print(f"{PO.relative_to(ROOT)}: {new} new message(s), {dropped} stale one(s) dropped")
