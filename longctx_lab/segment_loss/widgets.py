"""Chapter 2 live panel: k, m (n = m·k) and stride sliders over a real model's segment losses.

A new setting runs the model, so the panel counts the work first (windows × tokens per mode), turns it
into seconds with the rate it has measured on this machine, and computes at once only what fits in a
few seconds; a slower setting waits for a click and the panel offers the nearest cheaper one. Work
runs in batches of windows under a progress bar (an interrupt lands between batches); every mode's
result and every drawn view is cached, so going back is instant.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Iterable

import ipywidgets as widgets
import torch
from tqdm.auto import tqdm

from ..core.checked import checked
from ..core.checks import check_id_sequences
from ..core.i18n import N_, fig_tr, tr
from ..core.panels import LivePanel, PanelView, ResultCache, at_most
from .loss import SegmentLoss, segment_loss, sliding_windows
from .plots import segment_loss_figure

__all__ = ["WorkRate", "cheaper_neighbour", "panel_work", "render_segment_loss", "segment_loss_panel"]

PANEL_MODES = ("full", "disjoint", "sliding")
SLOW_SECONDS = 5.0  # "more than a few seconds": a setting estimated slower than this waits for a click
BATCH_TOKENS = 2048  # tokens per forward: about a second for SmolLM2 on a laptop CPU, so interrupts land quickly


@checked(k=(1, None), m=(1, None), stride=(1, None))
def panel_work(k: int, m: int, stride: int) -> dict[str, tuple[int, int]]:
    """(windows, tokens) the model runs for each mode of a setting, n = m·k: its cost, known before computing.

    Taught in 02_segment_loss, § The live panel.
    """
    n = m * k
    windows = sliding_windows(n, k, stride)  # validates k and stride
    return {"full": (1, n), "disjoint": (m, n), "sliding": (len(windows), sum(end - begin for begin, end, _ in windows))}


@checked(keep=(1, 1000))
class WorkRate:
    """A model's seconds per token on this machine, from the last runs a panel timed (or a probe window).

    Only the last `keep` runs count: the first calls of a model pay one-off costs that later ones do not.
    Taught in 02_segment_loss, § The live panel.
    """

    def __init__(self, seconds_per_token: float | None = None, keep: int = 4):
        self.runs: deque[tuple[int, float]] = deque(maxlen=keep)
        if seconds_per_token is not None:
            self.add(1, float(seconds_per_token))

    def add(self, tokens: int, seconds: float) -> None:
        """Record `tokens` run through the model in `seconds`."""
        self.runs.append((tokens, seconds))

    def per_token(self, model, ids: torch.Tensor, k: int) -> float:
        """Seconds per token; with nothing timed yet, times one window of k tokens (twice: the first call warms up)."""
        if not self.runs:
            window = ids[: min(k, ids.numel())][None]
            with torch.no_grad():
                for _ in range(2):
                    start = time.perf_counter()
                    model(input_ids=window)
                    seconds = time.perf_counter() - start
            self.add(window.numel(), seconds)
        return sum(s for _, s in self.runs) / sum(t for t, _ in self.runs)


def _mode_key(mode: str, model, n: int, k: int, stride: int | None) -> tuple:
    """The cache key of one mode's result; the stride only matters for sliding windows."""
    return mode, id(model), n, k, stride if mode == "sliding" else None


def _todo(model, k: int, m: int, stride: int, cache: ResultCache) -> dict[str, tuple[int, int]]:
    """The work of the modes of a setting that are not cached yet."""
    return {mode: work for mode, work in panel_work(k, m, stride).items()
            if _mode_key(mode, model, m * k, k, stride) not in cache}


@checked(k=(1, 2**20), m=(1, 2**16), stride=(1, None))
def cheaper_neighbour(model, k: int, m: int, stride: int, cache: ResultCache, seconds_per_token: float,
                      budget: float) -> dict | None:
    """The nearest setting that fits `budget` seconds: the stride doubled (up to k) first, then fewer segments.

    Returns the control values that change plus "seconds" and "windows" (the new setting's uncached work),
    or None when no neighbour fits. Taught in 02_segment_loss, § The live panel.
    """
    strides = sorted({min(stride * 2**i, k) for i in range(1, k.bit_length() + 1)} - {stride})
    for change in [{"stride": s} for s in strides] + [{"m": mm} for mm in range(m - 1, 0, -1)]:
        setting = {"k": k, "m": m, "stride": stride, **change}
        todo = _todo(model, setting["k"], setting["m"], setting["stride"], cache)
        seconds = sum(tokens for _, tokens in todo.values()) * seconds_per_token
        if seconds <= budget:
            return {**change, "seconds": seconds, "windows": sum(w for w, _ in todo.values())}
    return None


def _results(model, ids: torch.Tensor, k: int, m: int, stride: int, cache: ResultCache,
             rate: WorkRate) -> dict[str, SegmentLoss]:
    """The three modes of a setting: cached ones served, the rest run batch by batch under one progress bar."""
    n, todo = m * k, _todo(model, k, m, stride, cache)
    results = {}
    with tqdm(total=sum(w for w, _ in todo.values()), unit="window", leave=False, disable=not todo,
              desc=f"scoring n={n}, k={k}, s={stride}") as bar:
        for mode in PANEL_MODES:
            start = time.perf_counter()
            results[mode] = cache.get(_mode_key(mode, model, n, k, stride), lambda: segment_loss(
                model, ids[:n], k, mode, stride=stride if mode == "sliding" else None,
                window_batch=max(1, BATCH_TOKENS // k), progress=bar.update))
            if mode in todo:
                rate.add(todo[mode][1], time.perf_counter() - start)
    return results


MODE_NAMES = {"full": N_("full"), "disjoint": N_("disjoint"), "sliding": N_("sliding"),
              "full = recurrent": N_("full = recurrent")}


def _describe(work: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{tr(MODE_NAMES[mode])} {windows} × {tokens // windows}"
                     for mode, (windows, tokens) in work.items())


@checked
def render_segment_loss(model, input_ids, k: int, m: int, stride: int, cache: ResultCache | None = None,
                        budget: float | None = None, rate: WorkRate | None = None,
                        views: ResultCache | None = None) -> PanelView:
    """Score the first n = m·k tokens with full (= recurrent), disjoint and sliding(stride) and draw Lᵢ and the position curve.

    With a `budget` (seconds), a setting whose uncached work is estimated slower (`rate`, measured) is not
    computed: the view says what it would cost and names the nearest cheaper setting (data["pending"]).
    `views` memoises drawn views by setting. Taught in 02_segment_loss, § The live panel.
    """
    check_id_sequences("input_ids", input_ids if isinstance(input_ids, torch.Tensor) else [input_ids])
    ids = torch.as_tensor(input_ids)
    for name, value in (("k", k), ("m", m), ("stride", stride)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if m * k > ids.numel():
        raise ValueError(f"n = m·k = {m}·{k} = {m * k} exceeds the {ids.numel()} tokens given")
    if stride > k:
        raise ValueError(f"stride must be in [1, k] = [1, {k}], got {stride} (a window moves at most its length)")
    cache = cache if cache is not None else ResultCache()
    rate = rate if rate is not None else WorkRate()
    n, work = m * k, panel_work(k, m, stride)
    head = tr("n = m·k = {m}·{k} = {n} tokens, stride s = {stride}", m=m, k=k, n=n, stride=stride)
    data = {"n": n, "k": k, "m": m, "stride": stride, "work": work, "pending": False}
    todo = _todo(model, k, m, stride, cache)
    if budget is not None and todo:
        per_token = rate.per_token(model, ids, k)
        seconds = sum(tokens for _, tokens in todo.values()) * per_token
        if seconds > budget:
            neighbour = cheaper_neighbour(model, k, m, stride, cache, per_token, budget)
            offer = (tr("no neighbour fits; run it, or pick a smaller k") if neighbour is None else
                     tr("cheaper neighbour: {setting} ({windows} windows, about {seconds:.0f} s)",
                        setting=", ".join(f"{name} = {v}" for name, v in neighbour.items() if name in ("stride", "m")),
                        windows=neighbour["windows"], seconds=neighbour["seconds"]))
            summary = "\n".join([head, tr("not computed yet: the model would run {work} tokens (windows × tokens), "
                                           "about {seconds:.0f} s on this machine", work=_describe(todo),
                                           seconds=seconds), offer])
            return PanelView(summary, None, {**data, "pending": True, "estimate_s": seconds, "todo": todo,
                                             "neighbour": neighbour})

    def draw() -> PanelView:
        results = _results(model, ids, k, m, stride, cache, rate)
        lines = [head, tr("model work: {work} tokens (windows × tokens)", work=_describe(work))]
        for label, result in results.items():
            lines.append(tr("{mode:>9}: L = {total:8.1f} nats over {tokens:4d} tokens, mean {mean:.3f}, ppl {ppl:6.2f}, "
                            "{passes} pass(es)", mode=tr(MODE_NAMES[label]), total=result.total,
                            tokens=result.n_tokens, mean=result.mean, ppl=result.ppl, passes=result.passes))
        figure = segment_loss_figure({fig_tr(MODE_NAMES["full = recurrent" if mode == "full" else mode]): r
                                      for mode, r in results.items()}, k)
        return PanelView("\n".join(lines), figure, {
            **data,
            "total": {mode: r.total for mode, r in results.items()},
            "ppl": {mode: r.ppl for mode, r in results.items()},
            "n_tokens": {mode: r.n_tokens for mode, r in results.items()},
            "passes": {mode: r.passes for mode, r in results.items()},
            "per_segment": {mode: r.per_segment.tolist() for mode, r in results.items()},
        })

    return draw() if views is None else views.get((id(model), id(cache), n, k, stride), draw)


class SegmentLossPanel(LivePanel):
    """The segment-loss LivePanel plus what a slow setting needs: a progress area and "run it" / "take the cheaper one".

    Taught in 02_segment_loss, § The live panel.
    """

    def __init__(self, model, ids: torch.Tensor, controls: dict, cache: ResultCache, budget: float):
        self.model, self.ids, self.cache, self.budget = model, ids, cache, budget
        self.rate, self.views = WorkRate(), ResultCache(max_items=64)  # views hold figures: keep the recent ones
        self._confirmed, self._live = True, False  # the first view is the notebook's choice: always computed
        self.progress = widgets.Output()
        self.run_button = widgets.Button(description=tr("run it anyway"), button_style="warning")
        self.neighbour_button = widgets.Button(description=tr("take the cheaper one"), button_style="success")
        self.run_button.on_click(lambda _: self.run_anyway())
        self.neighbour_button.on_click(lambda _: self.take_neighbour())
        super().__init__(controls, self._render, title=tr("Segment loss L = Σ Lᵢ: n = m·k tokens scored three ways"),
                         links=[at_most("stride", "k")])
        self.buttons = widgets.HBox([self.run_button, self.neighbour_button])
        self.widget.children = (*self.widget.children[:-1], self.buttons, self.progress, self.widget.children[-1])
        self._live = True
        self._show_buttons()

    def _render(self, k: int, m: int, stride: int) -> PanelView:
        budget = None if self._confirmed else self.budget
        if not self._live:  # inside the notebook cell: a progress bar belongs to the cell's output
            return render_segment_loss(self.model, self.ids, k, m, stride, self.cache, budget, self.rate, self.views)
        self.progress.clear_output()
        with self.progress:  # a slider's callback has no cell: show the bar inside the panel
            return render_segment_loss(self.model, self.ids, k, m, stride, self.cache, budget, self.rate, self.views)

    def refresh(self) -> PanelView:
        try:
            view = super().refresh()
        except KeyboardInterrupt:  # stopped between two batches: say so for the setting shown, cache nothing
            k, m, stride = (self.controls[name].value for name in ("k", "m", "stride"))
            view = self.show(PanelView(tr("n = m·k = {m}·{k} = {n} tokens, stride s = {stride}: interrupted, nothing "
                                          "cached; press run to start it again", m=m, k=k, n=m * k, stride=stride), None,
                                       {"n": m * k, "k": k, "m": m, "stride": stride, "pending": True,
                                        "interrupted": True, "estimate_s": None, "neighbour": None}))
            raise
        finally:
            self._confirmed = False
            self._show_buttons()
        return view

    def _show_buttons(self) -> None:
        if not hasattr(self, "buttons"):
            return
        pending = bool(self.view.data.get("pending"))
        neighbour = self.view.data.get("neighbour")
        self.buttons.layout.display = None if pending else "none"
        self.neighbour_button.layout.display = None if neighbour else "none"
        if pending:
            estimate = self.view.data.get("estimate_s")
            self.run_button.description = (tr("run it") if estimate is None
                                           else tr("run it anyway (~{seconds:.0f} s)", seconds=estimate))

    def run_anyway(self) -> PanelView:
        """Compute the current (slow) setting now, with a progress bar over its windows."""
        self._confirmed = True
        return self.refresh()

    def take_neighbour(self) -> PanelView:
        """Move the controls to the cheaper setting the panel offered."""
        neighbour = self.view.data.get("neighbour") or {}
        return self.update(**{name: value for name, value in neighbour.items() if name in self.controls})


@checked
def segment_loss_panel(model, input_ids, k: int = 128, m: int = 4, stride: int = 64,
                       k_range: tuple[int, int, int] = (32, 256, 32), m_max: int = 8,
                       precomputed: Iterable[SegmentLoss] = (), budget: float = SLOW_SECONDS) -> LivePanel:
    """A LivePanel with sliders k, m (n = m·k, capped by the tokens given) and stride (<= k) over `render_segment_loss`.

    `precomputed` results (from scoring a prefix input_ids[:n] with the same model) seed the cache, so
    settings already computed elsewhere in the notebook cost nothing. A new setting estimated slower than
    `budget` seconds waits for "run it anyway" and offers a cheaper neighbour. Taught in 02_segment_loss,
    § The live panel.
    """
    check_id_sequences("input_ids", input_ids if isinstance(input_ids, torch.Tensor) else [input_ids])
    ids = torch.as_tensor(input_ids)
    cache = ResultCache()
    for result in precomputed:
        if not isinstance(result, SegmentLoss):
            raise TypeError(f"precomputed must hold SegmentLoss results, got {type(result).__name__}")
        if result.mode in PANEL_MODES:
            cache.get(_mode_key(result.mode, model, result.per_token.numel(), result.k, result.stride),
                      lambda r=result: r)
    k_min, k_max, k_step = k_range
    if not 2 <= k_min <= k <= k_max:
        raise ValueError(f"need 2 <= k_min <= k <= k_max, got k_range={k_range}, k={k}")
    if not 1 <= m <= m_max or m_max * k_max > ids.numel():
        raise ValueError(f"need 1 <= m <= m_max and m_max·k_max <= {ids.numel()} tokens, got m={m}, m_max={m_max}, k_max={k_max}")
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not budget > 0:
        raise ValueError(f"budget must be a number of seconds > 0, got {budget!r}")
    style = {"description_width": "80px"}
    controls = {
        "k": widgets.IntSlider(value=k, min=k_min, max=k_max, step=k_step, description=tr("k (length)"),
                               style=style, continuous_update=False),
        "m": widgets.IntSlider(value=m, min=1, max=m_max, description=tr("m (segments)"), style=style,
                               continuous_update=False),
        "stride": widgets.IntSlider(value=stride, min=max(1, min(k_step // 2, k_min)), max=k_max, step=k_step // 2 or 1,
                                    description=tr("stride s"), style=style, continuous_update=False),
    }
    return SegmentLossPanel(model, ids, controls, cache, float(budget))
