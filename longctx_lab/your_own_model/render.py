"""The report card as text: one list of blocks (headings, sentences, tables, figures), written as markdown or html.

Every word a learner reads goes through gettext here, at render time, so the same measured card reads in
English or Chinese (`set_language`). The html is one self-contained file: inline CSS, figures as base64
PNG data URIs, no script and no link to anything outside it.
"""
from __future__ import annotations

import base64
import html as _html

from ..core.i18n import N_, language, tr
from .verdict import verdict_sentence

TITLES = {"config": N_("From the config"), "loss": N_("Loss by position"),
          "perplexity": N_("Perplexity inside and beyond the trained length"), "needle": N_("Pass key by length and depth"),
          "attention": N_("Attention distance and sink mass"), "prefill": N_("Prefill time and memory"),
          "kv_int8": N_("What an int8 KV cache costs"), "verdict": N_("Verdict")}
CSS = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
       "table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}"
       "th{background:#eee}img{max-width:100%}h2{border-bottom:1px solid #ccc;margin-top:1.6em}"
       ".verdict{background:#eef6ee;border-left:4px solid #4a4;padding:.6em 1em}")


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _position(config: dict) -> str:
    pos = config["position"]
    if pos["scheme"] == "rope":
        text = tr("RoPE, θ = {theta:g}", theta=pos["rope_theta"])
        if pos.get("rope_scaling"):
            text += tr(", {kind} scaling {params}", kind=pos["rope_type"], params=pos["rope_scaling"])
        if pos.get("partial_rotary_factor", 1.0) != 1.0:
            text += tr(", partial rotary: {share:.0%} of each head rotates", share=pos["partial_rotary_factor"])
        return text
    if pos["scheme"] == "learned":
        return tr("learned absolute positions (one trained vector per position, none past the last)")
    return tr("other ({detail})", detail=pos.get("detail", "?"))


def _config_blocks(config: dict) -> list:
    att = config["attention"]
    rows = [(tr("model type"), config["model_type"]), (tr("trained context length"), _fmt(config["trained_positions"])),
            (tr("position scheme"), _position(config)), (tr("layers"), _fmt(att["layers"])),
            (tr("query heads / KV heads"), f"{_fmt(att['heads'])} / {_fmt(att['kv_heads'])}"),
            (tr("GQA ratio"), _fmt(att["gqa_ratio"])), (tr("head dim"), _fmt(att["head_dim"])),
            (tr("sliding window"), _fmt(att["sliding_window"]))]
    blocks = [("table", [tr("fact"), tr("value")], rows)]
    per = config.get("kv_bytes_per_token")
    if per:
        fits = config["fits"]
        header = [tr("memory"), *[tr("{fmt} KV: tokens", fmt=f) for f in per]]
        table = [[f"{gb} GB", *[tr("no limit (window)") if fits[gb][f] is None else f"{fits[gb][f]:,}" for f in per]]
                 for gb in fits]
        blocks += [("p", tr("KV cache per token: {fp16} bytes in fp16, {int8} in int8, {int4} in int4. Longest context "
                            "whose KV cache fits beside the fp16 weights (batch 1, activations ignored):", **per)),
                   ("table", header, table)]
        if att["sliding_window"]:
            blocks.append(("p", tr("The sliding window of {window} tokens caps the KV cache: past it, memory stops "
                                   "growing, and so does what the model can see.", window=att["sliding_window"])))
    else:
        blocks.append(("p", tr("An encoder keeps no KV cache.")))
    return blocks


def _loss_blocks(s: dict) -> list:
    first, last = s["nll"][0], s["nll"][-1]
    blocks = [("p", tr("The mean loss goes from {first:.2f} nats on the first tokens to {last:.2f} nats at positions "
                       "{start}–{end}: a falling curve means more context keeps helping.", first=first, last=last,
                       start=s["edges"][-2], end=s["edges"][-1] - 1)), ("figure", "loss"),
              ("p", tr("What the far context is worth: the tokens in the last half of each length, scored with all "
                       "the context before them and with their context cut at the half (positive = the far half "
                       "lowered the loss).")),
              ("table", [tr("tokens"), tr("loss with all context"), tr("loss from the half on"), tr("gain (nats)")],
               [[n, f"{full:.3f}", f"{full + gain:.3f}", f"{gain:+.3f}"]
                for n, full, gain in zip(s["lengths"], s["nll_last_half"], s["context_gain"])])]
    if s.get("repeat_from"):
        blocks.append(("p", tr("The text has {n} tokens, so it was repeated to fill {total}; from token {n} on, the "
                               "model can copy what it read before (a repeat is easy to predict, see chapter 6).",
                               n=s["repeat_from"], total=s["n_tokens"])))
    return blocks


def _perplexity_blocks(s: dict, config: dict) -> list:
    header = [tr("setting"), tr("in the trained window"), tr("beyond it"),
              *[tr("last half of {n}", n=n) for n in s["lengths"]]]
    rows = [[r["method"] if r["method"] == "none" else f"{r['method']} ×{r['factor']:g}", _fmt(r["in_window"]),
             _fmt(r["beyond"]), *map(_fmt, r["ppl_last_half"])] for r in s["runs"]]
    blocks = [("table", header, rows), ("figure", "perplexity")]
    main = s["runs"][0]
    if s["beyond_measured"]:
        blocks.insert(0, ("p", tr("Perplexity is {inside:.1f} inside the trained window and {beyond:.1f} beyond "
                                  "it ({ratio:.1f} ×).", inside=main["in_window"], beyond=main["beyond"],
                                  ratio=main["beyond"] / main["in_window"])))
    elif s["suggest_max_tokens"]:
        blocks.insert(0, ("p", tr("Beyond the trained length ({trained} tokens) was not measured: run with "
                                  "--max-tokens {n} to measure it.", trained=s["trained_positions"],
                                  n=s["suggest_max_tokens"])))
    if not s["rope"]:
        blocks.append(("p", tr("No RoPE scaling: {kind} has learned absolute positions, one trained vector per "
                               "position and none past {trained}, so there is nothing to stretch.",
                               kind=config["model_type"], trained=config["trained_positions"])))
    return blocks


def _needle_blocks(s: dict) -> list:
    total = sum(len(r) for r in s["found"])
    hits = sum(sum(r) for r in s["found"])
    return [("p", tr("The pass key was found in {hits} of {total} trials (greedy answer); #k in a cell is the true "
                     "key's rank among 10 candidates by log-probability.", hits=hits, total=total)),
            ("figure", "needle")]


def _attention_blocks(s: dict) -> list:
    distance, sink = s["mean_distance"], s["sink_mass"]
    return [("p", tr("At {n} tokens of context, the mean attention distance per layer ranges from {low:.0f} to "
                     "{high:.0f} tokens, and on average {sink:.0%} of the attention lands on the first token "
                     "(an attention sink).", n=s["n_tokens"], low=min(distance), high=max(distance),
                     sink=sum(sink) / len(sink))), ("figure", "attention")]


def _prefill_blocks(s: dict) -> list:
    rows = [[n, f"{t:.3f}", f"{b / 1e6:.1f}"] for n, t, b in zip(s["lengths"], s["seconds"], s["peak_bytes"])]
    growth = s["seconds"][-1] / max(s["seconds"][-2], 1e-9) if len(rows) > 1 else 1.0
    return [("p", tr("Doubling the length multiplied the prefill time by {growth:.1f} at the longest length measured "
                     "(2 = linear, 4 = quadratic) on {device}.", growth=growth, device=s["device"])),
            ("table", [tr("tokens"), tr("seconds"), tr("peak MB")], rows), ("figure", "prefill")]


def _kv_blocks(s: dict) -> list:
    if not s.get("measured"):
        return [("p", tr("Not measured: the sliding window keeps too few tokens in the cache to quantize."))]
    return [("p", tr("On {n} tokens, an int8 KV cache moves perplexity from {fp:.3f} to {q:.3f} ({delta:+.3f}) and "
                     "takes {ratio:.0%} of the fp16 cache's memory.", n=s["n_tokens"], fp=s["ppl_fp"],
                     q=s["ppl_int8"], delta=s["delta_ppl"], ratio=s["memory_ratio"]))]


def blocks(card) -> list:
    """The whole report as blocks: ("h1"|"h2"|"p"|"verdict", text), ("table", header, rows), ("figure", key)."""
    s, settings = card.sections, card.settings
    out = [("h1", tr("Long-context report card: {name}", name=card.name)),
           ("p", tr("Measured on {n} tokens of text, RoPE setting {method}, in {seconds:.0f} s.", n=settings["max_tokens"],
                    method=settings["method"] if settings["method"] == "none" else
                    f"{settings['method']} ×{settings['factor']:g}", seconds=card.elapsed_s)),
           ("h2", tr(TITLES["verdict"])),
           ("verdict", verdict_sentence(card.verdict, settings["lengths"][0])),
           *([("p", tr("Past {n} tokens the text repeats, so the longest lengths test whether the model finds and "
                       "copies text it read far back, not whether it understands new text that far.",
                       n=settings["text_tokens"]))] if card.verdict["tokens"] > settings["text_tokens"] else []),
           ("h2", tr(TITLES["config"])), *_config_blocks(card.config)]
    makers = {"loss": _loss_blocks, "perplexity": lambda x: _perplexity_blocks(x, card.config),
              "needle": _needle_blocks, "attention": _attention_blocks, "prefill": _prefill_blocks, "kv_int8": _kv_blocks}
    for key, make in makers.items():
        if s.get(key):
            out += [("h2", tr(TITLES[key])), *make(s[key])]
    return out


def to_markdown(items: list, images: dict[str, str]) -> str:
    """Markdown; `images` maps a figure key to its src (a file name or a data URI)."""
    lines = []
    for item in items:
        kind = item[0]
        if kind == "h1":
            lines.append(f"# {item[1]}")
        elif kind == "h2":
            lines.append(f"## {item[1]}")
        elif kind == "p":
            lines.append(item[1])
        elif kind == "verdict":
            lines.append(f"> **{item[1]}**")
        elif kind == "table":
            lines.append("| " + " | ".join(map(str, item[1])) + " |")
            lines.append("|" + "---|" * len(item[1]))
            lines += ["| " + " | ".join(map(str, row)) + " |" for row in item[2]]
        elif kind == "figure" and item[1] in images:
            lines.append(f"![{item[1]}]({images[item[1]]})")
        lines.append("")
    return "\n".join(lines)


def to_html(items: list, pngs: dict[str, bytes], title: str) -> str:
    """One self-contained html page: inline CSS, figures as data URIs."""
    e = _html.escape
    body = []
    for item in items:
        kind = item[0]
        if kind in ("h1", "h2", "p"):
            body.append(f"<{kind}>{e(item[1])}</{kind}>")
        elif kind == "verdict":
            body.append(f'<p class="verdict"><strong>{e(item[1])}</strong></p>')
        elif kind == "table":
            head = "".join(f"<th>{e(str(h))}</th>" for h in item[1])
            rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in item[2])
            body.append(f"<table><tr>{head}</tr>{rows}</table>")
        elif kind == "figure" and item[1] in pngs:
            data = base64.b64encode(pngs[item[1]]).decode()
            body.append(f'<p><img alt="{e(item[1])}" src="data:image/png;base64,{data}"></p>')
    lang = "zh-CN" if language() == "zh" else "en"
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
