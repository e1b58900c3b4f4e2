"""Figures for 01_chunking: the chunk strip of a plan, the cost curves of full vs chunked attention, token inflation."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter

from ..core.checked import checked
from ..core.drawing import Drawing, strip_layers, token_strip
from ..core.i18n import fig_tr
from .languages import INFLATION_KEYS, check_rows, text_label
from .plan import ChunkPlan

__all__ = ["ChunkStrip", "attention_costs", "chunk_strip", "cost_curves", "inflation_figure"]

BYTES_FP32 = 4
UNK_MARK = 0.10  # inflation_figure hatches and labels a bar whose tokens are more than this share [UNK]


@checked(rows=(1, 64))
def chunk_strip(plan: ChunkPlan, rows: int = 4, title: str | None = None) -> Figure:
    """The plan's n tokens as a strip wrapped into `rows` rows, coloured by chunk, overlaps hatched.

    Taught in 01_chunking, § Seeing the chunks.
    """
    if not isinstance(plan, ChunkPlan):
        raise TypeError(f"plan must be a ChunkPlan, got {type(plan).__name__}")
    return token_strip(plan.n, plan.spans, title=_strip_title(plan) if title is None else title, rows=rows)


def _strip_title(plan: ChunkPlan) -> str:
    return fig_tr("n={n} tokens → m={m} chunks of k={k}, overlap {overlap} (hatched), {padding} pad tokens in the "
                  "last chunk", n=plan.n, m=plan.m, k=plan.k, overlap=plan.overlap, padding=plan.padding)


@checked(n=(1, 2**24), rows=(1, 64))
class ChunkStrip(Drawing):
    """The live panel's chunk strip for n tokens in `rows` rows: image, hatching and title redrawn in place.

    Taught in 01_chunking, § The live panel.
    """

    def __init__(self, n: int, rows: int = 4):
        image, _, per_row = strip_layers(n, [(0, n)], rows)  # validates n and rows
        height = 0.4 * rows + 0.8
        super().__init__((9, height), left=0.02, right=0.98, bottom=0.5 / height, top=1 - 0.3 / height)
        self.n, self.rows = n, rows
        self.ax = self.figure.add_subplot()
        self.image = self.ax.imshow(image, extent=(0, per_row, 0, rows), aspect="auto", interpolation="nearest")
        self.hatch = self.ax.add_patch(PathPatch(Path(np.zeros((1, 2))), facecolor="none", edgecolor="black",
                                                 hatch="////", linewidth=0))
        self.ax.set_xlim(0, per_row)
        self.ax.set_ylim(0, rows)
        self.ax.set_yticks([])
        self.ax.tick_params(labelsize=8)
        self.ax.set_xlabel(fig_tr("token position (wrapped every {per_row})", per_row=per_row) if rows > 1
                           else fig_tr("token position"), fontsize=8)
        self.title = self.ax.set_title("", fontsize=9)
        self.dynamic(self.image, self.hatch, self.title)

    def update(self, plan: ChunkPlan) -> Figure:
        """Show `plan` (of this strip's n tokens)."""
        if not isinstance(plan, ChunkPlan) or plan.n != self.n:
            raise ValueError(f"plan must be a ChunkPlan of n={self.n} tokens, got {plan!r}")
        image, hatch, _ = strip_layers(plan.n, plan.spans, self.rows)
        self.image.set_data(image)
        self.hatch.set_visible(hatch is not None)
        if hatch is not None:
            self.hatch.set_path(hatch)
        self.title.set_text(_strip_title(plan))
        return self.figure


@checked
def attention_costs(n, k: int | None = None, overlap: int = 0, d_model: int = 384) -> dict[str, np.ndarray]:
    """Per layer, summed over heads: attention FLOPs (QKᵀ and AV, 4·d·scores) and fp32 score bytes per head.

    `n` may be an array. With k=None the cost of one full pass (n² scores), else of the padded
    (m, k) chunk batch (m·k² scores). Also the FLOPs of the layer's dense parts (24·n·d², as in BERT
    with a 4·d feed-forward), which chunking does not change, except for the duplicated and pad tokens.
    Taught in 01_chunking, § What chunking costs.
    """
    n = np.atleast_1d(np.asarray(n, dtype=np.int64))
    if (n < 1).any():
        raise ValueError(f"n must be >= 1, got {n.min()}")
    if k is None:
        scores, processed = n.astype(float) ** 2, n.astype(float)
    else:
        plans = [ChunkPlan(int(value), k, overlap) for value in n]
        scores = np.array([plan.chunked_scores for plan in plans], dtype=float)
        processed = np.array([plan.m * plan.k for plan in plans], dtype=float)
    return {"attention_flops": 4.0 * d_model * scores, "score_bytes": BYTES_FP32 * scores,
            "dense_flops": 24.0 * processed * d_model**2}


@checked(n_max=(2, 2**30), d_model=(1, None))
def cost_curves(ks=(128, 512), overlap: int = 0, d_model: int = 384, n_max: int = 2**17) -> Figure:
    """Attention FLOPs and score memory vs n (log-log) for full attention and for chunks of each k.

    Taught in 01_chunking, § What chunking costs.
    """
    if not ks or any(not isinstance(k, int) or k < 1 for k in ks):
        raise ValueError(f"ks must be a non-empty sequence of ints >= 1, got {ks!r}")
    n = np.unique(np.logspace(4, np.log2(n_max), 60, base=2).astype(np.int64))  # 16 ... n_max
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    flops_ax, memory_ax = fig.subplots(1, 2)
    full = attention_costs(n, d_model=d_model)
    flops_ax.plot(n, full["attention_flops"], color="black", label=fig_tr("full attention (n²)"))
    memory_ax.plot(n, full["score_bytes"], color="black", label=fig_tr("full attention (n²)"))
    flops_ax.plot(n, full["dense_flops"], color="gray", linestyle=":", label=fig_tr("dense layers (≈ same for both)"))
    for k, color in zip(ks, ["tab:blue", "tab:orange", "tab:green", "tab:red"]):
        chunked = attention_costs(n, k, overlap, d_model)
        label = fig_tr("chunks of k={k} (m·k²)", k=k)
        flops_ax.plot(n, chunked["attention_flops"], color=color, label=label)
        memory_ax.plot(n, chunked["score_bytes"], color=color, label=label)
        for ax in (flops_ax, memory_ax):
            ax.axvline(k, color=color, linestyle="--", linewidth=0.8)
    flops_ax.set_ylabel(fig_tr("FLOPs per layer (d_model={d_model})", d_model=d_model))
    memory_ax.set_ylabel(fig_tr("score bytes per head (fp32)"))
    for ax, title in ((flops_ax, fig_tr("attention compute")), (memory_ax, fig_tr("attention-score memory"))):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(fig_tr("n (tokens)   dashed: n = k, the crossover"))
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    flops_ax.legend(fontsize=7)
    return fig


@checked
def inflation_figure(rows: list[dict]) -> Figure:
    """Two bar charts from token_inflation's rows: tokens per character, and characters per window, per tokenizer and text.

    A bar whose tokens are more than 10 % [UNK] is hatched and labelled with that share.

    Taught in 01_chunking, § Chinese text: what a context window holds.
    """
    rows = check_rows("rows", rows, INFLATION_KEYS, "token_inflation")
    texts = list(dict.fromkeys(r["text"] for r in rows))  # (T,) in the rows' order
    tokenizers = list(dict.fromkeys(r["tokenizer"] for r in rows))  # (K,)
    value = {(r["text"], r["tokenizer"]): r for r in rows}
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    per_char_ax, window_ax = fig.subplots(1, 2)
    x, width = np.arange(len(tokenizers)), 0.8 / len(texts)
    for t, (text, color) in enumerate(zip(texts, ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple"] * 8)):
        found = [value.get((text, tok)) for tok in tokenizers]
        per_char = [r["tokens_per_char"] if r else 0.0 for r in found]  # (K,)
        per_window = [(r["chars_per_window"] or 0) if r else 0 for r in found]  # (K,)
        offset = (t - (len(texts) - 1) / 2) * width
        label = text_label(text, fig_tr)
        unknown = [(r["unk_fraction"] or 0.0) if r else 0.0 for r in found]  # (K,) [UNK] share, 0 for byte-level BPE
        for ax, values, shown in ((per_char_ax, per_char, [f"{v:.2f}" for v in per_char]),
                                  (window_ax, per_window, [f"{v:,}" for v in per_window])):
            bars = ax.bar(x + offset, values, width, color=color, label=label)
            ax.bar_label(bars, labels=[text + ("\n" + fig_tr("{share:.0%} [UNK]", share=share) if share > UNK_MARK else "")
                                       for text, share in zip(shown, unknown)], fontsize=7)
            for bar, share in zip(bars, unknown):
                if share > UNK_MARK:  # a count made mostly of [UNK] is no reading of the text: hatch it
                    bar.set_hatch("xx")
                    bar.set_edgecolor("white")
    window_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    for ax in (per_char_ax, window_ax):
        ax.set_xticks(x, tokenizers)
        ax.margins(y=0.2)
        ax.grid(True, axis="y", alpha=0.3)
    per_char_ax.set_ylabel(fig_tr("tokens per character"))
    per_char_ax.set_title(fig_tr("what one character costs"), fontsize=10)
    window_ax.set_ylabel(fig_tr("characters"))
    window_ax.set_title(fig_tr("characters that fit in {window:,} tokens", window=rows[0]["window"]), fontsize=10)
    per_char_ax.legend(fontsize=8)
    return fig
