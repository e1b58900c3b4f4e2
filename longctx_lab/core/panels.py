"""Widget conventions shared by every chapter's live panel (plain ipywidgets 8, no front-end extension).

A panel is a set of controls plus a `render(**values) -> PanelView` function. `render` is plain
Python (no widgets inside), so tests call it directly and benchmarks time it; the panel only wires
controls to it. Model-backed views memoise their results in a `ResultCache` so repeats are instant.
"""
from __future__ import annotations

import html
import io
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterator

import ipywidgets as widgets
from IPython.display import display
from matplotlib.figure import Figure

__all__ = ["LivePanel", "PanelView", "ResultCache", "figure_png"]


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure rendered to PNG bytes (what a panel's Image widget shows)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


@dataclass
class PanelView:
    """What a panel shows for one setting: a text summary, an optional figure and the numbers behind them."""

    summary: str
    figure: Figure | None = None
    data: dict[str, Any] = field(default_factory=dict)


class LivePanel:
    """Controls wired to a render function; every change redraws the summary and figure once.

    Taught in 00_start_here, § A first live panel.
    """

    def __init__(self, controls: dict[str, widgets.ValueWidget], render: Callable[..., PanelView], title: str = ""):
        if not controls:
            raise ValueError("controls must name at least one widget")
        if not callable(render):
            raise TypeError(f"render must be callable, got {type(render).__name__}")
        self.controls = controls
        self.render = render
        self.summary = widgets.HTML()
        # An Image, not an Output: Output capture depends on the front end (nbval's kernel has none and
        # would print the figure into the cell), while an Image's PNG bytes are the same everywhere.
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self._holding = False
        rows = [widgets.HTML(f"<b>{title}</b>")] if title else []
        control_box = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox(rows + [control_box, self.summary, self.image])
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.view = self.refresh()

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Change several controls without redrawing in between."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def refresh(self) -> PanelView:
        """Render the current setting into the summary and output area."""
        self.view = self.render(**self.values())
        self.summary.value = f"<pre style='margin:0'>{html.escape(self.view.summary)}</pre>"
        self.image.value = figure_png(self.view.figure) if self.view.figure is not None else b""
        self.image.layout.display = None if self.view.figure is not None else "none"
        return self.view

    def update(self, **changes: Any) -> PanelView:
        """Set controls by name (as a user moving them would) and return the redrawn view."""
        unknown = set(changes) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; this panel has {sorted(self.controls)}")
        with self.hold():
            for name, value in changes.items():
                self.controls[name].value = value
        return self.refresh()

    def _on_change(self, _change: dict) -> None:
        if not self._holding:
            self.refresh()

    def _ipython_display_(self) -> None:
        display(self.widget)


class ResultCache:
    """Memoises expensive results by setting, so a model-backed view computes each setting once."""

    def __init__(self) -> None:
        self._store: dict[Hashable, Any] = {}
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached result for `key`, computing (and storing) it on first use."""
        if key not in self._store:
            self.misses += 1
            self._store[key] = compute()
        return self._store[key]

    def __len__(self) -> int:
        return len(self._store)
