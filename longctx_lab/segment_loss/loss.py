"""Chapter 2: the segment loss L(θ) = Σᵢ Lᵢ(θ, xᵢ) of a causal LM, scored four ways.

Lᵢ is the summed negative log-likelihood (nats) of the tokens scored in segment i. The modes differ
only in what context each scored token sees: everything before it (`full`, and `recurrent`, which
gets there segment by segment through a carried KV cache), its own segment (`disjoint`), or a window
of k tokens sliding by `stride` (`sliding`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..chunking.plan import ChunkPlan
from ..core.checked import checked
from ..core.result_store import remembered
from ..core.checks import as_ids, check_causal_lm, check_length
from ..core.hf import cache_kwargs, new_cache

__all__ = [
    "MODES",
    "SegmentLoss",
    "loss_by_position",
    "mean_of_segment_means",
    "segment_loss",
    "sliding_windows",
    "token_nll",
]

MODES = ("full", "disjoint", "sliding", "recurrent")


@checked
@dataclass(frozen=True)
class SegmentLoss:
    """The loss of one scoring run: per-token NLLs, the per-segment sums Lᵢ and their total L.

    `per_token[t]` is the NLL (nats) of token t given the context the mode allowed, NaN where the
    token was not scored; `spans[i]` is the token range whose NLLs `per_segment[i]` sums.
    Taught in 02_segment_loss, § The four modes.
    """

    mode: str
    k: int
    stride: int | None
    memory: int | None
    per_token: torch.Tensor  # (n,) float64
    per_segment: torch.Tensor  # (m,) float64
    spans: list[tuple[int, int]]
    passes: int

    @property
    def total(self) -> float:
        """L = Σᵢ Lᵢ, the summed NLL in nats."""
        return float(self.per_segment.sum())

    @property
    def n_tokens(self) -> int:
        """How many tokens were scored."""
        return int((~self.per_token.isnan()).sum())

    @property
    def mean(self) -> float:
        """Token-weighted mean NLL: total / n_tokens."""
        return self.total / self.n_tokens

    @property
    def ppl(self) -> float:
        """Perplexity exp(mean)."""
        return math.exp(self.mean)

    @property
    def m(self) -> int:
        """Number of segments (sliding: windows)."""
        return len(self.spans)


def _nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """NLL (nats, float32) of each target under the logits at the same position: (B, T, V), (B, T) -> (B, T)."""
    flat = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), reduction="none")
    return flat.view(targets.shape)


@checked
def token_nll(model, input_ids) -> torch.Tensor:
    """NLL (nats) of tokens 1..n−1, each given all tokens before it, in one forward pass: shape (n − 1,).

    Taught in 02_segment_loss, § The idea.
    """
    device, max_positions = check_causal_lm(model)
    ids = as_ids(input_ids)
    check_length("len(input_ids)", ids.numel(), max_positions, "one pass must fit the positions")
    with torch.no_grad():
        logits = model(input_ids=ids[None].to(device)).logits  # (1, n, V)
        return _nll(logits[:, :-1], ids[None, 1:].to(device))[0].cpu()


@checked
def sliding_windows(n: int, k: int, stride: int) -> list[tuple[int, int, int]]:
    """Windows of the transformers "Perplexity of fixed-length models" loop: (begin, end, first scored token).

    Each token is scored once: window j scores [max(prev_end, begin + 1), end), the rest is context.
    Taught in 02_segment_loss, § The four modes.
    """
    for name, value in (("n", n), ("k", k), ("stride", stride)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if k < 2:
        raise ValueError(f"k must be >= 2 (a window of k scores k - 1 tokens), got {k}")
    if not 1 <= stride <= k:
        raise ValueError(f"stride must be in [1, k] = [1, {k}], got {stride}")
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    windows, prev_end = [], 0
    for begin in range(0, n, stride):
        end = min(begin + k, n)
        windows.append((begin, end, max(prev_end, begin + 1)))
        prev_end = end
        if end == n:
            break
    return windows


def _windows_nll(model, ids: torch.Tensor, windows: list[tuple[int, int]], device, batch: int | None = None,
                 progress: Callable[[int], object] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """NLL of every token inside its window, `batch` windows per padded forward (all in one by default): (W, k_max), valid.

    `progress(windows_done)` is called after each forward; between forwards an interrupt can land.
    """
    width = max(end - begin for begin, end in windows)
    step = len(windows) if batch is None else batch
    parts = []
    for first in range(0, len(windows), step):
        group = windows[first:first + step]
        tokens = torch.zeros(len(group), width, dtype=torch.long)  # (W', k)
        mask = torch.zeros(len(group), width, dtype=torch.long)
        for w, (begin, end) in enumerate(group):
            tokens[w, : end - begin] = ids[begin:end]
            mask[w, : end - begin] = 1
        tokens, mask = tokens.to(device), mask.to(device)
        logits = model(input_ids=tokens, attention_mask=mask).logits  # (W', k, V)
        nll = torch.cat([torch.zeros(len(group), 1, device=device), _nll(logits[:, :-1], tokens[:, 1:])], dim=1)
        parts.append((nll, mask.bool()))
        if progress is not None:
            progress(len(group))
    nll, valid = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
    valid[:, 0] = False  # a window's first token has no context inside it; padding is never scored
    return nll, valid


def _keep_last(cache, memory: int) -> None:
    """Drop all but the last `memory` positions from every layer of a DynamicCache, in place."""
    for layer in cache.layers:
        if getattr(layer, "is_initialized", True) and layer.keys is not None and layer.keys.numel():
            layer.keys = layer.keys[..., -memory:, :]  # (B, H_kv, memory, d_head)
            layer.values = layer.values[..., -memory:, :]


def _recurrent_nll(model, ids: torch.Tensor, k: int, memory: int | None, device,
                   progress: Callable[[int], object] | None = None) -> torch.Tensor:
    """Per-token NLL (n,) scoring segments of k in order with the earlier keys/values carried as memory.

    Position ids stay absolute (segment i starts at i·k) even when the memory is cropped: the cached
    keys were rotated by RoPE at their own absolute positions, so only absolute query positions keep
    every query–key distance what it is in the full pass.
    """
    cache = new_cache(model)
    cache_args = cache_kwargs(model, cache)
    per_token = torch.full((ids.numel(),), float("nan"))
    previous_last_logits = None  # (1, V): the prediction for the next segment's first token
    for start, end in ChunkPlan(ids.numel(), k).spans:
        if memory == 0:
            cache = new_cache(model)
            cache_args = cache_kwargs(model, cache)
        segment = ids[None, start:end].to(device)  # (1, len)
        positions = torch.arange(start, end, device=device)[None]
        logits = model(input_ids=segment, position_ids=positions, **cache_args).logits
        if previous_last_logits is not None:
            per_token[start] = _nll(previous_last_logits[:, None], segment[:, :1])[0, 0].cpu()
        per_token[start + 1 : end] = _nll(logits[:, :-1], segment[:, 1:])[0].cpu()
        previous_last_logits = logits[:, -1]
        if memory:
            _keep_last(cache, memory)
        if progress is not None:
            progress(1)
    return per_token


@checked
@remembered
def segment_loss(model, input_ids, k: int, mode: str = "disjoint", stride: int | None = None,
                 memory: int | None = None, window_batch: int | None = None,
                 progress: Callable[[int], object] | None = None) -> SegmentLoss:
    """Score `input_ids` in segments of k tokens under `mode` and return L = Σᵢ Lᵢ with its parts.

    full: one pass; disjoint: m segments batched in one pass, no context across boundaries;
    sliding: windows of k moved by `stride` (default k), context tokens unscored; recurrent: segments
    in order, carrying all (or the last `memory`) earlier keys/values. `window_batch` caps the windows
    per forward (disjoint, sliding; default all at once), so a long run can be interrupted between forwards;
    `progress(passes_done)` is called after each forward (a tqdm bar's `update` fits).
    Taught in 02_segment_loss, § The four modes.
    """
    device, max_positions = check_causal_lm(model)
    ids = as_ids(input_ids)
    n = ids.numel()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"k must be an int, got {type(k).__name__} {k!r}")
    if k < 2:
        raise ValueError(f"k must be >= 2 (a segment of k tokens scores k - 1 of them), got {k}")
    if stride is not None and mode != "sliding":
        raise ValueError(f"stride={stride} only applies to mode='sliding', not mode={mode!r}")
    if memory is not None and mode != "recurrent":
        raise ValueError(f"memory={memory} only applies to mode='recurrent', not mode={mode!r}")
    if memory is not None and (not isinstance(memory, int) or isinstance(memory, bool) or memory < 0):
        raise ValueError(f"memory must be an int >= 0 (tokens of earlier segments kept), got {memory!r}")
    if window_batch is not None and (not isinstance(window_batch, int) or isinstance(window_batch, bool)
                                     or window_batch < 1):
        raise ValueError(f"window_batch must be None or an int >= 1 (windows per forward), got {window_batch!r}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be None or a callable taking the passes done, got {type(progress).__name__}")
    stride = k if mode == "sliding" and stride is None else stride
    if mode == "full" or (mode == "recurrent" and memory is None):
        check_length("len(input_ids)", n, max_positions, f"mode={mode!r} attends over all n tokens")
    elif mode == "recurrent":
        check_length("memory + k", memory + k, max_positions, "the attention span of one segment")
    else:
        check_length("k", min(k, n), max_positions, "one window must fit the positions")
    spans = ChunkPlan(n, k).spans
    passes = len(spans)
    with torch.no_grad():
        if mode == "full":
            per_token = torch.cat([torch.tensor([float("nan")]), token_nll(model, ids)])
            passes = 1
            if progress is not None:
                progress(1)
        elif mode == "recurrent":
            per_token = _recurrent_nll(model, ids, k, memory, device, progress)
        else:
            windows = sliding_windows(n, k, stride) if mode == "sliding" else [(s, e, s + 1) for s, e in spans]
            nll, valid = _windows_nll(model, ids, [(b, e) for b, e, _ in windows], device, window_batch,
                                      progress)  # (W, k)
            nll = nll.masked_fill(~valid, float("nan")).cpu()
            per_token = torch.full((n,), float("nan"))
            for w, (begin, end, first) in enumerate(windows):
                per_token[first:end] = nll[w, first - begin : end - begin]
            # Lᵢ covers the tokens window i adds beyond the previous one (its first token is context).
            spans = [(windows[w - 1][1] if w else 0, end) for w, (_, end, _) in enumerate(windows)]
            passes = len(windows)
    per_token = per_token.double()
    per_segment = torch.stack([per_token[s:e].nansum() for s, e in spans])
    return SegmentLoss(mode, k, stride, memory, per_token, per_segment, spans, passes)


@checked
def loss_by_position(result: SegmentLoss, k: int | None = None) -> torch.Tensor:
    """Mean NLL at each offset 0..k−1 inside a segment of k (default the result's k), NaN where nothing was scored.

    Taught in 02_segment_loss, § Loss by position inside a segment.
    """
    if not isinstance(result, SegmentLoss):
        raise TypeError(f"result must be a SegmentLoss, got {type(result).__name__}")
    k = result.k if k is None else k
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    n = result.per_token.numel()
    padded = torch.full((math.ceil(n / k) * k,), float("nan"), dtype=torch.float64)
    padded[:n] = result.per_token
    grid = padded.view(-1, k)  # (m, k): row i is segment i
    return grid.nanmean(dim=0)


@checked
def mean_of_segment_means(result: SegmentLoss) -> float:
    """The tempting but wrong aggregate: the plain average of each segment's own mean NLL.

    Taught in 02_segment_loss, § The four modes.
    """
    if not isinstance(result, SegmentLoss):
        raise TypeError(f"result must be a SegmentLoss, got {type(result).__name__}")
    counts = torch.tensor([int((~result.per_token[s:e].isnan()).sum()) for s, e in result.spans])
    kept = counts > 0
    return float((result.per_segment[kept] / counts[kept]).mean())
