"""Tests of longctx_lab.core.own_text: one setting (use_text or $LONGCTX_LAB_TEXT) points every chapter at your text."""
from __future__ import annotations

import pytest

from longctx_lab import load_text, text_in_use, use_text
from longctx_lab.core import own_text as O

PARAGRAPHS = ["# My notes", "Short line.",
              "The canal opened in spring. Barges carried coal from the hills to the coast. " * 3]


@pytest.fixture
def own_file(tmp_path):
    body = "\n\n".join(PARAGRAPHS + ["Filler sentence number %d sits here." % i for i in range(200)])
    path = tmp_path / "notes.md"
    path.write_text(body, encoding="utf-8")
    return path, body.strip()


@pytest.fixture(autouse=True)
def kit_texts_after(monkeypatch):
    monkeypatch.delenv(O.ENV_VAR, raising=False)
    yield
    use_text(None)
    O._state.update(set_in_code=False)  # back to "no choice made in code": the environment decides again


def test_without_a_setting_the_kit_texts_are_read(capsys):
    assert load_text("long_document") == (O.Path(__file__).parents[2] / "data" / "long_document.md").read_text(
        encoding="utf-8").strip()
    assert "long_document.md" in text_in_use()
    assert capsys.readouterr().err == ""


def test_use_text_replaces_long_document_and_short_paragraph_only(own_file, capsys):
    path, body = own_file
    assert str(path) in use_text(path)
    assert load_text("long_document") == body
    assert load_text("short_paragraph") == PARAGRAPHS[2].strip()  # heading and too-short line skipped
    assert "道" in load_text("daodejing")  # the other named texts stay the kit's
    assert capsys.readouterr().err == ""  # use_text returned what is in use: nothing more to say
    use_text(None)
    assert load_text("long_document") != body and "long_document.md" in text_in_use()


def test_the_environment_variable_points_every_chapter_at_the_text(own_file, monkeypatch, capsys):
    path, body = own_file
    monkeypatch.setenv(O.ENV_VAR, str(path))
    assert load_text() == body and str(path) in text_in_use() and load_text("short_paragraph")
    assert capsys.readouterr().err.count(str(path)) == 1  # a silent switch is announced, once per text


def test_use_text_in_code_wins_over_the_environment(own_file, monkeypatch):
    path, body = own_file
    monkeypatch.setenv(O.ENV_VAR, str(path))
    use_text(None)
    assert load_text() != body


def test_the_kit_helpers_follow_the_setting(own_file):
    from longctx_lab import document_segments, load_qwen_tokenizer

    path, body = own_file
    tokenizer = load_qwen_tokenizer()
    use_text(path)
    segments = document_segments(tokenizer, m=2, k=8)
    assert segments.flatten().tolist() == tokenizer(body, add_special_tokens=False)["input_ids"][:16]


def test_a_long_first_paragraph_is_cut_at_a_sentence_end():
    paragraph = " ".join(f"Sentence {i} says a little more than the one before it." for i in range(40))
    cut = O.first_paragraph(paragraph)
    assert 80 <= len(cut) <= 600 and cut.endswith(".") and paragraph.startswith(cut)


@pytest.mark.parametrize("content, message", [
    ("too short", "holds 9 characters; the chapters need at least 5,000"),
    (b"\xff\xfe not utf-8 " * 600, "is not UTF-8 text"),
])
def test_bad_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(ValueError, match=message):
        use_text(path)
    assert "long_document.md" in text_in_use()  # a refused file changes nothing


def test_a_missing_file_names_the_path(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        use_text(tmp_path / "missing.txt")
    monkeypatch.setenv(O.ENV_VAR, str(tmp_path / "gone.txt"))
    with pytest.raises(FileNotFoundError, match="LONGCTX_LAB_TEXT="):
        load_text()


def test_a_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="path"):
        use_text(42)
