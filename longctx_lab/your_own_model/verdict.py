"""The report card's verdict: the longest context this model effectively uses on this text, and which limit bound it.

A measured length L counts as used when three things hold at L and at every shorter measured length:
  1. the pass key is found (greedy answer holds it) at every depth tried;
  2. perplexity in L's last half (L/2, L] has not blown up: at most BLOWUP × the in-window level;
  3. the far context still helps: the tokens in (L/2, L] have a lower mean loss with all L tokens before them than
     when their context starts at L/2 (by more than MIN_GAIN nats). Same tokens both ways, so a harder stretch
     of text cannot pass for a context limit.
The verdict is the longest such L. When every measured length passes, the bound is the measurement itself
(the longest length tried), and the verdict says which --max-tokens would look further.
"""
from __future__ import annotations

from typing import Sequence

from ..core.checked import checked
from ..core.i18n import N_, tr

__all__ = ["BLOWUP", "MIN_GAIN", "effective_context", "verdict_sentence"]

BLOWUP = 2.0  # perplexity doubled: the model is guessing much worse than inside its window
MIN_GAIN = 0.0  # nats: any gain counts; none (or a loss) means the far half of the context was not used

REASONS = {
    "needle": N_("the pass key was lost at {length} tokens (depth {depth})"),
    "perplexity": N_("perplexity blew up at {length} tokens ({ratio:.1f} × the in-window level)"),
    "loss": N_("at {length} tokens the context before the last half no longer lowered the loss"),
    "measured": N_("every measured length passed; run with --max-tokens {suggest} to look further"),
    "positions": N_("every measured length passed, up to the {trained} learned positions the model has (there "
                    "are none past them)"),
}
VERDICTS = {
    "some": N_("This model effectively uses about {tokens} tokens of context on this text: {reason}."),
    "none": N_("This model did not use even the shortest measured context ({length} tokens) on this text: {reason}."),
}


@checked
def effective_context(lengths: Sequence[int], found: Sequence[Sequence[bool]], depths: Sequence[float],
                      ppl_last_half: Sequence[float | None], in_window_ppl: float,
                      context_gain: Sequence[float], blowup: float = BLOWUP, min_gain: float = MIN_GAIN) -> dict:
    """The verdict from measured numbers: the longest length that passes all three checks, and what stopped it.

    `found[i][j]`: pass key found at lengths[i], depths[j]; `ppl_last_half[i]`: perplexity in (L/2, L];
    `context_gain[i]`: nats the context before L/2 saves on the tokens in (L/2, L]. Returns {"tokens", "bound", "reason" (the failing check's
    numbers), "checks" (per length)}; tokens = 0 when the shortest length already fails.
    Taught in 07_your_own_model, § Reading the report card.
    """
    n = len(lengths)
    if not n or len(found) != n or len(ppl_last_half) != n or len(context_gain) != n:
        raise ValueError(f"lengths, found, ppl_last_half and context_gain must have the same non-zero length, got "
                         f"{n}, {len(found)}, {len(ppl_last_half)}, {len(context_gain)}")
    if list(lengths) != sorted(lengths):
        raise ValueError(f"lengths={list(lengths)} must be increasing")
    if in_window_ppl <= 0:
        raise ValueError(f"in_window_ppl={in_window_ppl} must be > 0 (a perplexity)")
    checks, tokens, bound, reason = [], 0, "measured", {}
    for i, length in enumerate(lengths):
        if len(found[i]) != len(depths):
            raise ValueError(f"found[{i}] has {len(found[i])} entries for {len(depths)} depths")
        missed = [d for d, ok in zip(depths, found[i]) if not ok]
        ppl = ppl_last_half[i]
        ratio = None if ppl is None else ppl / in_window_ppl
        check = {"length": length, "needle": not missed, "perplexity": ratio is None or ratio <= blowup,
                 "loss": context_gain[i] > min_gain, "ppl_ratio": None if ratio is None else round(ratio, 3),
                 "context_gain": context_gain[i]}
        checks.append(check)
        if not bound == "measured" or not all(check[k] for k in ("needle", "perplexity", "loss")):
            if bound == "measured":
                bound = next(k for k in ("needle", "perplexity", "loss") if not check[k])
                reason = {"length": length, "depth": missed[0] if missed else None, "ratio": ratio}
            continue
        tokens = length
    if bound == "measured":
        reason = {"length": lengths[-1], "suggest": 2 * lengths[-1]}
    return {"tokens": tokens, "bound": bound, "reason": reason, "checks": checks,
            "rule": {"blowup": blowup, "min_gain": min_gain}}


@checked(shortest=(1, None))
def verdict_sentence(verdict: dict, shortest: int) -> str:
    """The verdict in one sentence, in the learner's language, naming which limit bound it.

    `verdict` is what effective_context returns; `shortest` the shortest length measured.
    Taught in 07_your_own_model, § Reading the report card.
    """
    if verdict.get("bound") not in REASONS or not isinstance(verdict.get("reason"), dict):
        raise ValueError(f"verdict must be a dict returned by effective_context, got keys {sorted(verdict)}")
    reason = tr(REASONS[verdict["bound"]], **{k: v for k, v in verdict["reason"].items() if v is not None})
    if verdict["tokens"]:
        return tr(VERDICTS["some"], tokens=verdict["tokens"], reason=reason)
    return tr(VERDICTS["none"], length=shortest, reason=reason)
