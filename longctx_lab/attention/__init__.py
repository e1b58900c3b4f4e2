"""03_attention: attention maps, head statistics, the seed's segment attention, window + sinks, adaptive span.

    maps.py           attention maps, distance profiles and head statistics, segment attention, window masks
    adaptive_span.py  the adaptive attention span (Sukhbaatar et al. 2019) and a tiny model that learns it
    widgets.py        the live panels: one head's pattern, the span mask, bertviz views
    plots.py          heatmaps of head statistics, block masks, window perplexity
    exercises.py      the chapter's exercises
"""
