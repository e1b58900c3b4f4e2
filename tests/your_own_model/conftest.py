"""Chapter 7's fixtures: the random models of tests/test_architectures.py with SmolLM2's tokenizer, saved once."""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from ..test_architectures import FAMILIES, model, smollm2_tokenizer

DECODERS = [f for f in FAMILIES if f != "bert"]


@functools.lru_cache(maxsize=None)
def family_model(family: str):
    """(model, tokenizer): the family's small random model over SmolLM2's 49152-token vocabulary."""
    tokenizer = smollm2_tokenizer()
    return model(family, len(tokenizer), small=True), tokenizer


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory) -> dict[str, Path]:
    """Each family's model and tokenizer written with save_pretrained, as a learner's own folder would be."""
    folders = {}
    for family in FAMILIES:
        m, tokenizer = family_model(family)
        folder = tmp_path_factory.mktemp(f"model-{family}")
        m.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders[family] = folder
    return folders
