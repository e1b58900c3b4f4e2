"""Chapter 4 on CUDA: blockwise attention vs SDPA, MiniLM segments GPU vs CPU, the nccl launch path,
and (with >= 2 GPUs) scaling, collectives and ring attention over nccl. Exits cleanly without CUDA.

    python bench/scaling_gpu.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from harness import Row, print_rows  # noqa: E402

from longctx_lab import (  # noqa: E402
    blockwise_attention, document_segments, fit_alpha_beta, load_minilm, measure_scaling, parallel_processing,
)


def cuda_seconds(fn, repeat: int = 5) -> float:
    """Median seconds of fn() on the GPU, timed with CUDA events after one warm-up."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return sorted(times)[len(times) // 2]


def attention_rows(device: torch.device) -> list[Row]:
    rows = []
    for n in (4096, 16384):
        q, k, v = torch.randn(3, 1, 8, n, 64, device=device).unbind(0)  # (B, H, n, d), fp32
        error = (blockwise_attention(q, k, v, 1024, causal=True)
                 - F.scaled_dot_product_attention(q, k, v, is_causal=True)).abs().max().item()
        blockwise = cuda_seconds(lambda: blockwise_attention(q, k, v, 1024, causal=True))
        sdpa = cuda_seconds(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
        rows.append(Row(f"blockwise attention / SDPA on GPU, causal n={n} (max err {error:.1e})",
                        f"{blockwise * 1e3:.2f} ms", f"{sdpa * 1e3:.2f} ms", blockwise / sdpa))
    return rows


def main() -> int:
    if not torch.cuda.is_available():
        print("No CUDA GPU on this machine: nothing to measure (run bench/bench_scaling.py for the CPU numbers).")
        return 0
    device = torch.device("cuda")
    gpus = torch.cuda.device_count()
    print(f"{gpus} x {torch.cuda.get_device_name()}, torch {torch.__version__}")
    rows = attention_rows(device)
    model, tokenizer = load_minilm(attn_implementation="sdpa")
    segments = document_segments(tokenizer, m=256, k=128)  # (m, k)
    began = time.perf_counter()
    cpu_out = parallel_processing(model, segments[:32], batch_size=32)
    cpu_rate = 32 / (time.perf_counter() - began)
    gpu_model = model.to(device)
    gpu_seconds = cuda_seconds(lambda: parallel_processing(gpu_model, segments, batch_size=64), repeat=3)
    gpu_out = parallel_processing(gpu_model, segments[:32], batch_size=32)
    same = all(torch.allclose(a, b, atol=1e-3) for a, b in zip(cpu_out, gpu_out))
    rows.append(Row(f"MiniLM segments/s GPU vs CPU (outputs match: {same})", f"{len(segments) / gpu_seconds:.0f} seg/s",
                    f"{cpu_rate:.0f} seg/s", len(segments) / gpu_seconds / cpu_rate))
    model.cpu()
    world_sizes = (1, 2) if gpus >= 2 else (1,)
    points = measure_scaling(model, segments, world_sizes=world_sizes, threads=None, repeat=3, ring_n=16384)
    rows.append(Row(f"nccl launch P=1: causal ring n=16384 error {points[0].ring_max_error:.1e}",
                    f"{points[0].throughput:.0f} seg/s", "-", 1.0))
    if gpus >= 2:
        one, two = points
        speedup = one.seconds / two.seconds
        rows.append(Row("segment scaling P=2 over nccl: efficiency", f"P=2 {two.throughput:.0f} seg/s",
                        f"P=1 {one.throughput:.0f} seg/s", speedup / 2, ">= 0.7"))
        rows.append(Row(f"causal ring attention n=16384 P=2 / P=1 (error {two.ring_max_error:.1e})",
                        f"{two.ring_seconds * 1e3:.1f} ms", f"{one.ring_seconds * 1e3:.1f} ms",
                        two.ring_seconds / one.ring_seconds))
        by_size = two.collectives["all_reduce"]
        fit = fit_alpha_beta(list(by_size), list(by_size.values()))
        rows.append(Row("all_reduce fit over nccl, P=2: 1/beta in GB/s", f"alpha={fit.alpha * 1e6:.1f} us", "-",
                        fit.bandwidth / 1e9))
    else:
        print("1 GPU: the nccl multi-GPU rows need >= 2 GPUs "
              "(torchrun --nproc-per-node=2 -m longctx_lab.multi_gpu_scaling.torchrun).")
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
