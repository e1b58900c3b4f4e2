"""Chapter 5's grid of variants: MiniLM pruned to each sparsity, stored at each bit width, each scored once.

The live panel (`widgets.py`) only shows this grid; the scoring happens here, once, with a progress bar.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import torch
from tqdm.auto import tqdm

from ..core.checked import checked
from ..core.i18n import N_, tr
from ..core.result_store import remembered
from .variants import cast_weights, prune, quantize_int8
from .yardstick import VariantReport, evaluate_variant

if TYPE_CHECKING:
    from ..core.panels import ResultCache

__all__ = ["BIT_LABELS", "build_variant", "compression_grid"]

BIT_LABELS = {32: "fp32", 16: "bf16", 8: "int8"}


@checked
def build_variant(model, sparsity: float, bits: int):
    """MiniLM pruned to `sparsity` (global magnitude), then stored at `bits` (32 fp32, 16 bf16, 8 int8).

    Taught in 05_compression, § The live panel.
    """
    _check_bits([bits])
    return _store_at(prune(model, sparsity), bits)


def _check_bits(bits: Sequence[int]) -> None:
    unknown = [b for b in bits if b not in BIT_LABELS]
    if unknown:
        raise ValueError(f"bits must be one of {sorted(BIT_LABELS)}, got {unknown[0]!r}")


def _store_at(model, bits: int):
    """The (already pruned) model stored at `bits`: as is (32), a bf16 copy (16) or dynamic int8 (8)."""
    if bits == 16:
        return cast_weights(model, torch.bfloat16)
    return quantize_int8(model) if bits == 8 else model


@checked
def compression_grid(model, tokenizer, items: list[dict], reference: torch.Tensor,
                     sparsities: Sequence[float] = (0.0, 0.25, 0.5, 0.75), bits: Sequence[int] = (32, 16, 8),
                     cache: ResultCache | None = None) -> dict[tuple[float, int], VariantReport]:
    """Score every (sparsity, bits) variant on the yardstick once (progress bar), served from `cache` after.

    Taught in 05_compression, § The live panel.
    """
    from ..core.panels import ResultCache  # here: the panels module brings ipywidgets along

    _check_bits(bits)  # before any scoring, not after minutes of it
    cache = cache if cache is not None else ResultCache()
    settings = [(s, b) for s in sparsities for b in bits]
    missing = tuple((s, b) for s, b in settings if ("minilm", s, b) not in cache)
    scored = _score_variants(model, tokenizer, items, reference, missing) if missing else {}
    return {(s, b): cache.get(("minilm", s, b), lambda: scored[(s, b)]) for s, b in settings}


@remembered
def _score_variants(model, tokenizer, items: list[dict], reference: torch.Tensor,
                    settings: tuple[tuple[float, int], ...]) -> dict[tuple[float, int], VariantReport]:
    """Every (sparsity, bits) variant in `settings` built and scored once: one stored result for the whole grid.

    Stored as a whole because building a variant (global magnitude pruning sorts every weight, int8 packs
    every layer) costs about as much as scoring it, so a chapter's second run would otherwise redo most of it.
    """
    reports, pruned = {}, {}
    for s, b in tqdm(settings, desc=tr(N_("scoring compressed variants"))):
        if s not in pruned:  # one pruned copy per sparsity, shared by its bit widths
            pruned[s] = prune(model, s)
        reports[(s, b)] = evaluate_variant(f"{BIT_LABELS[b]} {int(round(s * 100))}%", _store_at(pruned[s], b),
                                           tokenizer, items, reference)
    return reports
