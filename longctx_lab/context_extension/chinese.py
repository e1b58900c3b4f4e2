"""Chapter 6's Chinese haystack: pass-key trials in the Daodejing with an English or a Chinese needle.

The grid (fillers × needle languages × lengths × depths) is computed once by `compute_chinese_haystack`
(`python -m longctx_lab.context_extension.chinese --precompute`, a quarter of an hour on a 2-core CPU) and
stored in data/chinese_haystack.json; the notebook loads it, prints it with `haystack_table`, and recomputes
two trials live.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from ..core.checked import MAX_SIZE, checked
from ..core.checks import as_float, as_int
from ..core.data import NEEDLE_LANGUAGES, data_dir, make_haystack
from ..core.i18n import N_, cell, tr
from .needle import needle_trial
from .precompute import precompute_cli, run_versions

__all__ = ["compute_chinese_haystack", "haystack_table", "load_chinese_haystack"]

RESULTS_FILE = "chinese_haystack.json"
CONDITIONS = (("simple", "en"), ("daodejing", "en"), ("daodejing", "zh"))  # (filler, needle language)
FILLER_NAMES = {"simple": N_("simple (English)"), "daodejing": N_("Daodejing")}  # shown names
NEEDLE_NAMES = {"en": N_("English"), "zh": N_("Chinese")}
_TRIAL_KEYS = ("filler", "language", "n_tokens", "depth", "found", "rank", "key_logprob", "filler_chars")


def _conditions(conditions) -> list[tuple[str, str]]:
    """`conditions` as a list of (filler, language) pairs of str, or a TypeError/ValueError naming the bad one."""
    if isinstance(conditions, (str, bytes)) or not hasattr(conditions, "__iter__"):
        raise TypeError(f"conditions must be a sequence of (filler, language) pairs, got {type(conditions).__name__}")
    pairs = []
    for i, pair in enumerate(conditions):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise TypeError(f"conditions[{i}]={pair!r} must be a (filler, language) pair of str, "
                            f"e.g. ('daodejing', 'zh')")
        pairs.append((pair[0], pair[1]))
    if not pairs:
        raise ValueError("conditions is empty; valid: at least one (filler, language) pair, e.g. ('daodejing', 'zh')")
    return pairs


@checked
def compute_chinese_haystack(model, tokenizer, lengths: Sequence[int] = (1024, 2048, 4096),
                             depths: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
                             conditions: Sequence = CONDITIONS, seed: int = 0) -> dict:
    """`needle_trial` for each (filler, needle language) × length × depth, as a JSON-ready dict.

    Each trial also records `filler_chars`: how many characters of filler the prompt of n_tokens holds.
    Every argument (fillers, languages, lengths too short for the needle) is checked before the first forward.
    Taught in 06_context_extension, § A Chinese haystack.
    """
    pairs = _conditions(conditions)
    lengths = [as_int("lengths", n, 1, MAX_SIZE) for n in lengths]
    depths = [as_float("depths", d, 0, 1) for d in depths]
    if not lengths or not depths:
        raise ValueError(f"lengths={lengths} and depths={depths} must each hold at least one value")
    seed = as_int("seed", seed, -(1 << 63))
    for filler, language in pairs:  # make_haystack checks filler, language and n_tokens: no model call yet
        for n_tokens in lengths:
            make_haystack(tokenizer, n_tokens, 0.5, seed=seed, filler=filler, language=language)
    started, trials = time.perf_counter(), []
    settings = [(f, lang, n, d) for f, lang in pairs for n in lengths for d in depths]
    for filler, language, n_tokens, depth in tqdm(settings, desc="Chinese haystack", disable=len(settings) < 4):
        haystack = make_haystack(tokenizer, n_tokens, depth, seed=seed, filler=filler, language=language)
        (n0, n1), (q0, _) = haystack.needle_span, haystack.question_span
        ids = haystack.input_ids
        filler_chars = len(tokenizer.decode(ids[:n0] + ids[n1:q0]).strip())
        trial = needle_trial(model, tokenizer, n_tokens, depth, seed=seed, filler=filler, language=language)
        row = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in trial.as_dict().items()}
        trials.append({"filler": filler, "language": language, **row, "filler_chars": filler_chars})
    return {"settings": {"model": "SmolLM2-135M-Instruct", "lengths": lengths, "depths": depths,
                         "conditions": [list(p) for p in pairs], "seed": seed, "n_distractors": 9, "max_new_tokens": 8},
            "versions": run_versions(model), "seconds": round(time.perf_counter() - started, 1), "trials": trials}


@checked
def load_chinese_haystack(path: str | Path | None = None) -> dict:
    """The precomputed Chinese-haystack grid (settings, versions, trials), from data/chinese_haystack.json.

    Taught in 06_context_extension, § A Chinese haystack.
    """
    path = data_dir() / RESULTS_FILE if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; create it with "
                                "`python -m longctx_lab.context_extension.chinese --precompute`")
    return json.loads(path.read_text(encoding="utf-8"))


def _mark(trial: dict) -> str:
    """One depth's result: ✓/✗ (greedy decoding found the key or not), then the key's teacher-forced rank."""
    return ("✓" if trial["found"] else "✗") + str(trial["rank"])


@checked
def haystack_table(trials: Sequence[dict]) -> str:
    """A printed table of needle trials: one row per (filler, needle language, length), depths side by side.

    Columns: filler characters in the prompt, how many depths greedy decoding found the key and teacher
    forcing ranked it first, the mean log p(key), and each depth as ✓/✗ plus the rank.
    Taught in 06_context_extension, § A Chinese haystack.
    """
    rows: dict[tuple, list[dict]] = {}
    for i, trial in enumerate(trials):
        if not isinstance(trial, dict) or any(k not in trial for k in _TRIAL_KEYS):
            raise ValueError(f"trials[{i}] must be a dict with keys {_TRIAL_KEYS} (a trial of "
                             f"compute_chinese_haystack), got {trial!r:.120}")
        rows.setdefault((trial["filler"], trial["language"], trial["n_tokens"]), []).append(trial)
    if not rows:
        raise ValueError("trials is empty; valid: the 'trials' of compute_chinese_haystack or load_chinese_haystack")
    depths = sorted({t["depth"] for t in trials})
    head = [cell(tr("filler"), 16), cell(tr("needle"), 7), cell(tr("tokens"), 6, ">"), cell(tr("characters"), 10, ">"),
            cell(tr("found (greedy)"), 14, ">"), cell(tr("rank 1"), 7, ">"), cell(tr("mean log p(key)"), 16, ">"),
            " ".join(f"{d:>4.0%}" for d in depths)]
    lines = [" ".join(head)]
    for (filler, language, n_tokens), group in rows.items():
        by_depth = {t["depth"]: t for t in group}
        n = len(group)
        lines.append(" ".join([
            cell(tr(FILLER_NAMES[filler]) if filler in FILLER_NAMES else filler[:16], 16),
            cell(tr(NEEDLE_NAMES[language]) if language in NEEDLE_NAMES else language[:7], 7),
            f"{n_tokens:>6,}", f"{group[0]['filler_chars']:>10,}",
            f"{sum(t['found'] for t in group):>11}/{n:<2}", f"{sum(t['rank'] == 1 for t in group):>4}/{n:<2}",
            f"{sum(t['key_logprob'] for t in group) / n:>16.1f}",
            " ".join(f"{_mark(by_depth[d]) if d in by_depth else '':>4s}" for d in depths)]))
    return "\n".join(lines)


def _main() -> None:
    from ..core.models import load_smollm2

    def compute() -> dict:
        return compute_chinese_haystack(*load_smollm2())

    precompute_cli("Precompute chapter 6's Chinese-haystack grid (minutes on a CPU).", data_dir() / RESULTS_FILE, compute)


if __name__ == "__main__":
    _main()
