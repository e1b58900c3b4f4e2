"""Each chapter's measurement, pointed at one model and one text; every function returns a JSON-ready dict.

Nothing is re-implemented: the per-token loss is chapter 6's `long_context_nll` (one long forward serves
both the loss-by-position and the perplexity sections), the pass key is `needle_trial`, attention
distance and sink mass are chapter 3's `layer_head_stats`, prefill cost is chapter 2's `forward_cost`,
and the int8 KV cache is chapter 5's `kv_quant_curve`. A text shorter than the longest length is
repeated (a blank line between copies); the sections say from which token the repeat starts, because a
repeat is easy to predict (chapter 6). Heavy results go through `@remembered`; timings never do.
"""
from __future__ import annotations

import math
from contextlib import contextmanager, nullcontext
from typing import Iterator, Sequence

import torch
from tqdm.auto import tqdm

from ..attention.maps import layer_head_stats
from ..compression.kv_cache import kv_quant_curve
from ..context_extension.needle import long_context_nll, needle_trial
from ..context_extension.rope import ROPE_METHODS, use_rope_scaling
from ..core.checked import checked
from ..core.checks import as_float, as_int, check_causal_lm, check_choice
from ..core.hf import model_window
from ..core.i18n import tr
from ..core.result_store import remembered
from ..segment_loss.costs import forward_cost
from .config_card import trained_positions

__all__ = ["DEPTHS", "measure_attention", "measure_kv_int8", "measure_loss_by_position", "measure_needle_grid",
           "measure_perplexity", "measure_prefill", "report_text_ids"]

DEPTHS = (0.1, 0.5, 0.9)  # the edges 0 and 1 test the prompt's layout more than the model's reach


def _has_rope(model) -> bool:
    return isinstance(getattr(model.config, "rope_parameters", None), dict)


def _scaling(model, method: str, factor: float):
    """The whole measurement under RoPE scaling (`use_rope_scaling`), or unchanged for method="none"."""
    check_choice("method", method, ROPE_METHODS)
    factor = as_float("factor", factor, 1, 64)
    if method == "none":
        if factor != 1.0:
            raise ValueError(f"factor={factor} needs a scaling method; with method='none' the factor must be 1")
        return nullcontext()
    return use_rope_scaling(model, method, factor)


@contextmanager
def eager_attention(model) -> Iterator[None]:
    """Run `model` with eager attention (the only kind that returns weights), then switch back."""
    before = getattr(model.config, "_attn_implementation", None)
    if before != "eager":
        model.set_attn_implementation("eager")
    try:
        yield
    finally:
        if before not in (None, "eager"):
            model.set_attn_implementation(before)


@checked(n_tokens=(2, None))
def report_text_ids(tokenizer, text: str, n_tokens: int) -> tuple[torch.Tensor, int]:
    """(ids of exactly n_tokens, tokens in one copy of the text): the text repeated, a blank line between copies.

    Taught in 07_your_own_model, § Your own text.
    """
    if not text.strip():
        raise ValueError("text is empty (only white space); valid: a text of at least a few words")
    once = tokenizer.encode(text + "\n\n", add_special_tokens=False)
    if len(once) < 2:
        raise ValueError(f"text={text[:40]!r} gives {len(once)} token(s); valid: a text of at least 2 tokens")
    copies = math.ceil(n_tokens / len(once))
    return torch.tensor((once * copies)[:n_tokens]), len(once)


def _ppl(values: torch.Tensor) -> float | None:
    return round(math.exp(float(values.double().mean())), 4) if values.numel() else None


def loss_section(nll: torch.Tensor, lengths: Sequence[int], text_tokens: int, reset: Sequence[torch.Tensor]) -> dict:
    """Mean NLL in doubling position bins [1,2), [2,4), …, and what the far context is worth at each length.

    `reset[i]`: the NLL of the tokens in (L/2, L] scored from position L/2 on (context cut at L/2); the gain
    is its mean minus the same tokens' mean with all the context before them (positive: the far half helped).
    """
    n = nll.numel() + 1
    edges = [1]
    while edges[-1] < n:
        edges.append(min(edges[-1] * 2, n))
    # nll[t - 1] is the loss of the token at position t (predicted from positions 0 … t − 1)
    bins = [round(float(nll[a - 1:b - 1].mean()), 4) for a, b in zip(edges[:-1], edges[1:])]
    full = [nll[L // 2:L - 1] for L in lengths]  # positions L/2 + 1 … L − 1, as scored in `reset`
    gain = [round(float(r.double().mean() - f.double().mean()), 4) for r, f in zip(reset, full)]
    return {"n_tokens": n, "edges": edges, "nll": bins, "lengths": list(lengths),
            "nll_last_half": [round(float(f.mean()), 4) for f in full], "context_gain": gain,
            "repeat_from": text_tokens if text_tokens < n else None}


def reset_nll(model, ids: torch.Tensor, lengths: Sequence[int], method: str, factor: float) -> list[torch.Tensor]:
    """For each length L: the NLL of positions L/2 + 1 … L − 1 when the context starts at L/2 (a second forward)."""
    return [long_context_nll(model, ids[L // 2:L], method, factor) for L in lengths]


def perplexity_run(nll: torch.Tensor, lengths: Sequence[int], trained: int | None, method: str, factor: float) -> dict:
    """Perplexity in each length's last half, inside the trained window, and past it (None when not reached)."""
    n = nll.numel() + 1
    inside = min(trained or n, n)
    return {"method": method, "factor": factor,
            "ppl_last_half": [_ppl(nll[L // 2 - 1:L - 1]) for L in lengths],
            "in_window": _ppl(nll[:inside - 1]),
            "beyond": _ppl(nll[trained - 1:]) if trained is not None and n > trained else None}


def alternative_scaling(model, method: str, factor: float, n_tokens: int) -> tuple[str, float] | None:
    """The comparison run: without scaling when the report scales, else YaRN stretched to cover n_tokens."""
    if not _has_rope(model):
        return None  # learned absolute positions: nothing to stretch
    if method != "none":
        return "none", 1.0
    trained = trained_positions(model.config) or n_tokens
    return "yarn", float(max(2, math.ceil(n_tokens / trained)))


@checked(text_tokens=(1, None))
def measure_loss_by_position(model, input_ids: torch.Tensor, lengths: Sequence[int] | None = None,
                             text_tokens: int | None = None, method: str = "none", factor: float = 1.0) -> dict:
    """Mean loss by token position in one long forward, and for each length what its far half of context is worth.

    Taught in 07_your_own_model, § Each chapter's measurement on your model.
    """
    check_causal_lm(model)
    with _scaling(model, method, factor):
        pass  # arguments checked before the forward pass
    ids = input_ids.reshape(-1)
    lengths = list(lengths or [ids.numel()])
    _check_lengths(lengths, ids.numel())
    return loss_section(long_context_nll(model, ids, method, factor), lengths, text_tokens or ids.numel(),
                        reset_nll(model, ids, lengths, method, factor))


@checked
def measure_perplexity(model, input_ids: torch.Tensor, lengths: Sequence[int] | None = None, method: str = "none",
                       factor: float = 1.0) -> dict:
    """Perplexity inside and beyond the trained length, as given and with (or without) RoPE scaling.

    Taught in 07_your_own_model, § Each chapter's measurement on your model.
    """
    check_causal_lm(model)
    with _scaling(model, method, factor):
        pass
    ids = input_ids.reshape(-1)
    lengths = list(lengths or [ids.numel()])
    _check_lengths(lengths, ids.numel())
    trained = trained_positions(model.config)
    runs = [perplexity_run(long_context_nll(model, ids, method, factor), lengths, trained, method, factor)]
    other = alternative_scaling(model, method, factor, ids.numel())
    if other is not None:
        runs.append(perplexity_run(long_context_nll(model, ids, *other), lengths, trained, *other))
    return perplexity_section(runs, lengths, trained, ids.numel(), _has_rope(model))


def perplexity_section(runs: list[dict], lengths: Sequence[int], trained: int | None, n: int, rope: bool) -> dict:
    beyond = trained is not None and n > trained
    return {"lengths": list(lengths), "trained_positions": trained, "n_tokens": n, "runs": runs,
            "beyond_measured": beyond, "rope": rope,
            "suggest_max_tokens": None if beyond or trained is None or not rope else 2 * trained}


def _check_lengths(lengths: Sequence[int], n: int) -> None:
    for length in lengths:
        as_int("lengths", length, 4, n, note=f"each length must fit in input_ids' {n} tokens")


@checked
def measure_needle_grid(model, tokenizer, lengths: Sequence[int], depths: Sequence[float] = DEPTHS, method: str = "none",
                        factor: float = 1.0) -> dict:
    """Pass-key trials on a length × depth grid: found (greedy answer holds the key), the key's rank, the answer.

    Taught in 07_your_own_model, § Each chapter's measurement on your model.
    """
    check_causal_lm(model)
    with _scaling(model, method, factor):
        pass
    lengths = [as_int("lengths", n, 2) for n in lengths]
    depths = [as_float("depths", d, 0, 1) for d in depths]
    if not lengths or not depths:
        raise ValueError(f"lengths={lengths} and depths={depths} must both be non-empty")
    found = [[False] * len(depths) for _ in lengths]
    rank = [[0] * len(depths) for _ in lengths]
    answers = [[""] * len(depths) for _ in lengths]
    cells = [(i, j) for i in range(len(lengths)) for j in range(len(depths))]
    for i, j in tqdm(cells, desc=tr("report card: pass key"), leave=False):
        trial = needle_trial(model, tokenizer, lengths[i], depths[j], method=method, factor=factor)
        found[i][j], rank[i][j], answers[i][j] = bool(trial.found), int(trial.rank), trial.generated
    # found[i][j]: lengths[i], depths[j]; answers: the greedy tokens decoded (what the model said instead, when not found)
    return {"lengths": lengths, "depths": depths, "found": found, "rank": rank, "answers": answers}


@remembered
def _attention(model, ids: torch.Tensor, method: str, factor: float) -> dict:
    with eager_attention(model), _scaling(model, method, factor):
        stats = layer_head_stats(model, ids)  # (L, H) each
    return {"n_tokens": ids.numel(),
            "mean_distance": [round(float(x), 3) for x in stats.mean_distance.mean(-1)],
            "sink_mass": [round(float(x), 4) for x in stats.sink_mass.mean(-1)],
            "max_head_distance": [round(float(x), 3) for x in stats.mean_distance.max(-1).values]}


@checked
def measure_attention(model, input_ids: torch.Tensor, method: str = "none", factor: float = 1.0) -> dict:
    """Per layer: mean attention distance and first-token (sink) mass, averaged over heads (eager attention).

    The model is switched to eager attention for the measurement and back afterwards.
    Taught in 07_your_own_model, § Each chapter's measurement on your model.
    """
    check_causal_lm(model)
    with _scaling(model, method, factor):
        pass
    return _attention(model, input_ids.reshape(-1), method, factor)


@checked
def measure_prefill(model, input_ids: torch.Tensor, lengths: Sequence[int], method: str = "none",
                    factor: float = 1.0) -> dict:
    """Prefill wall time (s) and peak tensor memory (bytes) for each length: chapter 2's forward_cost.

    Never stored: a timing describes this run on this machine.
    Taught in 07_your_own_model, § Each chapter's measurement on your model.
    """
    check_causal_lm(model)
    ids = input_ids.reshape(-1)
    _check_lengths(list(lengths), ids.numel())
    seconds, peak = [], []
    device = next(model.parameters()).device
    with _scaling(model, method, factor):
        for n in tqdm(list(lengths), desc=tr("report card: prefill cost"), leave=False):
            piece = ids[None, :n].to(device)  # (1, n)
            s, b = forward_cost(lambda: model(input_ids=piece, logits_to_keep=1), device=device)
            seconds.append(round(s, 4)), peak.append(int(b))
    return {"lengths": list(lengths), "seconds": seconds, "peak_bytes": peak, "device": str(device)}


@checked
def measure_kv_int8(model, input_ids: torch.Tensor, method: str = "none", factor: float = 1.0) -> dict:
    """What an int8 KV cache costs: perplexity of the second half decoded against an fp and an int8 cache.

    KIVI-style (chapter 5): the newest n/16 tokens stay in full precision, older ones in groups of n/32.
    A sliding-window model is measured on at most window − 1 tokens (its cache keeps no more).
    Taught in 07_your_own_model, § Each chapter's measurement on your model.
    """
    check_causal_lm(model)
    ids = input_ids.reshape(-1)
    with _scaling(model, method, factor):
        pass
    try:
        window = model_window(model.config)
    except ValueError:
        return {"measured": False, "reason": "mixed"}
    n = ids.numel() if window is None else min(ids.numel(), window - 1)
    if n < 32:
        return {"measured": False, "reason": "window", "sliding_window": window}
    keep = max(8, n // 16)
    return _kv(model, ids[:n], method, factor, keep, max(4, keep // 2), max(4, n // 32))


@remembered
def _kv(model, ids: torch.Tensor, method: str, factor: float, window: int, group: int, chunk: int) -> dict:
    with _scaling(model, method, factor):
        device = next(model.parameters()).device  # kv_quant_curve feeds the ids to the model as they are
        full, eight = kv_quant_curve(model, ids.to(device), (None, 8), window=window, group=group, chunk=chunk)
    return {"measured": True, "n_tokens": ids.numel(), "ppl_fp": round(full.ppl, 4), "ppl_int8": round(eight.ppl, 4),
            "delta_ppl": round(eight.ppl - full.ppl, 4), "memory_ratio": round(eight.memory_ratio, 4),
            "n_quantized": eight.n_quantized, "window": window, "group": group}
