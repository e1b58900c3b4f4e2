"""core/pretrained.py: load_pretrained for bundled names and local folders, the memory check, the offline message."""
import pytest
import torch

from longctx_lab import load_minilm, load_smollm2
from longctx_lab.core import pretrained
from longctx_lab.core.pretrained import OfflineModelError, estimate_model_bytes, load_pretrained


@pytest.fixture(scope="module")
def smol_tokenizer():
    return load_smollm2()[1]


def _llama_folder(folder, tokenizer, vocab_size):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=vocab_size, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model


def test_bundled_names_load_the_kits_models():
    tiny, no_tokenizer = load_pretrained("tiny")
    assert type(tiny).__name__ == "LlamaForCausalLM" and no_tokenizer is None
    minilm, tokenizer = load_pretrained("minilm")
    assert type(minilm).__name__ == "BertModel" and tokenizer("a long input").input_ids[0] == tokenizer.cls_token_id


def test_a_saved_causal_lm_folder_loads_as_saved(tmp_path, smol_tokenizer):
    saved = _llama_folder(tmp_path, smol_tokenizer, len(smol_tokenizer))
    model, tokenizer = load_pretrained(str(tmp_path))
    assert type(model).__name__ == "LlamaForCausalLM" and not model.training
    assert next(model.parameters()).dtype == torch.float32 and model.device.type == "cpu"  # CPU: fp32
    ids = torch.tensor([tokenizer.encode("Hello there")])
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, saved(ids).logits)


def test_an_encoder_folder_is_recognised_and_kind_can_be_forced(tmp_path, smol_tokenizer):
    from transformers import BertConfig, BertModel

    minilm_tokenizer = load_minilm()[1]
    config = BertConfig(vocab_size=len(minilm_tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64)
    BertModel(config).save_pretrained(tmp_path / "bert")
    minilm_tokenizer.save_pretrained(tmp_path / "bert")
    model, _ = load_pretrained(str(tmp_path / "bert"))
    assert type(model).__name__ == "BertModel"
    _llama_folder(tmp_path / "llama", smol_tokenizer, len(smol_tokenizer))
    base, _ = load_pretrained(str(tmp_path / "llama"), kind="encoder")  # the decoder without its LM head
    assert type(base).__name__ == "LlamaModel"


def test_the_memory_estimate_is_what_the_loaded_weights_take(tmp_path, smol_tokenizer):
    from transformers import AutoConfig

    _llama_folder(tmp_path, smol_tokenizer, len(smol_tokenizer))
    model, _ = load_pretrained(str(tmp_path))
    config = AutoConfig.from_pretrained(tmp_path)
    actual = sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers()))
    assert estimate_model_bytes(config) == actual
    assert estimate_model_bytes(config, dtype=torch.float16) == pytest.approx(actual / 2, rel=0.01)


def test_a_model_too_big_for_free_memory_is_refused_before_loading(tmp_path, smol_tokenizer, monkeypatch):
    _llama_folder(tmp_path, smol_tokenizer, len(smol_tokenizer))
    monkeypatch.setattr(pretrained, "free_memory_bytes", lambda device=None: 1_000_000)
    from transformers import AutoModelForCausalLM

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", lambda *args, **kwargs: pytest.fail("weights were read"))
    with pytest.raises(ValueError, match=r"needs about .* GB .* has 0\.0 GB free"):
        load_pretrained(str(tmp_path), kind="causal-lm")


def test_a_tokenizer_from_another_model_is_refused(tmp_path, smol_tokenizer):
    _llama_folder(tmp_path, smol_tokenizer, 1000)  # vocab 1,000, SmolLM2's 49,152-token tokenizer
    with pytest.raises(ValueError, match="do not belong together"):
        load_pretrained(str(tmp_path))


def test_offline_a_hub_id_fails_with_the_ways_to_get_it(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineModelError) as caught:
        load_pretrained("someone/a-model-nobody-cached")
    message = str(caught.value)
    assert "HF_ENDPOINT" in message and "modelscope" in message.lower() and 'load_pretrained("my_model")' in message
    assert isinstance(caught.value, OSError)


@pytest.mark.parametrize("bad, error, match", [
    ("", ValueError, "empty"), ("   ", ValueError, "empty"), (3, TypeError, "name_or_path"),
    ("no such model!", ValueError, "neither a folder here nor a hub id"), ("a/b/c", ValueError, "hub id"),
])
def test_bad_names_are_refused_by_name(bad, error, match):
    with pytest.raises(error, match=match):
        load_pretrained(bad)


def test_bad_kind_folder_and_file_are_refused(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        load_pretrained("tiny", kind="gpt")
    with pytest.raises(ValueError, match="without a config.json"):
        load_pretrained(str(tmp_path))
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match="is a file"):
        load_pretrained(str(tmp_path / "weights.bin"))


def test_a_gpt2_folder_computes_its_loss_without_a_warning(tmp_path, smol_tokenizer, capfd):
    from transformers import GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(vocab_size=len(smol_tokenizer), n_positions=64, n_embd=16, n_layer=1, n_head=2,
                               bos_token_id=0, eos_token_id=0)).save_pretrained(tmp_path)
    smol_tokenizer.save_pretrained(tmp_path)
    model, _ = load_pretrained(str(tmp_path))
    ids = torch.randint(0, 100, (1, 12), generator=torch.Generator().manual_seed(0))
    capfd.readouterr()
    with torch.no_grad():
        loss = model(ids, labels=ids).loss
        logits = model(ids).logits[0, :-1]
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(logits, ids[0, 1:]))  # the causal-LM loss
    assert "loss_type" not in capfd.readouterr().err
