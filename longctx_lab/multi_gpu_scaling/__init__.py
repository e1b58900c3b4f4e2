"""04_multi_gpu_scaling: segments on P real workers, measured scaling, collectives, ring attention, a cost model.

    workers.py      run_distributed: torch.distributed worker processes, free port, timeout, errors surfaced
    scaling.py      the seed's parallel_processing corrected, Amdahl's law, a DDP step, the scaling probe
    collectives.py  all-reduce / all-gather timings and their α-β fit
    ring.py         blockwise and ring attention, the causal load imbalance
    cost_model.py   a step-time model for real clusters (links, devices, workloads)
    torchrun.py     the same measurements under torchrun (`torchrun -m longctx_lab.multi_gpu_scaling.torchrun`)
    widgets.py      the live panel: the cost model
    plots.py        speedup, collectives and ring-schedule figures
    exercises.py    the chapter's exercises
"""
