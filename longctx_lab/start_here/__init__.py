"""00_start_here: why attention costs n² and the KV cache n, and the seed's §5 code, corrected.

    seed.py       the seed's save_model / load_model / test_model, corrected (model as an argument, tensors in)
    widgets.py    the first live panel: n and k sliders, full vs chunked attention memory
    plots.py      the concept map and the cost-growth figure
    exercises.py  the chapter's exercises
"""
