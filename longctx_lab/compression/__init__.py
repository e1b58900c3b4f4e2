"""05_compression: pruning, int8, distillation, the retrieval yardstick, KV-cache size and quantization.

    variants.py   the compressors: prune, prune_heads, quantize_int8, cast_weights, distill
    yardstick.py  how a variant is measured: retrieval top-1, fidelity to fp32, bytes, latency
    grid.py       every (sparsity, bits) variant scored once, for the live panel
    kv_cache.py   how big the KV cache is, and what quantizing it (KIVI-style) costs
    widgets.py    the live panel: sparsity × bit width
    plots.py      the trade-off chart, KV-cache growth and quantization figures
    exercises.py  the chapter's exercises
"""
