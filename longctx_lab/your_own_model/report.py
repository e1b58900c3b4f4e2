"""The long-context report card: every chapter's measurement on one model and one text, a verdict, three files.

`report_card(model, tokenizer, text=..., max_tokens=...)` measures at four lengths (max_tokens / 8, / 4,
/ 2, / 1) and returns a `ReportCard`; `card.write(folder)` writes report.html (self-contained),
report.md (figures as PNG files beside it) and report.json. One long forward pass serves the loss by
position and the perplexity sections; `method`/`factor` run the whole report under RoPE scaling.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..core.checked import checked
from ..core.checks import check_causal_lm, check_choice
from ..core.data import load_text
from ..core.i18n import N_, cell, tr
from ..core.pretrained import OfflineModelError, load_pretrained
from ..context_extension.rope import ROPE_METHODS
from ..context_extension.needle import long_context_nll
from . import measurements as M
from .config_card import config_card, trained_positions
from .verdict import effective_context, verdict_sentence

__all__ = ["DEFAULT_MAX_TOKENS", "MIN_TOKENS", "ReportCard", "compare_reports", "report_card", "report_lengths"]

DEFAULT_MAX_TOKENS = 8192  # SmolLM2's trained length: the whole report in about 3 minutes on 2 CPU cores
MIN_TOKENS = 128  # below this the grid collapses to one or two lengths
MAX_TOKENS = 2**20
BOUNDS = {"needle": N_("the pass key"), "perplexity": N_("perplexity"), "loss": N_("the far context's gain"),
          "measured": N_("the longest length measured"), "positions": N_("the learned positions")}


@checked
@dataclass
class ReportCard:
    """A measured report card: config facts, measured sections, verdict; renders as markdown, html or files.

    Taught in 07_your_own_model, § The report card.
    """

    name: str
    config: dict
    sections: dict
    verdict: dict
    settings: dict
    elapsed_s: float

    def as_dict(self) -> dict:
        """Everything as plain JSON-ready data (the verdict sentence in the current language)."""
        data = asdict(self)
        data["verdict_sentence"] = verdict_sentence(self.verdict, self.settings["lengths"][0])
        return data

    def _blocks(self) -> list:
        from .render import blocks

        return blocks(self)

    def _pngs(self) -> dict[str, bytes]:
        from .plots import figure_png, report_figures

        return {key: figure_png(fig) for key, fig in report_figures(self.sections).items()}

    def markdown(self, images: dict[str, str] | None = None) -> str:
        """The report as markdown; figures as data URIs unless `images` maps each to a file name."""
        from .render import to_markdown

        if images is None:
            import base64

            images = {k: "data:image/png;base64," + base64.b64encode(v).decode() for k, v in self._pngs().items()}
        return to_markdown(self._blocks(), images)

    def html(self) -> str:
        """One self-contained html page (inline CSS, figures embedded, no script, nothing fetched)."""
        from .render import to_html

        return to_html(self._blocks(), self._pngs(), tr("Long-context report card: {name}", name=self.name))

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write report.html, report.md (+ one PNG per figure) and report.json into `out_dir`; returns their paths."""
        from .render import to_html, to_markdown

        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        pngs, items = self._pngs(), self._blocks()
        paths = {}
        for key, data in pngs.items():
            (folder / f"{key}.png").write_bytes(data)
            paths[f"{key}.png"] = folder / f"{key}.png"
        title = tr("Long-context report card: {name}", name=self.name)
        paths["html"] = folder / "report.html"
        paths["html"].write_text(to_html(items, pngs, title), encoding="utf-8")
        paths["md"] = folder / "report.md"
        paths["md"].write_text(to_markdown(items, {k: f"{k}.png" for k in pngs}), encoding="utf-8")
        paths["json"] = folder / "report.json"
        paths["json"].write_text(json.dumps(self.as_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        return paths

    @classmethod
    def load(cls, path: str | Path) -> "ReportCard":
        """A card read back from a report.json written by `write`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "sections" not in data:
            raise ValueError(f"path={str(path)!r} is not a report.json written by ReportCard.write")
        return cls(**{k: data[k] for k in ("name", "config", "sections", "verdict", "settings", "elapsed_s")})

    def _repr_markdown_(self) -> str:  # a notebook shows the whole card, figures included
        return self.markdown()

    def __repr__(self) -> str:  # one line (the dataclass default would print every measured number and the timings)
        verdict = self.verdict
        return (f"ReportCard({self.name!r}: {self.settings['max_tokens']} tokens measured, effective context "
                f"{verdict['tokens']} tokens, bound by {verdict['bound']})")


@checked(max_tokens=(MIN_TOKENS, MAX_TOKENS))
def report_lengths(max_tokens: int, trained: int | None = None, learned: bool = False) -> list[int]:
    """The measured lengths: max_tokens / 8, / 4, / 2, / 1, at least 64 (capped below the trained length for learned positions).

    Taught in 07_your_own_model, § The report card.
    """
    if learned and trained is not None:
        # a pass-key prompt also needs room for its answer (8 tokens) inside the position table
        max_tokens = min(max_tokens, trained - 16)
        if max_tokens < MIN_TOKENS:
            raise ValueError(f"the model has only {trained} learned positions; the report needs at least "
                             f"{MIN_TOKENS + 16}")
    # 64 tokens at least: a pass-key prompt (needle + question) takes about 40 of them
    return sorted({max(64, max_tokens // d) for d in (8, 4, 2, 1)})


def _load(model, tokenizer):
    if isinstance(model, str):
        if tokenizer is not None:
            raise ValueError(f"tokenizer must be None when model={model!r} is a name or folder (it loads its own)")
        try:
            model, tokenizer = load_pretrained(model)
        except OfflineModelError as exc:
            raise ValueError(f"model={model!r} cannot be loaded offline:\n{exc}") from None
        if tokenizer is None:
            raise ValueError("model='tiny' has no tokenizer (its ids are bytes); valid: a model saved with its tokenizer")
    elif tokenizer is None:
        raise ValueError("tokenizer is required when model is a loaded model (pass the tokenizer saved with it)")
    check_causal_lm(model)  # an encoder (BERT) is refused here: no next-token loss, no pass key, no KV cache
    return model, tokenizer


@checked(max_tokens=(MIN_TOKENS, MAX_TOKENS), factor=(1, 64))
def report_card(model: str | torch.nn.Module, tokenizer=None, *, text: str | None = None, max_tokens: int | None = None,
                method: str = "none", factor: float = 1.0, name: str | None = None) -> ReportCard:
    """Measure the long-context report card of `model` (a name/folder for load_pretrained, or a loaded model).

    Taught in 07_your_own_model, § The report card.
    """
    check_choice("method", method, ROPE_METHODS)
    if method == "none" and factor != 1.0:
        raise ValueError(f"factor={factor} needs a scaling method; with method='none' the factor must be 1")
    if text is not None and not text.strip():
        raise ValueError("text is empty; valid: a text of a few words or more, or None for the kit's long document")
    label = name or (model if isinstance(model, str) else type(model).__name__)
    model, tokenizer = _load(model, tokenizer)
    started = time.perf_counter()
    config = config_card(model.config)
    rope = config["position"]["scheme"] == "rope"
    if method != "none" and not rope:
        raise ValueError(f"method={method!r} needs RoPE, but model_type={config['model_type']!r} has learned "
                         "absolute positions; valid: method='none'")
    trained = trained_positions(model.config)
    lengths = report_lengths(max_tokens or DEFAULT_MAX_TOKENS, trained, learned=not rope)
    n = lengths[-1]
    text = load_text("long_document") if text is None else text
    ids, text_tokens = M.report_text_ids(tokenizer, text, n)
    steps = tqdm(total=6, desc=tr("report card"), leave=False)
    sections: dict = {}

    def step(what: str) -> None:
        steps.set_description(tr("report card: {what}", what=what))

    with steps:
        step(tr("loss by position"))
        nll = long_context_nll(model, ids, method, factor)  # (n − 1,): one forward for two sections
        sections["loss"] = M.loss_section(nll, lengths, text_tokens, M.reset_nll(model, ids, lengths, method, factor))
        steps.update()
        step(tr("perplexity"))
        runs = [M.perplexity_run(nll, lengths, trained, method, factor)]
        other = M.alternative_scaling(model, method, factor, n)
        if other is not None:
            runs.append(M.perplexity_run(long_context_nll(model, ids, *other), lengths, trained, *other))
        sections["perplexity"] = M.perplexity_section(runs, lengths, trained, n, rope)
        steps.update()
        step(tr("pass key"))
        sections["needle"] = M.measure_needle_grid(model, tokenizer, lengths, M.DEPTHS, method, factor)
        steps.update()
        step(tr("attention"))
        sections["attention"] = M.measure_attention(model, ids[:max(32, min(1024, n // 8))], method, factor)
        steps.update()
        step(tr("prefill cost"))
        prefill_lengths = sorted({max(16, n // d) for d in (32, 16, 8, 4)})  # short: timings are never stored
        sections["prefill"] = M.measure_prefill(model, ids, prefill_lengths, method, factor)
        steps.update()
        step(tr("int8 KV cache"))
        sections["kv_int8"] = M.measure_kv_int8(model, ids[:max(64, n // 4)], method, factor)
        steps.update()
    main = runs[0]
    inside = [p for L, p in zip(lengths, main["ppl_last_half"]) if p is not None and (trained is None or L <= trained)]
    reference = max(inside) if inside else main["in_window"]  # the worst level inside the window
    verdict = effective_context(lengths, sections["needle"]["found"], M.DEPTHS, main["ppl_last_half"], reference,
                                sections["loss"]["context_gain"])
    verdict["reference_ppl"] = reference
    if verdict["bound"] == "measured" and not rope:  # no longer run exists: the position table ends here
        verdict["bound"], verdict["reason"] = "positions", {"length": n, "trained": trained}
    settings = {"max_tokens": n, "method": method, "factor": factor, "lengths": lengths, "depths": list(M.DEPTHS),
                "text_tokens": text_tokens, "repeated": text_tokens < n, "device": str(next(model.parameters()).device)}
    return ReportCard(str(label), config, sections, verdict, settings, round(time.perf_counter() - started, 1))


def compare_reports(*cards: ReportCard) -> str:
    """Two or more report cards side by side, as a markdown table (one column per card).

    Taught in 07_your_own_model, § Two models side by side.
    """
    if len(cards) < 2:
        raise ValueError(f"cards: compare_reports needs at least 2 ReportCards, got {len(cards)}")
    for i, card in enumerate(cards):
        if not isinstance(card, ReportCard):
            raise TypeError(f"cards[{i}] must be a ReportCard, got {type(card).__name__}")

    def main_run(c):
        return c.sections["perplexity"]["runs"][0]

    def needle(c):
        found = c.sections["needle"]["found"]
        return f"{sum(map(sum, found))}/{sum(map(len, found))}"

    rows = [
        (tr("RoPE setting"), lambda c: c.settings["method"] if c.settings["method"] == "none"
         else f"{c.settings['method']} ×{c.settings['factor']:g}"),
        (tr("trained context length"), lambda c: c.config["trained_positions"]),
        (tr("KV bytes per token (fp16)"), lambda c: (c.config["kv_bytes_per_token"] or {}).get("fp16")),
        (tr("perplexity in the trained window"), lambda c: main_run(c)["in_window"]),
        (tr("perplexity beyond it"), lambda c: main_run(c)["beyond"]),
        (tr("pass keys found"), needle),
        (tr("effective context (tokens)"), lambda c: c.verdict["tokens"] or f"< {c.settings['lengths'][0]}"),
        (tr("bound by"), lambda c: tr(BOUNDS[c.verdict["bound"]])),
    ]
    lines = ["| | " + " | ".join(c.name for c in cards) + " |", "|---|" + "---|" * len(cards)]
    for label, get in rows:
        values = [get(c) for c in cards]
        text = ["—" if v is None else (f"{v:.4g}" if isinstance(v, float) and not math.isnan(v) else str(v))
                for v in values]
        lines.append(f"| {cell(label, 0)} | " + " | ".join(text) + " |")
    return "\n".join(lines) + "\n"
