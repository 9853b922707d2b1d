"""Use case ids and versions are one line of text with no control character, wherever they are accepted.

The schemas' patterns are ECMA-262 regexes, but jsonschema applies them with Python's `re.search`, whose `$`
also matches before a final line feed: `^[a-z0-9]+(-[a-z0-9]+)*$` let `card-fraud-scoring\\n` through, and it
registered as a second use case that reads like the first. Each schema now also says `not` a line break or
control character (errors.UNPRINTABLE), the fast checks agree, and answers files are held to it whatever
their questionnaire says. Refused: in events files (YAML and JSON Lines), in answers files, on the command line.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import tiergate
from tiergate.errors import TiergateError
from tiergate.inputs.answers import parse_answers
from tiergate.inputs.events import _validator, fast_valid, parse_events
from tiergate.errors import UNPRINTABLE
from tiergate.inputs.schemacheck import compile_schema
from tiergate.language.load import load_policy

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "examples" / "use-cases" / "card-fraud-scoring.yaml"
WORDS = "an id holds no line break or control character"

BAD_USE_CASES = ["card-fraud-scoring\n", "card-fraud-scoring\r\n", "card-fraud-scoring\u2028", "\ncard-fraud-scoring"]
BAD_VERSIONS = ["v1\nALLOWED: forged line\n::error::x", "1.0\n", "1.0\r", "1.0\t", "1.0\x1b[31m", "1.0\x00",
                "1.0\x7f", "1.0\x85", "1.0\u2028", "1.0\u2029", "1.0\u202e", "1.0\u2066"]
GOOD_VERSIONS = ["1.0", "2026.02", "v1.0-rc.1", "1.0 (canary)", "2026.2-β", "模型-3", "1.0+build.7", "😀"]


def event(use_case: str = "card-fraud-scoring", version: str = "1.0") -> dict:
    return {"at": "2026-01-01T09:00:00Z", "type": "registered", "use_case": use_case, "version": version,
            "actor": "dana"}


def as_file(records: list[dict], fmt: str) -> tuple[bytes, str]:
    if fmt == "jsonl":
        return "".join(json.dumps(r) + "\n" for r in records).encode(), "events.jsonl"
    return json.dumps(records).encode(), "events.yaml"  # JSON is YAML; its strings keep every escape


def refusals(records: list[dict], fmt: str) -> list[str]:
    data, file = as_file(records, fmt)
    with pytest.raises(TiergateError) as caught:
        parse_events(data, file)
    return [d.message for d in caught.value.diagnostics]


# --- events ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["yaml", "jsonl"])
@pytest.mark.parametrize("use_case", BAD_USE_CASES)
def test_an_event_whose_use_case_holds_a_line_break_is_refused(use_case, fmt):
    """(Only the first got through before; the others broke the pattern too, and now also say why.)"""
    messages = refusals([event(), event(use_case=use_case)], fmt)
    assert f"event registered $.use_case is {json.dumps(use_case)}: {WORDS}" in messages, messages


@pytest.mark.parametrize("fmt", ["yaml", "jsonl"])
@pytest.mark.parametrize("version", BAD_VERSIONS)
def test_an_event_whose_version_holds_a_control_character_is_refused(version, fmt):
    assert refusals([event(version=version)], fmt) == [f"event registered $.version is {json.dumps(version)}: {WORDS}"]


def test_a_version_with_a_lone_surrogate_is_refused():
    """(JSON's `\\ud800` escape reads as a lone surrogate, which no UTF-8 output can hold.)"""
    data = b'{"at": "2026-01-01T09:00:00Z", "type": "registered", "use_case": "card-fraud-scoring", ' \
           b'"version": "1.0\\ud800", "actor": "dana"}\n'
    with pytest.raises(TiergateError) as caught:
        parse_events(data, "events.jsonl")
    assert [d.message for d in caught.value.diagnostics] == [f'event registered $.version is "1.0\\ud800": {WORDS}']


@pytest.mark.parametrize("version", GOOD_VERSIONS)
def test_any_other_version_is_accepted_as_it_is(version):
    """(What must go on working.)"""
    data, file = as_file([event(version=version)], "jsonl")
    assert parse_events(data, file).events[0].version == version


def test_a_trailing_line_feed_no_longer_makes_a_second_use_case():
    messages = refusals([event(), event(use_case="card-fraud-scoring\n")], "yaml")
    assert messages == [f'event registered $.use_case is "card-fraud-scoring\\n": {WORDS}']


@pytest.mark.parametrize("value", BAD_USE_CASES[:1] + BAD_VERSIONS)
def test_the_fast_check_and_the_schema_both_refuse(value):
    for record in ([event(use_case=value)] if value.startswith("card") else []) + [event(version=value)]:
        assert not fast_valid(record)
        assert list(_validator("events.schema.json").iter_errors(record))


# --- the fast schema check agrees with jsonschema, trailing line feeds included ---------------------------

@pytest.mark.parametrize("name", ["events", "questionnaire", "eu-ai-act.questionnaire", "model-risk.questionnaire"])
def test_every_shipped_schema_refuses_an_id_with_a_line_break_in_both_checks(name):
    import jsonschema

    schema = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert compile_schema(schema) is not None  # the whole schema has a fast check
    node = schema["properties"]["use_case"]
    fast, full = compile_schema(node), jsonschema.Draft202012Validator(node)
    for bad in ["card-fraud-scoring\n", "card-fraud-scoring\x1b", "card-fraud-scoring\u2028"]:
        assert not full.is_valid(bad) and not fast(bad), (name, bad)
    for good in ["card-fraud-scoring", "a1-b2"]:
        assert full.is_valid(good) and fast(good), (name, good)
    assert jsonschema.Draft202012Validator({"not": node["not"]}).is_valid(7)  # `not` is about text only


def test_the_fast_pattern_check_reads_patterns_as_jsonschema_does():
    """re.search, `$` before a final line feed included: never laxer than jsonschema (the shipped schemas do not
    rely on `$` to refuse a line feed: see the test above)."""
    import jsonschema

    schema = {"type": "string", "pattern": "^[a-z]+$"}
    for value in ["abc", "abc\n", "abc\n\n", "ab c", "\nabc"]:
        assert compile_schema(schema)(value) == jsonschema.Draft202012Validator(schema).is_valid(value), value


def test_an_id_may_hold_exactly_what_reports_write_as_it_is():
    """A valid id is never shown escaped; what reports would escape is refused in an id (and in the schemas)."""
    from tiergate.reports.escape import CONTROL

    schema_class = re.compile(json.loads((ROOT / "schemas" / "events.schema.json").read_text(encoding="utf-8"))
                              ["properties"]["version"]["not"]["pattern"])
    reports = re.compile(f"[{CONTROL}]")
    for c in map(chr, range(0x110000)):
        assert bool(UNPRINTABLE.search(c)) == bool(reports.search(c)) == bool(schema_class.search(c)), hex(ord(c))


# --- answers files --------------------------------------------------------------------------------------

def answers_text(use_case: str) -> str:
    text = ANSWERS.read_text(encoding="utf-8")
    return re.sub(r"(?m)^use_case: .*$", lambda _: f"use_case: {json.dumps(use_case)}", text, count=1)


@pytest.mark.parametrize("use_case", ["card-fraud-scoring\n", "card-fraud-scoring\x1b[2J", "card-fraud-scoring\u202e"])
def test_an_answers_file_whose_use_case_holds_a_control_character_is_refused_once(use_case):
    policy = load_policy()
    with pytest.raises(TiergateError) as caught:
        parse_answers(answers_text(use_case), "a.yaml", policy.questionnaire)
    assert [(d.code, d.message) for d in caught.value.diagnostics] == \
        [("E306", f"$.use_case is {json.dumps(use_case)}: {WORDS}")]


def test_a_questionnaire_of_its_own_cannot_let_a_line_break_into_an_id():
    """A policy's questionnaire may say anything about `use_case`: the id is still refused."""
    policy = load_policy()
    lax = json.loads(json.dumps(dict(policy.questionnaire), default=dict))
    lax["properties"]["use_case"] = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}
    with pytest.raises(TiergateError) as caught:
        parse_answers(answers_text("card-fraud-scoring\n"), "a.yaml", lax)
    assert [d.message for d in caught.value.diagnostics] == [f'$.use_case is "card-fraud-scoring\\n": {WORDS}']
    assert parse_answers(answers_text("card-fraud-scoring"), "a.yaml", lax).use_case == "card-fraud-scoring"


# --- the command line -----------------------------------------------------------------------------------

@pytest.fixture
def env(tmp_path):
    return {"TIERGATE_LEDGER": str(tmp_path / "ledger.db"), "TIERGATE_ROSTER": str(ROOT / "examples" / "roster.yaml"),
            "TIERGATE_ACTOR": "dana", "TIERGATE_POLICY": None, "COLUMNS": "200"}


def events_in(env) -> str:
    return tiergate("export", env=env).stdout


@pytest.mark.parametrize("use_case, version", [("card-fraud-scoring", "v1\nALLOWED: forged line\n::error::x"),
                                               ("card-fraud-scoring", "1.0\x1b[31m"),
                                               ("card-fraud-scoring\n", "1.0")])
def test_register_refuses_an_id_with_a_control_character(env, tmp_path, use_case, version):
    answers = tmp_path / "answers.yaml"
    answers.write_text(answers_text(use_case), encoding="utf-8")
    result = tiergate("register", use_case, version, "--answers", answers, "--at", "2026-01-01T00:00:00Z", env=env)
    assert result.exit_code == 2, result.stdout
    assert WORDS in result.stderr and "nothing was written" in result.stderr
    assert events_in(env) == ""


def test_import_refuses_a_version_with_a_line_break_and_imports_nothing(env, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(event(version="v1\nALLOWED: forged line")) + "\n", encoding="utf-8")
    result = tiergate("import", events, "--answers", ANSWERS, env=env)
    assert result.exit_code == 2 and WORDS in result.stderr
    assert events_in(env) == ""
