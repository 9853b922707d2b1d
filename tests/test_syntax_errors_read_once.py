"""A policy with a syntax error is read once: the file is opened once, its text goes once through the lexer and the
parser, and the error is worded from that reading, exactly as Lark's own parse of the text words it (the reference
parser is asked to read nothing, and is held to the same words here on mutated and random text)."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings

from conftest import tiergate
from policygen import DEFAULT_POLICY, mutations
from test_lexer import ERRORS, policy_like_text
from tiergate.errors import TiergateError
from tiergate.language import lark_parser
from tiergate.language.lexer import Lexer
from tiergate.language.load import lint_file
from tiergate.language.parser import parse

DEFAULT_TEXT = DEFAULT_POLICY.read_text(encoding="utf-8")
#: the default pack with a syntax error near its end: reading it twice would cost a second pass over all the rest
LATE_ERROR = DEFAULT_TEXT.replace("  require review by risk_audit every 26w after deployment",
                                  "  require review by risk_audit every 26w after")
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture
def passes(monkeypatch):
    """Counts the passes of the lexer over a text, the openings of each file, and refuses the reference parse."""
    counted = {"lexed": 0, "opened": {}}
    tokens, real_open = Lexer.tokens, os.open

    def counting_tokens(self, text, states):
        counted["lexed"] += 1
        return tokens(self, text, states)

    def counting_open(path, *args, **kwargs):
        counted["opened"][os.fspath(path)] = counted["opened"].get(os.fspath(path), 0) + 1
        return real_open(path, *args, **kwargs)

    def no_second_reading(*args, **kwargs):
        raise AssertionError("the text was read a second time, by the reference parser")

    monkeypatch.setattr(Lexer, "tokens", counting_tokens)
    monkeypatch.setattr(os, "open", counting_open)
    monkeypatch.setattr(lark_parser, "parse", no_second_reading)
    monkeypatch.setattr(lark_parser.Lark, "parse", no_second_reading)
    return counted


def test_lint_reads_a_policy_with_a_syntax_error_once(tmp_path, passes):
    path = tmp_path / "late.policy"
    path.write_text(LATE_ERROR, encoding="utf-8")
    result = lint_file(path)
    assert [(d.code, d.location.line, d.message) for d in result.diagnostics] == [
        ("E100", 120, "the line ends too early: expected a stage name after `after`")]
    assert passes["lexed"] == 1
    assert passes["opened"] == {str(path): 1}


def test_the_command_line_reads_it_once_too(tmp_path, passes):
    path = tmp_path / "late.policy"
    path.write_text(LATE_ERROR, encoding="utf-8")
    for command in (["lint"], ["fmt"], ["doc"]):
        before = passes["lexed"]
        result = tiergate(*command, path)
        assert "error[E100]" in result.output and "120" in result.output, result.output
        assert passes["lexed"] - before == 1, command
    assert passes["opened"] == {str(path): 3}


@pytest.mark.parametrize("text", ERRORS.values(), ids=ERRORS.keys())
def test_every_kind_of_syntax_error_is_worded_from_one_reading(text, passes):
    with pytest.raises(TiergateError) as caught:
        parse(text, "e.policy")
    assert passes["lexed"] == 1
    assert caught.value.diagnostics[0].code.startswith("E1")


def assert_worded_as_the_reference(text: str) -> None:
    """parse() and Lark's own parse of the text agree: both read it, or both give the same diagnostics (a tab in
    the indentation is refused before any reading, E103: Lark's grammar does not know it)."""
    try:
        parse(text, "t.policy")
    except TiergateError as exc:
        ours = exc.diagnostics
        if ours[0].code == "E103":
            return
    else:
        ours = None
    try:
        lark_parser.parse(text[1:] if text.startswith("\ufeff") else text, "t.policy", {})  # (as decoded)
    except TiergateError as exc:
        theirs = exc.diagnostics
    else:
        theirs = None
    assert ours == theirs, text


@PROPERTY
@given(mutations(DEFAULT_TEXT))
def test_mutated_pack_errors_are_worded_as_the_reference(text):
    assert_worded_as_the_reference(text)


@PROPERTY
@given(policy_like_text)
@example("\t")
@example("\ufeff")
@example('tiers low < high\nclassify:\n  high when (x == "y"\n')
@example("tiers low < high\nroles a\ntier low extends:\n")
@example('tiers low\nclassify:\n  otherwise low\ntier low:\n  require evidence x before y waivable by a up to 7d )\n')
def test_policy_like_text_errors_are_worded_as_the_reference(text):
    assert_worded_as_the_reference(text)
