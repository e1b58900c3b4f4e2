"""07_your_own_model: point the chapters at your own model and text, and read its long-context report card.

How much context can this model really use, and what does it cost? The config answers the cost side
(trained length, positions, attention layout, KV-cache bytes and what fits in 8 / 24 / 80 GB); each
chapter's measurement, run on your model and text, answers the rest (loss by position, perplexity
inside and beyond the trained length, a pass-key grid, attention distance and sinks, prefill cost, an
int8 KV cache); a verdict names the context length the model effectively uses and the limit that bound it.

    config_card.py   static facts from a transformers config: positions, attention layout, KV bytes, what fits
    measurements.py  each chapter's measurement on one model and text, as JSON-ready dicts
    verdict.py       the effective context length and which limit bound it
    report.py        ReportCard, report_card and compare_reports (the CLI: python -m longctx_lab report MODEL)
    stored.py        the chapter's two stored cards (data/report_cards/) and the live recheck of a card's shortest row
    render.py        the card as markdown or one self-contained html page, in the learner's language
    plots.py         the card's figures
    widgets.py       the live panel: memory, batch and KV format in, the longest context that fits out
    exercises.py     the chapter's exercises: what fits in 24 GB, the RoPE factor for 32k, batch on an 8 GB GPU
"""
