"""core/result_store.py: a heavy result is computed once per code, arguments and settings, then read back."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from longctx_lab.core import result_store
from longctx_lab.core.result_store import fingerprint, remembered, result_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The store on, in a temporary folder, storing even quick results."""
    monkeypatch.setenv("LONGCTX_LAB_CACHE", str(tmp_path))
    monkeypatch.setenv("LONGCTX_LAB_RESULTS", "on")
    monkeypatch.setattr(result_store, "MIN_SECONDS", 0.0)
    return tmp_path / "results"


def _counted():
    calls = []

    @remembered
    def heavy(x, scale=1.0):
        calls.append(1)
        return {"sum": float(x.sum()) * scale, "x": x.clone()}

    return heavy, calls


def test_a_result_is_computed_once_and_read_back_equal(store):
    heavy, calls = _counted()
    x = torch.arange(6.0)
    first = heavy(x, scale=2.0)
    second = heavy(x.clone(), scale=2.0)  # equal values, another tensor: the same key
    assert len(calls) == 1 and second["sum"] == first["sum"] == 30.0 and torch.equal(second["x"], x)
    assert len(list(store.glob("*.pt"))) == 1


def test_a_cost_measurement_times_the_computation_not_a_read_from_the_store(store):
    heavy, calls = _counted()
    x = torch.arange(6.0)
    heavy(x)
    with result_store.computing_afresh():
        heavy(x)
        with result_store.computing_afresh():  # nested: still afresh
            heavy(x)
        heavy(x)
    heavy(x)  # outside again: read back
    assert len(calls) == 4 and len(list(store.glob("*.pt"))) == 1


def test_forward_cost_of_a_stored_segment_loss_still_measures_its_memory(store, monkeypatch):
    from longctx_lab import forward_cost, segment_loss, tiny_lm

    model = tiny_lm(hidden_size=32, n_layers=1, vocab_size=64)
    ids = torch.arange(64) % 64
    monkeypatch.setenv("LONGCTX_LAB_RESULTS", "off")
    fresh = forward_cost(lambda: segment_loss(model, ids, 16, "disjoint"))[1]
    monkeypatch.setenv("LONGCTX_LAB_RESULTS", "on")
    segment_loss(model, ids, 16, "disjoint")  # now in the store
    assert list(store.glob("segment_loss-*.pt"))
    again = forward_cost(lambda: segment_loss(model, ids, 16, "disjoint"))[1]
    assert fresh > 0 and again == fresh  # the same allocations, not a file read


def test_any_changed_argument_or_setting_computes_again(store, monkeypatch):
    heavy, calls = _counted()
    x = torch.arange(6.0)
    heavy(x)
    heavy(x, scale=3.0)
    heavy(x + 1)
    heavy(x.double())
    other_isa = "AVX512_CORE" if os.environ.get("ONEDNN_MAX_CPU_ISA") == "AVX2" else "AVX2"
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", other_isa)  # another laptop's math: other last digits
    heavy(x)
    assert len(calls) == 5


def test_the_same_call_spelled_another_way_is_read_back(store):
    heavy, calls = _counted()
    x = torch.arange(6.0)
    heavy(x)
    heavy(x, 1.0)  # the default, given
    heavy(x=x, scale=1.0)  # by name
    assert len(calls) == 1 and len(list(store.glob("*.pt"))) == 1
    heavy(x, 2.0)
    assert len(calls) == 2


def test_a_learners_own_text_is_part_of_the_key(store, tmp_path):
    from longctx_lab import load_text, use_text

    @remembered
    def first_words(n):  # reads the long document the way the chapters' functions do
        return load_text("long_document")[:n]

    mine = tmp_path / "mine.txt"
    mine.write_text("My own long text. " * 400, encoding="utf-8")
    kits = first_words(20)
    try:
        use_text(mine)
        assert first_words(20) == "My own long text. My"
        mine.write_text("An edited text now. " * 400, encoding="utf-8")
        os.utime(mine, ns=(mine.stat().st_atime_ns, mine.stat().st_mtime_ns + 10**9))  # an edit a second later
        assert first_words(20) == "An edited text now. "
    finally:
        use_text(None)
    assert first_words(20) == kits and len(list(store.glob("*.pt"))) == 3


def test_a_model_changed_in_place_is_a_new_argument(store):
    @remembered
    def output(model, x):
        return model(x).detach()

    model = torch.nn.Linear(3, 2)
    x = torch.ones(1, 3)
    before = output(model, x)
    with torch.no_grad():
        model.weight.add_(1.0)  # what pruning or fine-tuning does to a learner's model
    after = output(model, x)
    assert torch.allclose(after, model(x).detach()) and not torch.allclose(before, after)


def test_quantized_modules_have_a_fingerprint_that_sees_their_weights():
    import hashlib

    from longctx_lab.compression.variants import quantize_int8

    def digest(module):
        h = hashlib.blake2b()
        fingerprint(module, h)
        return h.hexdigest()

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8))
    quantized = quantize_int8(model)
    assert digest(quantized) == digest(quantized)
    with torch.no_grad():
        model[0].weight.mul_(2.0)
    assert digest(quantize_int8(model)) != digest(quantized)


def test_what_cannot_be_fingerprinted_is_computed_every_time(store):
    heavy, calls = _counted()
    assert result_key(heavy, (lambda: 1,), {}) is None

    @remembered
    def call(function):
        calls.append(1)
        return function()

    assert call(lambda: 4) == 4 and call(lambda: 4) == 4 and len(calls) == 2
    assert not store.exists() or not list(store.glob("*.pt"))


def test_off_means_off(store, monkeypatch):
    monkeypatch.setenv("LONGCTX_LAB_RESULTS", "off")
    heavy, calls = _counted()
    heavy(torch.ones(2))
    heavy(torch.ones(2))
    assert len(calls) == 2


def test_a_truncated_file_is_recomputed_not_trusted(store):
    heavy, calls = _counted()
    heavy(torch.ones(3))
    (path,) = store.glob("*.pt")
    path.write_bytes(path.read_bytes()[:20])
    assert heavy(torch.ones(3))["sum"] == 3.0 and len(calls) == 2


def test_quick_results_are_not_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("LONGCTX_LAB_CACHE", str(tmp_path))
    monkeypatch.setenv("LONGCTX_LAB_RESULTS", "on")
    heavy, calls = _counted()
    heavy(torch.ones(3))
    heavy(torch.ones(3))
    assert len(calls) == 2 and not list((tmp_path / "results").glob("*.pt"))


def test_a_chapter_function_read_back_equals_a_fresh_computation(store, monkeypatch):
    from longctx_lab import segment_loss, tiny_lm

    model = tiny_lm()
    ids = torch.arange(1, 65) % 50
    stored = segment_loss(model, ids, 16, "recurrent")
    again = segment_loss(model, ids, 16, "recurrent")  # read back
    monkeypatch.setenv("LONGCTX_LAB_RESULTS", "off")
    fresh = segment_loss(model, ids, 16, "recurrent")
    assert len(list(store.glob("segment_loss-*.pt"))) == 1
    for result in (stored, again):  # bit for bit (the unscored first token is NaN in all three)
        torch.testing.assert_close(result.per_token, fresh.per_token, rtol=0, atol=0, equal_nan=True)


def test_two_processes_asking_at_once_compute_once(store):
    """The English and Chinese editions of a chapter run side by side under `make test`: the second waits."""
    log = store.parent / "calls.log"
    script = textwrap.dedent(f"""
        import time, torch
        from longctx_lab.core.result_store import remembered

        @remembered
        def slow(x):
            with open({str(log)!r}, "a") as f:
                f.write("computed\\n")
            time.sleep(1.5)
            return x * 2

        print(float(slow(torch.ones(4)).sum()))
    """)
    env = {**os.environ, "LONGCTX_LAB_CACHE": str(store.parent), "LONGCTX_LAB_RESULTS": "on",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    runs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert outputs == ["8.0", "8.0"] and log.read_text().count("computed") == 1


@pytest.mark.parametrize("method", ["linear", "dynamic", "yarn"])
def test_rope_scaling_changes_the_key(method):
    """use_rope_scaling swaps the rotary module (non-persistent inv_freq, rope_type): a stored unscaled result must not answer."""
    import longctx_lab as L

    model = L.tiny_lm(hidden_size=16, n_layers=1, vocab_size=16)

    def heavy(m):
        return 0

    plain = result_key(heavy, (model,), {})
    with L.use_rope_scaling(model, method, 2.0):
        scaled = result_key(heavy, (model,), {})
    assert scaled != plain and result_key(heavy, (model,), {}) == plain


def test_attention_implementation_and_training_mode_change_the_key():
    """Eager and SDPA attention agree only to the last digits; dropout in training mode changes every output."""
    import longctx_lab as L

    def heavy(m):
        return 0

    sdpa = L.tiny_lm(seed=1, attn_implementation="sdpa")
    eager = L.tiny_lm(seed=1, attn_implementation="eager")  # the same weights
    assert result_key(heavy, (sdpa,), {}) != result_key(heavy, (eager,), {})
    evaluating = result_key(heavy, (eager,), {})
    eager.train()  # after a digest was remembered for this module
    assert result_key(heavy, (eager,), {}) != evaluating
    eager.eval()
    assert result_key(heavy, (eager,), {}) == evaluating
