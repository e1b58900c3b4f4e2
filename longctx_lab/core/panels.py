"""Widget conventions shared by every chapter's live panel (plain ipywidgets 8, no front-end extension).

A panel is a set of controls plus a `render(**values) -> PanelView` function. `render` is plain
Python (no widgets inside), so tests call it directly and benchmarks time it; the panel only wires
controls to it. Controls are linked by plain rules (`LinkedControls`): when one moves, the others'
ranges and values follow before anything is drawn, so every reachable combination is valid and a
slider always shows the value the render uses. Model-backed views memoise their results in a
`ResultCache` so repeats are instant; figures that a panel redraws are `plots.Drawing`s, updated in place.
"""
from __future__ import annotations

import html
import io
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Hashable, Iterator, Mapping, Sequence

import ipywidgets as widgets
from IPython.display import display
from matplotlib.figure import Figure

__all__ = ["LinkedControls", "LivePanel", "PanelView", "ResultCache", "at_most", "disabled_when", "figure_png"]


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure rendered to PNG bytes (what a panel's Image widget shows)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


@dataclass
class PanelView:
    """What a panel shows for one setting: a text summary, an optional figure and the numbers behind them.

    `drawing` is the `plots.Drawing` the figure belongs to when a panel redraws it in place.
    """

    summary: str
    figure: Figure | None = None
    data: dict[str, Any] = field(default_factory=dict)
    drawing: Any = field(default=None, repr=False, compare=False)
    _png: bytes | None = field(default=None, repr=False, compare=False)

    def png(self) -> bytes:
        """The figure as PNG bytes (b"" without one), rendered once per view: a Drawing redraws only what changed."""
        if self._png is None:
            if self.figure is None:
                self._png = b""
            else:
                self._png = self.drawing.png() if self.drawing is not None else figure_png(self.figure)
        return self._png


Rule = Callable[["LinkedControls", "str | None"], Mapping[str, Mapping[str, Any]]]


def _apply(control: widgets.ValueWidget, attrs: Mapping[str, Any]) -> bool:
    """Set a control's range, value and other traits in an order that never passes through min > max."""
    before = {name: getattr(control, name) for name in attrs}
    low, high = attrs.get("min", getattr(control, "min", None)), attrs.get("max", getattr(control, "max", None))
    if "min" in attrs or "max" in attrs:
        if low > high:
            raise ValueError(f"a link rule asked {control.description!r} for min={low} > max={high}")
        if low > control.max:  # moving up: raise the ceiling first
            control.max, control.min = high, low
        else:
            control.min, control.max = low, high
    if "value" in attrs:
        value = attrs["value"]
        control.value = value if low is None else min(max(value, low), high)
    for name, value in attrs.items():
        if name not in ("min", "max", "value"):
            setattr(control, name, value)
    return any(getattr(control, name) != value for name, value in before.items())


class LinkedControls:
    """Named controls kept consistent by link rules: after a change, every rule runs until none changes anything.

    A rule is `rule(linked, changed) -> {control name: {"min"|"max"|"value"|other trait: value}}`, where
    `changed` names the control the user moved (None once its consequences are being settled). Listeners
    hear of a change once, after it has settled, so no render ever sees a half-linked state.
    Taught in 01_chunking, § The live panel.
    """

    MAX_PASSES = 8

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], rules: Sequence[Rule] = ()):
        if not controls:
            raise ValueError("controls must name at least one widget")
        if any(not callable(rule) for rule in rules):
            raise TypeError("rules must be callables rule(linked, changed) -> {name: {trait: value}}")
        self.controls = dict(controls)
        self.rules = list(rules)
        # Each slider's range as built: rules narrow it (k <= n) and widen it back, never beyond.
        self.design = {name: (c.min, c.max) for name, c in self.controls.items() if hasattr(c, "min")}
        self._settling = False
        self._quiet = 0
        self._listeners: list[Callable[[], None]] = []
        for name, control in self.controls.items():
            control._linked_by = self  # lets LivePanel find the links of a dict of already-linked controls
            control.observe(partial(self._moved, name), names="value")
        self.settle()

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener()` once after each settled change made by a user (not during `hold`)."""
        self._listeners.append(listener)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Change several controls, each settling its links, without telling listeners in between."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def settle(self, changed: str | None = None) -> None:
        """Run the rules until the controls stop moving (the first pass knows which control the user moved)."""
        self._settling = True
        try:
            for _ in range(self.MAX_PASSES):
                moved = False
                for rule in self.rules:
                    for name, attrs in rule(self, changed).items():
                        moved = _apply(self.controls[name], attrs) or moved
                changed = None
                if not moved:
                    return
            raise RuntimeError(f"link rules did not settle in {self.MAX_PASSES} passes: {self.values()}")
        finally:
            self._settling = False

    def set(self, **changes: Any) -> None:
        """Move controls by name in order, as a user would (each move settles), telling listeners nothing."""
        unknown = set(changes) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; this panel has {sorted(self.controls)}")
        with self.hold():
            for name, value in changes.items():
                self.controls[name].value = value

    def _moved(self, name: str, _change: dict) -> None:
        if self._settling:
            return
        self.settle(name)
        if not self._quiet:
            for listener in self._listeners:
                listener()


def at_most(name: str, bound: str, offset: int = 0) -> Rule:
    """A link rule: control `name` never exceeds control `bound`'s value + offset (its max follows, its value is clamped).

    Taught in 00_start_here, § A first live panel.
    """
    def rule(linked: LinkedControls, _changed: str | None) -> dict:
        low, high = linked.design[name]
        return {name: {"max": max(low, min(high, linked.controls[bound].value + offset))}}
    return rule


def disabled_when(name: str, predicate: Callable[[dict[str, Any]], bool]) -> Rule:
    """A link rule: control `name` is greyed out while `predicate(values)` holds, i.e. while it does not apply.

    Taught in 06_context_extension, § Stretching RoPE.
    """
    return lambda linked, _changed: {name: {"disabled": bool(predicate(linked.values()))}}


class LivePanel:
    """Controls wired to a render function; every change settles the linked controls, then redraws once.

    Taught in 00_start_here, § A first live panel.
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget] | LinkedControls,
                 render: Callable[..., PanelView], title: str = "", links: Sequence[Rule] = ()):
        if not callable(render):
            raise TypeError(f"render must be callable, got {type(render).__name__}")
        if not isinstance(controls, LinkedControls):
            owner = getattr(next(iter(controls.values()), None), "_linked_by", None)
            reuse = owner is not None and not links and owner.controls == dict(controls)
            controls = owner if reuse else LinkedControls(controls, links)
        self.linked = controls
        self.controls = controls.controls
        self.render = render
        self.summary = widgets.HTML()
        # An Image, not an Output: Output capture depends on the front end (nbval's kernel has none and would
        # print the figure into the cell), while an Image's PNG bytes are the same everywhere.
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        rows = [widgets.HTML(f"<b>{title}</b>")] if title else []
        control_box = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox(rows + [control_box, self.summary, self.image])
        controls.on_change(self.refresh)
        self.view = self.refresh()

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return self.linked.values()

    def hold(self):
        """Change several controls without redrawing in between (each change still settles its links)."""
        return self.linked.hold()

    def refresh(self) -> PanelView:
        """Render the current setting into the summary and the image."""
        return self.show(self.render(**self.values()))

    def show(self, view: PanelView) -> PanelView:
        """Put `view` on screen: its summary, and its figure (hidden when it has none)."""
        self.view = view
        self.summary.value = f"<pre style='margin:0'>{html.escape(view.summary)}</pre>"
        png = view.png()
        self.image.value = png
        self.image.layout.display = None if png else "none"
        return view

    def update(self, **changes: Any) -> PanelView:
        """Set controls by name, in order (as a user moving them would), and return the redrawn view."""
        self.linked.set(**changes)
        return self.refresh()

    def _ipython_display_(self) -> None:
        display(self.widget)


class ResultCache:
    """Memoises expensive results by setting, so a model-backed view computes each setting once.

    With `max_items`, the least recently used results are dropped beyond that many (for views holding figures).
    """

    def __init__(self, max_items: int | None = None) -> None:
        if max_items is not None and (not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1):
            raise ValueError(f"max_items must be None or an int >= 1, got {max_items!r}")
        self._store: OrderedDict[Hashable, Any] = OrderedDict()
        self.max_items = max_items
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached result for `key`, computing (and storing) it on first use."""
        if key in self._store:
            self._store.move_to_end(key)
            return self._store[key]
        self.misses += 1
        value = self._store[key] = compute()
        if self.max_items is not None and len(self._store) > self.max_items:
            self._store.popitem(last=False)
        return value

    def __contains__(self, key: Hashable) -> bool:
        return key in self._store

    def __len__(self) -> int:
        return len(self._store)
