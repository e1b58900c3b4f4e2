"""config_card on each family, cross-checked against the config's own numbers."""
from __future__ import annotations

import pytest
import transformers as tf

import longctx_lab as L

from ..test_architectures import BUILD, FAMILIES, WINDOW


def config(family: str):
    config_class, _, kwargs = BUILD[family]
    return config_class(vocab_size=256, **kwargs)


@pytest.mark.parametrize("family", FAMILIES)
def test_config_card_matches_the_config(family):
    c = config(family)
    card = L.config_card(c)
    att = card["attention"]
    assert card["model_type"] == c.model_type
    assert card["trained_positions"] == (c.n_positions if family == "gpt2" else c.max_position_embeddings) == 128
    assert att["layers"] == c.num_hidden_layers and att["heads"] == c.num_attention_heads
    kv_heads = getattr(c, "num_key_value_heads", None) or c.num_attention_heads
    assert att["kv_heads"] == kv_heads and att["gqa_ratio"] == c.num_attention_heads / kv_heads
    assert att["head_dim"] == c.hidden_size // c.num_attention_heads
    assert att["sliding_window"] == (WINDOW if family == "mistral" else None)
    position = card["position"]
    if family in ("gpt2", "opt", "bert"):
        assert position == {"scheme": "learned"}
    else:
        assert position["scheme"] == "rope" and position["rope_theta"] == c.rope_parameters["rope_theta"]
        assert position["partial_rotary_factor"] == (0.5 if family == "gpt_neox" else 1.0)
    if family == "bert":  # an encoder keeps no KV cache
        assert card["encoder"] and card["kv_bytes_per_token"] is None and card["fits"] is None
        return
    per_token = 2 * c.num_hidden_layers * kv_heads * att["head_dim"]  # keys and values, numbers per token
    assert card["kv_bytes_per_token"] == {"fp16": 2 * per_token, "int8": per_token, "int4": per_token // 2}
    weights = card["weights_fp16_bytes"]
    assert weights >= 2 * sum(p.numel() for p in tf.AutoModelForCausalLM.from_config(c).parameters())  # + buffers
    for gb, row in card["fits"].items():
        if family == "mistral":  # the window's cache fits easily: no limit from the KV cache
            assert row == {"fp16": None, "int8": None, "int4": None}
        else:
            assert row["fp16"] == (int(gb) * 10**9 - weights) // (2 * per_token)
            assert row["int4"] >= 4 * row["fp16"]


def test_gqa_and_rope_scaling_of_a_real_shape():
    c = L.llama3_8b_config()
    c.rope_parameters = {"rope_type": "yarn", "rope_theta": 500000.0, "factor": 4.0,
                         "original_max_position_embeddings": 8192}
    card = L.config_card(c)
    assert card["attention"]["gqa_ratio"] == 4.0 and card["attention"]["head_dim"] == 128
    assert card["trained_positions"] == 8192  # trained at the original length, stretched ×4
    assert card["position"]["rope_type"] == "yarn" and card["position"]["rope_scaling"]["factor"] == 4.0
    assert card["kv_bytes_per_token"]["fp16"] == 2 * 32 * 8 * 128 * 2  # 128 KiB per token
    assert card["fits"]["8"]["fp16"] == 0  # 16 GB of fp16 weights do not fit in 8 GB at all
    assert 0 < card["fits"]["24"]["fp16"] < card["fits"]["24"]["int8"] < card["fits"]["80"]["int8"]


def test_config_card_refuses_what_is_not_a_config():
    with pytest.raises(TypeError, match="config"):
        L.config_card({"model_type": "llama"})
