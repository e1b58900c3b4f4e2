"""SmolLM2's tokenizer for tests: from the converted cache when it is there (well under a second), else converted once."""
from __future__ import annotations

import functools


@functools.cache
def smol_tokenizer():
    """The fast SmolLM2 tokenizer (character offsets included), shared by every test module that needs it."""
    from transformers import AutoTokenizer

    from longctx_lab import load_smollm2, smollm2_cache_path

    path = smollm2_cache_path()
    if (path / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(str(path))
    return load_smollm2()[1]
