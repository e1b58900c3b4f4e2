"""One valid call per public callable, for the generated bad-input test (tests/test_bad_input_api.py).

EXAMPLES maps each import name to `Example(kwargs)`, where `kwargs(fx)` returns the arguments of one
valid call by parameter name (parameters left out keep their defaults, and are probed with bad values
too). `run=False` (with a reason) skips only the valid call, never the bad ones. `exempt` lists bad
values that are legitimately valid for a parameter: `{(param, kind or repr): reason}`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import torch


@dataclass
class Example:
    kwargs: Callable = lambda fx: {}
    run: bool | str = True
    exempt: dict = field(default_factory=dict)


class Fixtures:
    """Small, fast inputs built once: a tiny Llama, real tokenizers, tiny random encoders, small tensors."""

    @cached_property
    def tiny(self):
        from longctx_lab import tiny_lm

        return tiny_lm(max_positions=256)

    @cached_property
    def ids(self):
        return torch.arange(1, 41)

    @cached_property
    def smol_tok(self):
        from transformers import AutoTokenizer

        from longctx_lab import smollm2_cache_path

        return AutoTokenizer.from_pretrained(str(smollm2_cache_path()))

    @cached_property
    def tiny_smol(self):
        from longctx_lab import tiny_lm

        return tiny_lm(vocab_size=len(self.smol_tok), max_positions=512, hidden_size=32, n_layers=1)

    @cached_property
    def inflation_rows(self):
        from longctx_lab import token_inflation

        return token_inflation({"zh": "道可道，非常道。", "en": "The way."}, {"minilm": self.bert_tok})

    @cached_property
    def bert_tok(self):
        from transformers import AutoTokenizer

        from longctx_lab import available_models

        return AutoTokenizer.from_pretrained(available_models()["minilm"].location)

    @cached_property
    def tiny_bert(self):
        from transformers import BertConfig, BertModel

        torch.manual_seed(0)
        config = BertConfig(vocab_size=len(self.bert_tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=64, max_position_embeddings=128, attn_implementation="eager")
        return BertModel(config).eval()

    @cached_property
    def maps(self):
        from longctx_lab import attention_maps

        return attention_maps(self.tiny, self.ids[:16])

    @cached_property
    def stats(self):
        from longctx_lab import head_stats

        return head_stats(self.maps)

    @cached_property
    def items(self):
        from longctx_lab import load_retrieval_eval

        return load_retrieval_eval()[:4]

    @cached_property
    def report(self):
        from longctx_lab import VariantReport

        return VariantReport("fp32", 1000, 0.9, 0.95, 0.9, latency_s=0.01)

    @cached_property
    def grid(self):
        from longctx_lab import VariantReport

        return {(s, b): VariantReport(f"s{s}b{b}", int(1000 * (1 - s) * b / 32), 0.9 - s / 2, 0.95 - s / 3,
                                      0.9 - s / 2, latency_s=0.01)
                for s in (0.0, 0.5) for b in (32, 8)}

    @cached_property
    def seg_results(self):
        from longctx_lab import segment_loss

        return {mode: segment_loss(self.tiny, self.ids[:32], 8, mode, stride=4 if mode == "sliding" else None)
                for mode in ("disjoint", "sliding")}

    @cached_property
    def rope(self):
        from longctx_lab import scaled_rope_frequencies

        return scaled_rope_frequencies(64)

    @cached_property
    def needle_results(self):
        trial = {"n_tokens": 256, "depth": 0.5, "actual_depth": 0.5, "key": "12345", "generated": "12345",
                 "found": True, "key_logprob": -1.0, "best_distractor_logprob": -3.0, "rank": 1}
        grid = {m: [dict(trial, n_tokens=n, depth=d) for n in (256, 512) for d in (0.0, 1.0)]
                for m in ("none", "linear", "ntk", "dynamic", "yarn")}
        return {"settings": {"trained_positions": 8192, "factor": 2.0, "lengths": [256, 512], "depths": [0.0, 1.0],
                             "grid_methods": list(grid), "n_distractors": 9, "max_new_tokens": 8, "seed": 0}, "needle": grid,
                "perplexity": {m: [2.0, 2.1] for m in grid}, "attention": None}

    @cached_property
    def workload(self):
        from longctx_lab import StepWorkload

        return StepWorkload(params=7e9, layers=32, d_model=4096, n=4096)

    @cached_property
    def predictions(self):
        from longctx_lab import DEVICE_PRESETS, LINK_PRESETS, predict_step

        device, link = next(iter(DEVICE_PRESETS.values())), next(iter(LINK_PRESETS.values()))
        return {s: [predict_step(self.workload, p, device, link, s) for p in (1, 2, 4)] for s in ("data", "sequence")}

    @cached_property
    def kv_results(self):
        from longctx_lab import KVQuantResult

        return [KVQuantResult(None, 8, 2.0, 7.4, 30, 0, 1000, 1000), KVQuantResult(8, 8, 2.01, 7.5, 30, 20, 600, 1000)]

    @cached_property
    def chunks(self):
        from longctx_lab import chunk_text

        return chunk_text("One sentence here. Another one there. A third to finish.", self.bert_tok, 12)

    @cached_property
    def saved(self):
        import tempfile
        from pathlib import Path

        path = Path(tempfile.mkdtemp()) / "model.pt"
        torch.save(torch.nn.Linear(2, 2).state_dict(), path)
        return str(path)

    @property
    def cache(self):
        from longctx_lab.core.panels import ResultCache

        return ResultCache()

    @cached_property
    def qkv(self):
        torch.manual_seed(0)
        return [torch.randn(1, 1, 8, 4) for _ in range(3)]


def _llama_card():
    from longctx_lab import config_card

    return config_card(_llama_config())


def _llama_config():
    from transformers import LlamaConfig

    return LlamaConfig(hidden_size=128, num_attention_heads=2, num_key_value_heads=1, head_dim=64,
                       max_position_embeddings=8192, rope_theta=100000.0, num_hidden_layers=1, intermediate_size=8,
                       vocab_size=16)


def _probs(t=8):
    from longctx_lab.attention.widgets import default_attention_row

    return default_attention_row(t)


DIST = "needs a torch.distributed process group (run by run_distributed); covered in tests/multi_gpu_scaling"
# A worker function past its argument checks joins a process group, which a plain call does not have: the
# type probes still must raise, the range probes (0, -1, huge) reach torch.distributed and are exempt.
IN_GROUP = {("*", "range"): DIST}
SPAWNS = {("*", "range"): "a valid size past the checks starts worker processes (seconds each); "
                          "covered in tests/multi_gpu_scaling"}
ANY_SEQUENCE = {("seq", "type"): "splits any sequence: a str, a list of floats and a float tensor are valid input"}
REAL = "loads the real pretrained weights (seconds); covered in tests/core/test_models.py"

EXAMPLES: dict[str, Example] = {
    # ---- core: models and data
    "AdaptiveSpan": Example(lambda fx: {"n_heads": 2, "max_span": 16}),
    "AlphaBetaFit": Example(lambda fx: {"alpha": 1e-5, "beta": 1e-9}),
    "bits_per_byte": Example(lambda fx: {"total_nll_nats": 10.0, "text": "道可道，非常道。"}),
    "bits_per_character": Example(lambda fx: {"total_nll_nats": 10.0, "text": "道可道，非常道。"}),
    "ChunkPlan": Example(lambda fx: {"n": 100, "k": 16, "overlap": 4}),
    "cut_counts": Example(lambda fx: {"text": "道可道，非常道。名可名，非常名。", "tokenizer": fx.smol_tok, "max_length": 8}),
    "cut_table": Example(lambda fx: {"rows": [{"method": "careless", "chunks": 2, "ids_cut": 1, "texts_cut": 1,
                                               "sentences_cut": 0, "sentences": 2}]}),
    "decodes_cleanly": Example(lambda fx: {"tokenizer": fx.smol_tok, "ids": [198, 198]}),
    "DeviceSpec": Example(lambda fx: {"name": "gpu", "memory_bytes": 8e10, "flops": 1e15}),
    "EmbeddingScore": Example(lambda fx: {"top1": 0.9, "fidelity_mean": 0.9, "fidelity_min": 0.8,
                                          "embeddings": torch.zeros(2, 4)}),
    "flag_unknown_tokens": Example(lambda fx: {"tokenizer": fx.bert_tok, "texts": ["One here."]}),
    "Haystack": Example(lambda fx: {"input_ids": [1, 2, 3], "key": "12345", "needle_span": (0, 1),
                                    "question_span": (1, 2), "depth": 0.5, "actual_depth": 0.5, "text": "x"}),
    "inflation_table": Example(lambda fx: {"rows": fx.inflation_rows}),
    "HeadStats": Example(lambda fx: {"mean_distance": torch.zeros(1, 2), "span90": torch.zeros(1, 2),
                                     "entropy": torch.zeros(1, 2), "sink_mass": torch.zeros(1, 2)}),
    "KVQuantResult": Example(lambda fx: {"bits": 8, "window": 8, "nll": 2.0, "ppl": 7.4, "n_scored": 30,
                                         "n_quantized": 20, "cache_bytes": 600, "fp16_bytes": 1000}),
    "LinkSpec": Example(lambda fx: {"name": "link", "bandwidth": 1e11, "latency": 1e-6},
                        exempt={("bandwidth", "inf"): "a fitted link with no per-byte cost has bandwidth = inf"}),
    "language_losses": Example(lambda fx: {"model": fx.tiny_smol, "tokenizer": fx.smol_tok,
                                           "texts": {"zh": "道可道，非常道。", "en": "The way that can be told."}}),
    "load_qwen_tokenizer": Example(),
    "loss_table": Example(lambda fx: {"rows": [{"text": "zh", "tokens": 40, "characters": 26, "bytes": 78,
                                                 "ppl": 12.3, "bits_per_token": 3.62, "bits_per_char": 5.57,
                                                 "bits_per_byte": 1.86, "inside_share": 0.4, "inside_nll": 1.5,
                                                 "start_nll": 3.2}]}),
    "MissingModelError": Example(),
    "OfflineModelError": Example(),
    "ModelInfo": Example(lambda fx: {"name": "tiny", "description": "d", "installed": True, "location": None,
                                     "install_command": None}),
    "NeedleTrial": Example(lambda fx: {"n_tokens": 256, "depth": 0.5, "actual_depth": 0.5, "key": "12345",
                                       "generated": "12345", "found": True, "key_logprob": -1.0,
                                       "best_distractor_logprob": -2.0, "rank": 1}),
    "QwenTokenizer": Example(lambda fx: {"inner": __import__("qwen_tokenizer").get_tokenizer("qwen2.5-72b-instruct"), "name": "Qwen"}, run="a wrapper built by load_qwen_tokenizer; its inner object is not checked"),
    "RemoteTraceback": Example(lambda fx: {"text": "Traceback ..."}),
    "RingStats": Example(lambda fx: {"rank": 0, "queries": 4, "blocks_computed": 2, "peak_score_elements": 16}),
    "ScaledRope": Example(lambda fx: {"method": "none", "factor": 1.0, "inv_freq": torch.ones(4),
                                      "attention_factor": 1.0}),
    "ScalingPoint": Example(lambda fx: {"world_size": 1, "seconds": 1.0, "segments": 4}),
    "SegmentAttention": Example(lambda fx: {"alpha": [torch.ones(2)], "context": [torch.ones(2)],
                                            "model_block": [torch.ones(2)], "model_mass": [1.0], "entropy": 0.5,
                                            "spans": [(0, 2)]}),
    "SegmentGradients": Example(lambda fx: {"total": 1.0, "grads": {}, "saved_bytes": 0, "backward_passes": 1}),
    "SegmentLoss": Example(lambda fx: {"mode": "disjoint", "k": 4, "stride": None, "memory": None,
                                       "per_token": torch.ones(7), "per_segment": torch.ones(2),
                                       "spans": [(0, 4), (4, 8)], "passes": 2}),
    "SpanTask": Example(lambda fx: {"input_ids": torch.zeros(1, 4, dtype=torch.long),
                                    "targets": torch.zeros(1, 4, dtype=torch.long),
                                    "is_query": torch.zeros(1, 4, dtype=torch.bool), "n_keys": 2, "vocab_size": 8}),
    "SpanTrainingResult": Example(lambda fx: {"model": __import__("longctx_lab").SpanTransformer(8),
                                              "spans": [1.0], "copy_accuracy": 1.0, "lookup_accuracy": 1.0,
                                              "losses": [1.0]}),
    "SpanTransformer": Example(lambda fx: {"vocab_size": 16, "d_model": 16, "n_heads": 2, "max_span": 8}),
    "StepPrediction": Example(lambda fx: {"strategy": "data", "world_size": 2, "compute_s": 1.0, "comm_s": 0.1,
                                          "memory_bytes": 1e9, "fits": True, "efficiency": 0.9}),
    "StepWorkload": Example(lambda fx: {"params": 7e9, "layers": 32, "d_model": 4096, "n": 4096}),
    "TextChunk": Example(lambda fx: {"input_ids": [1, 2], "char_span": (0, 3), "text": "abc", "token_span": (0, 2)}),
    "token_inflation": Example(lambda fx: {"texts": {"zh": "道可道，非常道。"}, "tokenizers": {"minilm": fx.bert_tok}, "window": 512}),
    "tokenizer_name": Example(lambda fx: {"tokenizer": fx.bert_tok}),
    "unknown_token_fraction": Example(lambda fx: {"tokenizer": fx.bert_tok, "text": "道可道，非常道。"}),
    "unknown_token_note": Example(lambda fx: {"tokenizer": fx.bert_tok, "texts": ["道可道，非常道。"]}),
    "VariantReport": Example(lambda fx: {"name": "fp32", "size_bytes": 100, "top1": 0.9, "fidelity_mean": 0.9,
                                         "fidelity_min": 0.8}),
    "WorkerError": Example(),
    "adaptive_span_mask": Example(lambda fx: {"span": 16, "z": 8.0, "R": 4.0}),
    "amdahl_speedup": Example(lambda fx: {"serial_fraction": 0.1, "world_size": 4}),
    "answer_ids": Example(lambda fx: {"tokenizer": fx.smol_tok, "key": "12345"}),
    "apply_rope": Example(lambda fx: {"x": torch.randn(4, 8), "positions": torch.arange(4),
                                      "inv_freq": fx.rope.inv_freq[:4]}),
    "attend_block": Example(lambda fx: dict(zip("qkv", fx.qkv))),
    "attention_maps": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids[:8]}),
    "attention_to_needle": Example(lambda fx: {"model": fx.tiny_smol, "tokenizer": fx.smol_tok, "n_tokens": 64,
                                               "depth": 0.5}),
    "available_models": Example(),
    "batch_chunks": Example(lambda fx: {"chunks": fx.chunks, "tokenizer": fx.bert_tok}),
    "blockwise_attention": Example(lambda fx: dict(zip("qkv", fx.qkv), block=4)),
    "cache_dir": Example(),
    "cast_weights": Example(lambda fx: {"model": torch.nn.Linear(2, 2), "dtype": torch.float16}),
    "causal_block_counts": Example(lambda fx: {"world_size": 4}),
    "chunk_block_mask": Example(lambda fx: {"plan": __import__("longctx_lab").ChunkPlan(20, 8, 2)}),
    "chunk_ids": Example(lambda fx: {"ids": fx.ids, "k": 8, "overlap": 2}),
    "chunk_sentences": Example(lambda fx: {"text": "One here. Two there. Three.", "tokenizer": fx.bert_tok,
                                           "max_length": 16}),
    "chunk_text": Example(lambda fx: {"text": "One here. Two there. Three.", "tokenizer": fx.bert_tok,
                                      "max_length": 8, "stride": 2}),
    "collective_costs": Example(lambda fx: {"rank": 0, "world_size": 1}, run=DIST, exempt=IN_GROUP),
    "compute_chinese_haystack": Example(
        lambda fx: {"model": fx.tiny_smol, "tokenizer": fx.smol_tok, "lengths": (64,), "depths": (0.5,),
                    "conditions": (("daodejing", "zh"),)}),
    "compute_extension_results": Example(
        lambda fx: {"model": fx.tiny_smol, "tokenizer": fx.smol_tok, "ppl_tokens": 64, "methods": ("none",),
                    "bin_size": 32, "lengths": (64,), "depths": (0.5,), "grid_methods": ("none",),
                    "attention_tokens": 64}),
    "data_dir": Example(),
    "ddp_gradient_worker": Example(lambda fx: {"rank": 0, "world_size": 1, "model": fx.tiny,
                                               "segments": fx.ids[:16].view(2, 8)}, run=DIST, exempt=IN_GROUP),
    "default_device": Example(),
    "free_memory_bytes": Example(),
    "estimate_model_bytes": Example(lambda fx: {"config": fx.tiny_bert.config, "kind": "encoder"}),
    "load_pretrained": Example(lambda fx: {"name_or_path": "tiny"}),
    "distance_profile": Example(lambda fx: {"attn": fx.maps}),
    "distill": Example(lambda fx: {"teacher": fx.tiny_bert, "tokenizer": fx.bert_tok, "texts": ["a b c", "d e f"],
                                   "n_layers": 1, "steps": 1, "batch_size": 2, "max_length": 8}),
    "distractor_keys": Example(lambda fx: {"key": "12345", "count": 3}),
    "document_segments": Example(lambda fx: {"tokenizer": fx.smol_tok, "m": 2, "k": 8}),
    "embedding_score": Example(lambda fx: {"model": fx.tiny_bert, "tokenizer": fx.bert_tok, "items": fx.items,
                                           "max_length": 16}),
    "encoder_flops": Example(lambda fx: {"batch": 2, "length": 16}),
    "environment_report": Example(),
    "evaluate_variant": Example(lambda fx: {"name": "fp32", "model": fx.tiny_bert, "tokenizer": fx.bert_tok,
                                            "items": fx.items, "seq_len": 8}),
    "fake_quantize": Example(lambda fx: {"x": torch.randn(4, 8), "bits": 4, "dim": -1}),
    "fit_alpha_beta": Example(lambda fx: {"sizes_bytes": [1024, 4096, 16384], "seconds": [1e-5, 2e-5, 5e-5]}),
    "fit_amdahl": Example(lambda fx: {"world_sizes": [1, 2, 4], "speedups": [1.0, 1.8, 3.0]}),
    "forward_cost": Example(lambda fx: {"fn": lambda: torch.ones(4).sum()}),
    "forward_seconds": Example(lambda fx: {"model": fx.tiny, "batches": {"x": {"input_ids": fx.ids[:8][None]}},
                                           "repeat": 1, "warmup": 0}),
    "free_port": Example(),
    "half_precision_note": Example(lambda fx: {"latencies": {"fp32": 1.0, "bf16": 0.5}}),
    "half_precision_units": Example(),
    "head_importance": Example(lambda fx: {"model": fx.tiny_bert, "tokenizer": fx.bert_tok, "texts": ["a b", "c d"],
                                           "max_length": 8}),
    "haystack_table": Example(lambda fx: {"trials": [
        {"filler": "daodejing", "language": "zh", "n_tokens": 64, "depth": 0.5, "found": False, "rank": 1,
         "key_logprob": -6.0, "filler_chars": 7}]}),
    "head_stats": Example(lambda fx: {"attn": fx.maps}),
    "hello_worker": Example(lambda fx: {"rank": 0, "world_size": 1}, run=DIST, exempt=IN_GROUP),
    "kv_cache_bytes": Example(lambda fx: {"config": _llama_config(), "seq_len": 128, "bytes_per_value": 2}),
    "kv_head_dim": Example(lambda fx: {"config": _llama_config()}),
    "kv_quant_curve": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids, "bits_options": (None, 8),
                                          "window": 8, "group": 8, "chunk": 8}),
    "kv_quant_nll": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids, "bits": 8, "window": 8, "group": 8,
                                        "chunk": 8}),
    "kv_quantized_bytes": Example(lambda fx: {"config": _llama_config(), "seq_len": 128, "bits": 8, "window": 16,
                                              "group": 32}),
    "layer_head_stats": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids[:8]}),
    "linear_sparsity": Example(lambda fx: {"model": torch.nn.Linear(2, 2)}),
    "list_texts": Example(),
    "llama3_8b_config": Example(),
    "load_chinese_haystack": Example(),
    "load_extension_results": Example(),
    "load_minilm": Example(run=REAL),
    "load_model": Example(lambda fx: {"model": torch.nn.Linear(2, 2), "filename": fx.saved}),
    "load_retrieval_eval": Example(),
    "load_smollm2": Example(run=REAL),
    "load_text": Example(),
    "bundled_text": Example(),
    "long_context_nll": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids, "chunk": 16}),
    "loss_by_position": Example(lambda fx: {"result": fx.seg_results["disjoint"]}),
    "make_haystack": Example(lambda fx: {"tokenizer": fx.smol_tok, "n_tokens": 64, "depth": 0.5}),
    "make_span_task": Example(lambda fx: {"batch": 2, "length": 24}),
    "mean_of_segment_means": Example(lambda fx: {"result": fx.seg_results["disjoint"]}),
    "measure_latency": Example(lambda fx: {"model": fx.tiny, "batch": 1, "seq_len": 8, "repeat": 1, "vocab": 200}),
    "measure_scaling": Example(lambda fx: {"model": fx.tiny, "segments": fx.ids[:16].view(2, 8), "world_sizes": (1,)},
                               run="starts worker processes (seconds); covered in tests/multi_gpu_scaling", exempt=SPAWNS),
    "merge_partials": Example(lambda fx: {"out_a": torch.zeros(2, 4), "lse_a": torch.zeros(2),
                                          "out_b": torch.ones(2, 4), "lse_b": torch.zeros(2)}),
    "model_size_bytes": Example(lambda fx: {"model": torch.nn.Linear(2, 2)}),
    "needle_trial": Example(lambda fx: {"model": fx.tiny_smol, "tokenizer": fx.smol_tok, "n_tokens": 64,
                                        "depth": 0.5, "n_distractors": 2, "max_new_tokens": 2}),
    "parallel_processing": Example(lambda fx: {"model": fx.tiny, "sequences": [[1, 2, 3], [4, 5]]}),
    "recurring_phrases": Example(lambda fx: {"tokenizer": fx.smol_tok, "text": "Ulverstade rose. Then Ulverstade fell.",
                                             "per_token": torch.ones(12), "k": 4}),
    "phrase_token_spans": Example(lambda fx: {"tokenizer": fx.smol_tok, "text": "the key is 5. the key is 6.",
                                              "phrase": "the key", "n_tokens": 20}),
    "pick_backend": Example(lambda fx: {"world_size": 1}),
    "predict_step": Example(lambda fx: {"work": fx.workload, "world_size": 2,
                                        "device": next(iter(__import__("longctx_lab").DEVICE_PRESETS.values())),
                                        "link": next(iter(__import__("longctx_lab").LINK_PRESETS.values()))}),
    "prune": Example(lambda fx: {"model": torch.nn.Sequential(torch.nn.Linear(4, 4)), "amount": 0.5}),
    "prune_heads": Example(lambda fx: {"model": fx.tiny_bert, "fraction": 0.25}),
    "quantize_int8": Example(lambda fx: {"model": torch.nn.Sequential(torch.nn.Linear(4, 4))}),
    "rank_device": Example(),
    "repeated_document_ids": Example(lambda fx: {"tokenizer": fx.smol_tok, "n_tokens": 64}),
    "results_path": Example(),
    "retrieval_ranks": Example(lambda fx: {"encoder": fx.tiny_bert, "encoder_tokenizer": fx.bert_tok,
                                           "text": "Filler one. The pass key is 12345. Filler two. More filler.",
                                           "needle": "The pass key is 12345.", "chunk_sizes": [8, 16]}),
    "ring_attention": Example(lambda fx: dict(zip("qkv", fx.qkv), world_size=1),
                              run="starts a worker process (seconds); covered in tests/multi_gpu_scaling", exempt=SPAWNS),
    "ring_attention_shard": Example(lambda fx: {"q_local": fx.qkv[0], "k_local": fx.qkv[1], "v_local": fx.qkv[2],
                                                "block_sizes": [8]}, run=DIST, exempt=IN_GROUP),
    "ring_schedule": Example(lambda fx: {"world_size": 4}),
    "rope_check": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids[:8]}),
    "rope_frequencies": Example(lambda fx: {"head_dim": 16}),
    "rope_parameters_for": Example(lambda fx: {"method": "yarn", "factor": 2.0}),
    "rope_score_by_distance": Example(lambda fx: {"q": torch.ones(8), "k": torch.ones(8),
                                                  "inv_freq": fx.rope.inv_freq[:4], "distances": [0, 1, 2]}),
    "rope_wavelengths": Example(lambda fx: {"inv_freq": fx.rope.inv_freq}),
    "run_distributed": Example(lambda fx: {"fn": __import__("longctx_lab").hello_worker, "world_size": 1},
                               run="starts a worker process (seconds); covered in tests/multi_gpu_scaling", exempt=SPAWNS),
    "save_model": Example(lambda fx: {"model": torch.nn.Linear(2, 2), "filename": fx.saved}),
    "scaled_rope_frequencies": Example(lambda fx: {"head_dim": 16, "method": "yarn", "factor": 2.0}),
    "scaling_note": Example(lambda fx: {"points": [__import__("longctx_lab").ScalingPoint(1, 1.0, 4),
                                                   __import__("longctx_lab").ScalingPoint(2, 0.6, 4)]}),
    "scaling_probe": Example(lambda fx: {"rank": 0, "world_size": 1, "model": fx.tiny,
                                         "segments": fx.ids[:16].view(2, 8)}, run=DIST, exempt=IN_GROUP),
    "seed_split_sequence": Example(lambda fx: {"seq": list(range(10)), "max_len": 4}, exempt=ANY_SEQUENCE),
    "segment_attention": Example(lambda fx: {"model": fx.tiny_bert, "input_ids": fx.ids[:16] + 1000, "layer": 0, "head": 0,
                                             "k": 8}),
    "segment_gradients": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids[:16], "k": 8}),
    "segment_loss": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids[:16], "k": 8}),
    "set_language": Example(lambda fx: {"lang": "en"}),
    "text_in_use": Example(),
    "use_text": Example(lambda fx: {"path": None}),
    "segment_shares": Example(lambda fx: {"m": 8, "world_size": 2}),
    "sentence_embeddings": Example(lambda fx: {"model": fx.tiny_bert, "tokenizer": fx.bert_tok,
                                               "texts": ["a b", "c d"], "max_length": 8}),
    "sentence_token_spans": Example(lambda fx: {"text": "One. Two.", "tokenizer": fx.bert_tok}),
    "single_process_gradient": Example(lambda fx: {"model": fx.tiny, "segments": fx.ids[:16].view(2, 8)}),
    "sliding_window_mask": Example(lambda fx: {"n": 8, "window": 4}),
    "sliding_windows": Example(lambda fx: {"n": 20, "k": 8, "stride": 4}),
    "smollm2_cache_path": Example(),
    "spans_kept_whole": Example(lambda fx: {"chunk_spans": [(0, 5), (5, 10)], "spans": [(0, 3), (3, 7)]}),
    "split_sentences": Example(lambda fx: {"text": "One. Two."}),
    "split_sequence": Example(lambda fx: {"seq": list(range(10)), "max_len": 4, "overlap": 1}, exempt=ANY_SEQUENCE),
    "stitch": Example(lambda fx: {"chunks": [[0, 1, 2], [2, 3]], "overlap": 1}),
    "test_model": Example(lambda fx: {"model": fx.tiny, "sequences": [[1, 2, 3]]}),
    "tiny_lm": Example(lambda fx: {"hidden_size": 16, "n_layers": 1, "vocab_size": 16}),
    "token_nll": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids[:8]}),
    "train_adaptive_span": Example(lambda fx: {"steps": 1, "length": 24, "batch": 2}),
    "transformers_rope_frequencies": Example(lambda fx: {"config": _llama_config(), "method": "yarn", "factor": 2.0}),
    "use_rope_scaling": Example(lambda fx: {"model": fx.tiny, "method": "linear", "factor": 2.0}),
    "window_additive_mask": Example(lambda fx: {"n": 8, "window": 4}),
    "window_perplexity": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids[:16], "window": 4}),
    # ---- 07 your own model
    "ReportCard": Example(lambda fx: {"name": "x", "config": {}, "sections": {}, "verdict": {}, "settings": {},
                                      "elapsed_s": 1.0}),
    "compare_reports": Example(run="takes *cards, which no keyword can pass; covered in tests/your_own_model"),
    "config_card": Example(lambda fx: {"config": _llama_config()}),
    "longest_context": Example(lambda fx: {"kv_bytes_per_token": 23040.0, "memory_gb": 8.0, "weights_bytes": 269030144,
                                           "batch": 4}),
    "effective_context": Example(lambda fx: {"lengths": [64, 128], "found": [[True], [False]], "depths": [0.5],
                                             "ppl_last_half": [10.0, 11.0], "in_window_ppl": 10.0,
                                             "context_gain": [0.1, 0.05]}),
    "measure_attention": Example(lambda fx: {"model": fx.tiny_smol, "input_ids": torch.arange(1, 41)}),
    "measure_kv_int8": Example(lambda fx: {"model": fx.tiny_smol, "input_ids": torch.arange(1, 65)}),
    "measure_loss_by_position": Example(lambda fx: {"model": fx.tiny_smol, "input_ids": torch.arange(1, 65),
                                                    "lengths": [32, 64]}),
    "measure_needle_grid": Example(lambda fx: {"model": fx.tiny_smol, "tokenizer": fx.smol_tok, "lengths": [64],
                                               "depths": [0.5]}),
    "measure_perplexity": Example(lambda fx: {"model": fx.tiny_smol, "input_ids": torch.arange(1, 65)}),
    "measure_prefill": Example(lambda fx: {"model": fx.tiny_smol, "input_ids": torch.arange(1, 65),
                                           "lengths": [16, 32]}),
    "report_card": Example(lambda fx: {"model": fx.tiny_smol, "tokenizer": fx.smol_tok, "max_tokens": 128}),
    "report_lengths": Example(lambda fx: {"max_tokens": 1024}),
    "compute_stored_cards": Example(lambda fx: {"model": fx.tiny_smol, "tokenizer": fx.smol_tok, "max_tokens": 128}),
    "load_stored_card": Example(lambda fx: {"key": "smollm2"}),
    "recheck_card": Example(lambda fx: {"card": __import__("longctx_lab").load_stored_card("smollm2"),
                                        "model": fx.tiny_smol, "tokenizer": fx.smol_tok}),
    "stored_card_path": Example(lambda fx: {"key": "smollm2-yarn2"}),
    "report_text_ids": Example(lambda fx: {"tokenizer": fx.smol_tok, "text": "One two three.", "n_tokens": 10}),
    "trained_positions": Example(lambda fx: {"config": _llama_config()}),
    "verdict_sentence": Example(lambda fx: {"verdict": __import__("longctx_lab").effective_context(
        [64, 128], [[True], [False]], [0.5], [10.0, 11.0], 10.0, [0.1, 0.05]), "shortest": 64}),
    # ---- 07 your own model: figures
    "your_own_model.plots.attention_figure": Example(lambda fx: {"section": {"mean_distance": [3.0, 5.0],
                                                                             "sink_mass": [0.2, 0.5]}}),
    "your_own_model.plots.figure_png": Example(lambda fx: {"fig": __import__("matplotlib.figure").figure.Figure()}),
    "your_own_model.plots.loss_figure": Example(lambda fx: {"section": {"edges": [1, 2, 4], "nll": [5.0, 4.0],
                                                                        "repeat_from": 3}}),
    "your_own_model.plots.needle_figure": Example(lambda fx: {"section": {"lengths": [64, 128], "depths": [0.5],
                                                                          "found": [[True], [False]],
                                                                          "rank": [[1], [3]]}}),
    "your_own_model.plots.perplexity_figure": Example(lambda fx: {"section": {
        "lengths": [64, 128], "trained_positions": 100,
        "runs": [{"method": "none", "factor": 1.0, "ppl_last_half": [10.0, 30.0]}]}}),
    "your_own_model.plots.prefill_figure": Example(lambda fx: {"section": {"lengths": [64, 128], "seconds": [0.1, 0.3],
                                                                           "peak_bytes": [10**6, 3 * 10**6]}}),
    "your_own_model.plots.report_figures": Example(lambda fx: {"sections": {}}),
    # ---- 00 start here
    "your_own_model.plots.BudgetBars": Example(),
    "your_own_model.widgets.render_budget_view": Example(lambda fx: {"card": _llama_card(), "memory_gb": 8.0,
                                                                      "batch": 2, "kv": "int8"}),
    "your_own_model.widgets.budget_panel": Example(lambda fx: {"card": _llama_card()}),
    "start_here.widgets.render_cost_view": Example(lambda fx: {"n": 1024, "k": 128}),
    "start_here.widgets.cost_panel": Example(),
    "start_here.plots.MemoryBars": Example(),
    "start_here.plots.concept_map": Example(),
    "start_here.plots.cost_growth": Example(lambda fx: {"lengths": [128, 256], "score_bytes": [1e3, 4e3],
                                                        "kv_bytes": [1e3, 2e3]}),
    # ---- 01 chunking
    "chunking.widgets.ChunkControls": Example(lambda fx: {"n": 100, "k": 16}),
    "chunking.widgets.chunk_panel": Example(lambda fx: {"text": "One here. Two there. " * 10,
                                                        "tokenizer": fx.bert_tok, "k": 16, "k_min": 4, "k_max": 64}),
    "chunking.widgets.document_token_count": Example(lambda fx: {"text": "One here.", "tokenizer": fx.bert_tok}),
    "chunking.widgets.render_chunk_view": Example(lambda fx: {"n": 100, "k": 16, "m": 7, "overlap": 0}),
    "chunking.plots.ChunkStrip": Example(lambda fx: {"n": 100}),
    "chunking.plots.attention_costs": Example(lambda fx: {"n": [128, 256], "k": 64}),
    "chunking.plots.chunk_strip": Example(lambda fx: {"plan": __import__("longctx_lab").ChunkPlan(50, 16, 4)}),
    "chunking.plots.cost_curves": Example(lambda fx: {"n_max": 2048}),
    "chunking.plots.inflation_figure": Example(lambda fx: {"rows": fx.inflation_rows}),
    "chunking.exercises.smallest_whole_overlap_answer": Example(),
    # ---- 02 segment loss
    "segment_loss.widgets.WorkRate": Example(),
    "segment_loss.widgets.cheaper_neighbour": Example(
        lambda fx: {"model": fx.tiny, "k": 8, "m": 2, "stride": 4, "cache": fx.cache, "seconds_per_token": 1e-4,
                    "budget": 1.0}),
    "segment_loss.widgets.panel_work": Example(lambda fx: {"k": 8, "m": 2, "stride": 4}),
    "segment_loss.widgets.render_segment_loss": Example(lambda fx: {"model": fx.tiny, "input_ids": fx.ids[:32],
                                                                    "k": 8, "m": 2, "stride": 4}),
    "segment_loss.widgets.segment_loss_panel": Example(
        lambda fx: {"model": fx.tiny, "input_ids": fx.ids[:32], "k": 8, "m": 2, "stride": 4, "k_range": (4, 8, 4),
                    "m_max": 4}),
    "segment_loss.plots.position_curve": Example(lambda fx: {"results": fx.seg_results}),
    "segment_loss.plots.segment_bars": Example(lambda fx: {"results": fx.seg_results}),
    "segment_loss.plots.segment_loss_figure": Example(lambda fx: {"results": fx.seg_results}),
    # ---- 03 attention
    "attention.widgets.bertviz_head_view": Example(lambda fx: {"attn": fx.maps, "tokens": [str(i) for i in range(16)]}),
    "attention.widgets.bertviz_model_view": Example(lambda fx: {"attn": fx.maps,
                                                                "tokens": [str(i) for i in range(16)]}),
    "attention.widgets.default_attention_row": Example(lambda fx: {"span": 16}),
    "attention.widgets.head_pattern_panel": Example(lambda fx: {"maps": fx.maps}),
    "attention.widgets.render_head_pattern": Example(lambda fx: {"maps": fx.maps, "layer": 0, "head": 0}),
    "attention.widgets.render_span_mask": Example(lambda fx: {"z": 8.0, "R": 4.0, "span": 16}),
    "attention.widgets.span_mask_panel": Example(lambda fx: {"span": 16, "z": 8.0, "R": 4.0}),
    "attention.plots.HeadPattern": Example(lambda fx: {"t": 16}),
    "attention.plots.SpanMask": Example(lambda fx: {"row": _probs(16)}),
    "attention.plots.block_mask_figure": Example(lambda fx: {"attn_map": fx.maps[0, 0],
                                                             "block_mask": torch.ones(16, 16, dtype=torch.bool)}),
    "attention.plots.distance_bins": Example(lambda fx: {"t": 16}),
    "attention.plots.head_pattern_figure": Example(lambda fx: {"attn_map": fx.maps[0, 0],
                                                               "profile": torch.full((16,), 1 / 16)}),
    "attention.plots.head_stats_heatmaps": Example(lambda fx: {"stats": fx.stats}),
    "attention.plots.span_mask_figure": Example(
        lambda fx: {"mask": torch.ones(16), "row": _probs(16), "masked_row": _probs(16), "z": 8.0, "R": 4.0}),
    "attention.plots.window_perplexity_figure": Example(
        lambda fx: {"dense": 10.0, "windows": [4, 8], "plain": [20.0, 15.0], "with_sinks": [12.0, 11.0],
                    "sinks": 4}),
    # ---- 04 multi-GPU scaling
    "multi_gpu_scaling.widgets.cost_model_panel": Example(),
    "multi_gpu_scaling.widgets.render_cost_model": Example(),
    "multi_gpu_scaling.plots.CostModel": Example(),
    "multi_gpu_scaling.plots.collectives_plot": Example(
        lambda fx: {"costs": {"all_reduce": {1024: 1e-5, 4096: 2e-5}}}),
    "multi_gpu_scaling.plots.cost_model_plot": Example(lambda fx: {"sweep": fx.predictions, "current": 2,
                                                                   "device_memory": 8e10}),
    "multi_gpu_scaling.plots.ring_schedule_plot": Example(lambda fx: {"world_size": 4}),
    "multi_gpu_scaling.plots.speedup_plot": Example(lambda fx: {"world_sizes": [1, 2, 4], "speedups": [1.0, 1.8, 3.0]}),
    # ---- 05 compression
    "compression.widgets.compression_panel": Example(lambda fx: {"grid": fx.grid}),
    "compression.widgets.render_compression": Example(lambda fx: {"sparsity": 0.5, "bits": 8, "grid": fx.grid}),
    "compression.plots.SparsityBits": Example(lambda fx: {"grid": fx.grid, "labels": {32: "fp32", 8: "int8"}}),
    "compression.plots.kv_growth_chart": Example(lambda fx: {"configs": {"llama": _llama_config()}, "max_len": 1024}),
    "compression.plots.kv_quant_chart": Example(lambda fx: {"results": fx.kv_results}),
    "compression.plots.tradeoff_chart": Example(lambda fx: {"reports": list(fx.grid.values())}),
    # ---- 06 context extension
    "context_extension.widgets.needle_heatmap_panel": Example(lambda fx: {"results": fx.needle_results}),
    "context_extension.widgets.render_needle_heatmap": Example(lambda fx: {"results": fx.needle_results}),
    "context_extension.widgets.render_rope_scaling": Example(),
    "context_extension.widgets.rope_scaling_panel": Example(),
    "context_extension.plots.NeedleHeatmap": Example(lambda fx: {"results": fx.needle_results}),
    "context_extension.plots.RopeFrequencies": Example(lambda fx: {"plain": fx.rope}),
    "context_extension.plots.attention_mass_figure": Example(lambda fx: {"mass": torch.rand(2, 4)}),
    "context_extension.plots.frequency_figure": Example(lambda fx: {"ropes": [fx.rope]}),
    "context_extension.plots.needle_grid": Example(lambda fx: {"results": fx.needle_results, "method": "none"}),
    "context_extension.plots.needle_heatmap": Example(lambda fx: {"results": fx.needle_results, "method": "none"}),
    "context_extension.plots.perplexity_curves": Example(lambda fx: {"curves": {"none": [2.0, 2.1]}, "bin_size": 256,
                                                                     "trained_positions": 256}),
    "context_extension.plots.retrieval_figure": Example(lambda fx: {"ranks": {8: 1, 16: 2}, "n_chunks": {8: 4, 16: 2}}),
    "context_extension.plots.score_by_distance_figure": Example(
        lambda fx: {"distances": [0, 1, 2], "scores": {"none": __import__("numpy").ones(3)}}),
}
