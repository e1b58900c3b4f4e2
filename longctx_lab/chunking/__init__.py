"""01_chunking: m segments of length k, overlap and stride, stitching back, and chunking real text.

    plan.py       ChunkPlan (the arithmetic), split_sequence / chunk_ids / stitch, the seed's split_sequence
    text.py       tokenizer-exact text chunks with character spans, sentence-aware chunks, what they cost
    languages.py  what a tokenizer does to each language: token inflation, cut characters, bits per character
    widgets.py    the live panel: linked k, m and overlap sliders (ChunkControls) over the long document
    plots.py      the chunk strip, the cost curves and the token-inflation bars
    exercises.py  the chapter's exercises
"""
