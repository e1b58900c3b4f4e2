"""Chapter 5: make a model smaller or faster and measure what it costs — pruning, int8, distillation.

Every compressor works on a deep copy and returns it, so the fp32 model stays the yardstick. The
quality yardstick is retrieval on `data/retrieval_eval.jsonl` (query → passage, top-1) with
sentence-transformers' pooling for all-MiniLM-L6-v2: mean over the attention mask, then L2-normalise.
The KV-cache half of the chapter lives in `kv_cache.py` and is re-exported here.
"""
from __future__ import annotations

import copy
import json
import statistics
import time
import warnings
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune
from tqdm.auto import tqdm

from .data import data_dir
from .kv_cache import *  # noqa: F401,F403
from .kv_cache import __all__ as _kv_all

__all__ = [
    "EmbeddingScore", "VariantReport", "cast_weights", "distill", "embedding_score", "evaluate_variant",
    "head_importance", "linear_sparsity", "load_retrieval_eval", "measure_latency", "model_size_bytes", "prune",
    "prune_heads", "quantize_int8", "sentence_embeddings",
] + list(_kv_all)


def _check_model(model, name: str = "model") -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module (e.g. from load_minilm()), got {type(model).__name__}")


def _bert_layers(model) -> list:
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if layers is None or not hasattr(layers[0], "attention"):
        raise TypeError(f"model must be a BERT-style encoder with .encoder.layer[i].attention (e.g. MiniLM), "
                        f"got {type(model).__name__}")
    return list(layers)


def load_retrieval_eval() -> list[dict]:
    """The kit's 208 query → passage pairs (fields id, topic, query, passage); item i's answer is passage i.

    Taught in 05_compression, § The quality yardstick.
    """
    path = data_dir() / "retrieval_eval.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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
        hidden = model(**enc).last_hidden_state.float()  # (B, T, d)
        mask = enc["attention_mask"].unsqueeze(-1).float()  # (B, T, 1)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out[idx] = torch.nn.functional.normalize(pooled, dim=-1)
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


def _prunable_linears(model) -> list[tuple[nn.Module, str]]:
    # A Linear whose weight is tied to an embedding (an LM head) would prune the embedding table too.
    tied = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    return [(m, "weight") for m in model.modules() if isinstance(m, nn.Linear) and id(m.weight) not in tied]


def prune(model, amount: float, structured: bool = False, scope: str = "global"):
    """A copy with the smallest-|w| fraction `amount` of linear weights zeroed (or heads removed if structured).

    scope="global" ranks all linear weights together; "layer" prunes `amount` of each layer.
    Taught in 05_compression, § Pruning.
    """
    _check_model(model)
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0 <= amount < 1:
        raise ValueError(f"amount must be a fraction in [0, 1), got {amount!r}")
    if scope not in ("global", "layer"):
        raise ValueError(f"scope must be 'global' or 'layer', got {scope!r}")
    if structured:
        return prune_heads(model, amount)
    pruned = copy.deepcopy(model)
    params = _prunable_linears(pruned)
    if amount > 0:
        if scope == "global":
            torch_prune.global_unstructured(params, pruning_method=torch_prune.L1Unstructured, amount=float(amount))
        else:
            for module, name in params:
                torch_prune.l1_unstructured(module, name, amount=float(amount))
        for module, name in params:  # fold weight_orig * mask back into a plain weight
            torch_prune.remove(module, name)
    return pruned


def linear_sparsity(model) -> float:
    """Fraction of exactly-zero weights over the prunable Linear layers.

    Taught in 05_compression, § Pruning.
    """
    _check_model(model)
    weights = [m.weight for m, _ in _prunable_linears(model)]
    if not weights:
        raise ValueError("model has no nn.Linear layers")
    return sum((w == 0).sum().item() for w in weights) / sum(w.numel() for w in weights)


@torch.inference_mode()
def head_importance(model, tokenizer, texts: list[str], max_length: int = 64) -> torch.Tensor:
    """(layers, heads) importance: mean norm of each head's contribution ‖o_h W_O,h‖ to the attention output.

    Taught in 05_compression, § Removing whole heads.
    """
    layers = _bert_layers(model)
    scores, hooks = [], []
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    mask = enc["attention_mask"].bool()  # (B, T)

    def hook(module, inputs, _output):
        attn = module.parent_self
        heads = inputs[0].unflatten(-1, (-1, attn.attention_head_size))  # (B, T, H, d_head)
        w_o = module.weight.T.unflatten(0, (-1, attn.attention_head_size))  # (H, d_head, d_model)
        contrib = torch.einsum("bthd,hde->bthe", heads, w_o).norm(dim=-1)  # (B, T, H)
        scores.append(contrib[mask].mean(0))

    for layer in layers:
        dense = layer.attention.output.dense
        object.__setattr__(dense, "parent_self", layer.attention.self)
        hooks.append(dense.register_forward_hook(hook))
    try:
        model(**enc)
    finally:
        for h in hooks:
            h.remove()
    return torch.stack(scores)


def prune_heads(model, fraction: float, scores: torch.Tensor | None = None):
    """A copy of a BERT encoder with the lowest-scoring `fraction` of heads in every layer cut out of its weights.

    Q, K, V lose the heads' output rows and the attention output projection their input columns, so
    the model really shrinks. Default scores: ‖W_V,h‖·‖W_O,h‖ (no data needed); pass head_importance().
    Taught in 05_compression, § Removing whole heads.
    """
    from transformers.pytorch_utils import prune_linear_layer

    _check_model(model)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction < 1:
        raise ValueError(f"fraction must be in [0, 1), got {fraction!r}")
    layers = _bert_layers(model)
    n_heads = layers[0].attention.self.num_attention_heads
    if scores is None:
        scores = torch.stack([_weight_head_score(layer.attention) for layer in layers])
    if not isinstance(scores, torch.Tensor) or tuple(scores.shape) != (len(layers), n_heads):
        raise ValueError(f"scores must be a tensor of shape ({len(layers)}, {n_heads}), got "
                         f"{getattr(scores, 'shape', type(scores).__name__)}")
    n_drop = min(round(fraction * n_heads), n_heads - 1)  # keep at least one head per layer
    pruned = copy.deepcopy(model)
    removed = {}
    for i, layer in enumerate(_bert_layers(pruned)):
        attn, d = layer.attention.self, layer.attention.self.attention_head_size
        drop = scores[i].argsort()[:n_drop].tolist()
        keep = torch.tensor([h for h in range(n_heads) if h not in drop])
        index = (keep[:, None] * d + torch.arange(d)).flatten()
        attn.query = prune_linear_layer(attn.query, index, dim=0)
        attn.key = prune_linear_layer(attn.key, index, dim=0)
        attn.value = prune_linear_layer(attn.value, index, dim=0)
        layer.attention.output.dense = prune_linear_layer(layer.attention.output.dense, index, dim=1)
        attn.num_attention_heads, attn.all_head_size = len(keep), len(keep) * d
        removed[i] = sorted(drop)
    pruned.config.pruned_heads = removed
    return pruned


def _weight_head_score(attention) -> torch.Tensor:
    d = attention.self.attention_head_size
    w_v = attention.self.value.weight.unflatten(0, (-1, d))  # (H, d_head, d_model)
    w_o = attention.output.dense.weight.unflatten(1, (-1, d))  # (d_model, H, d_head)
    return w_v.flatten(1).norm(dim=1) * w_o.transpose(0, 1).flatten(1).norm(dim=1)


def quantize_int8(model, per_channel: bool = True):
    """A copy whose nn.Linear layers run int8: int8 weights (a scale per output row), activations quantized per batch.

    Uses torch.ao's quantize_dynamic: on CPU its fbgemm/x86 int8 kernels beat torchao's int8 path
    (torchao 0.18 + torch 2.13 ran MiniLM slower than fp32 on CPU). torch.ao.quantization announces
    its own deprecation; that warning is silenced here on purpose. per_channel=False: one scale per matrix.
    Taught in 05_compression, § Quantization.
    """
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig

    _check_model(model)
    if not isinstance(per_channel, bool):
        raise TypeError(f"per_channel must be a bool, got {per_channel!r}")
    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated.*")
        warnings.filterwarnings("ignore", message=".*are deprecated and will.*")
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {nn.Linear: qconfig}, dtype=torch.qint8)


def cast_weights(model, dtype: torch.dtype):
    """A copy with every floating parameter and buffer stored as `dtype` (torch.float16 or torch.bfloat16).

    Taught in 05_compression, § Quantization.
    """
    _check_model(model)
    if dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"dtype must be torch.float16, torch.bfloat16 or torch.float32, got {dtype!r}")
    return copy.deepcopy(model).to(dtype)


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


def distill(teacher, tokenizer, texts: list[str], n_layers: int = 2, steps: int = 200, batch_size: int = 16,
            lr: float = 1e-4, max_length: int = 64, seed: int = 0):
    """A student with the teacher's (frozen) embeddings and `n_layers` of its layers, trained to match its sentence embeddings.

    Loss: 1 − cos between the mean-pooled, normalised student and teacher embeddings of unlabeled
    `texts` (for unit vectors the MSE is 2(1 − cos), the same objective).
    Taught in 05_compression, § Distillation.
    """
    _check_model(teacher, "teacher")
    layers = _bert_layers(teacher)
    if not isinstance(n_layers, int) or not 1 <= n_layers < len(layers):
        raise ValueError(f"n_layers must be an int in [1, {len(layers) - 1}], got {n_layers!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if len(texts) < 2:
        raise ValueError(f"texts must hold at least 2 sentences, got {len(texts)}")
    torch.manual_seed(seed)
    targets = sentence_embeddings(teacher, tokenizer, list(texts), max_length=max_length)  # (N, d)
    student = copy.deepcopy(teacher)
    # Spread the kept layers over the teacher's depth (e.g. 0 and 5 of 6) so both ends survive.
    picks = [round(i * (len(layers) - 1) / max(n_layers - 1, 1)) for i in range(n_layers)]
    student.encoder.layer = nn.ModuleList([student.encoder.layer[p] for p in picks])
    student.config.num_hidden_layers = n_layers
    # The embedding table (half of MiniLM) is kept frozen: updating it would cost most of each step.
    student.embeddings.requires_grad_(False)
    student.train()
    optimizer = torch.optim.AdamW([p for p in student.parameters() if p.requires_grad], lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(steps), desc=f"distilling a {n_layers}-layer student"):
        batch = torch.randint(len(texts), (batch_size,), generator=generator)
        enc = tokenizer([texts[i] for i in batch], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        hidden = student(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        loss = (1 - (pooled * targets[batch]).sum(-1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return student.eval()
