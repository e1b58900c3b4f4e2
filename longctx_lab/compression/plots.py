"""Chapter 5 figures: the size / quality / latency trade-off, KV-cache growth and KV quantization cost."""
from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure

from ..core.checked import checked
from ..core.drawing import Drawing
from ..core.i18n import N_, fig_tr
from .kv_cache import kv_cache_bytes

__all__ = ["SparsityBits", "kv_growth_chart", "kv_quant_chart", "tradeoff_chart"]

MB = 1e6


@checked
class SparsityBits(Drawing):
    """The compression panel's figure over a (sparsity, bits) grid: fidelity curves, the setting ringed, sizes as bars.

    Everything but the ring, the bars and the size title is drawn once. Taught in 05_compression, § The live panel.
    """

    def __init__(self, grid: dict, labels: dict[int, str]):
        super().__init__((8, 3), left=0.08, right=0.98, bottom=0.16, top=0.9, wspace=0.3)
        self.grid = grid
        self.sparsities = sorted({s for s, _ in grid})
        self.bit_widths = sorted({b for _, b in grid}, reverse=True)
        self.labels = labels
        fid_ax, size_ax = self.figure.subplots(1, 2)
        for i, b in enumerate(self.bit_widths):
            fid_ax.plot([s * 100 for s in self.sparsities], [grid[(s, b)].fidelity_mean for s in self.sparsities],
                        marker="o", ms=3, color=f"C{i}", label=labels[b])
        self.ring = fid_ax.scatter([0], [1], s=120, facecolors="none", edgecolors="k", zorder=4)
        fid_ax.set_xlabel(fig_tr("unstructured sparsity (%)"))
        fid_ax.set_ylabel(fig_tr("mean cosine to fp32"))
        fid_ax.legend(fontsize=8)
        fid_ax.grid(alpha=0.3)
        fid_ax.set_autoscale_on(False)
        self.bars = size_ax.bar([labels[b] for b in self.bit_widths], [0.0] * len(self.bit_widths), color="0.75")
        size_ax.set_ylim(0, max(report.size_bytes for report in grid.values()) / MB * 1.1)
        size_ax.set_ylabel(fig_tr("size (MB)"))
        self.size_title = size_ax.set_title("", fontsize=10)
        self.dynamic(self.ring, *self.bars, self.size_title)

    def update(self, sparsity: float, bits: int) -> Figure:
        """Ring the setting on the fidelity curves and show the sizes of every bit width at its sparsity."""
        self.ring.set_offsets([[sparsity * 100, self.grid[(sparsity, bits)].fidelity_mean]])
        for bar, b in zip(self.bars, self.bit_widths):
            bar.set_height(self.grid[(sparsity, b)].size_bytes / MB)
            bar.set_color("k" if b == bits else "0.75")
        self.size_title.set_text(fig_tr("size at {sparsity:.0%} sparsity", sparsity=sparsity))
        return self.figure


@checked
def tradeoff_chart(reports: Sequence, quality: str = "fidelity_mean") -> Figure:
    """Every variant twice: quality vs size (left) and quality vs latency (right); the fp32 row is the first.

    Taught in 05_compression, § Measuring: the trade-off chart.
    """
    if not reports:
        raise ValueError("reports must hold at least one VariantReport")
    if quality not in ("fidelity_mean", "fidelity_min", "top1"):
        raise ValueError(f"quality must be 'fidelity_mean', 'fidelity_min' or 'top1', got {quality!r}")
    timed = [r for r in reports if r.latency_s is not None]
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    size_ax, time_ax = fig.subplots(1, 2, sharey=True)
    for ax, rows, x_of, label in [(size_ax, reports, lambda r: r.size_bytes / MB, fig_tr("size (MB)")),
                                  (time_ax, timed, lambda r: r.latency_s * 1000,
                                   fig_tr("latency (ms per batch)"))]:
        for i, r in enumerate(rows):
            ax.scatter(x_of(r), getattr(r, quality), s=40, color=f"C{i % 10}", zorder=3)
            ax.annotate(r.name, (x_of(r), getattr(r, quality)), fontsize=8, xytext=(4, 3), textcoords="offset points")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    size_ax.set_ylabel(fig_tr({"fidelity_mean": N_("mean cosine to fp32"), "fidelity_min": N_("min cosine to fp32"),
                               "top1": N_("top-1 retrieval accuracy")}[quality]))
    size_ax.set_title(fig_tr("smaller is left, better is up"), fontsize=9)
    time_ax.set_title(fig_tr("faster is left (CPU)"), fontsize=9)
    return fig


@checked
def kv_growth_chart(configs: dict, max_len: int = 32768, bytes_per_value: float = 2) -> Figure:
    """KV-cache size (GiB, log scale) against context length n for each named transformers config.

    Taught in 05_compression, § The KV cache.
    """
    if not configs:
        raise ValueError("configs must name at least one config")
    if not isinstance(max_len, int) or max_len < 2:
        raise ValueError(f"max_len must be an int >= 2, got {max_len!r}")
    lengths = [2**p for p in range(7, max_len.bit_length()) if 2**p <= max_len]
    fig = Figure(figsize=(6, 3.4), layout="constrained")
    ax = fig.add_subplot()
    for name, config in configs.items():
        ax.plot(lengths, [kv_cache_bytes(config, n, bytes_per_value) / 2**30 for n in lengths], marker="o", ms=3,
                label=name)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(fig_tr("context length n (tokens)"))
    ax.set_ylabel(fig_tr("KV cache (GiB)"))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


@checked
def kv_quant_chart(results: Sequence) -> Figure:
    """Perplexity vs KV-cache memory (relative to fp16) for each bit width of kv_quant_curve.

    Taught in 05_compression, § Quantizing the KV cache.
    """
    if not results:
        raise ValueError("results must hold at least one KVQuantResult")
    fig = Figure(figsize=(5, 3.2), layout="constrained")
    ax = fig.add_subplot()
    xs, ys = [r.memory_ratio for r in results], [r.ppl for r in results]
    ax.plot(xs, ys, marker="o", color="C0")
    for r in results:
        ax.annotate(fig_tr("full precision") if r.bits is None else f"int{r.bits}", (r.memory_ratio, r.ppl), fontsize=8,
                    xytext=(4, 3), textcoords="offset points")
    ax.set_xlabel(fig_tr("KV memory / fp16 cache"))
    ax.set_ylabel(fig_tr("perplexity (decoded tokens)"))
    ax.grid(alpha=0.3)
    return fig
