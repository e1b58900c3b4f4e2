"""The 01_chunking live panel: the kit's long document cut into m chunks of k tokens, k/m/overlap linked.

The document is tokenized with MiniLM's tokenizer: MiniLM is the model whose 512-position limit makes
chunking necessary in this chapter, and the one timed in § What chunking costs, so the strip shows
exactly the token positions the model would be fed.
"""
from __future__ import annotations

from functools import partial

import ipywidgets as widgets

from ..core.checked import checked
from ..core.i18n import tr
from ..core.panels import LinkedControls, LivePanel, PanelView
from ..core.tokenizers import unknown_token_note
from .plan import ChunkPlan
from .plots import BYTES_FP32, ChunkStrip

__all__ = ["ChunkControls", "chunk_panel", "document_token_count", "render_chunk_view"]

MINILM_CONTENT_TOKENS = 510  # 512 positions minus [CLS] and [SEP]


def _mib(entries: int) -> str:
    return f"{entries * BYTES_FP32 / 2**20:,.2f} MiB"


@checked
def render_chunk_view(n: int, k: int, m: int, overlap: int, rows: int = 4, drawing: ChunkStrip | None = None,
                      note: str = "") -> PanelView:
    """The panel's view for n tokens in chunks of k with `overlap`: strip, m, duplicates, score memory.

    `m` is the linked slider's value; the plan follows from k and overlap, and m must agree with it.
    Pass the panel's `drawing` (a ChunkStrip of n tokens) to redraw it in place; a non-empty `note`
    (chunk_panel's [UNK] note) ends the summary. Taught in 01_chunking, § The live panel.
    """
    plan = ChunkPlan(n, k, overlap)
    if m != plan.m:
        raise ValueError(f"m={m} does not match k={k}, overlap={overlap} for n={n}, which give m={plan.m}")
    ratio = plan.full_scores / plan.chunked_scores
    summary = "\n".join([
        tr("n = {n} tokens, k = {k}, overlap = {overlap} (stride {stride})  →  m = {m} chunks", n=plan.n, k=plan.k,
           overlap=plan.overlap, stride=plan.stride, m=plan.m),
        tr("tokens duplicated by overlap: {duplicated} ({extra:.1%} extra); pad tokens in the last chunk: {padding}",
           duplicated=plan.duplicated, extra=plan.duplicated / plan.n, padding=plan.padding),
        tr("attention scores per head, fp32: full n² = {full}, chunked m·k² = {chunked}  →  full / chunked = "
           "{ratio:,.1f}×", full=_mib(plan.full_scores), chunked=_mib(plan.chunked_scores), ratio=ratio),
    ] + ([note] if note else []))
    data = {"n": plan.n, "k": plan.k, "m": plan.m, "overlap": plan.overlap, "duplicated": plan.duplicated,
            "padding": plan.padding, "full_bytes": BYTES_FP32 * plan.full_scores,
            "chunked_bytes": BYTES_FP32 * plan.chunked_scores, "memory_ratio": ratio}
    drawing = ChunkStrip(plan.n, rows) if drawing is None else drawing
    return PanelView(summary=summary, figure=drawing.update(plan), data=data, drawing=drawing)


@checked
def document_token_count(text: str | None = None, tokenizer=None) -> int:
    """Content tokens (no special tokens) of `text` (default: the kit's long document) under `tokenizer` (default MiniLM's).

    Taught in 01_chunking, § The live panel.
    """
    if text is None:
        from ..core.data import load_text

        text = load_text("long_document")
    if tokenizer is None:
        from ..core.models import load_minilm

        tokenizer = load_minilm()[1]
    return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


@checked
def chunk_panel(text: str | None = None, tokenizer=None, k: int = 126, overlap: int = 0, k_min: int = 16,
                k_max: int = MINILM_CONTENT_TOKENS, rows: int = 4) -> LivePanel:
    """A live panel with linked k, m and overlap sliders over the tokenized document.

    When most of the text is [UNK] to the tokenizer (MiniLM on Chinese), the summary says so under the
    numbers, in the learner's language. Taught in 01_chunking, § The live panel, and 01_chunking,
    § Chinese text: what a context window holds.
    """
    if text is None:
        from ..core.data import load_text

        text = load_text("long_document")
    if tokenizer is None:
        from ..core.models import load_minilm

        tokenizer = load_minilm()[1]
    n = document_token_count(text, tokenizer)
    if n < max(2, k_min, k):
        raise ValueError(f"text has n={n} tokens, fewer than k={k} or k_min={k_min}; valid: a text of at "
                         f"least max(2, k, k_min) tokens")
    controls = ChunkControls(n, k, overlap=overlap, k_min=k_min, k_max=min(k_max, n))
    note = unknown_token_note(tokenizer, [text])
    return LivePanel(controls, partial(render_chunk_view, n, rows=rows, drawing=ChunkStrip(n, rows), note=note),
                     title=tr("Chunking {n} tokens: move k, m or the overlap", n=n))


@checked
class ChunkControls(LinkedControls):
    """Linked k, m and overlap sliders for n tokens: moving k sets m, choosing m sets k, overlap stays < k.

    m's range follows k's range and the overlap, so every m the slider offers is reachable (or snaps to
    the nearest m that is). Taught in 01_chunking, § The live panel.
    """

    def __init__(self, n: int, k: int, overlap: int = 0, k_min: int = 2, k_max: int | None = None):
        self.n = n
        plan = ChunkPlan(n, k, overlap)  # validates n, k, overlap
        k_max = n if k_max is None else k_max
        if not 1 <= k_min <= k <= k_max <= n:
            raise ValueError(f"need 1 <= k_min <= k <= k_max <= n, got k_min={k_min}, k={k}, k_max={k_max}, n={n}")
        self.k_min, self.k_max = k_min, k_max
        style = {"description_width": "initial"}
        self.k = widgets.IntSlider(value=k, min=k_min, max=k_max, description=tr("k (length)"), style=style,
                                   continuous_update=False)
        self.m = widgets.IntSlider(value=plan.m, min=plan.m, max=plan.m, description=tr("m (chunks)"), style=style,
                                   continuous_update=False)
        self.overlap = widgets.IntSlider(value=overlap, min=0, max=k - 1, description=tr("overlap"), style=style,
                                         continuous_update=False)
        super().__init__(self.as_dict(), [self._link])

    @property
    def plan(self) -> ChunkPlan:
        """The plan the sliders currently describe."""
        return ChunkPlan(self.n, self.k.value, self.overlap.value)

    def as_dict(self) -> dict[str, widgets.IntSlider]:
        return {"k": self.k, "m": self.m, "overlap": self.overlap}

    def _k_for_m(self, m: int, overlap: int) -> int:
        """The smallest k (within the slider) giving m chunks, or the k whose m is nearest when none gives m."""
        low = max(self.k_min, overlap + 1)
        try:
            k = ChunkPlan.from_m(self.n, m, overlap).k
        except ValueError:
            k = min(range(low, self.k_max + 1), key=lambda kk: abs(ChunkPlan(self.n, kk, overlap).m - m))
        return min(max(k, low), self.k_max)

    def _link(self, _linked: LinkedControls, changed: str | None) -> dict:
        k, overlap = self.k.value, self.overlap.value
        if changed == "m":
            k = self._k_for_m(self.m.value, overlap)
        overlap = min(overlap, k - 1)
        shortest = max(self.k_min, overlap + 1)  # the shortest k this overlap allows
        return {"k": {"value": k}, "overlap": {"max": k - 1, "value": overlap},
                "m": {"min": ChunkPlan(self.n, self.k_max, overlap).m, "max": ChunkPlan(self.n, shortest, overlap).m,
                      "value": ChunkPlan(self.n, k, overlap).m}}
