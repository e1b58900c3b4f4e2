"""Chapter 4 live panel: the cost model for data vs sequence parallelism on a real cluster."""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets

from ..core.checked import checked
from ..core.i18n import N_, cell, tr
from ..core.checks import as_int, check_choice
from ..core.drawing import decade_limits
from ..core.panels import LivePanel, PanelView
from .cost_model import DEVICE_PRESETS, LINK_PRESETS, StepWorkload, predict_step
from .plots import CostModel

__all__ = ["MODEL_PRESETS", "cost_model_panel", "render_cost_model"]

# Shapes from the models' configs: SmolLM2-135M (the kit's model) and a Llama-2-7B-sized decoder.
MODEL_PRESETS: dict[str, dict] = {
    "SmolLM2-135M": {"params": 134.5e6, "layers": 30, "d_model": 576, "kv_dim": 192},
    N_("7B (Llama-2 shape)"): {"params": 6.7e9, "layers": 32, "d_model": 4096, "kv_dim": 4096},
}
WORLD_SIZES = (1, 2, 4, 8, 16, 32, 64)
LENGTHS = (1024, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 1048576)
BATCHES = (1, 2, 4, 8, 16, 32, 64)
STRATEGY_NAMES = {"data": N_("data"), "sequence": N_("sequence")}
_COLUMNS = ((N_("step (s)"), 9), (N_("comm (s)"), 9), (N_("GB/device"), 10), (N_("fits"), 5), (N_("efficiency"), 10))


@checked
def render_cost_model(P: int = 8, n: int = 32768, link: str = "NVLink 4 (H100)", model: str = "7B (Llama-2 shape)",
                      device: str = "H100 80GB", batch: int = 1, drawing: CostModel | None = None) -> PanelView:
    """Predicted training step of `batch` sequences of n tokens on P devices: data vs sequence parallelism.

    Pass the panel's `drawing` to redraw it in place. Taught in 04_multi_gpu_scaling, § A cost model for real clusters.
    """
    for name, value, options in (("link", link, LINK_PRESETS), ("model", model, MODEL_PRESETS),
                                 ("device", device, DEVICE_PRESETS)):
        if value not in options:
            raise ValueError(f"{name}={value!r} is not a preset; choose one of {sorted(options)}")
    if isinstance(P, bool) or not isinstance(P, int) or P < 1:
        raise ValueError(f"P must be an int >= 1, got {P!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")
    hardware, wire = DEVICE_PRESETS[device], LINK_PRESETS[link]
    sweep = _sweep(n, batch, model, device, link, P)
    now = {s: next(p for p in preds if p.world_size == P) for s, preds in sweep.items()}
    lines = [tr("{model}, batch {batch} x n = {n:,} tokens, P = {P} x {device}, link {link}", model=tr(model),
                batch=batch, n=n, P=P, device=hardware.name, link=wire.name),
             " ".join([cell(tr("strategy"), 9)] + [cell(tr(head), width, ">") for head, width in _COLUMNS])]
    for s, p in now.items():
        lines.append(f"{cell(tr(STRATEGY_NAMES[s]), 9)} {p.step_s:>9.3g} {p.comm_s:>9.3g} {p.memory_bytes / 1e9:>10.1f} "
                     f"{cell(tr(N_('yes')) if p.fits else tr(N_('NO')), 5, '>')} {p.efficiency:>10.2f}")
    drawing = CostModel(tuple(sweep)) if drawing is None else drawing
    figure = drawing.update(sweep, P, hardware.memory_bytes)
    return PanelView("\n".join(lines), figure, {"predictions": now, "sweep": sweep, "P": P, "n": n, "batch": batch,
                                                "link": link, "model": model, "device": device}, drawing)


@lru_cache(maxsize=512)
def _sweep(n: int, batch: int, model: str, device: str, link: str, P: int) -> dict:
    """Both strategies' predictions over the panel's world sizes (and P): pure arithmetic, memoised per setting."""
    work = StepWorkload(n=n, batch=batch, **MODEL_PRESETS[model])
    return {s: [predict_step(work, p, DEVICE_PRESETS[device], LINK_PRESETS[link], s) for p in sorted({*WORLD_SIZES, P})]
            for s in ("data", "sequence")}


def _panel_limits(device: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """Log-axis limits (seconds, GB) holding every setting the panel offers: time and memory grow with n and batch."""
    times, memory = [], [DEVICE_PRESETS[device].memory_bytes / 1e9]
    for n in (LENGTHS[0], LENGTHS[-1]):
        for batch in (BATCHES[0], BATCHES[-1]):
            for model in MODEL_PRESETS:
                for link in LINK_PRESETS:
                    for preds in _sweep(n, batch, model, device, link, WORLD_SIZES[0]).values():
                        times += [v for p in preds for v in (p.step_s, p.comm_s)]
                        memory += [p.memory_bytes / 1e9 for p in preds]
    return decade_limits(times), decade_limits(memory)


@checked
def cost_model_panel(P: int = 8, n: int = 32768, link: str = "NVLink 4 (H100)",
                     model: str = "7B (Llama-2 shape)", batch: int = 1) -> LivePanel:
    """Sliders for P, n and the batch, a link and a model preset, redrawing the cost model's prediction (cheap: no model runs).

    Taught in 04_multi_gpu_scaling, § A cost model for real clusters.
    """
    for name, value, options in (("P", P, WORLD_SIZES), ("n", n, LENGTHS), ("batch", batch, BATCHES),
                                 ("link", link, list(LINK_PRESETS)), ("model", model, list(MODEL_PRESETS))):
        check_choice(name, value, options)
    style = {"description_width": "60px"}
    # continuous_update off: a dragged slider would otherwise redraw at every position it passes.
    controls = {
        "P": widgets.SelectionSlider(options=WORLD_SIZES, value=P, description=tr("P devices"), style=style,
                                     continuous_update=False),
        "n": widgets.SelectionSlider(options=LENGTHS, value=n, description=tr("n tokens"), style=style,
                                     continuous_update=False),
        "batch": widgets.SelectionSlider(options=BATCHES, value=batch, description=tr("batch"), style=style,
                                         continuous_update=False),
        "link": widgets.Dropdown(options=list(LINK_PRESETS), value=link, description=tr("link"), style=style),
        "model": widgets.Dropdown(options=[(tr(m), m) for m in MODEL_PRESETS], value=model,
                                  description=tr("model"), style=style),
    }
    drawing = CostModel(("data", "sequence"), *_panel_limits("H100 80GB"))
    return LivePanel(controls, lambda **values: render_cost_model(**values, drawing=drawing),
                     title=tr("Data vs sequence parallelism: predicted training step"))
