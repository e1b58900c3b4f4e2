"""Chapter 6, § A Chinese haystack: the Chinese needle and question of make_haystack / needle_trial, the grid of
compute_chinese_haystack, its printed table in both languages, and the cache (recomputed in part)."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from longctx_lab.context_extension.chinese import (CONDITIONS, compute_chinese_haystack, haystack_table,
                                                   load_chinese_haystack)
from longctx_lab.context_extension.needle import needle_trial
from longctx_lab.core.data import (NEEDLE_TEMPLATE, NEEDLE_TEMPLATE_ZH, QUESTION, QUESTION_ZH, answer_ids,
                                   make_haystack)
from longctx_lab.core.i18n import set_language
from longctx_lab.core.models import load_smollm2, smollm2_cache_path, tiny_lm


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(str(smollm2_cache_path()))


@pytest.fixture(scope="module")
def tiny(tokenizer):
    """A random tiny Llama over SmolLM2's vocabulary: real Chinese prompts, instant forwards."""
    torch.manual_seed(0)
    return tiny_lm(vocab_size=len(tokenizer), max_positions=512, hidden_size=32, n_layers=1)


def test_default_needle_is_unchanged(tokenizer):
    default = make_haystack(tokenizer, 200, 0.5, filler="daodejing")
    english = make_haystack(tokenizer, 200, 0.5, filler="daodejing", language="en")
    assert default == english
    assert NEEDLE_TEMPLATE.format(key=default.key) in default.text
    assert default.text.endswith(" " + QUESTION)


def test_chinese_needle_and_question(tokenizer):
    haystack = make_haystack(tokenizer, 300, 0.5, filler="daodejing", language="zh")
    start, end = haystack.needle_span
    assert tokenizer.decode(haystack.input_ids[start:end]) == NEEDLE_TEMPLATE_ZH.format(key=haystack.key)
    assert tokenizer.decode(haystack.input_ids[slice(*haystack.question_span)]) == QUESTION_ZH  # no space before
    assert haystack.text[-len(QUESTION_ZH) - 1] in "。；！？" and "\ufffd" not in haystack.text  # after a sentence
    # the answer after "密钥是" is " 60494", spelled as in the needle: the copy is token for token
    answer = answer_ids(tokenizer, haystack.key)
    needle = haystack.input_ids[start:end]
    assert any(needle[i:i + len(answer)] == answer for i in range(len(needle)))


@pytest.mark.parametrize("language, error", [("fr", ValueError), ("ZH", ValueError), ("", ValueError),
                                             (1, TypeError), (None, TypeError)])
def test_bad_language_is_refused_by_name(tokenizer, tiny, language, error):
    with pytest.raises(error, match="language"):
        make_haystack(tokenizer, 200, 0.5, language=language)
    with pytest.raises(error, match="language"):
        needle_trial(tiny, tokenizer, 200, 0.5, language=language)


def test_too_short_for_the_chinese_needle(tokenizer):
    needle = len(tokenizer.encode(NEEDLE_TEMPLATE_ZH.format(key="12345"), add_special_tokens=False))
    question = len(tokenizer.encode(QUESTION_ZH, add_special_tokens=False))
    make_haystack(tokenizer, needle + question + 1, 0.5, language="zh")
    with pytest.raises(ValueError, match="n_tokens"):
        make_haystack(tokenizer, needle + question, 0.5, language="zh")


@settings(max_examples=25, deadline=None)
@given(n_tokens=st.integers(60, 400), depth=st.floats(0, 1), language=st.sampled_from(["en", "zh"]),
       filler=st.sampled_from(["daodejing", "simple"]), seed=st.integers(0, 10**6))
def test_haystack_invariants_in_both_languages(tokenizer, n_tokens, depth, language, filler, seed):
    """Exact length, the needle and the question where the spans say, the key among them, no broken character."""
    haystack = make_haystack(tokenizer, n_tokens, depth, seed=seed, filler=filler, language=language)
    template, question = (NEEDLE_TEMPLATE, QUESTION) if language == "en" else (NEEDLE_TEMPLATE_ZH, QUESTION_ZH)
    assert len(haystack.input_ids) == n_tokens
    assert haystack.question_span == (n_tokens - haystack.question_span[1] + haystack.question_span[0], n_tokens)
    start, end = haystack.needle_span
    assert tokenizer.decode(haystack.input_ids[start:end]).strip() == template.format(key=haystack.key)
    assert tokenizer.decode(haystack.input_ids[slice(*haystack.question_span)]).strip() == question
    assert "\ufffd" not in haystack.text


def test_needle_trial_with_a_chinese_needle(tiny, tokenizer):
    trial = needle_trial(tiny, tokenizer, 128, 0.5, filler="daodejing", language="zh", n_distractors=3,
                         max_new_tokens=2)
    assert trial.n_tokens == 128 and 1 <= trial.rank <= 4 and math.isfinite(trial.key_logprob)
    english = needle_trial(tiny, tokenizer, 128, 0.5, filler="daodejing", n_distractors=3, max_new_tokens=2)
    assert english.key == trial.key  # the same seed picks the same key in both languages


def test_compute_chinese_haystack_grid(tiny, tokenizer):
    results = compute_chinese_haystack(tiny, tokenizer, lengths=(96, 160), depths=(0.0, 1.0))
    trials = results["trials"]
    assert len(trials) == len(CONDITIONS) * 2 * 2
    assert [(t["filler"], t["language"]) for t in trials[::4]] == list(CONDITIONS)
    for t in trials:
        haystack = make_haystack(tokenizer, t["n_tokens"], t["depth"], filler=t["filler"], language=t["language"])
        assert t["key"] == haystack.key and 1 <= t["rank"] <= 10
        assert 0 < t["filler_chars"] < len(haystack.text)
    chars = {(t["filler"], t["language"], t["n_tokens"]): t["filler_chars"] for t in trials}
    # the same tokens hold several times more English characters than Chinese ones
    assert chars[("simple", "en", 160)] > 3 * chars[("daodejing", "en", 160)]
    assert results["settings"]["conditions"] == [list(c) for c in CONDITIONS]


class Refusing(torch.nn.Module):
    """A model that fails the test if anything calls it: arguments must be checked before any forward."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.device = torch.device("cpu")

    def forward(self, *args, **kwargs):
        raise AssertionError("the model was called before the arguments were checked")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"conditions": (("daodejing", "fr"),)}, ValueError, "language"),
    ({"conditions": (("nosuchtext", "en"),)}, ValueError, "filler"),
    ({"conditions": ("daodejing",)}, TypeError, "conditions"),
    ({"conditions": "daodejing"}, TypeError, "conditions"),
    ({"conditions": ()}, ValueError, "conditions"),
    ({"lengths": (64, 20)}, ValueError, "n_tokens"),
    ({"lengths": (0,)}, ValueError, "lengths"),
    ({"depths": (0.5, 1.5)}, ValueError, "depths"),
    ({"lengths": ()}, ValueError, "lengths"),
])
def test_grid_checks_every_argument_before_the_first_forward(tiny, tokenizer, kwargs, error, match):
    with pytest.raises(error, match=match):
        compute_chinese_haystack(Refusing(tiny.config), tokenizer, **{"lengths": (64,), "depths": (0.5,), **kwargs})


TRIALS = [{"filler": f, "language": lang, "n_tokens": n, "depth": d, "found": d > 0, "rank": 1 if d else 3,
           "key_logprob": -1.25, "filler_chars": 600 if f == "daodejing" else 4000}
          for f, lang in CONDITIONS for n in (1024, 2048) for d in (0.0, 0.5)]


def test_table_in_both_languages():
    english = haystack_table(TRIALS).splitlines()
    assert len(english) == 1 + len(CONDITIONS) * 2
    assert english[0].split()[:3] == ["filler", "needle", "tokens"] and english[0].endswith("0%  50%")
    assert english[1].split() == ["simple", "(English)", "English", "1,024", "4,000", "1/2", "1/2", "-1.2",
                                  "✗3", "✓1"]
    assert english[-1].split()[:4] == ["Daodejing", "Chinese", "2,048", "600"]
    try:
        set_language("zh")
        chinese = haystack_table(TRIALS).splitlines()
    finally:
        set_language("en")
    assert chinese[0].split()[:3] == ["填充文本", "针", "词元数"]
    assert chinese[-1].split()[:2] == ["《道德经》", "中文"]
    assert [line.split()[-6:] for line in chinese[1:]] == [line.split()[-6:] for line in english[1:]]


@pytest.mark.parametrize("trials, match", [([], "empty"), ([{"filler": "daodejing"}], r"trials\[0\]"),
                                           (["not a dict"], r"trials\[0\]")])
def test_table_rejects_bad_trials(trials, match):
    with pytest.raises(ValueError, match=match):
        haystack_table(trials)


def test_cached_grid_has_the_promised_shape():
    results = load_chinese_haystack()
    settings_ = results["settings"]
    assert [tuple(c) for c in settings_["conditions"]] == list(CONDITIONS)
    cells = {(t["filler"], t["language"], t["n_tokens"], t["depth"]) for t in results["trials"]}
    expected = len(CONDITIONS) * len(settings_["lengths"]) * len(settings_["depths"])
    assert len(cells) == len(results["trials"]) == expected
    assert all(1 <= t["rank"] <= 1 + settings_["n_distractors"] for t in results["trials"])


def test_cache_matches_a_recomputed_trial():
    """One cached trial recomputed on this machine (about 4 s): a drifted code path shows up here."""
    model, tokenizer = load_smollm2()
    stored = next(t for t in load_chinese_haystack()["trials"]
                  if (t["filler"], t["language"], t["n_tokens"], t["depth"]) == ("daodejing", "zh", 1024, 0.4))
    trial = needle_trial(model, tokenizer, 1024, 0.4, filler="daodejing", language="zh")
    assert (trial.key, trial.rank, trial.found) == (stored["key"], stored["rank"], stored["found"])
    assert math.isclose(trial.key_logprob, stored["key_logprob"], abs_tol=0.02)
