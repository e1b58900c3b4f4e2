"""Chapter 7's stored report cards: SmolLM2 with and without YaRN ×2 at the default 8,192 tokens, measured once.

A default card takes about 3½ minutes on two CPU cores (the pair: 7), too long for a classroom cell, so
data/report_cards/ keeps the two cards the notebook shows, made by `compute_stored_cards` with exactly the
arguments of the command line's defaults. `python -m longctx_lab.your_own_model.stored --precompute` makes them
again; `recheck_card` recomputes the card's shortest row live (every pass-key trial at that length and the loss
of its first tokens) and compares, so a stored card cannot silently drift from the code.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..core.checked import checked
from ..core.checks import check_choice
from ..core.data import bundled_text, data_dir
from ..context_extension.needle import long_context_nll
from . import measurements as M
from .report import ReportCard, report_card

__all__ = ["STORED_CARDS", "compute_stored_cards", "load_stored_card", "recheck_card", "stored_card_path"]

# key: (name on the card, RoPE method, factor); the lengths are report_card's defaults (8,192 tokens)
STORED_CARDS = {"smollm2": ("SmolLM2-135M", "none", 1.0), "smollm2-yarn2": ("SmolLM2 + YaRN x2", "yarn", 2.0)}
FOLDER = "report_cards"


@checked
def stored_card_path(key: str) -> Path:
    """Where the stored card `key` lives: data/report_cards/<key>.json.

    Taught in 07_your_own_model, § The report card.
    """
    check_choice("key", key, tuple(STORED_CARDS))
    return data_dir() / FOLDER / f"{key}.json"


@checked
def load_stored_card(key: str) -> ReportCard:
    """The stored report card `key` ("smollm2" or "smollm2-yarn2"), as measured by `compute_stored_cards`.

    Taught in 07_your_own_model, § The report card.
    """
    path = stored_card_path(key)
    if not path.is_file():
        raise ValueError(f"key={key!r}: {path} is missing; make it with "
                         "python -m longctx_lab.your_own_model.stored --precompute")
    return ReportCard.load(path)


@checked
def compute_stored_cards(model, tokenizer, max_tokens: int | None = None) -> dict[str, ReportCard]:
    """Measure every card of STORED_CARDS on the kit's long document (max_tokens None: the default 8,192).

    What the notebook's `RECOMPUTE = True` runs. Taught in 07_your_own_model, § The report card.
    """
    text = bundled_text("long_document")  # the stored cards are the kit's, whatever text a learner set
    return {key: report_card(model, tokenizer, text=text, max_tokens=max_tokens, method=method, factor=factor,
                             name=name)
            for key, (name, method, factor) in STORED_CARDS.items()}


@checked
def recheck_card(card: ReportCard, model, tokenizer, text: str | None = None) -> dict:
    """Recompute a card's shortest row live: pass keys at every depth and the loss of its first tokens; compare.

    `text`: the text the card was measured on (None: the kit's long document, as for the stored cards,
    even while your own text is in use).
    The loss by position at positions below the shortest length L does not depend on the tokens after them
    (the mask is causal), so one forward pass over L tokens must give the card's first loss bins.
    Returns {"length", "found", "rank", "stored_found", "stored_rank", "nll", "stored_nll", "agrees"};
    `agrees` allows the loss bins 0.01 nats (another CPU's last digits) and no change in found or rank.
    Taught in 07_your_own_model, § The report card.
    """
    settings = card.settings
    length, method, factor = settings["lengths"][0], settings["method"], settings["factor"]
    ids, _ = M.report_text_ids(tokenizer, bundled_text("long_document") if text is None else text, length)
    grid = M.measure_needle_grid(model, tokenizer, [length], settings["depths"], method, factor)
    nll = long_context_nll(model, ids, method, factor)  # (length − 1,)
    edges = [e for e in card.sections["loss"]["edges"] if e <= length]
    bins = [round(float(nll[a - 1:b - 1].mean()), 4) for a, b in zip(edges[:-1], edges[1:])]
    stored = card.sections["needle"]
    result = {"length": length, "found": grid["found"][0], "rank": grid["rank"][0],
              "stored_found": stored["found"][0], "stored_rank": stored["rank"][0],
              "nll": bins, "stored_nll": card.sections["loss"]["nll"][:len(bins)]}
    result["agrees"] = (result["found"] == result["stored_found"] and result["rank"] == result["stored_rank"]
                        and all(math.isclose(a, b, abs_tol=0.01) for a, b in zip(bins, result["stored_nll"])))
    return result


def _precompute() -> None:
    import argparse
    import time

    from ..core.pretrained import load_pretrained

    parser = argparse.ArgumentParser(description="Measure chapter 7's stored report cards (about 7 min on 2 cores).")
    parser.add_argument("--precompute", action="store_true", help="measure every stored card and write its JSON")
    args = parser.parse_args()
    if not args.precompute:
        parser.error("nothing to do: pass --precompute")
    started = time.perf_counter()
    model, tokenizer = load_pretrained("smollm2")
    for key, card in compute_stored_cards(model, tokenizer).items():
        path = stored_card_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {k: v for k, v in card.as_dict().items() if k != "verdict_sentence"}  # rendered in the reader's language
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path} ({card.elapsed_s} s measuring)")
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    _precompute()
