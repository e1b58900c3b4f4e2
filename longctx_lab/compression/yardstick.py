"""Chapter 5's yardstick: how a compressed model is measured — retrieval top-1, fidelity to fp32, bytes, latency.

Retrieval runs on `data/retrieval_eval.jsonl` (query → passage, top-1) with sentence-transformers'
pooling for all-MiniLM-L6-v2: mean over the attention mask, then L2-normalise.
"""
from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..core.checked import checked
from ..core.result_store import remembered
from ..core.checks import check_module, vocab_size
from ..core.data import data_dir
from ..core.i18n import N_, language, tr
from ..core.hf import mean_pool
from ..core.tokenizers import flag_unknown_tokens

__all__ = [
    "EmbeddingScore", "VariantReport", "embedding_score", "evaluate_variant", "half_precision_note",
    "half_precision_units", "load_retrieval_eval", "measure_latency", "model_size_bytes", "sentence_embeddings",
]


@checked
def load_retrieval_eval() -> list[dict]:
    """The kit's 208 query → passage pairs (fields id, topic, query, passage); item i's answer is passage i.

    Taught in 05_compression, § The quality yardstick.
    """
    path = data_dir() / "retrieval_eval.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@checked(max_length=(1, 2**16), batch_size=(1, 2**16))
@torch.inference_mode()
def sentence_embeddings(model, tokenizer, texts: list[str], max_length: int = 64, batch_size: int = 64) -> torch.Tensor:
    """Unit-length sentence embeddings (N, d): mean of the last hidden states over the attention mask, fp32.

    Prints a one-line note when more than 10 % of the tokens are [UNK] (e.g. MiniLM on Chinese).
    Taught in 05_compression, § The quality yardstick.
    """
    check_module(model, example="load_minilm()")
    if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a list of str")
    if texts:
        flag_unknown_tokens(tokenizer, list(texts))
    # Batch texts of similar length together so little compute goes to padding; restore order at the end.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(len(texts), model.config.hidden_size)
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        out[idx] = mean_pool(model(**enc).last_hidden_state, enc["attention_mask"])
    return out


@checked
@dataclass
class EmbeddingScore:
    """How one model does on the yardstick: top-1 retrieval accuracy and cosine fidelity to a reference."""

    top1: float
    fidelity_mean: float
    fidelity_min: float
    embeddings: torch.Tensor


@checked(max_length=(1, 2**16))
@remembered
def embedding_score(model, tokenizer, items: list[dict], reference: torch.Tensor | None = None,
                    max_length: int = 64) -> EmbeddingScore:
    """Top-1 query → passage accuracy and per-text cosine to `reference` embeddings (queries then passages).

    Taught in 05_compression, § The quality yardstick.
    """
    texts = [it["query"] for it in items] + [it["passage"] for it in items]
    emb = sentence_embeddings(model, tokenizer, texts, max_length=max_length)  # (2N, d)
    queries, passages = emb[: len(items)], emb[len(items):]
    top1 = (queries @ passages.T).argmax(1).eq(torch.arange(len(items))).float().mean().item()
    if reference is None:
        return EmbeddingScore(top1, 1.0, 1.0, emb)
    if reference.shape != emb.shape:
        raise ValueError(f"reference must have shape {tuple(emb.shape)}, got {tuple(reference.shape)}")
    cos = (emb * reference).sum(-1)
    return EmbeddingScore(top1, cos.mean().item(), cos.min().item(), emb)


@checked
@dataclass
class VariantReport:
    """One compressed variant on the yardstick: bytes, accuracy, fidelity to fp32 and (optionally) latency."""

    name: str
    size_bytes: int
    top1: float
    fidelity_mean: float
    fidelity_min: float
    latency_s: float | None = None
    embeddings: torch.Tensor | None = field(default=None, repr=False)


@checked(latency_batch=(1, 2**16), seq_len=(1, 2**16))
def evaluate_variant(name: str, model, tokenizer, items: list[dict], reference: torch.Tensor | None = None,
                     latency_batch: int | None = None, seq_len: int = 128) -> VariantReport:
    """Size, top-1, fidelity to `reference` and, if latency_batch is given, forward latency of one variant.

    The report keeps the embeddings (queries then passages), so the fp32 report can be the reference.

    Taught in 05_compression, § Measuring.
    """
    score = embedding_score(model, tokenizer, items, reference)
    latency = None if latency_batch is None else measure_latency(model, batch=latency_batch, seq_len=seq_len)
    return VariantReport(name, model_size_bytes(model), score.top1, score.fidelity_mean, score.fidelity_min, latency,
                         score.embeddings)


@checked
def model_size_bytes(model) -> int:
    """Bytes of parameters + buffers, counting int8 packed weights of dynamically quantized Linear layers.

    Taught in 05_compression, § Quantization.
    """
    check_module(model, example="load_minilm()")
    total = sum(t.numel() * t.element_size() for t in model.parameters())
    total += sum(t.numel() * t.element_size() for t in model.buffers())
    for module in model.modules():
        if type(module).__name__ == "LinearPackedParams":
            # torch.ao dynamic Linear: the int8 weight hides in a packed C++ object, not in parameters()
            weight, bias = module._weight_bias()
            total += weight.numel() * weight.element_size() + (0 if bias is None else bias.numel() * bias.element_size())
            q_params = weight.q_per_channel_scales().numel() * 12 if weight.qscheme() in (
                torch.per_channel_affine, torch.per_channel_symmetric) else 12
            total += q_params  # scale (fp64) + zero point (int32) per tensor or per channel
    return total


@checked(batch=(1, 2**16), seq_len=(1, 2**16), repeat=(1, 1000), vocab=(2, None))
@torch.inference_mode()
def measure_latency(model, batch: int = 32, seq_len: int = 128, repeat: int = 3, vocab: int = 30000) -> float:
    """Median seconds of one forward pass on a fixed random (batch, seq_len) batch, after one warm-up.

    Taught in 05_compression, § Measuring.
    """
    check_module(model, example="load_minilm()")
    size = vocab_size(model)
    if size is not None and vocab > size:
        raise ValueError(f"vocab={vocab} is out of range; valid: vocab ≤ {size} (the model's vocab_size)")
    ids = torch.randint(min(1000, vocab - 1), vocab, (batch, seq_len), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    model(input_ids=ids, attention_mask=mask)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        model(input_ids=ids, attention_mask=mask)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---- why half precision is fast on one CPU and slow on another ------------------------------------

# /proc/cpuinfo flag (x86 "flags", Arm "Features") -> the name a learner can look up, per precision, best first.
_HALF_UNITS = {
    "bf16": (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX512-BF16"), ("bf16", "Arm BF16")),
    "fp16": (("amx_fp16", "AMX-FP16"), ("avx512_fp16", "AVX512-FP16"), ("fphp", "Arm FP16")),
}
# torch's own probes (private, so looked up defensively) -> the flag they stand for.
_TORCH_PROBES = (("_is_amx_tile_supported", "amx_bf16"), ("_is_avx512_bf16_supported", "avx512_bf16"),
                 ("_is_amx_fp16_supported", "amx_fp16"))
_DARWIN_PROBES = (("hw.optional.arm.FEAT_BF16", "bf16"), ("hw.optional.arm.FEAT_FP16", "fphp"))


def _cpu_flags() -> set[str]:
    """This CPU's feature flags, from /proc/cpuinfo, torch's probes and (macOS) sysctl; empty when none answer."""
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("flags", "Features"):
                flags.update(value.split())
    except OSError:
        pass
    for probe, flag in _TORCH_PROBES:
        try:
            if getattr(torch.cpu, probe)():
                flags.add(flag)
        except Exception:  # a probe missing in this torch build says nothing either way
            pass
    if platform.system() == "Darwin":
        for key, flag in _DARWIN_PROBES:
            try:
                answer = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True, timeout=5).stdout
            except (OSError, subprocess.SubprocessError):
                continue
            if answer.strip() == "1":
                flags.add(flag)
    return flags


@checked
def half_precision_units(flags: Iterable[str] | None = None) -> dict[str, str | None]:
    """The bf16 and fp16 matrix instructions this CPU has, e.g. {"bf16": "AMX-BF16", "fp16": None}.

    `flags` (CPU feature flags as /proc/cpuinfo spells them) replaces the detection, for tests and
    for asking about another machine. Taught in 05_compression, § Measuring: the trade-off chart.
    """
    if flags is None:
        flags = _cpu_flags()
    elif isinstance(flags, (str, bytes)) or not isinstance(flags, Iterable):
        raise TypeError(f"flags must be an iterable of flag names like 'avx512_bf16', got {flags!r}")
    found = {str(flag).lower() for flag in flags}
    return {precision: next((name for flag, name in units if flag in found), None)
            for precision, units in _HALF_UNITS.items()}


def _onednn_cap_blocks(unit: str) -> str | None:
    """The ONEDNN_MAX_CPU_ISA setting when it keeps oneDNN (PyTorch's CPU matmul library) from using `unit`."""
    for variable in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        cap = os.environ.get(variable, "").strip().upper()
        if not cap or cap in ("ALL", "DEFAULT"):
            continue
        allowed = "AMX" in cap if unit.startswith("AMX") else any(w in cap for w in ("BF16", "FP16", "AMX", "AVX10"))
        if unit.startswith("Arm") or allowed:
            return None
        return f"{variable}={cap}"
    return None


def _latency_table(latencies) -> dict[str, float]:
    if isinstance(latencies, Mapping):
        table = dict(latencies)
    elif isinstance(latencies, Iterable) and not isinstance(latencies, (str, bytes)):
        table = {}
        for report in latencies:
            if not isinstance(report, VariantReport):
                raise TypeError(f"latencies must be a {{name: seconds}} mapping or VariantReports, got {report!r}")
            table[report.name] = report.latency_s
    else:
        raise TypeError(f"latencies must be a {{name: seconds}} mapping or VariantReports, got {latencies!r}")
    if "fp32" not in table or not any(p in table for p in _HALF_UNITS):
        raise ValueError(f"latencies must hold 'fp32' and 'bf16' and/or 'fp16', got names {sorted(table)}")
    for name in ("fp32", *_HALF_UNITS):
        seconds = table.get(name)
        if name in table and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                              or not math.isfinite(seconds) or seconds <= 0):
            raise ValueError(f"latency of {name!r} must be a finite number of seconds > 0, got {seconds!r}")
    return table


@checked
def half_precision_note(latencies, units: Mapping[str, str | None] | None = None) -> str:
    """One sentence per half precision: how fast bf16 / fp16 ran against fp32 on this machine, and why.

    `latencies`: {name: seconds} or VariantReports with `latency_s`, holding "fp32" and "bf16" and/or
    "fp16". `units` (from `half_precision_units()`, the default) says which matrix instructions the CPU
    has. The speed is printed as a number; the words faster / slower are used only 10 % away from 1×.
    Taught in 05_compression, § Measuring: the trade-off chart.
    """
    table = _latency_table(latencies)
    if units is None:
        units = half_precision_units()
    elif not isinstance(units, Mapping):
        raise TypeError(f"units must be a mapping like half_precision_units() returns, got {units!r}")
    sentences = []
    for precision in _HALF_UNITS:
        if precision not in table:
            continue
        ratio = table["fp32"] / table[precision]  # > 1: faster than fp32
        if ratio >= 1.1:
            speed = tr(N_("ran {ratio:.1f}× faster than fp32"), ratio=ratio)
        elif ratio <= 1 / 1.1:
            speed = tr(N_("ran {ratio:.1f}× slower than fp32"), ratio=1 / ratio)
        else:
            speed = tr(N_("ran about as fast as fp32 ({ratio:.2f}×)"), ratio=ratio)
        unit = units.get(precision)
        blocked = _onednn_cap_blocks(unit) if unit else None
        fields = {"precision": precision, "unit": unit, "blocked": blocked}
        if unit and not blocked:
            why = tr(N_("this CPU has {precision} matrix instructions ({unit})"), **fields)
        elif unit:
            why = tr(N_("this CPU has {precision} matrix instructions ({unit}) but {blocked} keeps PyTorch's oneDNN "
                        "kernels from using them"), **fields)
        else:
            why = tr(N_("this CPU has no {precision} matrix instructions"), **fields)
        if ratio >= 1.1:
            why = (tr(N_(", because {why}"), why=why) if unit and not blocked
                   else tr(N_(", although {why} (moving half the bytes can outweigh converting every value)"), why=why))
        elif ratio <= 1 / 1.1:
            why = (tr(N_(": {why}, so {precision} matrix products convert every value to fp32 and back"), why=why,
                      precision=precision) if not unit or blocked else tr(N_(", although {why}"), why=why))
        else:
            why = tr(N_("; {why}"), why=why)
        sentence = N_("{precision} {speed}{why}.") if sentences else N_("On this machine {precision} {speed}{why}.")
        sentences.append(tr(sentence, precision=precision, speed=speed, why=why))
    return ("" if language() == "zh" else " ").join(sentences)  # Chinese sentences need no space between them
