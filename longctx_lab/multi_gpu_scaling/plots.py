"""Chapter 4 figures: measured speedup with Amdahl's curve, collective costs, the ring schedule, the cost model."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from ..core.checked import checked
from ..core.drawing import Drawing, decade_limits
from ..core.i18n import N_, fig_tr
from .cost_model import StepPrediction
from .ring import ring_schedule
from .scaling import amdahl_speedup

__all__ = ["CostModel", "collectives_plot", "cost_model_plot", "ring_schedule_plot", "speedup_plot"]


@checked
def speedup_plot(world_sizes: Sequence[int], speedups: Sequence[float], serial_fraction: float | None = None,
                 cores: int | None = None) -> Figure:
    """Measured speedup against P, the ideal line, the fitted Amdahl curve and the oversubscribed region.

    Taught in 04_multi_gpu_scaling, § Measured scaling.
    """
    if len(world_sizes) != len(speedups) or not world_sizes:
        raise ValueError(f"world_sizes and speedups must be non-empty and of equal length, got "
                         f"{len(world_sizes)} and {len(speedups)}")
    fig = Figure(figsize=(5, 3.2), layout="constrained")
    ax = fig.add_subplot()
    top = max(world_sizes)
    grid = np.linspace(1, top, 50)
    ax.plot(grid, grid, "k--", lw=1, label=fig_tr("ideal (S = P)"))
    if serial_fraction is not None:
        effective = np.minimum(grid, cores) if cores else grid
        ax.plot(grid, [amdahl_speedup(serial_fraction, p) for p in effective], color="tab:orange",
                label=fig_tr("Amdahl, serial fraction {fraction:.2f}", fraction=serial_fraction))
    if cores is not None and cores < top:
        ax.axvspan(cores, top, color="0.9", label=fig_tr("P > {cores} cores (oversubscribed)", cores=cores))
    ax.plot(world_sizes, speedups, "o-", color="tab:blue", label=fig_tr("measured"))
    ax.set(xlabel=fig_tr("workers P"), ylabel=fig_tr("speedup T1 / TP"), xticks=list(world_sizes),
           title=fig_tr("Segment processing"))
    ax.legend(fontsize=7)
    return fig


@checked
def collectives_plot(costs: dict[str, dict[int, float]], fits: dict[str, tuple[float, float]] | None = None,
                     title: str = N_("Collectives over gloo")) -> Figure:
    """Time of each collective against message size (log-log), with its fitted α + β·bytes line.

    Taught in 04_multi_gpu_scaling, § What communication costs.
    """
    if not costs:
        raise ValueError("costs is empty; measure at least one collective")
    fig = Figure(figsize=(5, 3.2), layout="constrained")
    ax = fig.add_subplot()
    for (name, by_size), color in zip(costs.items(), ("tab:blue", "tab:green", "tab:red")):
        sizes = np.array(sorted(by_size))
        ax.loglog(sizes, [by_size[s] * 1e3 for s in sizes], "o", color=color, label=name)
        if fits and name in fits:
            alpha, beta = fits[name]
            line = np.geomspace(sizes[0], sizes[-1], 30)
            ax.loglog(line, (alpha + beta * line) * 1e3, "-", color=color, lw=1,
                      label=f"α={alpha * 1e6:.0f} µs, 1/β={1 / beta / 1e9:.2f} GB/s" if beta > 0
                      else fig_tr("α={alpha:.0f} µs, bandwidth not resolved", alpha=alpha * 1e6))
    ax.set(xlabel=fig_tr("message size per rank (bytes)"), ylabel=fig_tr("time (ms)"), title=fig_tr(title))
    ax.legend(fontsize=7)
    return fig


@checked
def ring_schedule_plot(world_size: int, causal: bool = False) -> Figure:
    """Which K/V block each rank holds at each ring step; causal steps that are skipped are greyed.

    Taught in 04_multi_gpu_scaling, § Memory per rank and the causal load imbalance.
    """
    schedule = np.array(ring_schedule(world_size))  # (steps, ranks)
    computed = ~(schedule > np.arange(world_size)[None, :]) if causal else np.ones_like(schedule, dtype=bool)
    fig = Figure(figsize=(2 + 0.9 * world_size, 0.9 + 0.5 * world_size), layout="constrained")
    ax_grid, ax_bar = fig.subplots(1, 2, width_ratios=[world_size, 2])
    ax_grid.imshow(computed.T, cmap="Blues", vmin=-1.0, vmax=2.5, aspect="auto")
    for step in range(world_size):
        for rank in range(world_size):
            ax_grid.text(step, rank, f"KV{schedule[step, rank]}", ha="center", va="center", fontsize=8,
                         color="black" if computed[step, rank] else "0.55")
    ax_grid.set(xlabel=fig_tr("ring step"), ylabel=fig_tr("process (rank)"), xticks=range(world_size), yticks=range(world_size),
                title=fig_tr("causal ring attention") if causal else fig_tr("full ring attention"))
    counts = computed.sum(axis=0)
    ax_bar.barh(range(world_size), counts, color="tab:blue")
    ax_bar.set(xlabel=fig_tr("blocks computed"), yticks=range(world_size), xlim=(0, world_size + 0.5))
    ax_bar.invert_yaxis()
    return fig


@checked
class CostModel(Drawing):
    """Predicted step time (compute + communication) and memory per device against P, redrawn in place.

    Give `time_limits` and `memory_limits` (seconds, GB) covering every setting a panel offers and the
    axes never move: a learner sees the lines move, and each move only redraws the lines. Without them
    the log axes snap to the decades around the data. Taught in 04_multi_gpu_scaling, § A cost model for real clusters.
    """

    def __init__(self, strategies: Sequence[str] = ("data", "sequence"), time_limits: tuple[float, float] | None = None,
                 memory_limits: tuple[float, float] | None = None):
        super().__init__((8, 3.2), left=0.08, right=0.98, bottom=0.15, top=0.8, wspace=0.25)
        self.ax_time, self.ax_mem = self.figure.subplots(1, 2)
        self.fixed = (time_limits, memory_limits)
        self.lines = {}
        for strategy, color in zip(strategies, ("tab:blue", "tab:orange", "tab:green")):
            self.lines[strategy] = (self.ax_time.plot([], [], "o-", color=color, label=fig_tr("{strategy}: step, memory",
                                                                                            strategy=strategy))[0],
                                    self.ax_time.plot([], [], ":", color=color, label=fig_tr("{strategy}: communication",
                                                                                            strategy=strategy))[0],
                                    self.ax_mem.plot([], [], "o-", color=color)[0])
        self.memory_line = self.ax_mem.axhline(1.0, color="red", lw=1, label=fig_tr("device memory"))
        self.now = [ax.axvline(1, color="0.6", lw=1) for ax in (self.ax_time, self.ax_mem)]
        for ax in (self.ax_time, self.ax_mem):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel(fig_tr("devices P"))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_autoscale_on(False)
        # One legend above both plots, drawn with the static background: legends cost more to draw than lines.
        self.figure.legend(loc="upper center", ncols=3, fontsize=7, frameon=False)
        self.ax_time.set(ylabel=fig_tr("seconds per step"), title=fig_tr("step time"))
        self.ax_mem.set(ylabel=fig_tr("GB per device"), title=fig_tr("memory per device"))
        self.dynamic(*(line for group in self.lines.values() for line in group), self.memory_line, *self.now)

    def update(self, sweep: dict[str, list[StepPrediction]], current: int, device_memory: float) -> Figure:
        """Show the predictions of each strategy over P, the chosen P marked."""
        if not sweep or set(sweep) - set(self.lines):
            raise ValueError(f"sweep must hold predictions for some of {sorted(self.lines)}, got {sorted(sweep)}")
        ps = sorted({p.world_size for preds in sweep.values() for p in preds})
        times = [v for preds in sweep.values() for p in preds for v in (p.step_s, p.comm_s)]
        memory = [p.memory_bytes / 1e9 for preds in sweep.values() for p in preds] + [device_memory / 1e9]
        limits = (tuple(ps), self.fixed[0] or decade_limits(times), self.fixed[1] or decade_limits(memory))
        self.static_key(limits)
        for ax, ylim in zip((self.ax_time, self.ax_mem), limits[1:]):
            ax.set_xticks(ps, [str(p) for p in ps])
            ax.set_xlim(ps[0] / 1.3, ps[-1] * 1.3)
            ax.set_ylim(*ylim)
        for strategy, (step, comm, mem) in self.lines.items():
            preds = sweep.get(strategy, [])
            x = [p.world_size for p in preds]
            step.set_data(x, [p.step_s for p in preds])
            comm.set_data(x, [p.comm_s if p.comm_s > 0 else np.nan for p in preds])  # a log axis has no 0
            mem.set_data(x, [p.memory_bytes / 1e9 for p in preds])
        self.memory_line.set_ydata([device_memory / 1e9] * 2)
        for line in self.now:
            line.set_xdata([current] * 2)
        return self.figure


@checked
def cost_model_plot(sweep: dict[str, list[StepPrediction]], current: int, device_memory: float) -> Figure:
    """Predicted step time (compute + communication) and memory per device against P for each strategy.

    Taught in 04_multi_gpu_scaling, § A cost model for real clusters.
    """
    if not sweep:
        raise ValueError("sweep is empty; give predictions for at least one strategy")
    return CostModel(tuple(sweep)).update(sweep, current, device_memory)
