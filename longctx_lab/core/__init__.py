"""What every chapter shares, and nothing chapter-specific; `core` never imports a chapter.

    checks.py           argument checks in one style (argument, value, valid range): as_int, as_float, as_ids, ...
    checked.py          @checked: every public callable's arguments checked against its annotations, before any work
    hf.py               transformers shims: the KV-cache keyword, eager attention, per-layer attention hooks, pooling
    timing.py           alternating_medians: timings that stay comparable on a busy machine
    models.py           the offline model registry: MiniLM, SmolLM2 (GGUF converted once), tiny_lm
    pretrained.py       load_pretrained: a bundled name, a local folder or a hub id, checked against free memory
    tokenizers.py       Qwen's Chinese-aware tokenizer (offline), the [UNK] share and its one-line note
    data.py             the bundled texts, the sentence splitter, the pass-key haystack
    own_text.py         use_text / $LONGCTX_LAB_TEXT: the learner's own text in place of the long document
    offline.py          the socket guard that keeps tests and kernels off the network
    panels.py           the live-panel conventions: LivePanel, PanelView, ResultCache
    result_store.py     @remembered: heavy results kept on disk, keyed by code, arguments and settings
    drawing.py          figure helpers: token strip, attention heatmap grid, distance bins
    exercise_kit.py     Exercise, its verdicts and the ____ blank
    answer_types.py     as_number / as_pair: what a learner typed, as a number or a sentence why not
    answers.py          the checkers: NumberAnswer, PairAnswer, Mistake, expect_equal, expect_close
    bertviz_offline.py  bertviz's head and model views, rendered without the network
    i18n.py             the learner's language: set_language, gettext (zh_CN catalogue), CJK figure fonts
"""
