"""A chapter cut down to one panel: the cells a learner must run for it, written as a scratch notebook.

The browser tests prove what a person sees of a live panel (sliders move, the figure redraws); nbval
already runs every cell of every chapter. Running a whole chapter again in JupyterLab or Voila only to
reach its panel cost minutes (chapter 3 trains a model and measures five perplexities after its
panel). So a browser test keeps the panel's cells and, walking back through the chapter, every earlier
cell that defines a name they use (found with `ast`, so the cut follows the notebook when it changes),
plus the first code cell (imports, `%matplotlib inline`).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable

import nbformat


def _python(source: str) -> ast.Module:
    """A cell's code without IPython's %magic and !shell lines, parsed."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def _cell_scope(node: ast.AST):
    """The nodes of a cell's own scope: a def or comprehension itself, not what is inside (its names are local)."""
    yield node
    if not isinstance(node, _LOCAL_SCOPES):
        for child in ast.iter_child_nodes(node):
            yield from _cell_scope(child)


_LOCAL_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                 ast.GeneratorExp)


def names_defined(source: str) -> set[str]:
    """Names a cell binds in the notebook's namespace: assignments, for/with targets, imports, functions, classes."""
    defined: set[str] = set()
    for node in _cell_scope(_python(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
    return defined


def names_used(source: str) -> set[str]:
    """Names a cell reads."""
    return {node.id for node in ast.walk(_python(source)) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def cells_for(notebook: nbformat.NotebookNode, wanted: Callable[[str], bool]) -> list[int]:
    """Indices of the code cells to run for the `wanted` ones: those, the cells defining what they use, the first."""
    code = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    keep = {index for index in code if wanted(notebook.cells[index].source)}
    if not keep:
        raise ValueError("no code cell of the notebook matches `wanted`")
    needed: set[str] = set()
    for index in reversed(code):
        source = notebook.cells[index].source
        defined = names_defined(source)
        if index in keep or (index < max(keep) and defined & needed):
            keep.add(index)
            needed = (needed - defined) | names_used(source)  # the nearest earlier definition is the one that counts
    return sorted(keep | {code[0]})


def panel_notebook(source: Path, target: Path, wanted: Callable[[str], bool]) -> list[int]:
    """Write the scratch notebook of `source` cut down to the `wanted` cells (see cells_for); returns the kept indices."""
    notebook = nbformat.read(source, as_version=4)
    kept = cells_for(notebook, wanted)
    cells = []
    for index in kept:
        cell = notebook.cells[index].copy()
        cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=notebook.metadata), target)
    return kept
