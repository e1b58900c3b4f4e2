"""The kit's bundled texts, a sentence splitter, and a pass-key haystack built token by token.

Everything in data/ was written for the kit, except daodejing.md (public domain, source in data/README.md). The haystack is the classic
"needle in a haystack" test: filler text with one sentence holding a pass key, then a question whose
answer is that key. It is built from token ids, so its length is exact for whichever tokenizer you use.
"""
from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

from .checked import checked
from .checks import as_float, as_int, check_choice
from .own_text import own_text

__all__ = [
    "Haystack", "answer_ids", "bundled_text", "data_dir", "distractor_keys", "list_texts", "load_text",
    "make_haystack", "split_sentences",
]

NEEDLE_TEMPLATE = "The pass key is {key}. Remember it. {key} is the pass key."
QUESTION = "What is the pass key? The pass key is"
# The same needle and question in Chinese. The key keeps a space before it, as in English, so the answer
# a model should continue with is " 60494" (answer_ids) in both languages.
NEEDLE_TEMPLATE_ZH = "密钥是 {key}。记住它。{key} 是密钥。"
QUESTION_ZH = "密钥是多少？密钥是"
NEEDLE_LANGUAGES = {"en": (NEEDLE_TEMPLATE, QUESTION), "zh": (NEEDLE_TEMPLATE_ZH, QUESTION_ZH)}
# Plain, original filler: easy to read, says nothing a model could confuse with the pass key.
SIMPLE_FILLER = (
    "The grass is green.", "The sky is blue.", "The river is slow and wide.",
    "A bird sings in the tall tree.", "The road goes on past the hill.", "Here the day is calm and warm.",
)
MAX_HAYSTACK_TOKENS = 1 << 20  # far beyond any kit model; stops a typo from eating all memory
_TEXT_SUFFIXES = (".md", ".txt")


@checked
def data_dir() -> Path:
    """The folder of bundled texts: $LONGCTX_LAB_DATA if set, else the repository's data/ folder.

    Taught in 00_start_here, § The kit's texts.
    """
    env = os.environ.get("LONGCTX_LAB_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "data"  # repository/longctx_lab/core/data.py
    if not path.is_dir():
        if env:
            raise FileNotFoundError(
                f"LONGCTX_LAB_DATA={env!r} is not a folder; point it at the kit's data/ folder or unset it"
            )
        raise FileNotFoundError(
            f"the kit's data folder {path} is missing; install the kit editable from a clone of its "
            "repository (git clone …, then `pip install -e .`), or set LONGCTX_LAB_DATA to a data/ folder"
        )
    return path


@checked
def list_texts() -> list[str]:
    """Names of the bundled texts (the .md and .txt files of data_dir(), README excluded), sorted.

    Taught in 00_start_here, § The kit's texts.
    """
    names = {p.stem for p in data_dir().iterdir() if p.suffix in _TEXT_SUFFIXES and p.is_file()}
    names.discard("README")
    return sorted(names)


@checked
def load_text(name: str = "long_document") -> str:
    """The bundled text called `name` (see list_texts()), with surrounding whitespace removed.

    While your own text is in use (`use_text`, $LONGCTX_LAB_TEXT), "long_document" is your text and
    "short_paragraph" its first paragraph.

    Taught in 00_start_here, § The kit's texts.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__} {name!r}")
    valid = list_texts()
    if name not in valid:
        raise ValueError(f"name={name!r} is not a bundled text; valid names: {valid}")
    learners = own_text(name)  # set by use_text() or $LONGCTX_LAB_TEXT: stands in for long_document
    return bundled_text(name) if learners is None else learners


@checked
def bundled_text(name: str = "long_document") -> str:
    """The kit's own text called `name`, even while your own text is in use (what stored results were measured on).

    Taught in 07_your_own_model, § The report card.
    """
    valid = list_texts()
    if name not in valid:
        raise ValueError(f"name={name!r} is not a bundled text; valid names: {valid}")
    for suffix in _TEXT_SUFFIXES:
        path = data_dir() / f"{name}{suffix}"
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    raise FileNotFoundError(f"text {name!r} vanished from {data_dir()}")  # removed between the two calls


# A sentence ends at . ! or ? (a run of them, then any closing quotes/brackets) followed by whitespace,
# or at Chinese 。！？； (full-width, no space needed: Chinese puts none between sentences), or at an
# ellipsis … right after a Chinese character or mark, each with any closing quotes/brackets ”’」』）》.
_CLOSERS = "\"')\\]\u2019\u201d\u300d\u300f\uff09\u300b"
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SENTENCE_END = re.compile(
    rf"[.!?]+[{_CLOSERS}]*(?=\s)"
    rf"|[\u3002\uff01\uff1f\uff1b!?]*[\u3002\uff01\uff1f\uff1b][{_CLOSERS}]*"
    rf"|(?<=[{_CJK}])[\u2026\u22ef]+[\u3002\uff01\uff1f\uff1b!?]*[{_CLOSERS}]*"
)


def _blocks(text: str):
    """Yield [start, end) of each paragraph (a run of non-blank lines) and of each heading line."""
    start, pos = None, 0
    for line in text.splitlines(keepends=True):
        end, stripped = pos + len(line), line.strip()
        if not stripped or stripped.startswith("#"):
            if start is not None:
                yield start, pos
                start = None
            if stripped:  # a heading is a block of its own
                yield pos, end
        elif start is None:
            start = pos
        pos = end
    if start is not None:
        yield start, pos


@checked
def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of the sentences of `text`, in order.

    The rule: blank lines separate paragraphs; a line whose first non-space character is '#' (a
    Markdown heading) is a span of its own; inside a paragraph a sentence ends after a run of
    . ! ? (plus any closing quotes or brackets) that is followed by whitespace, and after Chinese
    。！？； or an ellipsis …… that follows Chinese text (plus closing marks ”’」』）》), with or without
    a space after it. Each span is
    trimmed of surrounding whitespace, so spans never overlap, are never empty, and every character
    outside them is whitespace: text == the spans joined with the gaps between them. Abbreviations
    such as "e.g. this" are split too (the rule is simple on purpose); "3.5" is not.
    Taught in 01_chunking, § Sentence-aware chunking.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    spans = []
    for b0, b1 in _blocks(text):
        cuts = [m.end() for m in _SENTENCE_END.finditer(text, b0, b1)]
        for s, e in zip([b0] + cuts, cuts + [b1]):
            piece = text[s:e]
            s, e = s + len(piece) - len(piece.lstrip()), e - (len(piece) - len(piece.rstrip()))
            if s < e:
                spans.append((s, e))
    return spans


@checked
@dataclass(frozen=True)
class Haystack:
    """A pass-key prompt: filler with the needle sentence at `depth`, then the question, as token ids."""

    input_ids: list[int]
    key: str
    needle_span: tuple[int, int]
    question_span: tuple[int, int]
    depth: float
    actual_depth: float
    text: str


def _check_tokenizer(tokenizer) -> None:
    if not (callable(getattr(tokenizer, "encode", None)) and callable(getattr(tokenizer, "decode", None))):
        raise TypeError(
            f"tokenizer must have encode() and decode() (e.g. a Hugging Face tokenizer), got {type(tokenizer).__name__}"
        )


def _encode(tokenizer, text: str) -> list[int]:
    """Token ids of `text` without special tokens (no BOS/CLS/SEP): pieces are glued by hand."""
    try:
        return list(tokenizer.encode(text, add_special_tokens=False))
    except TypeError:  # a non-HF tokenizer without that keyword adds no special tokens anyway
        return list(tokenizer.encode(text))


def _check_key(key) -> str:
    if not isinstance(key, str):
        raise TypeError(f"key must be a str of digits such as '48213', got {type(key).__name__} {key!r}")
    if not (key.isascii() and key.isdigit()):
        raise ValueError(f"key={key!r} must be a non-empty string of the digits 0-9, such as '48213'")
    return key


_CJK_CHAR = re.compile(f"[{_CJK}]")


def _joiner(sentence: str) -> str:
    """What goes before a filler sentence in running text: a space, or nothing before Chinese."""
    return "" if _CJK_CHAR.match(sentence) else " "


def _clean_front(tokenizer, text: str, k: int) -> list[int] | None:
    """k ids that decode to a whole-character tail of `text` (newline ids pad it), or None if none fit."""
    pad = _encode(tokenizer, "\n")
    for j in range(len(text)):
        ids = _encode(tokenizer, text[j:])
        if len(ids) <= k and (len(ids) == k or len(pad) == 1):
            return pad * (k - len(ids)) + ids
    return pad * k if len(pad) == 1 else None  # not even one character fits: newlines only


def _filler_sentences(filler: str | None) -> list[str]:
    """The filler as a list of sentences: built-in, a bundled text, or the given text itself."""
    if filler is None or filler == "simple":
        return list(SIMPLE_FILLER)
    if not isinstance(filler, str):
        raise TypeError(f"filler must be None, a name or a text (str), got {type(filler).__name__}")
    if len(filler.split()) < 2 and not _CJK_CHAR.search(filler):  # one word is a name; Chinese has no spaces
        name = "long_document" if filler == "document" else filler
        valid = ["simple", "document", *list_texts()]
        if name not in valid:
            raise ValueError(f"filler={filler!r} is not a filler name {valid} nor a text of several words")
        filler = load_text(name)
    # Headings read oddly when repeated inside running text, so the filler keeps sentences only.
    sentences = [filler[s:e] for s, e in split_sentences(filler) if not filler[s:e].startswith("#")]
    if not sentences:
        raise ValueError("filler holds no sentences (only headings or whitespace)")
    return sentences


def _fill(tokenizer, sentences: list[str], n_fill: int) -> tuple[list[int], list[int]]:
    """Exactly n_fill filler ids (sentences cycled) and the token offsets where sentences start."""
    cache: dict[str, list[int]] = {}
    pieces, total = [], 0
    while total < n_fill:
        sentence = sentences[len(pieces) % len(sentences)]
        if sentence not in cache:
            # A leading space makes each sentence tokenize as it would in running text (none in Chinese).
            cache[sentence] = _encode(tokenizer, _joiner(sentence) + sentence)
        pieces.append(cache[sentence])
        total += len(pieces[-1])
        if len(pieces) >= len(sentences) and total == 0:
            raise ValueError("filler encodes to no tokens with this tokenizer")
    ids = [i for piece in pieces for i in piece]
    # Cut the surplus from the front: the prompt then opens mid-sentence, like an excerpt, and the
    # question still follows a whole sentence.
    drop = total - n_fill
    # Byte-level BPE may spell one Chinese character with several tokens: if the cut falls inside one,
    # the first piece's kept tokens are re-spelled from its text's characters (English never needs it).
    head, before = 0, 0
    while head < len(pieces) and before + len(pieces[head]) <= drop:
        before, head = before + len(pieces[head]), head + 1
    if head < len(pieces):
        piece, k = pieces[head], before + len(pieces[head]) - drop
        if k < len(piece) and "\ufffd" in tokenizer.decode(piece[-k:]):
            sentence = sentences[head % len(sentences)]
            clean = _clean_front(tokenizer, _joiner(sentence) + sentence, k)
            if clean is not None:
                ids[before + len(piece) - k:before + len(piece)] = clean
    bounds, offset = {0, n_fill}, 0
    for piece in pieces:
        if 0 < offset - drop < n_fill:
            bounds.add(offset - drop)
        offset += len(piece)
    return ids[drop:], sorted(bounds)


@checked(depth=(0, 1))
def make_haystack(
    tokenizer, n_tokens: int, depth: float, key: str | None = None, seed: int = 0, filler: str | None = None,
    language: str = "en",
) -> Haystack:
    """A pass-key prompt of exactly n_tokens ids: filler, the needle sentence at `depth`, then the question.

    Needle: NEEDLE_TEMPLATE with `key` (5 random digits from `seed` if None); question: QUESTION,
    so a model answers by continuing with the key (see answer_ids). Pieces are tokenized separately,
    without special tokens, and joined as ids. The needle goes at the sentence boundary of the filler
    (or its start or end) nearest to depth × (filler length), so actual_depth = needle start / filler length differs
    from depth by at most half the longest filler sentence (in tokens) / filler length. `filler`:
    None or "simple" (built-in sentences), "document" (the long document) or another bundled text's
    name, or any text of several words or in Chinese (e.g. "daodejing"; Chinese sentences are joined
    without spaces, and a cut inside a character is re-spelled so the prompt never decodes to '�');
    its sentences repeat as needed. `seed` only picks the key. `language`: the language of the needle and
    the question, not of the filler — "en" (NEEDLE_TEMPLATE, QUESTION) or "zh" (NEEDLE_TEMPLATE_ZH,
    QUESTION_ZH, joined without a space); the answer is " " + key in both.
    Taught in 06_context_extension, § Finding the needle, and 06_context_extension, § A Chinese haystack.
    """
    _check_tokenizer(tokenizer)
    n_tokens = as_int("n_tokens", n_tokens, 1, MAX_HAYSTACK_TOKENS)
    depth = as_float("depth", depth, 0, 1, note="0 = start, 1 = just before the question")
    seed = as_int("seed", seed, -(1 << 63))
    template, question_text = NEEDLE_LANGUAGES[check_choice("language", language, tuple(NEEDLE_LANGUAGES))]
    key = f"{random.Random(seed).randint(10000, 99999)}" if key is None else _check_key(key)
    sentences = _filler_sentences(filler)
    needle = _encode(tokenizer, _joiner(template) + template.format(key=key))
    question = _encode(tokenizer, _joiner(question_text) + question_text)
    minimum = len(needle) + len(question) + 1
    if n_tokens < minimum:
        raise ValueError(
            f"n_tokens={n_tokens} is too small for this tokenizer; valid: n_tokens ≥ {minimum} "
            f"(needle {len(needle)} + question {len(question)} + at least 1 filler token)"
        )
    n_fill = n_tokens - len(needle) - len(question)
    ids, bounds = _fill(tokenizer, sentences, n_fill)
    target = depth * n_fill
    start = min(bounds, key=lambda b: (abs(b - target), b))  # ties go to the earlier boundary
    input_ids = ids[:start] + needle + ids[start:] + question
    return Haystack(
        input_ids=input_ids,
        key=key,
        needle_span=(start, start + len(needle)),
        question_span=(n_tokens - len(question), n_tokens),
        depth=float(depth),
        actual_depth=start / n_fill,
        text=tokenizer.decode(input_ids),
    )


@checked
def answer_ids(tokenizer, key: str) -> list[int]:
    """Token ids of " " + key: the continuation a model should produce after the haystack's question.

    Taught in 06_context_extension, § Finding the needle.
    """
    _check_tokenizer(tokenizer)
    return _encode(tokenizer, " " + _check_key(key))


@checked
def distractor_keys(key: str, count: int, seed: int = 0) -> list[str]:
    """`count` distinct keys with as many digits as `key`, none equal to it (no leading 0 unless 1 digit).

    Score each after the question (teacher forcing) to see whether the model prefers the true key.
    Taught in 06_context_extension, § Finding the needle.
    """
    key = _check_key(key)
    low, high = (0, 9) if len(key) == 1 else (10 ** (len(key) - 1), 10 ** len(key) - 1)
    available = high - low + 1 - (low <= int(key) <= high)  # a key with a leading 0 is never drawn
    count = as_int("count", count, 0, available)  # the upper bound: every other key of that length
    seed = as_int("seed", seed, -(1 << 63))
    # Sample one extra so dropping the true key still leaves `count`; range() keeps this lazy.
    drawn = random.Random(seed).sample(range(low, high + 1), min(count + 1, high - low + 1))
    return [str(k) for k in drawn if str(k) != key][:count]
