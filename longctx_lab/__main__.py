"""The kit's command line: `python -m longctx_lab report MODEL [--text FILE] [--max-tokens N] [--out DIR]`.

Every argument is checked before the model is loaded, so a typo costs a second, not a model load.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    from .context_extension.rope import ROPE_METHODS
    from .your_own_model.report import MAX_TOKENS, MIN_TOKENS

    def max_tokens(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--max-tokens={value!r} is not an int; valid: {MIN_TOKENS}..{MAX_TOKENS}")
        if not MIN_TOKENS <= number <= MAX_TOKENS:
            raise argparse.ArgumentTypeError(f"--max-tokens={number} is out of range; valid: {MIN_TOKENS}..{MAX_TOKENS}")
        return number

    def factor(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--factor={value!r} is not a number; valid: 1..64")
        if not 1 <= number <= 64:
            raise argparse.ArgumentTypeError(f"--factor={number} is out of range; valid: 1..64")
        return number

    parser = argparse.ArgumentParser(prog="python -m longctx_lab", description="longctx-lab command line")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="write a long-context report card (report.html, report.md, report.json)")
    report.add_argument("model", help="a bundled name (smollm2), a model folder, or a hub id")
    report.add_argument("--text", type=Path, help="a UTF-8 text file (default: the kit's long document)")
    report.add_argument("--max-tokens", type=max_tokens, default=None,
                        help="longest context measured (default 8192); the four lengths are N/8, N/4, N/2, N")
    report.add_argument("--out", type=Path, default=None, help="output folder (default: report-<model name>/)")
    report.add_argument("--lang", choices=("en", "zh"), default=None, help="language of the report")
    report.add_argument("--method", choices=ROPE_METHODS, default="none", help="RoPE scaling for the whole report")
    report.add_argument("--factor", type=factor, default=1.0, help="RoPE scaling factor (1..64)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.method == "none" and args.factor != 1.0:
        parser.error(f"--factor={args.factor} needs --method (linear, ntk, dynamic, yarn, llama3); with none it must be 1")
    text = None
    if args.text is not None:
        if not args.text.is_file():
            parser.error(f"--text={str(args.text)!r} is not a file")
        text = args.text.read_text(encoding="utf-8")
        if not text.strip():
            parser.error(f"--text={str(args.text)!r} is empty")
    name = Path(args.model.rstrip("/")).name or "model"
    out = args.out or Path(f"report-{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}")
    from . import report_card, set_language

    if args.lang:
        set_language(args.lang)
    try:
        card = report_card(args.model, text=text, max_tokens=args.max_tokens, method=args.method, factor=args.factor,
                           name=name)
    except ValueError as exc:  # a model the report does not apply to (an encoder), or one that is not here
        parser.exit(2, f"{parser.prog} report: error: {exc}\n")
    paths = card.write(out)
    print(card.as_dict()["verdict_sentence"])
    for key in ("html", "md", "json"):
        print(paths[key])
    return 0


if __name__ == "__main__":
    sys.exit(main())
