"""Chapter 5, the long-context part: how big the KV cache is, and what quantizing it costs.

A decoder keeps, for every layer, the keys and values of every past token: 2 × layers × KV heads ×
head_dim numbers per token. That grows linearly with n and, at long context, outweighs the model.
The quantizer here follows KIVI (Liu et al., 2024): keys per channel (their outliers live in a few
channels), values per token, in groups of `group` tokens, with the most recent `window` tokens kept
in full precision.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Sequence

import torch

from ..core.checked import checked
from ..core.result_store import remembered
from ..core.checks import as_float, as_int, check_causal_lm, check_finite
from ..core.hf import cache_kwargs, model_window, new_cache

__all__ = ["KVQuantResult", "fake_quantize", "kv_cache_bytes", "kv_head_dim", "kv_quant_curve", "kv_quant_nll",
           "kv_quantized_bytes", "llama3_8b_config"]

SUPPORTED_BITS = (2, 4, 8)


@checked
def kv_head_dim(config) -> int:
    """The per-head width of a transformers config: `head_dim` if set, else hidden_size / num_attention_heads.

    Taught in 05_compression, § The KV cache.
    """
    for name in ("num_hidden_layers", "num_attention_heads", "hidden_size"):
        if not isinstance(getattr(config, name, None), int):
            raise TypeError(f"config must be a transformers model config with an int {name}, "
                            f"got {type(config).__name__}")
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def _kv_heads(config) -> int:
    """KV heads of a config: `num_key_value_heads` (grouped-query attention) if set, else one per query head."""
    return getattr(config, "num_key_value_heads", None) or config.num_attention_heads


@checked
def llama3_8b_config(num_key_value_heads: int = 8):
    """A LlamaConfig with Llama-3-8B's public shape (32 layers, 32 query heads, 8 KV heads, d_model 4096); no weights.

    num_key_value_heads=32 gives the same model without grouped-query attention, for comparison.
    Taught in 05_compression, § The KV cache.
    """
    from transformers import LlamaConfig

    if num_key_value_heads not in (1, 2, 4, 8, 16, 32):
        raise ValueError(f"num_key_value_heads must divide 32 (1, 2, 4, 8, 16, 32), got {num_key_value_heads!r}")
    return LlamaConfig(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=num_key_value_heads, max_position_embeddings=8192)


@checked
def kv_cache_bytes(config, seq_len: int, bytes_per_value: float, batch: int = 1) -> int:
    """Bytes of keys + values for `seq_len` tokens: 2 × layers × KV heads × head_dim × seq_len × batch × bytes.

    Taught in 05_compression, § The KV cache.
    """
    head_dim = kv_head_dim(config)
    seq_len, batch = as_int("seq_len", seq_len, 0), as_int("batch", batch, 0)
    as_float("bytes_per_value", bytes_per_value, 0, low_open=True, note="2 for fp16, 1 for int8, 0.5 for int4")
    kv_heads = _kv_heads(config)
    return int(2 * config.num_hidden_layers * kv_heads * head_dim * seq_len * batch * bytes_per_value)


def _check_bits(bits) -> None:
    if bits not in SUPPORTED_BITS:
        raise ValueError(f"bits must be one of {SUPPORTED_BITS}, got {bits!r}")


def _check_window_group(window, group) -> None:
    as_int("window", window, 0)
    as_int("group", group, 1)


@checked
def fake_quantize(x: torch.Tensor, bits: int, dim: int) -> torch.Tensor:
    """x rounded to 2^bits levels spanning min..max along `dim` (one scale and offset per slice), then back to float.

    Keys use dim=-2 (stats over tokens: one scale per channel); values dim=-1 (one scale per token).
    Taught in 05_compression, § Quantizing the KV cache.
    """
    _check_bits(bits)
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {type(x).__name__}")
    dim = as_int("dim", dim, -x.dim(), x.dim() - 1, note="a dimension of x")
    check_finite("x", x)
    low, high = x.amin(dim, keepdim=True), x.amax(dim, keepdim=True)
    scale = (high - low).clamp(min=1e-8) / (2**bits - 1)
    return ((x - low) / scale).round().clamp(0, 2**bits - 1) * scale + low


@checked
def kv_quantized_bytes(config, seq_len: int, bits: int, window: int, group: int, n_quantized: int | None = None,
                       batch: int = 1) -> int:
    """Bytes of a KIVI-style cache: quantized tokens at `bits` plus fp16 scales/offsets, the rest in fp16.

    Keys carry a scale and offset per channel per group; values per token. By default all but the
    last `window` tokens are quantized (whole groups only).
    Taught in 05_compression, § Quantizing the KV cache.
    """
    _check_bits(bits)
    head_dim = kv_head_dim(config)
    kv_heads = _kv_heads(config)
    _check_window_group(window, group)
    if n_quantized is None:
        n_quantized = max(0, seq_len - window) // group * group
    if not 0 <= n_quantized <= seq_len:
        raise ValueError(f"n_quantized must be in [0, seq_len={seq_len}], got {n_quantized}")
    per_layer = (
        2 * n_quantized * kv_heads * head_dim * bits / 8  # packed keys and values
        + math.ceil(n_quantized / group) * kv_heads * head_dim * 2 * 2  # key scale + offset per channel, fp16
        + n_quantized * kv_heads * 2 * 2  # value scale + offset per token, fp16
        + (seq_len - n_quantized) * 2 * kv_heads * head_dim * 2  # full-precision tail, fp16
    )
    return int(per_layer * config.num_hidden_layers * batch)


@checked
@dataclass
class KVQuantResult:
    """Decoding the second half with a quantized cache: mean NLL, perplexity, bytes vs an fp16 cache."""

    bits: int | None
    window: int
    nll: float
    ppl: float
    n_scored: int
    n_quantized: int
    cache_bytes: int
    fp16_bytes: int

    @property
    def memory_ratio(self) -> float:
        return self.cache_bytes / self.fp16_bytes


@checked
def kv_quant_nll(model, input_ids: torch.Tensor, bits: int | None, window: int = 128, group: int = 64,
                 chunk: int = 64, prefix: int | None = None) -> KVQuantResult:
    """Perplexity of tokens after `prefix` when they are decoded chunk by chunk against a quantized KV cache.

    The prefix (default n // 2) is encoded in one pass. Then, before each chunk of `chunk` tokens, every
    whole group of `group` cached tokens older than the last `window` is quantized in place (keys per
    channel, values per token) and stays quantized. Scored: every token after the prefix (n − prefix of
    them), each predicted as in plain decoding. bits=None runs the identical schedule without quantizing.
    Taught in 05_compression, § Quantizing the KV cache.
    """
    return kv_quant_curve(model, input_ids, (bits,), window, group, chunk, prefix)[0]


@checked
@remembered
@torch.inference_mode()
def kv_quant_curve(model, input_ids: torch.Tensor, bits_options: Sequence[int | None] = (None, 8, 4, 2), window: int = 128, group: int = 64,
                   chunk: int = 64, prefix: int | None = None) -> list[KVQuantResult]:
    """kv_quant_nll for several bit widths (None = full precision), encoding the shared prefix only once.

    Taught in 05_compression, § Quantizing the KV cache.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a causal LM (torch.nn.Module), got {type(model).__name__}")
    check_causal_lm(model)
    for bits in bits_options:
        if bits is not None:
            _check_bits(bits)
    ids = input_ids.reshape(1, -1) if isinstance(input_ids, torch.Tensor) else None
    if ids is None or ids.dtype not in (torch.int64, torch.int32):
        raise TypeError("input_ids must be an integer tensor of shape (n,) or (1, n)")
    n = ids.shape[1]
    prefix = n // 2 if prefix is None else prefix
    _check_window_group(window, group)
    as_int("chunk", chunk, 1)
    as_int("prefix", prefix, 1)
    if not prefix < n:
        raise ValueError(f"prefix must leave at least 1 token to decode: prefix={prefix}, n={n}")
    own = model_window(model.config)
    if own is not None and n >= own:
        raise ValueError(f"n={n} tokens must be < the model's sliding_window={own}: its cache keeps only the last "
                         f"{own - 1} tokens, so cached positions no longer line up with the quantized groups")
    prefix_cache = new_cache(model)
    out = model(input_ids=ids[:, :prefix], logits_to_keep=1, **cache_kwargs(model, prefix_cache))
    first_logits = out.logits[0, -1:].float()  # (1, V): predicts token `prefix`
    fp16_bytes = kv_cache_bytes(model.config, n, 2)
    results = []
    for bits in bits_options:
        cache, previous = copy.deepcopy(prefix_cache), first_logits
        cache_args = cache_kwargs(model, cache)
        n_quantized, total_nll = 0, 0.0
        for start in range(prefix, n, chunk):
            if bits is not None:
                limit = n_quantized + max(0, cache.get_seq_length() - window - n_quantized) // group * group
                if limit > n_quantized:  # whole groups only: limit - n_quantized is a multiple of group
                    sl = slice(n_quantized, limit)
                    for layer in cache.layers:
                        # Keys: (B, H_kv, G·group, d) -> (B, H_kv, G, group, d), one scale per channel per group.
                        keys = layer.keys[:, :, sl].unflatten(2, (-1, group))
                        layer.keys[:, :, sl] = fake_quantize(keys, bits, dim=-2).flatten(2, 3)
                        layer.values[:, :, sl] = fake_quantize(layer.values[:, :, sl], bits, dim=-1)  # per token
                n_quantized = limit
            piece = ids[:, start:start + chunk]
            logits = model(input_ids=piece, **cache_args).logits[0].float()  # (c, V)
            predictions = torch.cat([previous, logits[:-1]])  # position t predicts token t + 1
            total_nll += torch.nn.functional.cross_entropy(predictions, piece[0], reduction="sum").item()
            previous = logits[-1:]
        nll = total_nll / (n - prefix)
        cache_bytes = (fp16_bytes if bits is None
                       else kv_quantized_bytes(model.config, n, bits, window, group, n_quantized=n_quantized))
        results.append(KVQuantResult(bits, window, nll, math.exp(nll), n - prefix, n_quantized, cache_bytes, fp16_bytes))
    return results
