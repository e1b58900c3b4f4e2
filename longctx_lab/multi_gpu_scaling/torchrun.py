"""Chapter 4's measurements under torchrun, one process per GPU (nccl) or per CPU worker (gloo).

    torchrun --nproc-per-node=2 -m longctx_lab.multi_gpu_scaling.torchrun            # 2 GPUs, or 2 CPU processes
    torchrun --nproc-per-node=4 -m longctx_lab.multi_gpu_scaling.torchrun --ring-n 8192

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous address; the worker code is the same
`scaling_probe` that `run_distributed` launches from the notebook. Rank 0 prints the results.
"""
from __future__ import annotations

import argparse
import os

import torch
import torch.distributed as dist

from ..core.i18n import N_, tr
from ..core.models import load_minilm
from .collectives import fit_alpha_beta
from .scaling import document_segments, scaling_probe
from .workers import pick_backend


def main(argv: list[str] | None = None) -> None:
    """Initialise the process group from torchrun's environment, run the probe, print rank 0's report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=64, help="segments m of the long document (default 64)")
    parser.add_argument("--k", type=int, default=128, help="tokens per segment (default 128)")
    parser.add_argument("--ring-n", type=int, default=4096, help="sequence length of the ring-attention check")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (default 3)")
    args = parser.parse_args(argv)
    backend = pick_backend(int(os.environ.get("LOCAL_WORLD_SIZE", 1)))  # nccl only with a GPU per local rank
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend)
    try:
        rank, world_size = dist.get_rank(), dist.get_world_size()
        model, tokenizer = load_minilm(device="cpu", attn_implementation="sdpa")
        point = scaling_probe(rank, world_size, model, document_segments(tokenizer, args.segments, args.k),
                              repeat=args.repeat, ring_n=args.ring_n)
        if rank == 0:
            where = torch.cuda.get_device_name() if backend == "nccl" else "CPU"
            # Printed in the learner's language (LONGCTX_LAB_LANG=zh for Chinese).
            print(tr(N_("world size {world_size}, backend {backend}, device {where}"),
                     world_size=world_size, backend=backend, where=where))
            print(tr(N_("segments: {m} x {k} tokens in {seconds:.4f} s = {rate:.1f} segments/s "
                        "(MiniLM forward, slowest rank)"), m=point.segments, k=args.k, seconds=point.seconds,
                     rate=point.throughput))
            print(tr(N_("causal ring attention n={n}: max |ring - SDPA| = {error:.2e}, score blocks per rank {blocks}"),
                     n=args.ring_n, error=point.ring_max_error, blocks=point.ring_blocks))
            for name, by_size in point.collectives.items():
                print(f"{name}: {fit_alpha_beta(list(by_size), list(by_size.values())).describe()}")
        dist.barrier()  # leave together: a gloo rank tearing down while its peer still works can abort (SIGABRT)
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
