"""Chapter 6 experiments: perplexity past the trained length, pass-key trials, and retrieval instead of context.

Heavy runs (16k-token forwards, a grid of needle trials) are computed once by `compute_extension_results`
(`python -m longctx_lab.context_extension.needle --precompute`, fast on a GPU) and stored in
data/needle_results.json; the notebook loads them and recomputes a small part live.
"""
from __future__ import annotations

import json
import math
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch
from tqdm.auto import tqdm

from ..chunking.plan import ChunkPlan
from ..core.checked import MAX_SIZE, checked
from ..core.checks import as_float, as_ids, as_int, check_causal_lm, check_choice, check_length
from ..core.data import QUESTION, answer_ids, data_dir, distractor_keys, load_text, make_haystack
from ..core.tokenizers import flag_unknown_tokens
from ..core.i18n import tr
from ..core.own_text import own_text_path
from ..core.result_store import remembered
from ..core.hf import cache_kwargs, mean_pool, new_cache, per_layer_attention, require_eager
from .precompute import precompute_cli, run_versions
from .rope import ROPE_METHODS, _check_factor, _check_method, use_rope_scaling

__all__ = [
    "NeedleTrial", "attention_to_needle", "compute_extension_results", "load_extension_results",
    "long_context_nll", "needle_trial", "repeated_document_ids", "results_path", "retrieval_ranks",
]

RESULTS_FILE = "needle_results.json"


def _positions(model, method: str, factor: float, n: int):
    """The context for a run at `n` positions: RoPE rebuilt for `method`, or no change for "none" (any decoder).

    Without RoPE (GPT-2, OPT: learned absolute positions) "none" works up to max_position_embeddings and any
    scaling method is a ValueError from use_rope_scaling.
    """
    check_causal_lm(model)
    method, factor = _check_method(method), _check_factor(factor, method)
    if method != "none":
        return use_rope_scaling(model, method, factor)
    if not isinstance(getattr(model.config, "rope_parameters", None), dict):
        check_length("n", n, getattr(model.config, "max_position_embeddings", None),
                     f"model_type={model.config.model_type!r} has learned absolute positions, no RoPE to stretch")
    return nullcontext()


@checked
def repeated_document_ids(tokenizer, n_tokens: int) -> torch.Tensor:
    """The long document's token ids, repeated (blank line between copies) and cut to exactly n_tokens.

    A repeat is easy to predict: from the second copy on the model can copy what it read one
    document-length earlier, so the loss there measures whether it still finds that text.
    Taught in 06_context_extension, § Perplexity past the trained length.
    """
    n_tokens = as_int("n_tokens", n_tokens, 2)
    once = tokenizer.encode(load_text("long_document") + "\n\n", add_special_tokens=False)
    copies = math.ceil(n_tokens / len(once))
    return torch.tensor((once * copies)[:n_tokens])


@checked(chunk=(1, None))
@remembered
def long_context_nll(model, input_ids, method: str = "none", factor: float = 1.0, chunk: int = 1024) -> torch.Tensor:
    """NLL (nats) of tokens 1..n−1 in one forward pass with RoPE scaled by `method`/`factor`: shape (n − 1,).

    Unlike `token_nll`, n may exceed the model's trained positions; logits are made `chunk` tokens
    at a time so a 16k-token input never holds 16k × vocabulary floats. No fine-tuning.
    Taught in 06_context_extension, § Perplexity past the trained length.
    """
    ids = as_ids(input_ids)
    context = _positions(model, method, factor, ids.numel())
    ids = ids.to(model.device)
    losses = []
    with context, torch.no_grad():
        hidden = model.base_model(input_ids=ids[None]).last_hidden_state[0]  # (n, d_model)
        head = model.get_output_embeddings()
        for start in range(0, ids.numel() - 1, chunk):
            end = min(start + chunk, ids.numel() - 1)
            logits = head(hidden[start:end]).float()  # (chunk, V)
            losses.append(torch.nn.functional.cross_entropy(logits, ids[start + 1:end + 1], reduction="none"))
    return torch.cat(losses).cpu()


def _score_answers(model, cache, first: torch.Tensor, answers: list[list[int]], prefix: int) -> list[float]:
    """Summed log-probability of each answer after the prefix, all answers in one batched forward."""
    surplus = cache.get_seq_length() - prefix
    if surplus:  # drop what greedy decoding added (a negative crop removes that many tokens)
        cache.crop(-surplus)
    width = max(map(len, answers))
    totals = torch.tensor([float(first[a[0]]) for a in answers])
    if width > 1:
        cache.batch_repeat_interleave(len(answers))
        # Right-padding is harmless: a causal model never lets a pad change the tokens before it.
        inputs = torch.tensor([a[:-1] + [a[0]] * (width - len(a)) for a in answers], device=model.device)
        logp = model(input_ids=inputs, **cache_kwargs(model, cache)).logits.float().log_softmax(-1).cpu()
        for row, answer in enumerate(answers):
            steps = torch.arange(len(answer) - 1)
            totals[row] += logp[row, steps, torch.tensor(answer[1:], dtype=torch.long)].sum()
    return totals.tolist()


@checked
@dataclass(frozen=True)
class NeedleTrial:
    """One pass-key trial: what the model generated, and how the true key scores against distractors."""

    n_tokens: int
    depth: float
    actual_depth: float
    key: str
    generated: str
    found: bool
    key_logprob: float
    best_distractor_logprob: float
    rank: int

    def as_dict(self) -> dict:
        return asdict(self)


@checked(n_distractors=(1, None), max_new_tokens=(1, 1024), depth=(0, 1))
@remembered
def needle_trial(model, tokenizer, n_tokens: int, depth: float, seed: int = 0, n_distractors: int = 9,
                 max_new_tokens: int = 8, method: str = "none", factor: float = 1.0,
                 filler: str | None = None, language: str = "en") -> NeedleTrial:
    """Hide a pass key at `depth` in n_tokens of filler; ask for it by greedy decoding and by teacher forcing.

    Greedy: `max_new_tokens` tokens, found = the key appears in them. Teacher forcing: the summed
    log-probability of " key" after the question, for the true key and `n_distractors` others of
    the same length; rank 1 = the true key scores best. One prefill serves both (KV cache, cropped).
    `filler` and `language` (of the needle and question: "en" or "zh") go to `make_haystack`.
    Taught in 06_context_extension, § Finding the needle, and 06_context_extension, § A Chinese haystack.
    """
    check_causal_lm(model)
    haystack = make_haystack(tokenizer, n_tokens, depth, seed=seed, filler=filler, language=language)
    max_new_tokens = as_int("max_new_tokens", max_new_tokens, 1)
    # Positions used: the prompt, then the greedy tokens or the scored answer (" " + a 5-digit key), whichever is longer.
    context = _positions(model, method, factor, len(haystack.input_ids) + max(max_new_tokens, 8))
    ids = torch.tensor([haystack.input_ids], device=model.device)
    with context, torch.no_grad():
        cache = new_cache(model)
        for layer in cache.layers:  # a sliding-window layer (Mistral) must keep what greedy decoding adds, to crop it
            getattr(layer, "activate_past_recording", lambda: None)()
        cache_args = cache_kwargs(model, cache)  # once per trial: inspect.signature is not free
        prefill = model(input_ids=ids, logits_to_keep=1, **cache_args)
        first = prefill.logits[0, -1].float().log_softmax(-1)  # (V,)
        generated, token = [], int(first.argmax())
        for _ in range(max_new_tokens):
            generated.append(token)
            if len(generated) == max_new_tokens:
                break
            step = model(input_ids=torch.tensor([[token]], device=model.device), **cache_args)
            token = int(step.logits[0, -1].argmax())

        keys = [haystack.key, *distractor_keys(haystack.key, n_distractors, seed=seed)]
        scores = _score_answers(model, cache, first, [answer_ids(tokenizer, key) for key in keys],
                                len(haystack.input_ids))
    true_score, others = scores[0], scores[1:]
    text = tokenizer.decode(generated)
    return NeedleTrial(
        n_tokens=n_tokens, depth=float(depth), actual_depth=haystack.actual_depth, key=haystack.key,
        generated=text, found=haystack.key in text, key_logprob=true_score,
        best_distractor_logprob=max(others, default=float("-inf")),
        rank=1 + sum(other > true_score for other in others),
    )


@checked(depth=(0, 1))
def attention_to_needle(model, tokenizer, n_tokens: int, depth: float, seed: int = 0) -> torch.Tensor:
    """Attention mass from the question's last token onto the needle's tokens, per layer and head: (L, H).

    The model must use eager attention (its weights are read by a hook on each layer).
    Taught in 06_context_extension, § Where the model looks.
    """
    require_eager(model)
    haystack = make_haystack(tokenizer, n_tokens, depth, seed=seed)
    start, end = haystack.needle_span
    ids = torch.tensor([haystack.input_ids], device=model.device)
    # Each layer's (H, n, n) weights are reduced as the layer runs, so only one layer's map is ever held.
    masses = per_layer_attention(model, ids, lambda weights: weights[:, -1, start:end].sum(-1).float().cpu())
    return torch.stack(masses)  # (L, H)


@checked
def retrieval_ranks(encoder, encoder_tokenizer, text: str, needle: str, chunk_sizes: Sequence[int], query: str = QUESTION) -> dict:
    """Rank of the chunk holding `needle` among k-token chunks of `text`, by cosine similarity to `query`.

    Chunks follow `ChunkPlan(n, k)` on the encoder's own tokens; embeddings are mean-pooled and
    normalised (how all-MiniLM-L6-v2 was trained). Returns {k: rank}, rank 1 = retrieved first.
    Prints a one-line note when more than 10 % of the encoder's tokens are [UNK] (MiniLM on Chinese).
    Taught in 06_context_extension, § Retrieval instead of context.
    """
    if not needle.strip():
        raise ValueError(f"needle={needle!r} is empty; valid: the sentence to look for, e.g. 'The pass key is 12345.'")
    where = text.find(needle)
    if where < 0:
        raise ValueError(f"needle={needle!r} does not occur in text")
    limit = encoder.config.max_position_embeddings - 2  # room for [CLS] and [SEP]
    sizes = [as_int("chunk size", k, 1, limit, note="the encoder's positions") for k in chunk_sizes]
    flag_unknown_tokens(encoder_tokenizer, [text, query])  # here, not in the stored part: a read-back warns too
    return _retrieval_ranks(encoder, encoder_tokenizer, text, needle, where, sizes, query)


@remembered
def _retrieval_ranks(encoder, encoder_tokenizer, text: str, needle: str, where: int, chunk_sizes: list[int],
                     query: str) -> dict:
    """retrieval_ranks once its arguments are checked: `where` is the needle's first character in `text`."""
    encoded = encoder_tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
    device = next(encoder.parameters()).device

    def embed(batch: list[list[int]]) -> torch.Tensor:
        rows = [[encoder_tokenizer.cls_token_id, *b, encoder_tokenizer.sep_token_id] for b in batch]
        width = max(map(len, rows))
        input_ids = torch.tensor([r + [encoder_tokenizer.pad_token_id] * (width - len(r)) for r in rows], device=device)
        lengths = torch.tensor([len(r) for r in rows], device=device)
        attention_mask = torch.arange(width, device=device) < lengths[:, None]  # (B, width)
        with torch.no_grad():
            hidden = encoder(input_ids=input_ids, attention_mask=attention_mask.long()).last_hidden_state  # (B, k+2, d)
        return mean_pool(hidden, attention_mask)

    question = embed([encoder_tokenizer.encode(query, add_special_tokens=False)])[0]
    ranks = {}
    for k in chunk_sizes:
        spans = ChunkPlan(len(ids), k).spans
        similarity = torch.cat([embed([ids[s:e] for s, e in spans[i:i + 32]]) @ question
                                for i in range(0, len(spans), 32)])
        hits = [i for i, (s, e) in enumerate(spans)
                if offsets[s][0] < where + len(needle) and offsets[e - 1][1] > where]  # chunks touching the needle
        order = similarity.argsort(descending=True).tolist()
        ranks[k] = 1 + min(order.index(i) for i in hits)
    return ranks


@checked
def results_path() -> Path:
    """Where the precomputed chapter-6 results live: data/needle_results.json.

    Taught in 06_context_extension, § Cached results.
    """
    return data_dir() / RESULTS_FILE


@checked
def load_extension_results(path: str | Path | None = None) -> dict:
    """The precomputed results (settings, versions, perplexity curves, needle grid, attention masses).

    Taught in 06_context_extension, § Cached results.
    """
    path = results_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; create it with "
                                "`python -m longctx_lab.context_extension.needle --precompute`")
    if own_text_path() is not None:  # the stored curves and grid were measured on the kit's document
        print(tr("note: these precomputed results were measured on the kit's long document, not on your text"),
              file=sys.stderr)
    return json.loads(path.read_text(encoding="utf-8"))


@checked(ppl_tokens=(2, None), bin_size=(1, None), attention_tokens=(2, None))
def compute_extension_results(model, tokenizer, eager_model=None, ppl_tokens: int = 16384, factor: float = 2.0,
                              methods: Sequence[str] = ("none", "linear", "ntk", "dynamic", "yarn"), bin_size: int = 256,
                              lengths: Sequence[int] = (256, 512, 1024, 2048, 4096, 8192, 12288, 16384),
                              depths: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
                              grid_methods: Sequence[str] = ("none", "linear", "ntk", "dynamic", "yarn"),
                              attention_tokens: int = 1024, seed: int = 0) -> dict:
    """Every heavy chapter-6 result, as a JSON-ready dict: perplexity curves, needle grid, attention masses.

    Perplexity: `repeated_document_ids(ppl_tokens)` per method, the per-token NLL averaged in bins
    of `bin_size`. Grid: `needle_trial` for each method × length × depth (factor 1 for "none").
    Attention: `attention_to_needle` at `attention_tokens`, depth 0.5 (needs `eager_model`).
    Taught in 06_context_extension, § Cached results.
    """
    # every argument is checked here, before the first of many minutes of work
    for name, chosen in (("methods", methods), ("grid_methods", grid_methods)):
        for method in chosen:
            check_choice(name, method, ROPE_METHODS)
    for n_tokens in lengths:
        as_int("lengths", n_tokens, 2, MAX_SIZE)
    for depth in depths:
        as_float("depths", depth, 0, 1)
    factor = as_float("factor", factor, 1)
    started = time.perf_counter()
    ids = repeated_document_ids(tokenizer, ppl_tokens)
    curves = {}
    for method in tqdm(methods, desc="perplexity past the trained length"):
        nll = long_context_nll(model, ids, method, 1.0 if method == "none" else factor)
        bins = [float(nll[i:i + bin_size].mean()) for i in range(0, nll.numel(), bin_size)]
        curves[method] = [round(b, 4) for b in bins]
    grid = {}
    settings = [(m, n, d) for m in grid_methods for n in lengths for d in depths]
    for method, n, depth in tqdm(settings, desc="needle grid"):
        trial = needle_trial(model, tokenizer, n, depth, seed=seed, method=method,
                             factor=1.0 if method == "none" else factor)
        grid.setdefault(method, []).append({k: (round(v, 4) if isinstance(v, float) else v)
                                            for k, v in trial.as_dict().items()})
    attention = None
    if eager_model is not None:
        mass = attention_to_needle(eager_model, tokenizer, attention_tokens, 0.5, seed=seed)
        attention = {"n_tokens": attention_tokens, "depth": 0.5, "mass": [[round(float(x), 5) for x in row]
                                                                             for row in mass]}
    return {
        "settings": {"model": "SmolLM2-135M-Instruct", "trained_positions": model.config.max_position_embeddings,
                     "factor": factor, "ppl_tokens": ppl_tokens, "bin_size": bin_size, "methods": list(methods),
                     "lengths": list(lengths), "depths": list(depths), "grid_methods": list(grid_methods),
                     "seed": seed, "n_distractors": 9, "max_new_tokens": 8},
        "versions": run_versions(model),
        "seconds": round(time.perf_counter() - started, 1),
        "perplexity": curves,
        "needle": grid,
        "attention": attention,
    }


def _main() -> None:
    from ..core.models import load_smollm2

    def compute() -> dict:
        model, tokenizer = load_smollm2()
        eager, _ = load_smollm2(attn_implementation="eager")
        return compute_extension_results(model, tokenizer, eager_model=eager)

    precompute_cli("Precompute chapter 6's heavy results (fast on a GPU).", results_path(), compute)


if __name__ == "__main__":
    _main()
