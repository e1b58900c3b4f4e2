"""Chapter 4: segments processed by P real workers, measured scaling, a DDP step, and the launch/ring pieces.

The seed's §3.2.3 (assign segments to devices, compute in parallel, merge in order) done with
torch.distributed: gloo processes stand in for GPUs on a laptop, nccl runs the same code on GPUs.
The launcher, the collectives, ring attention and the cluster cost model live in their own files
beside this one (workers, collectives, ring, cost_model).
"""
from __future__ import annotations

import copy
import os
import time
from typing import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from ..core.checked import checked
from ..core.i18n import N_, tr
from ..core.checks import as_int, check_id_sequences
from ..core.data import load_text
from .collectives import COLLECTIVE_SIZES, collective_costs
from .ring import ring_attention_shard
from .workers import max_over_ranks, rank_device, run_distributed

__all__ = [
    "ScalingPoint",
    "amdahl_speedup",
    "ddp_gradient_worker",
    "document_segments",
    "fit_amdahl",
    "measure_scaling",
    "parallel_processing",
    "scaling_note",
    "scaling_probe",
    "segment_shares",
    "single_process_gradient",
]


@checked
def segment_shares(m: int, world_size: int) -> list[tuple[int, int]]:
    """Contiguous [start, end) ranges of the m segments for each of P ranks (sizes differ by at most 1).

    Taught in 04_multi_gpu_scaling, § The seed's parallel_processing.
    """
    m, world_size = as_int("m", m, 1), as_int("world_size", world_size, 1)
    base, extra = divmod(m, world_size)
    bounds = [0]
    for rank in range(world_size):
        bounds.append(bounds[-1] + base + (rank < extra))
    return list(zip(bounds[:-1], bounds[1:]))


@checked
def document_segments(tokenizer, m: int, k: int = 128, name: str = "long_document") -> torch.Tensor:
    """The kit text `name` as an (m, k) tensor of token ids, X = [x_1 … x_m] (the text repeats if too short).

    Taught in 04_multi_gpu_scaling, § Measured scaling.
    """
    m, k = as_int("m", m, 1), as_int("k", k, 1)
    ids = tokenizer(load_text(name), add_special_tokens=False, verbose=False)["input_ids"]
    ids = (ids * (1 + m * k // len(ids)))[:m * k]
    return torch.tensor(ids).view(m, k)  # (m, k)


def _as_sequences(sequences) -> list[torch.Tensor]:
    seqs = [torch.as_tensor(s, dtype=torch.long) for s in sequences]
    if not seqs:
        raise ValueError("sequences is empty; give at least one sequence of token ids")
    for i, s in enumerate(seqs):
        if s.dim() != 1 or s.numel() == 0:
            raise ValueError(f"sequences[{i}] must be a non-empty 1-D sequence of token ids, got shape {tuple(s.shape)}")
    return seqs


def _forward(model: torch.nn.Module, seqs: list[torch.Tensor], batch_size: int) -> list[torch.Tensor]:
    """Padded batches with an attention mask; one (len, ·) output per sequence, back on the CPU."""
    device = next(model.parameters()).device
    outputs: list[torch.Tensor] = []
    with torch.no_grad():
        for start in range(0, len(seqs), batch_size):
            batch = seqs[start:start + batch_size]
            width = max(len(s) for s in batch)
            ids = torch.zeros(len(batch), width, dtype=torch.long)
            mask = torch.zeros(len(batch), width, dtype=torch.long)
            for row, s in enumerate(batch):
                ids[row, :len(s)] = s
                mask[row, :len(s)] = 1
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device))
            hidden = out.logits if hasattr(out, "logits") else out.last_hidden_state  # (B, T, ·)
            outputs.extend(hidden[row, :len(s)].cpu() for row, s in enumerate(batch))
    return outputs


def _segment_worker(rank: int, world_size: int, model: torch.nn.Module, seqs: list[torch.Tensor],
                    batch_size: int) -> list[torch.Tensor] | None:
    start, end = segment_shares(len(seqs), world_size)[rank]
    mine = _forward(model.to(rank_device()), seqs[start:end], batch_size)
    gathered = [None] * world_size if rank == 0 else None
    dist.gather_object(mine, gathered, dst=0)  # rank order = segment order
    return [out for part in gathered for out in part] if rank == 0 else None


@checked
def parallel_processing(model: torch.nn.Module, sequences, world_size: int = 1, batch_size: int = 16,
                        backend: str | None = None, timeout: float = 300.0) -> list[torch.Tensor]:
    """Run `model` on each token-id sequence with P workers; one output per sequence, in order.

    Rank r takes a contiguous share of the sequences, runs them in padded batches with an attention
    mask (the seed passed a raw list to one device), and rank 0 gathers the shares in rank order.
    world_size=1 runs in this process. Taught in 04_multi_gpu_scaling, § The seed's parallel_processing.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    check_id_sequences("sequences", sequences)
    seqs = _as_sequences(sequences)
    world_size = as_int("world_size", world_size, 1, len(seqs), note="the number of sequences")
    if world_size == 1:
        return _forward(model, seqs, batch_size)
    # Workers get a CPU copy (each moves it to its own device); the caller's model stays where it is.
    on_cpu = all(p.device.type == "cpu" for p in model.parameters())
    shipped = model if on_cpu else copy.deepcopy(model).cpu()
    return run_distributed(_segment_worker, world_size, shipped, seqs, batch_size,
                           backend=backend, timeout=timeout)[0]


@checked
def amdahl_speedup(serial_fraction: float, world_size: float) -> float:
    """Amdahl's law: speedup 1 / (s + (1 − s)/P) when a fraction s of the work cannot be parallelised.

    Taught in 04_multi_gpu_scaling, § Measured scaling.
    """
    if not 0.0 <= serial_fraction <= 1.0:
        raise ValueError(f"serial_fraction must be in [0, 1], got {serial_fraction!r}")
    if not world_size >= 1:
        raise ValueError(f"world_size must be >= 1, got {world_size!r}")
    return 1.0 / (serial_fraction + (1.0 - serial_fraction) / world_size)


@checked
def fit_amdahl(world_sizes: Sequence[float], speedups: Sequence[float]) -> float:
    """The serial fraction s in [0, 1] whose Amdahl curve best fits the measured speedups (least squares on 1/S).

    1/S = s + (1 − s)/P is linear in s, so the fit is closed-form.
    Taught in 04_multi_gpu_scaling, § Measured scaling.
    """
    p = np.asarray(world_sizes, dtype=float)
    s = np.asarray(speedups, dtype=float)
    for name, values in (("world_sizes", p), ("speedups", s)):
        if not np.isfinite(values).all():
            raise ValueError(f"{name} holds NaN/inf ({values.tolist()}); valid: finite numbers")
    if p.shape != s.shape or p.ndim != 1 or len(p) == 0 or (p < 1).any() or (s <= 0).any():
        raise ValueError(f"world_sizes (>= 1) and speedups (> 0) must be 1-D of equal length, got {p.shape}, {s.shape}")
    slope = 1.0 - 1.0 / p  # 1/S − 1/P = s · (1 − 1/P)
    if not slope.any():
        raise ValueError("world_sizes must include some P > 1 to fit a serial fraction")
    fraction = float(np.dot(slope, 1.0 / s - 1.0 / p) / np.dot(slope, slope))
    return min(1.0, max(0.0, fraction))


def _token_loss_sum(model: torch.nn.Module, segments: torch.Tensor) -> torch.Tensor:
    """Summed next-token NLL (nats) over a (m, k) batch of segments."""
    logits = model(input_ids=segments).logits[:, :-1]  # (m, k−1, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), segments[:, 1:].reshape(-1), reduction="sum")


@checked
def single_process_gradient(model: torch.nn.Module, segments: torch.Tensor) -> dict[str, torch.Tensor]:
    """Gradient of the mean next-token loss over all segments, in one process (the reference for DDP).

    Taught in 04_multi_gpu_scaling, § Data parallel training.
    """
    model.zero_grad()
    (_token_loss_sum(model, segments) / (segments.shape[0] * (segments.shape[1] - 1))).backward()
    return {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.grad is not None}


@checked
def ddp_gradient_worker(rank: int, world_size: int, model: torch.nn.Module,
                        segments: torch.Tensor) -> dict[str, torch.Tensor]:
    """Worker: one DDP backward on this rank's share of the segments; returns the synchronised gradient.

    DDP averages gradients over ranks, so each rank scales its summed loss by P / (all tokens): the
    average is then the gradient of the global mean even when shares are uneven.
    Taught in 04_multi_gpu_scaling, § Data parallel training.
    """
    device = rank_device()
    ddp = torch.nn.parallel.DistributedDataParallel(model.to(device), device_ids=[device] if device.type == "cuda" else None)
    start, end = segment_shares(segments.shape[0], world_size)[rank]
    all_tokens = segments.shape[0] * (segments.shape[1] - 1)
    loss = _token_loss_sum(ddp, segments[start:end].to(device)) * world_size / all_tokens
    loss.backward()
    return {name: p.grad.detach().cpu() for name, p in ddp.module.named_parameters() if p.grad is not None}


@checked
@dataclass
class ScalingPoint:
    """One world size's measurements: segment-processing time, collective costs and correctness checks."""

    world_size: int
    seconds: float  # slowest rank, barrier to barrier, for all segments
    segments: int
    collectives: dict[str, dict[int, float]] = field(default_factory=dict)
    ring_max_error: float | None = None
    ring_blocks: list[int] = field(default_factory=list)
    matmul_flops: float = 0.0  # one rank's fp32 matmul rate with its threads, for the cost model
    ring_seconds: float = 0.0  # causal ring attention of (1, 4, ring_n, 32), slowest rank

    @property
    def throughput(self) -> float:
        return self.segments / self.seconds


@checked(repeat=(1, 1000), ring_n=(1, 2**16))
def scaling_probe(rank: int, world_size: int, model: torch.nn.Module, segments: torch.Tensor, repeat: int = 2,
                  ring_n: int = 67, collective_sizes: tuple[int, ...] = COLLECTIVE_SIZES) -> ScalingPoint:
    """Worker: time this rank's share of a segment forward pass, then (P > 1) collectives and a causal ring check.

    One launch per world size measures everything for that size: the forward pass, collectives, a ring check.
    Taught in 04_multi_gpu_scaling, § Measured scaling.
    """
    device = rank_device()
    model = model.to(device)
    start, end = segment_shares(segments.shape[0], world_size)[rank]
    mine = segments[start:end].to(device)
    with torch.no_grad():
        model(input_ids=mine[:1])  # warm-up: first-call allocations are not part of the work
        times = []
        for _ in range(repeat):
            dist.barrier()
            began = time.perf_counter()
            model(input_ids=mine)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(max_over_ranks(time.perf_counter() - began, device))
    point = ScalingPoint(world_size, min(times), segments.shape[0])
    a, b = torch.randn(512, 512, device=device), torch.randn(512, 512, device=device)
    a @ b  # warm-up
    began = time.perf_counter()
    for _ in range(4):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    point.matmul_flops = 4 * 2 * 512**3 / (time.perf_counter() - began)
    if world_size > 1:
        point.collectives = collective_costs(rank, world_size, collective_sizes)
    generator = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(3, 1, 4, ring_n, 32, generator=generator).unbind(0)  # same on every rank
    shares = segment_shares(ring_n, world_size)
    lo, hi = shares[rank]
    sizes = [end - start for start, end in shares]
    local = [t[:, :, lo:hi].to(device) for t in (q, k, v)]
    dist.barrier()
    began = time.perf_counter()
    out, stats = ring_attention_shard(*local, sizes, causal=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    point.ring_seconds = max_over_ranks(time.perf_counter() - began, device)
    reference = F.scaled_dot_product_attention(*(t.to(device) for t in (q, k, v)), is_causal=True)
    error = max_over_ranks((out - reference[:, :, lo:hi]).abs().max().item(), device)
    blocks = [torch.zeros(1, dtype=torch.int64, device=device) for _ in range(world_size)]
    dist.all_gather(blocks, torch.tensor([stats.blocks_computed], device=device))
    point.ring_max_error, point.ring_blocks = error, [int(b.item()) for b in blocks]
    return point


@checked
def scaling_note(points, cores: int | None = None) -> str:
    """A sentence on what was measured here: this machine's cores and each P's speedup over P = 1, as numbers.

    `points` come from `measure_scaling` (the first one is the P = 1 baseline); `cores` defaults to
    `os.cpu_count()`. With one thread per worker, P workers can use at most min(P, cores) cores.
    Taught in 04_multi_gpu_scaling, § Measured scaling.
    """
    points = list(points) if not isinstance(points, (str, bytes)) else points
    if (not isinstance(points, list) or not points or not all(isinstance(p, ScalingPoint) for p in points)
            or points[0].world_size != 1):
        raise ValueError("points must be a non-empty list of ScalingPoints from measure_scaling, starting at P = 1")
    if not all(p.seconds > 0 and np.isfinite(p.seconds) for p in points):
        raise ValueError(f"every point needs a time > 0, got {[p.seconds for p in points]}")
    if cores is None:
        cores = os.cpu_count() or 1
    if isinstance(cores, bool) or not isinstance(cores, (int, np.integer)) or cores < 1:
        raise ValueError(f"cores must be an int >= 1, got {cores!r}")
    base = points[0].seconds
    measured = []
    for point in points[1:]:
        extra = tr(N_(" (more workers than cores)")) if point.world_size > cores else ""
        measured.append(tr(N_("P = {P}: {speedup:.2f}× the speed of P = 1{extra}"),
                           P=point.world_size, speedup=base / point.seconds, extra=extra))
    sentence = tr(N_("This machine has 1 CPU core, so P workers can use at most min(P, 1) of them.") if cores == 1 else
                  N_("This machine has {cores} CPU cores, so P workers can use at most min(P, {cores}) of them."),
                  cores=cores)
    return sentence + (tr(N_(" Measured: {points}."), points=tr(N_("; ")).join(measured)) if measured else "")


@checked(repeat=(1, 1000), ring_n=(1, 2**16), threads=(1, 1024), timeout=(0, 86400, True))
def measure_scaling(model: torch.nn.Module, segments: torch.Tensor, world_sizes: Sequence[int] = (1, 2, 4), threads: int | None = 1,
                    repeat: int = 2, ring_n: int = 67, timeout: float = 300.0) -> list[ScalingPoint]:
    """One `scaling_probe` launch per world size; `threads=1` so P = 1 really uses one core.

    Taught in 04_multi_gpu_scaling, § Measured scaling.
    """
    if not isinstance(segments, torch.Tensor) or segments.dim() != 2:
        raise ValueError(f"segments must be a (m, k) tensor of token ids, got {getattr(segments, 'shape', segments)!r}")
    for p in world_sizes:
        if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= segments.shape[0]:
            raise ValueError(f"world_sizes must be ints in [1, m={segments.shape[0]}], got {p!r}")
    return [run_distributed(scaling_probe, p, model, segments, repeat, ring_n, threads=threads, timeout=timeout)[0]
            for p in world_sizes]
