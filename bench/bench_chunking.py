"""Chapter 1 benchmarks: chunk_ids vs the seed's list slicing, chunk_text vs the tokenizer's own overflow
call, and the live panel's redraw latency. Each ratio compares two things measured in this run."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).parent))
from harness import Row, latencies, print_rows  # noqa: E402

from longctx_lab import ChunkPlan, chunk_ids, chunk_text, load_minilm, load_text, seed_split_sequence  # noqa: E402
from longctx_lab.chunking.widgets import document_token_count, render_chunk_view  # noqa: E402
from longctx_lab.core.drawing import figure_fingerprint  # noqa: E402
from longctx_lab.core.timing import alternating_medians  # noqa: E402

N_IDS = 10**6


def _extra_bytes(ids: torch.Tensor, chunks: torch.Tensor, mask: torch.Tensor) -> int:
    """Bytes allocated by chunk_ids beyond the input: new storages only (views and expanded masks are free)."""
    shared = ids.untyped_storage().data_ptr()
    extra = 0 if chunks.untyped_storage().data_ptr() == shared else chunks.untyped_storage().nbytes()
    return extra + (0 if mask.stride() == (0, 0) else mask.untyped_storage().nbytes())


def bench_chunk_ids() -> list[Row]:
    ids = torch.randint(0, 30_000, (N_IDS,))
    id_list = ids.tolist()
    rows = []
    for k, overlap in ((500, 0), (512, 64), (512, 0), (512, 100)):
        plan = ChunkPlan(N_IDS, k, overlap)
        case = f"overlap {overlap}, " + ("padded tail: one copy" if plan.padding else "exact tiling: a view")
        seed = (lambda: seed_split_sequence(id_list, max_len=k)) if overlap == 0 else (
            lambda: [id_list[s:e] for s, e in plan.spans])
        times = alternating_medians({"kit": lambda: chunk_ids(ids, k, overlap), "seed": seed}, repeat=7)
        chunks, mask = chunk_ids(ids, k, overlap)
        extra = _extra_bytes(ids, chunks, mask)
        rows.append(Row(f"chunk_ids n=1e6 k={k} {case}",
                        f"kit {times['kit'] * 1e6:.0f} us, extra {extra / 2**20:.1f} MiB "
                        f"(pad {plan.padding} tokens)",
                        f"list slicing {times['seed'] * 1e3:.1f} ms", times["seed"] / times["kit"], ">= 50x"))
    return rows


def bench_chunk_text() -> list[Row]:
    _, tokenizer = load_minilm()
    document = load_text("long_document")
    n_doc = document_token_count(document, tokenizer)
    text = "\n\n".join([document] * -(-100_000 // n_doc))  # >= 100k tokens
    n_tokens = document_token_count(text, tokenizer)

    def overflow():
        return tokenizer(text, truncation=True, max_length=512, return_overflowing_tokens=True, stride=64)

    times = alternating_medians({"kit": lambda: chunk_text(text, tokenizer, 512, stride=64), "tok": overflow}, repeat=5)
    return [Row(f"chunk_text {n_tokens / 1000:.0f}k tokens, 512/64", f"kit {times['kit'] * 1e3:.0f} ms",
                f"tokenizer overflow {times['tok'] * 1e3:.0f} ms", times["kit"] / times["tok"], "<= 1.2")]


def bench_panel() -> list[Row]:
    n = document_token_count()
    settings = [(k, overlap) for k in (16, 32, 64, 126, 256, 510) for overlap in (0, k // 4, k - 1)]

    def render(draw: bool) -> Callable[[], object]:
        calls = iter(settings * 20)

        def call():
            k, overlap = next(calls)
            view = render_chunk_view(n, k, ChunkPlan(n, k, overlap).m, overlap)
            if draw:  # rasterise it, as the notebook front end does when it shows the figure
                figure_fingerprint(view.figure)
        return call

    rows = []
    for draw, label in ((False, "render"), (True, "render + draw")):
        median, p95 = latencies(render(draw), calls=100)
        rows.append(Row(f"panel {label}, 100 calls (p95 in ms)", f"median {median * 1e3:.0f} ms",
                        "goal p95 100 ms", p95 * 1e3, "< 100"))
    return rows


def run() -> list[Row]:
    return bench_chunk_ids() + bench_chunk_text() + bench_panel()


if __name__ == "__main__":
    print_rows(run())
