"""Sequence parallelism: exact attention computed block by block, merged with the log-sum-exp rule.

`blockwise_attention` does it in one process; `ring_attention` splits the n tokens over P real
processes, each holding n/P queries while key/value blocks travel around a ring of point-to-point
sends, so no rank ever holds the n x n score matrix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..core.checked import checked
from ..core.checks import as_int
from .workers import rank_device, run_distributed

__all__ = [
    "RingStats",
    "attend_block",
    "blockwise_attention",
    "causal_block_counts",
    "merge_partials",
    "ring_attention",
    "ring_attention_shard",
    "ring_schedule",
]


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, same: bool = True) -> None:
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != 4 or t.shape[2] == 0:
            raise ValueError(f"{name} must have shape (B, H, n, d) with n >= 1, got {tuple(t.shape)}")
    if not same:  # a query block against a key/value block: lengths may differ, the rest must match
        if k.shape != v.shape or q.shape[:2] != k.shape[:2] or q.shape[-1] != k.shape[-1]:
            raise ValueError(f"q, k, v must be (B, H, nq, d), (B, H, nk, d), (B, H, nk, d), got {tuple(q.shape)}, "
                             f"{tuple(k.shape)}, {tuple(v.shape)}")
        return
    if q.shape != k.shape or k.shape != v.shape:
        raise ValueError(f"q, k, v must have the same shape (B, H, n, d), got {tuple(q.shape)}, "
                         f"{tuple(k.shape)}, {tuple(v.shape)}")


@checked
def attend_block(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, q_start: int = 0, k_start: int = 0,
                 causal: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax attention of a query block on one key/value block: (normalised output, log-sum-exp per query).

    `q_start`, `k_start` are the blocks' global positions (for the causal mask). A query that sees no
    key in this block gets output 0 and log-sum-exp −inf, which the merge then ignores.
    Taught in 04_multi_gpu_scaling, § Sequence parallelism.
    """
    _check_qkv(q, k, v, same=False)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # (B, H, nq, nk)
    if causal:
        q_pos = torch.arange(q_start, q_start + q.shape[-2], device=q.device)
        k_pos = torch.arange(k_start, k_start + k.shape[-2], device=q.device)
        scores = scores.masked_fill(k_pos[None, :] > q_pos[:, None], float("-inf"))
    lse = torch.logsumexp(scores, dim=-1)  # (B, H, nq)
    safe_lse = torch.where(torch.isfinite(lse), lse, torch.zeros_like(lse))
    return torch.exp(scores - safe_lse[..., None]) @ v, lse


@checked
def merge_partials(out_a: torch.Tensor, lse_a: torch.Tensor, out_b: torch.Tensor,
                   lse_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Combine two softmax-normalised partial results over disjoint key sets into one (stable form).

    lse = m + log(e^(lse_a − m) + e^(lse_b − m)) with m = max(lse_a, lse_b), and each output is
    reweighted by e^(lse_part − lse): no exponent ever exceeds 0, so nothing overflows.
    Taught in 04_multi_gpu_scaling, § Sequence parallelism.
    """
    if out_b.shape != out_a.shape:
        raise ValueError(f"out_b must have out_a's shape {tuple(out_a.shape)}, got {tuple(out_b.shape)}")
    for name, lse in (("lse_a", lse_a), ("lse_b", lse_b)):
        if lse.shape != out_a.shape[:-1]:
            raise ValueError(f"{name} must have shape {tuple(out_a.shape[:-1])} (out_a without its last dim), "
                             f"got {tuple(lse.shape)}")
    top = torch.maximum(lse_a, lse_b)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    weight_a, weight_b = torch.exp(lse_a - top), torch.exp(lse_b - top)  # (B, H, nq), each <= 1
    total = weight_a + weight_b
    out = (out_a * weight_a[..., None] + out_b * weight_b[..., None]) / total.clamp_min(1e-30)[..., None]
    return out, top + torch.log(total)


@checked
def blockwise_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, block: int,
                        causal: bool = False) -> torch.Tensor:
    """Exact attention over (B, H, n, d) tensors, scores computed `block` x `block` at a time.

    Peak score memory is block² per head instead of n²; equals scaled_dot_product_attention.
    Taught in 04_multi_gpu_scaling, § Sequence parallelism.
    """
    _check_qkv(q, k, v)
    block = as_int("block", block, 1)
    n = q.shape[2]
    outputs = []
    for q_start in range(0, n, block):
        q_blk = q[:, :, q_start:q_start + block]
        out = lse = None
        # Causal: key blocks that start after the query block's last token are skipped entirely.
        k_end = min(n, q_start + block) if causal else n
        for k_start in range(0, k_end, block):
            part = attend_block(q_blk, k[:, :, k_start:k_start + block], v[:, :, k_start:k_start + block],
                                q_start, k_start, causal)
            out, lse = part if out is None else merge_partials(out, lse, *part)
        outputs.append(out)
    return torch.cat(outputs, dim=2)


@checked
def ring_schedule(world_size: int) -> list[list[int]]:
    """schedule[step][rank] = which rank's key/value block `rank` holds at ring step `step`.

    Taught in 04_multi_gpu_scaling, § Sequence parallelism.
    """
    world_size = as_int("world_size", world_size, 1)
    return [[(rank - step) % world_size for rank in range(world_size)] for step in range(world_size)]


@checked
def causal_block_counts(world_size: int) -> list[int]:
    """Score blocks each rank computes in causal ring attention (a block is skipped if fully masked).

    Taught in 04_multi_gpu_scaling, § Memory per rank and the causal load imbalance.
    """
    schedule = ring_schedule(world_size)
    return [sum(step[rank] <= rank for step in schedule) for rank in range(world_size)]


@checked
@dataclass(frozen=True)
class RingStats:
    """What one rank did: its query count, score blocks computed, and the largest score block it held."""

    rank: int
    queries: int
    blocks_computed: int
    peak_score_elements: int  # per (batch, head): nq x nk of the largest block

    @property
    def peak_score_bytes_fp32(self) -> int:
        return 4 * self.peak_score_elements


@checked
def ring_attention_shard(q_local: torch.Tensor, k_local: torch.Tensor, v_local: torch.Tensor,
                         block_sizes: list[int], causal: bool = False) -> tuple[torch.Tensor, RingStats]:
    """Inside a process group: this rank's attention output for its query block, K/V passed around the ring.

    At each of the P steps the rank attends to the K/V block it holds, merges, then sends that block
    to rank + 1 and receives the next from rank − 1 (isend/irecv). `block_sizes[r]` is rank r's
    token count, so uneven blocks (n not divisible by P) get correctly sized receive buffers.
    Taught in 04_multi_gpu_scaling, § Sequence parallelism.
    """
    rank, world_size = dist.get_rank(), dist.get_world_size()
    starts = [sum(block_sizes[:r]) for r in range(world_size)]
    kv = torch.stack([k_local, v_local]).contiguous()  # (2, B, H, n_r, d): one message per step
    out = lse = None
    blocks = peak = 0
    for step, holders in enumerate(ring_schedule(world_size)):
        source = holders[rank]
        if step + 1 < world_size:
            incoming = kv.new_empty((2, *kv.shape[1:3], block_sizes[(source - 1) % world_size], kv.shape[-1]))
            requests = dist.batch_isend_irecv([
                dist.P2POp(dist.isend, kv, (rank + 1) % world_size),
                dist.P2POp(dist.irecv, incoming, (rank - 1) % world_size),
            ])
        # The computation overlaps the transfer of the next block.
        if not (causal and source > rank):
            part = attend_block(q_local, kv[0], kv[1], starts[rank], starts[source], causal)
            out, lse = part if out is None else merge_partials(out, lse, *part)
            blocks += 1
            peak = max(peak, q_local.shape[2] * kv.shape[3])
        if step + 1 < world_size:
            for request in requests:
                request.wait()
            kv = incoming
    return out, RingStats(rank, q_local.shape[2], blocks, peak)


def _ring_worker(rank: int, world_size: int, shards: list, block_sizes: list[int],
                 causal: bool) -> tuple[torch.Tensor, RingStats]:
    q_local, k_local, v_local = (t.to(rank_device()) for t in shards[rank])
    shards.clear()  # a real rank only ever holds its own block
    out, stats = ring_attention_shard(q_local, k_local, v_local, block_sizes, causal)
    return out.cpu(), stats


@checked
def ring_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, world_size: int, causal: bool = False,
                   backend: str | None = None, timeout: float = 120.0,
                   return_stats: bool = False) -> torch.Tensor | tuple[torch.Tensor, list[RingStats]]:
    """Exact attention of (B, H, n, d) tensors computed by `world_size` processes in a ring.

    The n tokens are split into P contiguous blocks whose sizes differ by at most one (uneven
    blocks, no padding), rank r holding queries, keys and values of block r. Equals
    scaled_dot_product_attention; with `return_stats` also returns each rank's RingStats.
    Taught in 04_multi_gpu_scaling, § Sequence parallelism.
    """
    _check_qkv(q, k, v)
    world_size = as_int("world_size", world_size, 1, q.shape[2], note="n, one token per rank at least")
    pieces = [torch.tensor_split(t.detach().cpu(), world_size, dim=2) for t in (q, k, v)]
    shards = [tuple(p[r].contiguous() for p in pieces) for r in range(world_size)]
    block_sizes = [s[0].shape[2] for s in shards]
    results = run_distributed(_ring_worker, world_size, shards, block_sizes, bool(causal),
                              backend=backend, timeout=timeout)
    out = torch.cat([r[0] for r in results], dim=2).to(device=q.device, dtype=q.dtype)
    return (out, [r[1] for r in results]) if return_stats else out
