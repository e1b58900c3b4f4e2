"""Chapter 5: make a model smaller or faster and measure what it costs — pruning, int8, distillation.

Every compressor works on a deep copy and returns it, so the fp32 model stays the reference. How the
variants are measured (retrieval top-1, fidelity to fp32, bytes, latency) lives in `yardstick.py`,
the scored grid of variants behind the live panel in `grid.py`, and the KV-cache half of the chapter
in `kv_cache.py`.
"""
from __future__ import annotations

import copy
import functools
import warnings

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune
from tqdm.auto import tqdm

from ..core.checked import checked
from ..core.result_store import remembered
from ..core.i18n import N_, tr
from ..core.checks import as_float, as_int, check_module
from ..core.hf import mean_pool
from .yardstick import sentence_embeddings

__all__ = [
    "cast_weights", "distill", "head_importance", "linear_sparsity", "prune", "prune_heads", "quantize_int8",
]


def _bert_layers(model) -> list:
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if layers is None or not hasattr(layers[0], "attention"):
        raise TypeError(f"model must be a BERT-style encoder with .encoder.layer[i].attention (e.g. MiniLM), "
                        f"got {type(model).__name__}")
    return list(layers)


def _prunable_linears(model) -> list[tuple[nn.Module, str]]:
    # A Linear whose weight is tied to an embedding (an LM head) would prune the embedding table too.
    tied = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    return [(m, "weight") for m in model.modules() if isinstance(m, nn.Linear) and id(m.weight) not in tied]


@checked
def prune(model, amount: float, structured: bool = False, scope: str = "global"):
    """A copy with the smallest-|w| fraction `amount` of linear weights zeroed (or heads removed if structured).

    scope="global" ranks all linear weights together; "layer" prunes `amount` of each layer.
    Taught in 05_compression, § Pruning.
    """
    check_module(model, example="load_minilm()")
    amount = as_float("amount", amount, 0, 1, high_open=True)
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


@checked
def linear_sparsity(model) -> float:
    """Fraction of exactly-zero weights over the prunable Linear layers.

    Taught in 05_compression, § Pruning.
    """
    check_module(model, example="load_minilm()")
    weights = [m.weight for m, _ in _prunable_linears(model)]
    if not weights:
        raise ValueError("model has no nn.Linear layers")
    return sum((w == 0).sum().item() for w in weights) / sum(w.numel() for w in weights)


@checked(max_length=(1, 2**16))
@torch.inference_mode()
def head_importance(model, tokenizer, texts: list[str], max_length: int = 64) -> torch.Tensor:
    """(layers, heads) importance: mean norm of each head's contribution ‖o_h W_O,h‖ to the attention output.

    Taught in 05_compression, § Removing whole heads.
    """
    layers = _bert_layers(model)
    scores, hooks = [], []
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    mask = enc["attention_mask"].bool()  # (B, T)

    def hook(module, inputs, _output, d_head: int):
        heads = inputs[0].unflatten(-1, (-1, d_head))  # (B, T, H, d_head)
        w_o = module.weight.T.unflatten(0, (-1, d_head))  # (H, d_head, d_model)
        contrib = torch.einsum("bthd,hde->bthe", heads, w_o).norm(dim=-1)  # (B, T, H)
        scores.append(contrib[mask].mean(0))

    for layer in layers:
        d_head = layer.attention.self.attention_head_size
        hooks.append(layer.attention.output.dense.register_forward_hook(functools.partial(hook, d_head=d_head)))
    try:
        model(**enc)
    finally:
        for h in hooks:
            h.remove()
    return torch.stack(scores)


@checked
def prune_heads(model, fraction: float, scores: torch.Tensor | None = None):
    """A copy of a BERT encoder with the lowest-scoring `fraction` of heads in every layer cut out of its weights.

    Q, K, V lose the heads' output rows and the attention output projection their input columns, so
    the model really shrinks. Default scores: ‖W_V,h‖·‖W_O,h‖ (no data needed); pass head_importance().
    Taught in 05_compression, § Removing whole heads.
    """
    from transformers.pytorch_utils import prune_linear_layer

    check_module(model, example="load_minilm()")
    fraction = as_float("fraction", fraction, 0, 1, high_open=True)
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


@checked
def quantize_int8(model, per_channel: bool = True):
    """A copy whose nn.Linear layers run int8: int8 weights (a scale per output row), activations quantized per batch.

    Uses torch.ao's quantize_dynamic: on CPU its fbgemm/x86 int8 kernels beat torchao's int8 path
    (torchao 0.18 + torch 2.13 ran MiniLM slower than fp32 on CPU). torch.ao.quantization announces
    its own deprecation; that warning is silenced here on purpose. per_channel=False: one scale per matrix.
    Taught in 05_compression, § Quantization.
    """
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig

    check_module(model, example="load_minilm()")
    if not isinstance(per_channel, bool):
        raise TypeError(f"per_channel must be a bool, got {per_channel!r}")
    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated.*")
        warnings.filterwarnings("ignore", message=".*are deprecated and will.*")
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {nn.Linear: qconfig}, dtype=torch.qint8)


@checked
def cast_weights(model, dtype: torch.dtype):
    """A copy with every floating parameter and buffer stored as `dtype` (torch.float16 or torch.bfloat16).

    Taught in 05_compression, § Quantization.
    """
    check_module(model, example="load_minilm()")
    if dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"dtype must be torch.float16, torch.bfloat16 or torch.float32, got {dtype!r}")
    return copy.deepcopy(model).to(dtype)


@checked(batch_size=(1, 2**16), max_length=(1, 2**16), steps=(1, 10**6), n_layers=(1, None), lr=(0, None, True))
@remembered
def distill(teacher, tokenizer, texts: list[str], n_layers: int = 2, steps: int = 200, batch_size: int = 16,
            lr: float = 1e-4, max_length: int = 64, seed: int = 0):
    """A student with the teacher's (frozen) embeddings and `n_layers` of its layers, trained to match its sentence embeddings.

    Loss: 1 − cos between the mean-pooled, normalised student and teacher embeddings of unlabeled
    `texts` (for unit vectors the MSE is 2(1 − cos), the same objective).
    Taught in 05_compression, § Distillation.
    """
    check_module(teacher, "teacher", example="load_minilm()")
    layers = _bert_layers(teacher)
    n_layers = as_int("n_layers", n_layers, 1, len(layers) - 1, note="fewer layers than the teacher")
    steps = as_int("steps", steps, 1)
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
    for _ in tqdm(range(steps), desc=tr(N_("distilling a {n_layers}-layer student"), n_layers=n_layers)):
        batch = torch.randint(len(texts), (batch_size,), generator=generator)
        enc = tokenizer([texts[i] for i in batch], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        pooled = mean_pool(student(**enc).last_hidden_state, enc["attention_mask"])
        loss = (1 - (pooled * targets[batch]).sum(-1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return student.eval()
