"""Chapter 1: splitting a long sequence into m segments of length k (foundation version).

The chapter-1 work extends this module; `split_sequence` and `stitch` are the seed-compatible core.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

__all__ = ["ChunkPlan", "split_sequence", "stitch"]


def _check_int(name: str, value, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


@dataclass(frozen=True)
class ChunkPlan:
    """How n tokens split into m chunks of length k with `overlap` shared tokens (stride k - overlap).

    m = ceil((n - overlap) / (k - overlap)) when n > k, and m = 1 when n <= k.
    Taught in 01_chunking, § The plan arithmetic.
    """

    n: int
    k: int
    overlap: int = 0

    def __post_init__(self) -> None:
        _check_int("n", self.n, 1)
        _check_int("k", self.k, 1)
        _check_int("overlap", self.overlap, 0)
        if self.overlap >= self.k:
            raise ValueError(f"overlap must be in [0, k - 1] = [0, {self.k - 1}], got {self.overlap}")

    @property
    def stride(self) -> int:
        """Tokens between the starts of consecutive chunks."""
        return self.k - self.overlap

    @property
    def m(self) -> int:
        """Number of chunks."""
        if self.n <= self.k:
            return 1
        return math.ceil((self.n - self.overlap) / self.stride)

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Each chunk's token range [start, end); the last may be shorter than k."""
        return [(i * self.stride, min(i * self.stride + self.k, self.n)) for i in range(self.m)]

    @property
    def duplicated(self) -> int:
        """Tokens processed twice because chunks overlap (sum of chunk lengths minus n)."""
        return sum(end - start for start, end in self.spans) - self.n

    @property
    def chunked_scores(self) -> int:
        """Attention-score entries per head for the padded chunk batch: m * k^2."""
        return self.m * self.k * self.k

    @property
    def full_scores(self) -> int:
        """Attention-score entries per head for one pass over all n tokens: n^2."""
        return self.n * self.n

    @classmethod
    def from_m(cls, n: int, m: int, overlap: int = 0) -> "ChunkPlan":
        """The plan with the smallest k that covers n tokens in exactly m chunks."""
        _check_int("n", n, 1)
        _check_int("m", m, 1)
        _check_int("overlap", overlap, 0)
        if m > n:
            raise ValueError(f"m must be in [1, n] = [1, {n}], got {m}")
        if m == 1:
            return cls(n, n, min(overlap, n - 1))
        k = math.ceil((n - overlap) / m) + overlap
        plan = cls(n, k, overlap)
        if plan.m != m:
            raise ValueError(f"no chunk length gives exactly m={m} chunks of n={n} tokens with overlap={overlap}")
        return plan


def split_sequence(seq: Sequence, max_len: int = 128, overlap: int = 0) -> list:
    """Cut `seq` into chunks of at most `max_len` items, consecutive chunks sharing `overlap` items.

    Chunks keep the input's type (list, str, tensor, array); the last one may be shorter.
    Taught in 01_chunking, § The seed's split_sequence.
    """
    _check_int("max_len", max_len, 1)
    _check_int("overlap", overlap, 0)
    if overlap >= max_len:
        raise ValueError(f"overlap must be in [0, max_len - 1] = [0, {max_len - 1}], got {overlap}")
    if not hasattr(seq, "__len__") or not hasattr(seq, "__getitem__"):
        raise TypeError(f"seq must be a sliceable sequence (list, str, 1-D tensor or array), got {type(seq).__name__}")
    n = len(seq)
    if n == 0:
        raise ValueError("seq is empty; there is nothing to split")
    step = max_len - overlap
    starts = range(0, max(n - overlap, 1), step)
    return [seq[start:min(start + max_len, n)] for start in starts]


def stitch(chunks: Sequence, overlap: int = 0):
    """Join chunks made by `split_sequence(seq, max_len, overlap)` back into `seq`, dropping each overlap once.

    Taught in 01_chunking, § Lossless round trip.
    """
    _check_int("overlap", overlap, 0)
    if len(chunks) == 0:
        raise ValueError("chunks is empty; there is nothing to stitch")
    first = chunks[0]
    pieces = [first] + [chunk[overlap:] for chunk in chunks[1:]]
    if isinstance(first, str):
        return "".join(pieces)
    if isinstance(first, list):
        return [item for piece in pieces for item in piece]
    if isinstance(first, tuple):
        return tuple(item for piece in pieces for item in piece)
    import torch

    if isinstance(first, torch.Tensor):
        return torch.cat(list(pieces))
    import numpy as np

    return np.concatenate(pieces)
