"""Why people segment anyway: gradients accumulated segment by segment, forward cost, and where phrases fall."""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass

import torch

from ..core.checked import checked
from ..chunking.plan import ChunkPlan
from ..core.checks import as_ids, as_int, check_causal_lm, check_length
from ..core.result_store import computing_afresh
from .loss import _windows_nll

__all__ = ["SegmentGradients", "segment_gradients", "phrase_token_spans", "recurring_phrases", "forward_cost"]


@checked
@dataclass(frozen=True)
class SegmentGradients:
    """Gradient of the disjoint objective Σᵢ Lᵢ and the activation bytes autograd had to keep for it.

    Taught in 02_segment_loss, § The training side.
    """

    total: float
    grads: dict[str, torch.Tensor]
    saved_bytes: int  # peak bytes of activations saved for backward at once
    backward_passes: int


class _SavedBytes:
    """Counts the bytes of distinct non-parameter tensors autograd saves for backward."""

    def __init__(self, model) -> None:
        self.skip = {p.untyped_storage().data_ptr() for p in model.parameters()}
        self.seen: set[int] = set()
        self.bytes = 0

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in self.skip and storage.data_ptr() not in self.seen:
            self.seen.add(storage.data_ptr())
            self.bytes += storage.nbytes()
        return tensor


@checked
def segment_gradients(model, input_ids, k: int, accumulate: bool = True) -> SegmentGradients:
    """∇θ of L = Σᵢ Lᵢ over disjoint segments of k: one batched backward, or accumulated one segment at a time.

    Both give the same gradient (L is a sum); accumulating keeps only one segment's activations alive.
    Taught in 02_segment_loss, § The training side.
    """
    device, max_positions = check_causal_lm(model)
    ids = as_ids(input_ids)
    k = as_int("k", k, 2)
    check_length("k", min(k, ids.numel()), max_positions, "one segment must fit the positions")
    spans = ChunkPlan(ids.numel(), k).spans
    groups = [[span] for span in spans] if accumulate else [spans]
    model.zero_grad(set_to_none=True)
    total, peak = 0.0, 0
    with torch.enable_grad():
        for group in groups:
            meter = _SavedBytes(model)
            with torch.autograd.graph.saved_tensors_hooks(meter.pack, lambda tensor: tensor):
                nll, valid = _windows_nll(model, ids, group, device)
                loss = nll[valid].sum()  # this group's share of Σᵢ Lᵢ
            loss.backward()  # .grad accumulates across groups
            total += float(loss.detach())
            peak = max(peak, meter.bytes)
    grads = {name: p.grad.detach() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return SegmentGradients(total, grads, peak, len(groups))


@checked
def phrase_token_spans(tokenizer, text: str, phrase: str, n_tokens: int) -> list[tuple[int, int]]:
    """Token ranges [start, end) of every mention of `phrase` in `text` that lies inside its first n_tokens tokens.

    Taught in 02_segment_loss, § Facts that recur far apart.
    """
    if not isinstance(phrase, str) or not phrase:
        raise ValueError(f"phrase must be a non-empty str, got {phrase!r}")
    offsets = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)["offset_mapping"][:n_tokens]
    return _mention_spans(offsets, text, phrase)


def _mention_spans(offsets: list[tuple[int, int]], text: str, phrase: str) -> list[tuple[int, int]]:
    """Token ranges of each mention of `phrase`, given the tokens' character offsets into `text`."""
    spans = []
    for match in re.finditer(re.escape(phrase), text):
        inside = [t for t, (start, end) in enumerate(offsets) if start < match.end() and end > match.start()]
        if inside:
            spans.append((inside[0], inside[-1] + 1))
    return spans


# Candidate phrases: a run of capitalised words (names: "Greywater Junction"), a long lower-case word, or two to
# four Chinese characters (Chinese has no spaces, so every short run is a candidate word).
_CANDIDATE = re.compile(r"[A-Z][^\W\d_]+(?:[ -][A-Z][^\W\d_]+)*|[^\W\d_A-Z]{7,}|[\u4e00-\u9fff]{2,4}")


@checked
def recurring_phrases(tokenizer, text: str, per_token: torch.Tensor, k: int, top: int = 4) -> list[str]:
    """Phrases of `text` mentioned again in a later segment of k, those costliest at first sight first.

    `per_token` is a full-context run's per-token NLL (entry t = NLL of token t) over the first
    len(per_token) tokens. A phrase qualifies when it spans at least two tokens and a later mention starts
    in a later segment than the first; it is ranked by the NLL of its first mention's tokens after the
    first (what copying can save). Taught in 02_segment_loss, § Facts that recur far apart.
    """
    k, top = as_int("k", k, 2), as_int("top", top, 1)
    if per_token.dim() != 1:
        raise ValueError(f"per_token must be 1-D (one NLL per token), got shape {tuple(per_token.shape)}")
    n_tokens = per_token.numel()
    offsets = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)["offset_mapping"][:n_tokens]
    seen, scored = set(), []
    for match in _CANDIDATE.finditer(text):
        phrase = match.group()
        if phrase in seen:
            continue
        seen.add(phrase)
        if len(re.findall(re.escape(phrase), text)) < 2:
            continue
        spans = _mention_spans(offsets, text, phrase)
        if len(spans) < 2 or spans[0][1] - spans[0][0] < 2:
            continue
        (s0, e0), later = spans[0], [s for s, _ in spans[1:] if s // k > spans[0][0] // k]
        if later:
            scored.append((float(per_token[s0 + 1:e0].nansum()), phrase))
    chosen: list[str] = []
    for _, phrase in sorted(scored, key=lambda item: (-item[0], item[1])):
        if not any(phrase in other or other in phrase for other in chosen):  # "Hill" once "Skelding Hill" is in
            chosen.append(phrase)
        if len(chosen) == top:
            break
    return chosen


# Lines the profiler's C++ side (kineto) writes straight to file descriptor 2 at every start and stop,
# whatever KINETO_LOG_LEVEL says: "USDT:<date> <pid>:<tid> SyncActivityProfilerHandler.cpp:52] profiler_start".
_PROFILER_CHATTER = re.compile(r"^(USDT|STAGE|INFO):\S+ \S+ \d+:\d+ \S+\.cpp:\d+\]")


@contextlib.contextmanager
def _without_profiler_chatter():
    """Catch what native code writes to fd 2 meanwhile; pass on every line except the profiler's chatter."""
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all: nothing to catch
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as caught:
        sys.stderr.flush()
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode(errors="replace").splitlines(keepends=True)
                    if not _PROFILER_CHATTER.match(line)]
            if kept:
                sys.stderr.write("".join(kept))


@checked
def forward_cost(fn, device: str | torch.device = "cpu") -> tuple[float, int]:
    """Wall time (s) of a plain fn() run and the peak bytes of tensor memory fn allocates on `device`.

    CPU: a second, profiled run replays torch.profiler's allocation/free events; CUDA: max_memory_allocated.
    Taught in 02_segment_loss, § The cost side.
    """
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    with torch.no_grad(), computing_afresh():  # time the work, not a result read back from the store
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        return time.perf_counter() - start, torch.cuda.max_memory_allocated(device) - base
    seconds = time.perf_counter() - start
    from torch.profiler import ProfilerActivity, profile

    with _without_profiler_chatter(), computing_afresh():
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof, torch.no_grad():
            fn()
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]")
    current = peak = 0
    for _, nbytes in events:  # allocations are positive, frees negative
        current += nbytes
        peak = max(peak, current)
    return seconds, peak
