"""Chapter 5's yardstick: how a compressed model is measured — retrieval top-1, fidelity to fp32, bytes, latency.

Retrieval runs on `data/retrieval_eval.jsonl` (query → passage, top-1) with sentence-transformers'
pooling for all-MiniLM-L6-v2: mean over the attention mask, then L2-normalise.
"""
from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from .data import data_dir

__all__ = [
    "EmbeddingScore", "VariantReport", "embedding_score", "evaluate_variant", "load_retrieval_eval",
    "measure_latency", "model_size_bytes", "sentence_embeddings",
]


def _check_model(model, name: str = "model") -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module (e.g. from load_minilm()), got {type(model).__name__}")


def load_retrieval_eval() -> list[dict]:
    """The kit's 208 query → passage pairs (fields id, topic, query, passage); item i's answer is passage i.

    Taught in 05_compression, § The quality yardstick.
    """
    path = data_dir() / "retrieval_eval.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """sentence-transformers' pooling: mean of hidden (B, T, d) over the real tokens, L2-normalised, fp32 (B, d)."""
    mask = attention_mask.unsqueeze(-1).float()  # (B, T, 1)
    pooled = (hidden.float() * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


@torch.inference_mode()
def sentence_embeddings(model, tokenizer, texts: list[str], max_length: int = 64, batch_size: int = 64) -> torch.Tensor:
    """Unit-length sentence embeddings (N, d): mean of the last hidden states over the attention mask, fp32.

    Taught in 05_compression, § The quality yardstick.
    """
    _check_model(model)
    if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a list of str")
    # Batch texts of similar length together so little compute goes to padding; restore order at the end.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(len(texts), model.config.hidden_size)
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        out[idx] = _mean_pool(model(**enc).last_hidden_state, enc["attention_mask"])
    return out


@dataclass
class EmbeddingScore:
    """How one model does on the yardstick: top-1 retrieval accuracy and cosine fidelity to a reference."""

    top1: float
    fidelity_mean: float
    fidelity_min: float
    embeddings: torch.Tensor


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


def model_size_bytes(model) -> int:
    """Bytes of parameters + buffers, counting int8 packed weights of dynamically quantized Linear layers.

    Taught in 05_compression, § Quantization.
    """
    _check_model(model)
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


@torch.inference_mode()
def measure_latency(model, batch: int = 32, seq_len: int = 128, repeat: int = 3, vocab: int = 30000) -> float:
    """Median seconds of one forward pass on a fixed random (batch, seq_len) batch, after one warm-up.

    Taught in 05_compression, § Measuring.
    """
    _check_model(model)
    ids = torch.randint(1000, vocab, (batch, seq_len), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    model(input_ids=ids, attention_mask=mask)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        model(input_ids=ids, attention_mask=mask)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
