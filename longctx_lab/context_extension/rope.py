"""Chapter 6: RoPE from scratch, the ways to stretch it past the trained length, and the model with it swapped in.

RoPE turns position m into a rotation of each dimension pair (i, i + d/2) by the angle m·θᵢ, with
θᵢ = base^(−2i/d). Scaling methods change the θᵢ (linear, NTK, dynamic NTK, YaRN, llama3) and
YaRN also scales the attention logits. Every formula here is checked against transformers'
`ROPE_INIT_FUNCTIONS` and SmolLM2's own rotary embedding. The needle and perplexity experiments
live in `needle.py`, beside this file.
"""
from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch

from ..core.checked import checked
from ..core.checks import as_float, as_ids, as_int, check_ordered
from ..core.hf import model_window, require_eager

__all__ = [
    "ROPE_METHODS", "ScaledRope", "apply_rope", "rope_check", "rope_frequencies", "rope_parameters_for",
    "rope_score_by_distance", "rope_wavelengths", "scaled_rope_frequencies", "transformers_rope_frequencies",
    "use_rope_scaling",
]

# "none" is plain RoPE; "ntk" (static NTK-aware base change) has no rope_type of its own in
# transformers, so it maps onto "default" with a larger rope_theta.
ROPE_METHODS = ("none", "linear", "ntk", "dynamic", "yarn", "llama3")
_ROPE_TYPE = {"none": "default", "linear": "linear", "ntk": "default", "dynamic": "dynamic", "yarn": "yarn",
              "llama3": "llama3"}


def _check_head_dim(head_dim) -> int:
    head_dim = as_int("head_dim", head_dim, 4)
    if head_dim % 2:
        raise ValueError(f"head_dim={head_dim} must be even (dimensions rotate in pairs)")
    return head_dim


@checked(head_dim=(2, 2**16))
def rope_frequencies(head_dim: int, base: float = 100000.0) -> torch.Tensor:
    """Inverse frequencies θᵢ = base^(−2i/d), i = 0 … d/2 − 1: shape (d/2,), fastest first.

    Taught in 06_context_extension, § The idea.
    """
    head_dim = _check_head_dim(head_dim)
    base = as_float("base", base, 1, low_open=True)
    # int64 arange then float, as transformers does, so the values match bit for bit.
    return 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))


@checked
def rope_wavelengths(inv_freq: torch.Tensor) -> torch.Tensor:
    """Tokens per full turn of each dimension pair: 2π / θᵢ.

    Taught in 06_context_extension, § The idea.
    """
    inv_freq = torch.as_tensor(inv_freq, dtype=torch.float32)
    if inv_freq.ndim != 1 or not bool((inv_freq > 0).all()):
        raise ValueError(f"inv_freq must be a 1-D tensor of positive frequencies, got shape {tuple(inv_freq.shape)}")
    return 2 * math.pi / inv_freq


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x₁, x₂) → (−x₂, x₁) on the two halves of the last dim: pair i is (i, i + d/2), Llama's layout."""
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


@checked
def apply_rope(x: torch.Tensor, positions, inv_freq: torch.Tensor, attention_factor: float = 1.0) -> torch.Tensor:
    """Rotate x (..., T, d) at `positions` (T,): pair (i, i + d/2) turns by angle position·θᵢ.

    `attention_factor` multiplies cos and sin, as transformers does for YaRN (the logits then
    scale by its square). Angles are computed in fp32 like transformers does, or in fp64 for fp64 x.
    Taught in 06_context_extension, § The idea.
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise TypeError(f"x must be a tensor of shape (..., T, d), got {type(x).__name__}")
    # fp32 angles drift by about position × 6e-8 rad (≈ 2e-4 at 4k tokens): fine for a model, not for exact checks.
    compute = torch.float64 if x.dtype == torch.float64 else torch.float32
    inv_freq = torch.as_tensor(inv_freq, device=x.device).to(compute)
    if x.shape[-1] != 2 * inv_freq.numel():
        raise ValueError(f"x's last dim {x.shape[-1]} must be 2 × len(inv_freq) = {2 * inv_freq.numel()}")
    positions = torch.as_tensor(positions, device=x.device)
    if positions.ndim != 1 or positions.numel() != x.shape[-2]:
        raise ValueError(f"positions must be 1-D with one entry per token (T={x.shape[-2]}), got shape "
                         f"{tuple(positions.shape)}")
    angles = positions.to(compute)[:, None] * inv_freq  # (T, d/2)
    angles = torch.cat((angles, angles), dim=-1)  # (T, d): pair i and i + d/2 share an angle
    cos, sin = angles.cos() * attention_factor, angles.sin() * attention_factor
    rotated = x.to(compute) * cos + _rotate_half(x.to(compute)) * sin
    return rotated.to(x.dtype)


@checked
def rope_score_by_distance(q: torch.Tensor, k: torch.Tensor, inv_freq: torch.Tensor, distances) -> torch.Tensor:
    """The score q·k after rotation, with the query `Δ` tokens after the key, for each Δ in `distances`.

    Only Δ matters (RoPE is relative), so the key sits at 0 and the query at Δ.
    Taught in 06_context_extension, § The idea.
    """
    distances = torch.as_tensor(distances)
    if q.ndim != 1 or q.shape != k.shape:
        raise ValueError(f"q and k must be 1-D vectors of the same length, got {tuple(q.shape)} and {tuple(k.shape)}")
    q_rot = apply_rope(q.expand(distances.numel(), -1), distances, inv_freq)  # (D, d)
    k_rot = apply_rope(k[None], torch.zeros(1), inv_freq)  # (1, d)
    dtype = torch.promote_types(q_rot.dtype, torch.float32)  # bf16/fp16 scores in fp32; fp64 stays fp64
    return q_rot.to(dtype) @ k_rot[0].to(dtype)


def _check_method(method) -> str:
    if method not in ROPE_METHODS:
        raise ValueError(f"method={method!r} is not a RoPE method; valid: {ROPE_METHODS}")
    return method


def _check_factor(factor, method: str) -> float:
    factor = as_float("factor", factor, 1)
    if method == "none" and factor != 1.0:
        raise ValueError(f"factor={factor} needs a scaling method; with method='none' the factor must be 1")
    return factor


@checked
@dataclass(frozen=True)
class ScaledRope:
    """Inverse frequencies of one scaling setting and the factor YaRN puts on cos/sin."""

    method: str
    factor: float
    inv_freq: torch.Tensor
    attention_factor: float

    @property
    def wavelengths(self) -> torch.Tensor:
        """Tokens per turn of each dimension pair."""
        return rope_wavelengths(self.inv_freq)


def _yarn_ramp(head_dim: int, base: float, original: int, beta_fast: float, beta_slow: float) -> torch.Tensor:
    """YaRN's NTK-by-parts blend, 1 = keep the original frequency, 0 = interpolate: shape (d/2,)."""
    def pair_index(turns: float) -> float:
        # The pair i whose wavelength fits `turns` times into the original context.
        return head_dim * math.log(original / (turns * 2 * math.pi)) / (2 * math.log(base))

    low = max(math.floor(pair_index(beta_fast)), 0)
    high = min(math.ceil(pair_index(beta_slow)), head_dim - 1)
    high = high + 0.001 if low == high else high
    ramp = ((torch.arange(head_dim // 2, dtype=torch.float32) - low) / (high - low)).clamp(0, 1)
    return 1 - ramp


@checked(head_dim=(2, 2**16), beta_fast=(0, None, True), beta_slow=(0, None, True), low_freq_factor=(0, None, True),
         high_freq_factor=(0, None, True))
def scaled_rope_frequencies(
    head_dim: int, base: float = 100000.0, method: str = "none", factor: float = 1.0,
    original_max_positions: int = 8192, seq_len: int | None = None,
    beta_fast: float = 32.0, beta_slow: float = 1.0, low_freq_factor: float = 1.0, high_freq_factor: float = 4.0,
) -> ScaledRope:
    """Inverse frequencies (and attention factor) of RoPE stretched by `factor` = s with `method`.

    linear: θᵢ/s (positions m → m/s). ntk: base → base·s^(d/(d−2)). dynamic: ntk with
    s' = s·seq_len/L − (s − 1), only once seq_len > L. yarn: pairs turning ≥ β_fast times in L keep θᵢ,
    pairs turning ≤ β_slow times get θᵢ/s, a linear ramp between; cos/sin × (0.1·ln s + 1).
    llama3: wavelengths above L/low_freq_factor get θᵢ/s, below L/high_freq_factor kept, smooth between.
    Taught in 06_context_extension, § Stretching RoPE.
    """
    method = _check_method(method)
    factor = _check_factor(factor, method)
    check_ordered("beta_slow", beta_slow, "beta_fast", beta_fast, strict=True)  # YaRN: slow-turning pairs < fast
    check_ordered("low_freq_factor", low_freq_factor, "high_freq_factor", high_freq_factor, strict=True)  # llama3
    inv_freq = rope_frequencies(head_dim, base)
    original = int(as_float("original_max_positions", original_max_positions, 1))
    attention_factor = 1.0
    if method == "linear":
        inv_freq = inv_freq / factor
    elif method == "ntk":
        inv_freq = rope_frequencies(head_dim, base * factor ** (head_dim / (head_dim - 2)))
    elif method == "dynamic":
        length = original if seq_len is None else max(int(as_float("seq_len", seq_len, 0, low_open=True)), original)
        stretch = factor * length / original - (factor - 1)
        inv_freq = rope_frequencies(head_dim, base * stretch ** (head_dim / (head_dim - 2)))
    elif method == "yarn":
        keep = _yarn_ramp(head_dim, base, original, beta_fast, beta_slow)
        inv_freq = inv_freq / factor * (1 - keep) + inv_freq * keep
        attention_factor = 0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0
    elif method == "llama3":
        wavelength = 2 * math.pi / inv_freq
        smooth = (original / wavelength - low_freq_factor) / (high_freq_factor - low_freq_factor)
        blended = (1 - smooth) * inv_freq / factor + smooth * inv_freq
        inv_freq = torch.where(wavelength > original / low_freq_factor, inv_freq / factor,
                               torch.where(wavelength < original / high_freq_factor, inv_freq, blended))
    return ScaledRope(method, factor, inv_freq, attention_factor)


@checked
def rope_parameters_for(method: str, factor: float, base: float = 100000.0, original_max_positions: int = 8192,
                        head_dim: int = 64) -> dict:
    """The `config.rope_parameters` dict that makes transformers apply `method` with `factor`.

    Taught in 06_context_extension, § Stretching RoPE.
    """
    method = _check_method(method)
    factor = _check_factor(factor, method)
    if method == "none":
        return {"rope_type": "default", "rope_theta": float(base)}
    if method == "ntk":
        head_dim = _check_head_dim(head_dim)
        return {"rope_type": "default", "rope_theta": float(base) * factor ** (head_dim / (head_dim - 2))}
    params = {"rope_type": _ROPE_TYPE[method], "rope_theta": float(base), "factor": float(factor)}
    if method in ("yarn", "llama3"):
        params["original_max_position_embeddings"] = int(original_max_positions)
    if method == "llama3":
        params.update(low_freq_factor=1.0, high_freq_factor=4.0)
    return params


def _scaled_config(config, method: str, factor: float):
    """A deep copy of a Llama config whose rope_parameters apply `method` with `factor`."""
    scaled = copy.deepcopy(config)
    base = config.rope_parameters["rope_theta"]
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    params = rope_parameters_for(method, factor, base, config.max_position_embeddings, head_dim)
    if "partial_rotary_factor" in config.rope_parameters:  # GPT-NeoX: only part of each head rotates
        params["partial_rotary_factor"] = config.rope_parameters["partial_rotary_factor"]
    scaled.rope_parameters = params
    return scaled


def _rotary_owner(model, what: str) -> torch.nn.Module:
    """The module holding `model`'s `rotary_emb` (Llama: .model, GPT-NeoX: .gpt_neox), or a ValueError saying why none."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
        raise TypeError(f"model must be a transformers model (nn.Module with .config), got {type(model).__name__}")
    kind = getattr(model.config, "model_type", "?")
    if not isinstance(getattr(model.config, "rope_parameters", None), dict):
        raise ValueError(f"{what} needs RoPE, but model {type(model).__name__} (model_type={kind!r}) uses learned "
                         "absolute positions: there are no rotary frequencies to check or scale")
    inner = getattr(model, "base_model", None)
    if inner is None or not hasattr(inner, "rotary_emb"):
        raise ValueError(f"{what} rebuilds the model's shared .rotary_emb, and model {type(model).__name__} "
                         f"(model_type={kind!r}) has none on its base model")
    return inner


@checked
def transformers_rope_frequencies(config, method: str, factor: float, seq_len: int | None = None):
    """transformers' own (inv_freq, attention_factor) for `method`, from `ROPE_INIT_FUNCTIONS`.

    Taught in 06_context_extension, § Stretching RoPE.
    """
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    scaled = _scaled_config(config, method, factor)
    rope_type = scaled.rope_parameters["rope_type"]
    if rope_type == "default":
        return LlamaRotaryEmbedding.compute_default_rope_parameters(scaled)
    return ROPE_INIT_FUNCTIONS[rope_type](scaled, None, seq_len=seq_len)


@checked
@contextmanager
def use_rope_scaling(model, method: str, factor: float = 1.0) -> Iterator[torch.nn.Module]:
    """Run a RoPE model with its rotary embedding rebuilt for `method` and `factor`; restored on exit.

    No weight changes: this is inference-time scaling without fine-tuning. Llama, Qwen2, Mistral, GPT-NeoX
    (partial rotary kept) work; learned absolute positions (GPT-2, OPT, BERT) get a ValueError saying so.
    Taught in 06_context_extension, § Perplexity past the trained length.
    """
    method = _check_method(method)
    factor = _check_factor(factor, method)
    inner = _rotary_owner(model, f"use_rope_scaling(method={method!r})")
    original = inner.rotary_emb
    device = original.inv_freq.device
    rotary = type(original)(_scaled_config(model.config, method, factor)).to(device)
    inner.rotary_emb = rotary
    try:
        yield rotary
    finally:
        inner.rotary_emb = original


def _attention_layer(model, layer: int):
    inner = _rotary_owner(model, "rope_check")
    kind = getattr(model.config, "model_type", "?")
    if model.config.rope_parameters.get("partial_rotary_factor", 1.0) != 1.0:
        raise ValueError(f"rope_check compares full-width rotation, but model {type(model).__name__} "
                         f"(model_type={kind!r}) rotates only partial_rotary_factor="
                         f"{model.config.rope_parameters['partial_rotary_factor']} of each head")
    layers = getattr(inner, "layers", None)
    attn = getattr(layers[0], "self_attn", None) if layers else None
    if not all(hasattr(attn, name) for name in ("q_proj", "k_proj", "head_dim")):
        raise ValueError(f"rope_check hooks separate q_proj/k_proj projections in .layers[i].self_attn; model "
                         f"{type(model).__name__} (model_type={kind!r}) is laid out differently")
    return layers[as_int("layer", layer, 0, len(layers) - 1)].self_attn


@checked
def rope_check(model, input_ids, layer: int = 0) -> dict[str, float]:
    """How far the kit's RoPE is from the model's own on real activations (max absolute differences).

    Hooks layer `layer`'s q/k projections (before rotation) and its attention weights (model
    loaded with attn_implementation="eager"); rotates q/k with `apply_rope` and recomputes the
    softmax. Also compares cos/sin with `model.base_model.rotary_emb`. Llama layout with full rotation only.
    Taught in 06_context_extension, § Checked against SmolLM2's own rotary embedding.
    """
    attn = _attention_layer(model, layer)
    require_eager(model)
    ids = as_ids(input_ids)[None].to(model.device)  # (1, n)
    captured: dict[str, torch.Tensor] = {}
    hooks = [
        attn.q_proj.register_forward_hook(lambda m, i, o: captured.__setitem__("q", o.detach())),
        attn.k_proj.register_forward_hook(lambda m, i, o: captured.__setitem__("k", o.detach())),
        attn.register_forward_hook(lambda m, i, o: captured.__setitem__("weights", o[1].detach())),
    ]
    try:
        with torch.no_grad():
            model(input_ids=ids)
    finally:
        for hook in hooks:
            hook.remove()
    n, head_dim = ids.shape[1], attn.head_dim
    q = captured["q"].view(1, n, -1, head_dim).transpose(1, 2)  # (1, H, n, d)
    k = captured["k"].view(1, n, -1, head_dim).transpose(1, 2)  # (1, H_kv, n, d)
    k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)  # grouped-query: each KV head serves H/H_kv heads
    inv_freq = rope_frequencies(head_dim, model.config.rope_parameters["rope_theta"])
    positions = torch.arange(n)
    q_rot, k_rot = apply_rope(q, positions, inv_freq), apply_rope(k, positions, inv_freq)
    scores = (q_rot @ k_rot.transpose(-1, -2)) * head_dim ** -0.5  # (1, H, n, n)
    causal = torch.ones(n, n, dtype=torch.bool, device=scores.device).tril()
    window = model_window(model.config)
    if window is not None:
        causal &= ~torch.ones(n, n, dtype=torch.bool, device=scores.device).tril(-window)  # q − k < window, as Mistral
    weights = scores.masked_fill(~causal, float("-inf")).softmax(-1)
    with torch.no_grad():
        cos, sin = model.base_model.rotary_emb(captured["q"], positions[None].to(model.device))
    angles = positions.float()[:, None] * inv_freq
    angles = torch.cat((angles, angles), -1).to(cos.device)
    return {
        "cos_sin": max(float((cos[0] - angles.cos()).abs().max()), float((sin[0] - angles.sin()).abs().max())),
        "attention_weights": float((weights - captured["weights"]).abs().max()),
    }
