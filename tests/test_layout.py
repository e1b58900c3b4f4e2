"""The package's shape: one folder per chapter above `core`, read from the source (import-linter checks the arrows).

What import-linter does not express is checked here: a chapter folder for every notebook, each listing
its files, no private name imported across folders, no module over 350 lines, no import cycle, every
"Taught in NN_name, § Heading" reference naming a heading that exists, and the root's public names
equal to a committed snapshot (so a later removal is deliberate), with `import longctx_lab` staying light.
"""
import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "longctx_lab"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SNAPSHOT = ROOT / "tests" / "public_names.txt"
HEAVY = ("ipywidgets", "matplotlib", "bertviz")
MAX_LINES = 350


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _folder(module: str) -> str:
    """The top-level folder a module belongs to ("core", "chunking", ...), "" for the root __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(module: str):
    """(imported module, names taken from it, line) for every import in `module`, function-level ones included."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:  # `from . import exercises`: the submodule itself
                    yield submodule, [], node.lineno
                else:
                    yield base, [alias.name], node.lineno


def _graph() -> dict[str, set[str]]:
    return {module: {target for target, _, _ in _imports(module) if target in MODULES and target != module}
            for module in MODULES}


# ------------------------------------------------------------------------------------------ chapters

def test_every_notebook_has_its_chapter_folder():
    assert NOTEBOOKS, "no notebooks found"
    for notebook in NOTEBOOKS:
        folder = PACKAGE / notebook.stem[3:]
        assert (folder / "__init__.py").is_file(), f"{notebook.name} has no chapter folder longctx_lab/{folder.name}/"
        for kind in ("widgets.py", "plots.py", "exercises.py"):
            assert (folder / kind).is_file(), f"longctx_lab/{folder.name}/ has no {kind}"
    chapters = {notebook.stem[3:] for notebook in NOTEBOOKS}
    folders = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert folders - chapters == {"core"}, f"folders that match no notebook: {sorted(folders - chapters - {'core'})}"


@pytest.mark.parametrize("folder", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_each_folder_docstring_lists_its_files(folder):
    init = PACKAGE / folder / "__init__.py"
    docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
    assert docstring, f"longctx_lab/{folder}/__init__.py needs a docstring saying what the chapter teaches"
    files = sorted(p.name for p in (PACKAGE / folder).glob("*.py") if p.name != "__init__.py")
    unlisted = [name for name in files if not re.search(rf"(?m)^\s*{re.escape(name)}\s", docstring)]
    assert not unlisted, f"longctx_lab/{folder}/__init__.py does not list {unlisted}"
    code = [node for node in ast.parse(init.read_text()).body if not isinstance(node, ast.Expr)]
    assert not code, f"longctx_lab/{folder}/__init__.py should hold only its docstring (the root re-exports)"


# ------------------------------------------------------------------------------------------ imports

def test_no_private_name_is_imported_across_folders():
    crossings = []
    for module in MODULES:
        for target, names, line in _imports(module):
            if not target.startswith("longctx_lab") or _folder(target) == _folder(module):
                continue
            crossings += [f"{module}:{line} imports {target}.{name}" for name in names
                          if name.startswith("_") and not name.startswith("__")]
    assert not crossings, "private names used across folders (make them public in core):\n" + "\n".join(crossings)


def test_no_import_cycles():
    graph = _graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_no_module_is_too_long():
    long = {str(path.relative_to(ROOT)): n for path in MODULES.values()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"


LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")


@pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is not installed (pip install -e '.[dev]')")
def test_import_linter_contracts_are_kept():
    command = LINT_IMPORTS
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([command, "--no-cache"], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


# ------------------------------------------------------------------------------------------ lessons

def _headings(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    lines = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").splitlines()
    return [m.group(1).replace("`", "").strip() for line in lines if (m := re.match(r"#+\s+(.*)", line))]


HEADINGS = {notebook.stem: _headings(notebook) for notebook in NOTEBOOKS}
# "Taught in 01_chunking, § The plan arithmetic, and 02_segment_loss, § Loss by position."
REFERENCE = re.compile(r"(\d\d_[a-z_]+), § (.+?)(?=, and \d\d_|\.\s|\.$|$)")


def _references():
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                text = " ".join((ast.get_docstring(node) or "").split())
                for taught in re.findall(r"Taught in (.+?)(?:\.\s|\.$|$)", text):
                    for notebook, heading in REFERENCE.findall(taught + "."):
                        yield module, getattr(node, "name", module), notebook, heading


def _names_a_heading(heading: str, headings: list[str]) -> bool:
    """A heading is named by its whole text, or by its opening words up to a colon, comma or space."""
    return any(h == heading or (h.startswith(heading) and h[len(heading)] in ":, ") for h in headings)


def test_lesson_references_name_existing_headings():
    references = list(_references())
    assert len(references) > 150
    stale = [f"{module}.{name}: {notebook}, § {heading}" for module, name, notebook, heading in references
             if not _names_a_heading(heading, HEADINGS.get(notebook, []))]
    assert not stale, "references to headings that do not exist:\n" + "\n".join(stale)


# ------------------------------------------------------------------------------------------ the root

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
