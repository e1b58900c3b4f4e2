"""06_context_extension: RoPE, its scaling methods, perplexity past the trained length, needle / pass-key trials.

    rope.py       RoPE from scratch, linear / NTK / dynamic / YaRN / llama3 scaling, the model with it swapped in
    needle.py     perplexity past the trained length, pass-key trials, retrieval instead of context, the cached
                  results (`python -m longctx_lab.context_extension.needle --precompute`)
    chinese.py    the Chinese haystack: needle trials in the Daodejing with an English or a Chinese needle, their
                  table, the cached grid (`python -m longctx_lab.context_extension.chinese --precompute`)
    precompute.py the `--precompute` command line both cached-results files share, and the versions they record
    widgets.py    the live panels: RoPE frequencies per method and factor, the needle grid
    plots.py      frequency, perplexity, needle-heatmap and attention-mass figures
    exercises.py  the chapter's exercises
"""
