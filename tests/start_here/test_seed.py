"""The seed's §5.2 helpers, corrected: save, load and run a model on chunks of token ids."""
import pytest
import torch

from longctx_lab.core import models
from longctx_lab.start_here import seed


def test_seed_save_load_roundtrip(tmp_path):
    source, target = models.tiny_lm(seed=1), models.tiny_lm(seed=2)
    path = seed.save_model(source, tmp_path / "m.pt")
    loaded = seed.load_model(target, path)
    assert loaded is target and not loaded.training
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


def test_seed_save_load_errors(tmp_path):
    model = models.tiny_lm()
    with pytest.raises(TypeError, match="model"):
        seed.save_model("not a model", tmp_path / "m.pt")
    with pytest.raises(ValueError, match="directory"):
        seed.save_model(model, tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        seed.load_model(model, tmp_path / "missing.pt")


def test_seed_test_model_runs_each_sequence_in_order():
    model = models.tiny_lm()
    seqs = [[1, 2, 3], torch.tensor([4, 5])]
    outs = seed.test_model(model, seqs)
    assert [o.logits.shape[1] for o in outs] == [3, 2]
    with torch.no_grad():
        torch.testing.assert_close(outs[1].logits, model(torch.tensor([[4, 5]])).logits)
    with pytest.raises(ValueError, match="sequences"):
        seed.test_model(model, [])
    with pytest.raises(ValueError, match=r"sequences\[1\]"):
        seed.test_model(model, [[1], []])
