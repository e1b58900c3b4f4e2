"""Chapter 1: splitting a long sequence into m segments of length k, losslessly and as a model input.

Three layers, each checked against the one below: the plan arithmetic (`ChunkPlan`), chunking any
sequence (`split_sequence`, `chunk_ids`, `stitch`), both here, and chunking real text with a real
tokenizer (`chunk_text`, `chunk_sentences`, `batch_chunks` in `text.py`), whose overflow chunks
follow the same plan.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from ..core.checked import checked
from ..core.checks import as_int

_MAX_SPANS = 10**7  # a list of more chunk spans than this takes gigabytes; m and stride describe it without one
__all__ = ["ChunkPlan", "chunk_ids", "seed_split_sequence", "split_sequence", "stitch"]


def _check_overlap(overlap: Any, k: int, k_name: str = "k") -> int:
    return as_int("overlap", overlap, 0, k - 1, note=f"{k_name} - 1: chunks must advance")


@checked
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
        object.__setattr__(self, "n", as_int("n", self.n, 1))
        object.__setattr__(self, "k", as_int("k", self.k, 1))
        object.__setattr__(self, "overlap", _check_overlap(self.overlap, self.k))

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
        if self.m > _MAX_SPANS:
            raise ValueError(f"spans would list m={self.m:,} chunks (n={self.n}, k={self.k}); valid: m ≤ {_MAX_SPANS:,} "
                             "— use m, stride and padding, which need no list")
        return [(i * self.stride, min(i * self.stride + self.k, self.n)) for i in range(self.m)]

    @property
    def padding(self) -> int:
        """Pad tokens the last chunk needs to reach length k in an (m, k) batch."""
        return (self.m - 1) * self.stride + self.k - self.n

    @property
    def duplicated(self) -> int:
        """Tokens processed twice because chunks overlap (sum of chunk lengths minus n)."""
        return (self.m - 1) * self.overlap  # m's formula leaves every neighbouring pair a full overlap

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
        """The plan with the smallest k that covers n tokens in exactly m chunks.

        Taught in 01_chunking, § The plan arithmetic.
        """
        n = as_int("n", n, 1)
        m = as_int("m", m, 1, n)
        overlap = as_int("overlap", overlap, 0)
        # m(k) never grows with k, so the smallest k with m(k) <= m is the only candidate for m(k) == m.
        k = overlap + 1 if n <= overlap else max(overlap + 1, math.ceil((n - overlap) / m) + overlap)
        plan = cls(n, k, overlap)
        if plan.m != m:
            raise ValueError(f"no chunk length k gives exactly m={m} chunks of n={n} tokens with overlap={overlap}; "
                             f"the nearest is m={plan.m} at k={k}")
        return plan


def _check_sequence(seq: Any, name: str = "seq") -> int:
    """Length of a list/tuple/str/1-D tensor/1-D array, rejecting other types and empty input."""
    if isinstance(seq, (torch.Tensor, np.ndarray)):
        if seq.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(seq.shape)}")
    elif not isinstance(seq, (list, tuple, str)):
        raise TypeError(f"{name} must be a list, tuple, str, 1-D torch.Tensor or 1-D numpy array, "
                        f"got {type(seq).__name__}")
    if len(seq) == 0:
        raise ValueError(f"{name} is empty (length 0); there is nothing to split")
    return len(seq)


@checked(max_len=(1, None))
def seed_split_sequence(seq, max_len: int = 128):
    """The seed's §5.2 `split_sequence`, verbatim: consecutive slices, the last one short.

    Taught in 01_chunking, § The seed's split_sequence.
    """
    arrays = []
    for idx in range(0, len(seq), max_len):
        arrays.append(seq[idx:min(idx + max_len, len(seq))])
    return arrays


@checked
def split_sequence(seq: Sequence, max_len: int = 128, overlap: int = 0) -> list:
    """Cut `seq` into chunks of at most `max_len` items, consecutive chunks sharing `overlap` items.

    Chunks keep the input's type (list, tuple, str, tensor or array views); the last one may be shorter.
    With overlap=0 this is exactly the seed's function. Taught in 01_chunking, § The seed's split_sequence.
    """
    max_len = as_int("max_len", max_len, 1)
    overlap = _check_overlap(overlap, max_len, "max_len")
    plan = ChunkPlan(_check_sequence(seq), max_len, overlap)
    return [seq[start:end] for start, end in plan.spans]


@checked
def chunk_ids(ids, k: int, overlap: int = 0, pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids as an (m, k) LongTensor of chunks plus an (m, k) attention mask (1 = real token).

    When the chunks tile the ids exactly, `chunks` is a strided view of the input (no copy; a 1-D
    int64 tensor or numpy array shares its memory) and `mask` an expanded view of a single 1. Otherwise
    the ids are copied once with `padding` pad_id tokens appended to the tail of the last chunk.
    Taught in 01_chunking, § A batch without copies.
    """
    k = as_int("k", k, 1)
    overlap = _check_overlap(overlap, k)
    pad_id = as_int("pad_id", pad_id, -(2**63))
    if isinstance(ids, str):
        raise TypeError("ids must be token ids (list of ints, 1-D tensor or array), got a str; tokenize it first")
    n = _check_sequence(ids, "ids")
    if isinstance(ids, np.ndarray):
        ids = torch.from_numpy(ids)  # shares memory
    elif not isinstance(ids, torch.Tensor):
        try:
            ids = torch.tensor(ids)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"ids must contain only ints ({exc})") from None
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise TypeError(f"ids must hold integers, got dtype {ids.dtype}")
    ids = ids.long()  # no-op (same storage) for int64 input
    plan = ChunkPlan(n, k, overlap)
    if plan.padding == 0:
        chunks = ids.unfold(0, k, plan.stride)  # (m, k) view: row i starts i * stride elements in
        return chunks, torch.ones((), dtype=torch.long).expand(plan.m, k)
    padded = torch.cat([ids, ids.new_full((plan.padding,), pad_id)])  # (n + padding,)
    chunks = padded.unfold(0, k, plan.stride)  # (m, k)
    mask = torch.ones(plan.m, k, dtype=torch.long)
    mask[-1, k - plan.padding:] = 0
    return chunks, mask


def _same_items(a, b) -> bool:
    """Whether two overlap windows hold the same items (lists, strs, tensors, arrays)."""
    if isinstance(a, torch.Tensor):
        return a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b))
    return list(a) == list(b)


def stitch(chunks, overlap: int = 0, mask=None):
    """Join chunks back into the original sequence, keeping each overlap once and dropping padding.

    `chunks` is what `split_sequence` returned (a list of lists/strs/tensors/arrays) or what
    `chunk_ids` returned: the `(chunks, mask)` pair, or the (m, k) tensor with `mask=` given.
    Taught in 01_chunking, § A batch without copies.
    """
    overlap = as_int("overlap", overlap, 0)
    if isinstance(chunks, tuple) and len(chunks) == 2 and isinstance(chunks[0], torch.Tensor) and chunks[0].ndim == 2:
        if mask is not None:
            raise ValueError("mask was given twice: inside the (chunks, mask) pair and as mask=")
        chunks, mask = chunks
    if isinstance(chunks, torch.Tensor):
        return _stitch_batch(chunks, overlap, mask)
    if mask is not None:
        raise ValueError("mask is only meaningful with an (m, k) tensor of chunks from chunk_ids")
    if not isinstance(chunks, (list, tuple)):
        raise TypeError(f"chunks must be a list of chunks or an (m, k) tensor, got {type(chunks).__name__}")
    if len(chunks) == 0:
        raise ValueError("chunks is empty (length 0); there is nothing to stitch")
    first = chunks[0]
    kinds = (str, list, tuple, torch.Tensor, np.ndarray)
    kind = next((t for t in kinds if isinstance(first, t)), None)
    if kind is None or not all(isinstance(chunk, kind) for chunk in chunks):
        raise TypeError(f"chunks must all be of one type among str, list, tuple, tensor, array; "
                        f"got {sorted({type(c).__name__ for c in chunks})}")
    for i, chunk in enumerate(chunks[1:], start=1):
        if len(chunk) <= overlap:
            raise ValueError(f"chunk {i} has {len(chunk)} items but overlap={overlap}: chunks must be longer "
                             "than the overlap they share with the previous one")
        if overlap and not _same_items(chunks[i - 1][len(chunks[i - 1]) - overlap:], chunk[:overlap]):
            raise ValueError(f"overlap={overlap}, but chunk {i} does not start with the last {overlap} item(s) of "
                             f"chunk {i - 1}: stitching would drop items that differ; valid: the overlap the chunks "
                             "were split with (split_sequence(..., overlap=...))")
    pieces = [first] + [chunk[overlap:] for chunk in chunks[1:]]
    if kind is str:
        return "".join(pieces)
    if kind in (list, tuple):
        return kind(item for piece in pieces for item in piece)
    if kind is torch.Tensor:
        return torch.cat(pieces)
    return np.concatenate(pieces)


def _stitch_batch(chunks: torch.Tensor, overlap: int, mask) -> torch.Tensor:
    if chunks.ndim != 2:
        raise ValueError(f"chunks must be an (m, k) tensor, got shape {tuple(chunks.shape)}")
    m, k = chunks.shape
    _check_overlap(overlap, k)
    if overlap and m > 1 and not torch.equal(chunks[1:, :overlap], chunks[:-1, k - overlap:]):
        raise ValueError(f"overlap={overlap}, but some chunk does not start with the last {overlap} ids of the one "
                         "before: stitching would drop ids that differ; valid: the overlap chunk_ids used")
    body = torch.cat([chunks[0], chunks[1:, overlap:].reshape(-1)])  # (k + (m - 1) * stride,)
    if mask is None:
        return body
    if not isinstance(mask, torch.Tensor) or mask.shape != chunks.shape:
        raise ValueError(f"mask must be a tensor of shape {tuple(chunks.shape)}, got "
                         f"{tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__}")
    keep = torch.cat([mask[0], mask[1:, overlap:].reshape(-1)]).bool()
    return body[keep]
