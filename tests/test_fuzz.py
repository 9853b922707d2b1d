"""Hostile input, fuzzed: mutations of the shipped packs, answers, events and rosters.

Whatever the mutation, reading it gives a result or the project's own error (TiergateError, with located
diagnostics), never another exception; and the command line agrees with the library: input the library refuses
never exits 0 there, and no run ends in an internal error.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiergate
from tiergate.cli import main
from tiergate.inputs.answers import parse_answers
from tiergate.inputs.events import parse_events, parse_roster

ROOT = Path(__file__).resolve().parent.parent
PACKS = sorted((ROOT / "policies").glob("*.policy"))
ANSWERS = ROOT / "examples" / "use-cases" / "card-fraud-scoring.yaml"
EVENTS = ROOT / "examples" / "events" / "fraud-promotion.yaml"
ROSTER = ROOT / "examples" / "roster.yaml"

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

#: what a mutation may insert: the language's and YAML's own punctuation, keywords, numbers out of range,
#: non-finite values, control characters, a lone surrogate's bytes, and long runs
PIECES = ["\n", "  ", "\t", ":", "-", "[", "]", "{", "}", "(", ")", ",", "\"", "'", "#", "&a", "*a", "!!python/object",
          "<", ">=", "==", " and ", " or ", " not ", "tier ", "require ", "before ", "every ", "up to ", "0d", "-1",
          "9" * 5000, "1e999", ".nan", "-.inf", "nan", "\x00", "\x1b[31m", "\u2028", "\ud800", "\xff",
          "2026-13-45T99:99:99Z", "9999-12-31T23:59:59-01:00", "~", "null", "true", "[[[[[[[[[[", "}}}}"]


@st.composite
def mutated(draw, text: str) -> str:
    """`text` with a few cuts, duplications and insertions at drawn places."""
    for _ in range(draw(st.integers(1, 4))):
        size = len(text)
        at = draw(st.integers(0, size))
        kind = draw(st.sampled_from(["cut", "insert", "duplicate", "replace"]))
        if kind == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 80)):]
        elif kind == "insert":
            text = text[:at] + draw(st.sampled_from(PIECES)) * draw(st.integers(1, 3)) + text[at:]
        elif kind == "duplicate":
            end = min(size, at + draw(st.integers(1, 200)))
            text = text[:end] + text[at:end] + text[end:]
        else:
            end = min(size, at + draw(st.integers(1, 20)))
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[end:]
    return text


def _own_error_or_result(fn, *args):
    """Call fn; a TiergateError is a refusal (False), a return a result (True); anything else fails the test."""
    try:
        fn(*args)
    except tiergate.TiergateError as exc:
        assert exc.diagnostics, "a refusal must say why"
        for d in exc.diagnostics:
            assert d.code and d.message and d.location.file, d
        return False
    return True


@pytest.fixture(scope="module")
def policy():
    return tiergate.load_policy()


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.name)
def test_mutated_packs_are_linted_never_crash(pack):
    source = pack.read_text(encoding="utf-8")

    @FUZZ
    @given(mutated(source))
    def run(text):
        for data in (text, text.encode("utf-8", errors="surrogatepass")):
            result = tiergate.lint_source(data, pack.name, pack.parent)  # lint never raises for bad text
            assert result.policy is not None or result.errors

    run()


def test_mutated_answers_are_classified_or_refused(policy):
    source = ANSWERS.read_text(encoding="utf-8")

    @FUZZ
    @given(mutated(source))
    def run(text):
        try:
            answers = parse_answers(text.encode("utf-8", errors="surrogatepass"), "a.yaml", policy.questionnaire)
        except tiergate.TiergateError:
            return
        _own_error_or_result(tiergate.classify, policy, answers)

    run()


def test_mutated_events_are_judged_or_refused(policy):
    source = EVENTS.read_text(encoding="utf-8")
    answers = tiergate.load_answers(ANSWERS, policy)
    roster = tiergate.load_roster(ROSTER)

    @FUZZ
    @given(mutated(source))
    def run(text):
        try:
            events = parse_events(text.encode("utf-8", errors="surrogatepass"), "e.yaml")
        except tiergate.TiergateError:
            return
        _own_error_or_result(lambda: tiergate.check(policy, answers, events, roster, to="deployment", replay=True))

    run()


def test_mutated_rosters_are_read_or_refused():
    source = ROSTER.read_text(encoding="utf-8")

    @FUZZ
    @given(mutated(source))
    def run(text):
        _own_error_or_result(parse_roster, text.encode("utf-8", errors="surrogatepass"), "r.yaml")

    run()


def test_the_command_line_agrees_with_the_library_on_mutated_answers(policy, tmp_path):
    """What the library refuses exits 2 on the command line, with no internal error; what it accepts is classified."""
    source = ANSWERS.read_text(encoding="utf-8")
    runner = CliRunner()
    path = tmp_path / "answers.yaml"

    @settings(FUZZ, max_examples=40)
    @given(mutated(source))
    def run(text):
        data = text.encode("utf-8", errors="surrogatepass")
        path.write_bytes(data)
        accepted = _own_error_or_result(lambda: tiergate.classify(policy, parse_answers(data, str(path),
                                                                                          policy.questionnaire)))
        result = runner.invoke(main, ["classify", str(path)])
        assert "internal error" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        if accepted:
            assert result.exit_code in (0, 1), result.output
        else:
            assert result.exit_code == 2, result.output

    run()
