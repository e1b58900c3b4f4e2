"""Chapter 3: looking at attention — maps, head statistics, the seed's segment attention, window masks.

The adaptive attention span (Sukhbaatar et al. 2019) and its tiny trainable model live in
`adaptive_span.py`, beside this file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
import torch

from ..core.checked import checked
from ..core.result_store import remembered
from ..chunking.plan import ChunkPlan
from ..core.checks import as_int, check_causal_lm, check_prob_rows
from ..core.hf import model_window, per_layer_attention, require_eager

__all__ = [
    "HeadStats",
    "SegmentAttention",
    "attention_maps",
    "chunk_block_mask",
    "distance_profile",
    "head_stats",
    "layer_head_stats",
    "segment_attention",
    "sliding_window_mask",
    "window_additive_mask",
    "window_perplexity",
]


def _as_batch(input_ids) -> torch.Tensor:
    ids = torch.as_tensor(input_ids)
    if ids.dtype not in (torch.int32, torch.int64):
        raise TypeError(f"input_ids must hold integer token ids, got dtype {ids.dtype}")
    if ids.ndim == 1:
        ids = ids[None]
    if ids.ndim != 2 or ids.shape[0] != 1 or ids.shape[1] < 2:
        raise ValueError(f"input_ids must be 1-D or (1, n) with n >= 2, got shape {tuple(ids.shape)}")
    return ids


@checked
@torch.no_grad()
def attention_maps(model, input_ids, layers: list[int] | None = None) -> torch.Tensor:
    """The model's post-softmax attention for one sequence, shape (L, H, T, T) (queries down, keys across).

    Taught in 03_attention, § Looking at attention.
    """
    require_eager(model)
    ids = _as_batch(input_ids).to(model.device)
    outputs = model(input_ids=ids, output_attentions=True)
    n_layers = len(outputs.attentions)
    chosen = list(range(n_layers)) if layers is None else list(layers)
    for layer in chosen:
        as_int("layer", layer, 0, n_layers - 1, note="an entry of layers")
    return torch.stack([outputs.attentions[layer][0].float().cpu() for layer in chosen])  # (L, H, T, T)


@lru_cache(maxsize=2)
def _distance_matrix(t: int, device: torch.device) -> torch.Tensor:
    # Cached: a panel asks for the same T on every redraw. Callers must not modify it. Only two are
    # kept: at T = 4096 one is 128 MiB.
    positions = torch.arange(t, device=device)
    return (positions[:, None] - positions[None, :]).abs()  # (T, T)


def _check_attn(attn) -> torch.Tensor:
    if not isinstance(attn, torch.Tensor):
        raise TypeError(f"attn must be a torch.Tensor, got {type(attn).__name__}")
    if attn.ndim < 2 or attn.shape[-1] != attn.shape[-2]:
        raise ValueError(f"attn must have shape (..., T, T), got {tuple(attn.shape)}")
    return attn.float()


@checked
def distance_profile(attn: torch.Tensor) -> torch.Tensor:
    """Attention mass at each distance |i - j|, per query: (..., T, T) -> (..., T, T) indexed [query, distance].

    Taught in 03_attention, § Which heads look far.
    """
    attn = _check_attn(attn)
    t = attn.shape[-1]
    index = _distance_matrix(t, attn.device).expand_as(attn)
    return torch.zeros_like(attn).scatter_add_(-1, index, attn)


@checked
@dataclass
class HeadStats:
    """Per-head summaries of attention maps, each of shape attn.shape[:-2] (e.g. (L, H)), averaged over queries.

    Taught in 03_attention, § Which heads look far.
    """

    mean_distance: torch.Tensor  # Σ_j a_ij |i - j|, tokens
    span90: torch.Tensor  # smallest D with Σ_{|i-j| <= D} a_ij >= mass, tokens
    entropy: torch.Tensor  # -Σ_j a_ij log a_ij, nats
    sink_mass: torch.Tensor  # a_i0, the mass on the first token

    def as_dict(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@checked
def head_stats(attn: torch.Tensor, mass: float = 0.9) -> HeadStats:
    """Mean attention distance, distance holding `mass` of the attention, entropy and first-token mass.

    `attn` is (..., T, T) with rows summing to 1; every statistic is averaged over the T queries.
    Taught in 03_attention, § Which heads look far.
    """
    if not 0 < mass <= 1:
        raise ValueError(f"mass must be in (0, 1], got {mass}")
    attn = check_prob_rows("attn", _check_attn(attn), atol=1e-2)  # entropy and spans assume softmax rows
    profile = distance_profile(attn)  # (..., T, T): [query, distance]
    mean_distance = (profile * torch.arange(attn.shape[-1], device=attn.device)).sum(-1)
    # A tiny slack so a row whose mass sums to 0.9 in floating point still counts as reaching it.
    reached = profile.cumsum(-1) >= mass - 1e-6
    span = reached.float().argmax(-1).float()
    entropy = -(attn * torch.log(attn.clamp_min(1e-30))).sum(-1)
    return HeadStats(mean_distance.mean(-1), span.mean(-1), entropy.mean(-1), attn[..., 0].mean(-1))


@checked
def layer_head_stats(model, input_ids, mass: float = 0.9) -> HeadStats:
    """`head_stats` for every layer and head, reduced layer by layer so only one (H, T, T) map is held at a time.

    Taught in 03_attention, § Which heads look far.
    """
    ids = _as_batch(input_ids).to(model.device)
    per_layer = per_layer_attention(model, ids, lambda weights: head_stats(weights.float(), mass))
    return HeadStats(*(torch.stack([getattr(s, f.name).cpu() for s in per_layer]) for f in fields(HeadStats)))


@checked
@dataclass
class SegmentAttention:
    """The seed's α_t and c_t for each segment t = 2 … m, beside the model's own attention on the same block.

    Taught in 03_attention, § The seed's segment attention.
    """

    alpha: list[torch.Tensor]  # α_t, (k_t, k_{t-1}): segment t's tokens over segment t-1's tokens
    context: list[torch.Tensor]  # c_t = α_t · V x_{t-1}, (k_t, d_head)
    model_block: list[torch.Tensor]  # the model's attention on that block, rows renormalised
    model_mass: list[float]  # share of the model's attention (of segment t's queries) that lands on segment t-1
    entropy: float  # mean row entropy of α_t, nats
    spans: list[tuple[int, int]]


@checked
@torch.no_grad()
def segment_attention(model, input_ids, layer: int, head: int, k: int, scale: bool = False) -> SegmentAttention:
    """The seed's §4.3 α_t = softmax(W^Q x_t (W^K x_{t-1})ᵀ), c_t = α_t · V x_{t-1}, with a BERT layer's real weights.

    x_t are the hidden states entering `layer` for segment t (length k); `scale=True` adds the 1/√d_head
    that the formula leaves out. Taught in 03_attention, § The seed's segment attention.
    """
    require_eager(model)
    self_attention = getattr(getattr(getattr(model, "encoder", None), "layer", [None])[0], "attention", None)
    if not all(hasattr(getattr(self_attention, "self", None), name) for name in ("query", "key", "value")):
        raise ValueError(f"segment_attention reads a BERT layer's query/key/value (model.encoder.layer[i].attention.self); "
                         f"model {type(model).__name__} (model_type={getattr(model.config, 'model_type', '?')!r}) "
                         "is laid out differently")
    ids = _as_batch(input_ids).to(model.device)
    config = model.config
    n_layers, n_heads = config.num_hidden_layers, config.num_attention_heads
    layer, head = as_int("layer", layer, 0, n_layers - 1), as_int("head", head, 0, n_heads - 1)
    n = ids.shape[1]
    k = as_int("k", k, 1, n - 1, note="n - 1, so there are at least 2 segments")
    self_attention = model.encoder.layer[layer].attention.self
    outputs = model(input_ids=ids, output_hidden_states=True, output_attentions=True)
    hidden = outputs.hidden_states[layer][0]  # (n, d_model), what enters `layer`
    d_head = config.hidden_size // n_heads
    rows = slice(head * d_head, (head + 1) * d_head)

    def project(linear: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
        return x @ linear.weight[rows].T + linear.bias[rows]  # (k, d_head)

    model_map = outputs.attentions[layer][0, head].float()  # (n, n)
    spans = ChunkPlan(n, k).spans
    alphas, contexts, blocks, masses = [], [], [], []
    for (prev_start, prev_end), (start, end) in zip(spans, spans[1:]):
        x_t, x_prev = hidden[start:end], hidden[prev_start:prev_end]
        scores = project(self_attention.query, x_t) @ project(self_attention.key, x_prev).T  # (k_t, k_{t-1})
        if scale:
            scores = scores / math.sqrt(d_head)
        alpha = scores.float().softmax(-1)
        alphas.append(alpha.cpu())
        contexts.append((alpha @ project(self_attention.value, x_prev).float()).cpu())
        block = model_map[start:end, prev_start:prev_end]
        blocks.append((block / block.sum(-1, keepdim=True)).cpu())
        masses.append(float(block.sum(-1).mean()))
    entropy = float(torch.cat([-(a * torch.log(a.clamp_min(1e-30))).sum(-1) for a in alphas]).mean())
    return SegmentAttention(alphas, contexts, blocks, masses, entropy, spans)


@checked
def sliding_window_mask(n: int, window: int, sinks: int = 0) -> torch.Tensor:
    """Bool (n, n), True where query i may attend key j: causal, the last `window` keys up to i, plus the first `sinks`.

    Taught in 03_attention, § Cheaper masks on a real model.
    """
    n, window, sinks = as_int("n", n, 1), as_int("window", window, 1), as_int("sinks", sinks, 0)
    query = torch.arange(n)[:, None]
    key = torch.arange(n)[None, :]
    causal = key <= query
    return causal & ((query - key < window) | (key < sinks))


@checked
def window_additive_mask(n: int, window: int | None, sinks: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The additive float mask (1, 1, n, n) a transformers model takes as a custom 4-D attention_mask: 0 keep, min drop.

    `window=None` gives the plain causal mask. Taught in 03_attention, § Cheaper masks on a real model.
    """
    allowed = sliding_window_mask(n, n if window is None else window, sinks)
    mask = torch.zeros(n, n, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
    return mask[None, None]


@checked
@remembered
@torch.no_grad()
def window_perplexity(model, input_ids, window: int | None = None, sinks: int = 0) -> float:
    """Perplexity of a causal LM on one sequence when every query sees only its window (plus sinks) of keys.

    Taught in 03_attention, § Cheaper masks on a real model.
    """
    check_causal_lm(model)
    ids = _as_batch(input_ids).to(model.device)
    n = ids.shape[1]
    allowed = sliding_window_mask(n, n if window is None else window, sinks)
    own = model_window(model.config)
    if own is not None:  # a custom mask replaces the model's own sliding window (Mistral), so keep it inside
        allowed &= sliding_window_mask(n, own)
    mask = torch.zeros(n, n, dtype=model.dtype).masked_fill(~allowed, torch.finfo(model.dtype).min)
    positions = torch.arange(n, device=model.device)[None]  # OPT would derive them from a 2-D mask
    logits = model(input_ids=ids, attention_mask=mask[None, None].to(model.device),
                   position_ids=positions).logits[0, :-1].float()
    nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:])
    return float(torch.exp(nll))


@checked
def chunk_block_mask(plan: ChunkPlan) -> torch.Tensor:
    """Bool (n, n), True where query i and key j share a chunk of `plan` — all that chunked attention can see.

    Taught in 03_attention, § Across chunks.
    """
    if not isinstance(plan, ChunkPlan):
        raise TypeError(f"plan must be a ChunkPlan, got {type(plan).__name__}")
    mask = torch.zeros(plan.n, plan.n, dtype=torch.bool)
    for start, end in plan.spans:
        mask[start:end, start:end] = True
    return mask
