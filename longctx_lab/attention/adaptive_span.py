"""Chapter 3: the adaptive attention span (Sukhbaatar et al. 2019) and a tiny model that learns one span per head.

Each head h has a learnable z_h; attention at distance x is multiplied by the soft mask
m_z(x) = clamp((R + z - x) / R, 0, 1) after the softmax and renormalised, and a penalty on the spans
makes every head keep only as much context as the task pays for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..core.checked import checked
from ..core.result_store import remembered
from ..core.checks import as_float, as_int

__all__ = [
    "AdaptiveSpan",
    "SpanTask",
    "SpanTrainingResult",
    "SpanTransformer",
    "adaptive_span_mask",
    "make_span_task",
    "train_adaptive_span",
]


@checked(span=(1, 2**24))
def adaptive_span_mask(span: int, z, R: float) -> torch.Tensor:
    """The soft span mask m_z(x) = clamp((R + z - x) / R, 0, 1) for distances x = 0 … span - 1.

    `z` may be a number (result shape (span,)) or a tensor of per-head z (result shape z.shape + (span,)).
    Taught in 03_attention, § Adaptive attention span.
    """
    span = as_int("span", span, 1)
    as_float("R", R, 0, low_open=True, note="the ramp length")
    z = torch.as_tensor(z, dtype=torch.float32)
    distance = torch.arange(span, dtype=torch.float32, device=z.device)
    return ((R + z[..., None] - distance) / R).clamp(0.0, 1.0)


@checked(n_heads=(1, 4096), max_span=(1, 2**20))
class AdaptiveSpan(nn.Module):
    """Learnable span per head: masks post-softmax attention (B, H, T, T) by distance and renormalises each row.

    z_h = fraction_h · max_span with fraction_h ∈ [0, 1] learnable. Taught in 03_attention, § Adaptive attention span.
    """

    def __init__(self, n_heads: int, max_span: int, ramp: float = 8.0, init_fraction: float = 1.0):
        super().__init__()
        n_heads, max_span = as_int("n_heads", n_heads, 1), as_int("max_span", max_span, 1)
        init_fraction = as_float("init_fraction", init_fraction, 0, 1)
        adaptive_span_mask(max_span, 0.0, ramp)  # validates ramp
        self.max_span, self.ramp = max_span, float(ramp)
        self.fraction = nn.Parameter(torch.full((n_heads,), float(init_fraction)))

    @property
    def z(self) -> torch.Tensor:
        """Per-head z in tokens, shape (H,)."""
        return self.fraction.clamp(0.0, 1.0) * self.max_span

    def spans(self) -> torch.Tensor:
        """Per-head effective span z + R (beyond it the mask is 0), capped at max_span."""
        return (self.z + self.ramp).clamp(max=self.max_span).detach()

    def penalty(self) -> torch.Tensor:
        """Mean z as a fraction of max_span: the term added (times λ) to the loss (the paper's L1 on the spans)."""
        return (self.z / self.max_span).mean()

    def forward(self, attn: torch.Tensor) -> torch.Tensor:
        if attn.ndim != 4 or attn.shape[1] != self.fraction.shape[0] or attn.shape[-1] != attn.shape[-2]:
            raise ValueError(f"attn must have shape (B, H={self.fraction.shape[0]}, T, T), got {tuple(attn.shape)}")
        t = attn.shape[-1]
        positions = torch.arange(t, device=attn.device)
        distance = (positions[:, None] - positions[None, :]).clamp(min=0)  # (T, T); future keys are 0 anyway
        mask = adaptive_span_mask(max(self.max_span, t), self.z, self.ramp)  # (H, max(span, T))
        mask = torch.where(torch.arange(mask.shape[-1], device=attn.device) < self.max_span, mask, 0.0)
        masked = attn * mask[:, distance]  # (B, H, T, T)
        return masked / masked.sum(-1, keepdim=True).clamp_min(1e-12)


@checked
@dataclass
class SpanTask:
    """A batch of the synthetic task: copy the previous token, except at query tokens, answer the key at position 0.

    Taught in 03_attention, § Training a span per head.
    """

    input_ids: torch.Tensor  # (B, T)
    targets: torch.Tensor  # (B, T), -100 where nothing is scored
    is_query: torch.Tensor  # (B, T) bool
    n_keys: int
    vocab_size: int


@checked(batch=(1, 2**16), length=(1, 2**16), n_keys=(1, None), n_fillers=(1, None), n_queries=(1, None))
def make_span_task(batch: int, length: int, n_keys: int = 8, n_fillers: int = 16, n_queries: int = 4,
                   generator: torch.Generator | None = None) -> SpanTask:
    """Sequences [key, fillers …] with `n_queries` query tokens in the second half: short- and long-range at once.

    Taught in 03_attention, § Training a span per head.
    """
    length = as_int("length", length, 8)
    n_queries = as_int("n_queries", n_queries, 1, length // 2 - 1, note="length // 2 - 1")
    query_id = n_keys + n_fillers
    ids = torch.randint(n_keys, n_keys + n_fillers, (batch, length), generator=generator)
    ids[:, 0] = torch.randint(0, n_keys, (batch,), generator=generator)
    # Query positions: distinct, in the second half, so a key lookup spans at least length / 2 tokens.
    offsets = torch.rand(batch, length - length // 2, generator=generator).argsort(-1)[:, :n_queries]
    is_query = torch.zeros(batch, length, dtype=torch.bool)
    is_query.scatter_(1, offsets + length // 2, True)
    ids[is_query] = query_id
    targets = torch.full_like(ids, -100)
    targets[:, 1:] = ids[:, :-1]
    targets[is_query] = ids[:, :1].expand(-1, length)[is_query]
    return SpanTask(ids, targets, is_query, n_keys, query_id + 1)


@checked(vocab_size=(1, None), d_model=(1, 4096), n_heads=(1, 64), max_span=(1, 2**16))
class SpanTransformer(nn.Module):
    """One causal attention layer with a relative-position bias and an AdaptiveSpan per head, then an MLP readout.

    Taught in 03_attention, § Training a span per head.
    """

    def __init__(self, vocab_size: int, d_model: int = 32, n_heads: int = 4, max_span: int = 64, ramp: float = 8.0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.n_heads, self.d_head, self.max_span = n_heads, d_model // n_heads, max_span
        self.embed = nn.Embedding(vocab_size, d_model)
        self.position_bias = nn.Parameter(torch.zeros(n_heads, max_span))  # a learnable score per head and distance
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.span = AdaptiveSpan(n_heads, max_span, ramp)
        self.readout = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, 4 * d_model), nn.GELU(),
                                     nn.Linear(4 * d_model, vocab_size))

    def forward(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, T, V) and the span-masked attention (B, H, T, T)."""
        b, t = input_ids.shape
        if t > self.max_span:
            raise ValueError(f"input length {t} exceeds max_span={self.max_span}")
        x = self.embed(input_ids)
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)  # each (B, H, T, dh)
        positions = torch.arange(t, device=x.device)
        distance = positions[:, None] - positions[None, :]  # (T, T)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head) + self.position_bias[:, distance.clamp(min=0)]
        scores = scores.masked_fill(distance < 0, float("-inf"))
        attn = self.span(scores.softmax(-1))
        mixed = (attn @ v).transpose(1, 2).reshape(b, t, -1)
        return self.readout(x + self.out(mixed)), attn


@checked
@dataclass
class SpanTrainingResult:
    """A trained SpanTransformer, its learned per-head spans and accuracies on fresh data.

    Taught in 03_attention, § Training a span per head.
    """

    model: SpanTransformer
    spans: list[float]  # effective span z + R per head, tokens
    copy_accuracy: float  # previous-token positions
    lookup_accuracy: float  # query positions (key at distance >= length / 2)
    losses: list[float]


@checked(lr=(0, None, True), steps=(1, 10**6), batch=(1, 2**16), length=(1, 2**16))
@remembered
def train_adaptive_span(steps: int = 400, length: int = 48, n_heads: int = 4, span_penalty: float = 0.02,
                        batch: int = 32, lr: float = 1e-2, seed: int = 0) -> SpanTrainingResult:
    """Train a SpanTransformer on `make_span_task` with loss = cross-entropy + span_penalty · mean span fraction.

    Taught in 03_attention, § Training a span per head.
    """
    steps = as_int("steps", steps, 1)
    span_penalty = as_float("span_penalty", span_penalty, 0)
    # Seeded inside fork_rng: the same weights every run, and the caller's global RNG is left as it was.
    # One thread: a parallel reduction sums in an order that depends on the core count, and 400 Adam
    # steps amplify that last bit into a different span; one thread gives the same run on every re-run
    # of a machine (other CPUs still differ in their vector code, so 03 checks ranges, not digits).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            generator = torch.Generator().manual_seed(seed)
            probe = make_span_task(1, length, generator=generator)
            model = SpanTransformer(probe.vocab_size, n_heads=n_heads, max_span=length)
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            losses = []
            for _ in range(steps):
                task = make_span_task(batch, length, generator=generator)
                logits, _ = model(task.input_ids)
                loss = nn.functional.cross_entropy(logits.flatten(0, 1), task.targets.flatten())
                optimizer.zero_grad()
                (loss + span_penalty * model.span.penalty()).backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            with torch.no_grad():
                task = make_span_task(256, length, generator=generator)
                correct = model(task.input_ids)[0].argmax(-1) == task.targets
                scored = task.targets != -100
                copy = float(correct[scored & ~task.is_query].float().mean())
                lookup = float(correct[task.is_query].float().mean())
            return SpanTrainingResult(model.eval(), [float(s) for s in model.span.spans()], copy, lookup, losses)
    finally:
        torch.set_num_threads(threads)
