"""Events and rosters that cannot be used as written: each mistake gives one clear diagnostic or warning.

Every diagnostic names its code, the file, the line of the event and says what is wrong; no input gives a
traceback, and no bad input is silently passed. Both YAML lists and JSON Lines are read.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiergate.language.load import load_policy
from tiergate.decide.check import check
from tiergate.cli import main
from tiergate.errors import TiergateError
from tiergate.inputs.events import EVENT_TYPES, Event, EventLog, load_roster, parse_events, parse_roster
from tiergate.inputs.answers import load_answers

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "mlops-default.policy"
ANSWERS = ROOT / "examples" / "use-cases" / "loan-approval.yaml"
ROSTER = ROOT / "examples" / "roster.yaml"
FORMATS = ("yaml", "jsonl")
OFFSET_HINT = "write times like 2026-03-01T09:30:00Z or 2026-03-01T09:30:00+01:00"


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY)


@pytest.fixture(scope="module")
def answers(policy):
    return load_answers(ANSWERS, policy)


@pytest.fixture(scope="module")
def roster():
    return load_roster(ROSTER)


def ev(type_: str, at: str, version: str = "1.0", actor: str = "dana", use_case: str = "loan-approval",
       **fields) -> dict:
    return {"at": at, "type": type_, "use_case": use_case, "version": version, "actor": actor, **fields}


def dump(records: list, fmt: str) -> tuple[bytes, str]:
    """The records as a file of either kind, one record per line: record i is on line i + 1 in both."""
    if fmt == "yaml":
        return "".join(f"- {json.dumps(r)}\n" for r in records).encode(), "events.yaml"
    return "".join(json.dumps(r) + "\n" for r in records).encode(), "events.jsonl"


def problems(data: bytes | str, file: str) -> list[tuple[str, str, str, str | None]]:
    with pytest.raises(TiergateError) as info:
        parse_events(data, file)
    return [(d.code, str(d.location), d.message, d.hint) for d in info.value.diagnostics]


def roster_problems(text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(TiergateError) as info:
        parse_roster(text, "roster.yaml")
    return [(d.code, str(d.location), d.message) for d in info.value.diagnostics]


REG = ev("registered", "2026-01-01T09:00:00Z")


# --- order and duplicates (warnings; the events are still used) -----------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_events_out_of_time_order_are_sorted_with_w402(fmt):
    records = [REG, ev("evidence", "2026-01-03T09:00:00Z", kind="data_snapshot", metrics={"rows": 10}),
               ev("evidence", "2026-01-02T09:00:00Z", kind="change_log", metrics={}),
               ev("evidence", "2026-01-01T08:00:00+00:00", kind="lineage_review", metrics={})]
    data, file = dump(records, fmt)
    log = parse_events(data, file)
    assert [e.line for e in log.events] == [4, 1, 3, 2]
    assert [e.at for e in log.events] == sorted(e.at for e in log.events)
    assert [(w.code, w.severity, str(w.location), w.message, w.hint) for w in log.warnings] == [
        ("W402", "warning", f"{file}:3", "events are not in time order; they were sorted by time",
         "this event is earlier than the one at line 2")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_equal_times_keep_the_written_order(fmt):
    records = [REG, ev("signoff", "2026-01-02T09:00:00Z", actor="rita", role="risk_audit", gate="development",
                       decision="reject"),
               ev("signoff", "2026-01-02T10:00:00+01:00", actor="rita", role="risk_audit", gate="development",
                  decision="approve")]
    log = parse_events(*dump(records, fmt))
    assert [e.get("decision") for e in log.events[1:]] == ["reject", "approve"]
    assert log.warnings == ()


@pytest.mark.parametrize("fmt", FORMATS)
def test_duplicate_events_are_counted_once_with_w403(fmt):
    signoff = ev("signoff", "2026-01-02T09:00:00Z", actor="rita", role="risk_audit", gate="development",
                 decision="approve")
    # the same instant written with another offset is the same event
    same = dict(signoff, at="2026-01-02T10:00:00+01:00")
    data, file = dump([REG, signoff, same, signoff], fmt)
    log = parse_events(data, file)
    assert [(e.type, e.line) for e in log.events] == [("registered", 1), ("signoff", 2)]
    assert [(w.code, str(w.location), w.message) for w in log.warnings] == [
        ("W403", f"{file}:3", "duplicate of the event at line 2; it is counted once"),
        ("W403", f"{file}:4", "duplicate of the event at line 2; it is counted once")]


def test_a_duplicate_sign_off_does_not_count_twice(policy, answers, roster):
    """`require 2 signoffs from risk_audit`: the same approval written twice is still one sign-off."""
    approve = ev("signoff", "2026-01-02T09:00:00Z", actor="rita", role="risk_audit", gate="deployment",
                 decision="approve")
    log = parse_events(*dump([REG, approve, approve], "yaml"))
    result = check(policy, answers, log, roster, to="deployment", at=datetime(2026, 1, 3, tzinfo=timezone.utc))
    status = {s.id: s for s in result.requirements}["signoff:risk_audit@deployment"]
    assert status.status == "unmet"
    assert status.reason.startswith("needs 2 approving sign-offs from risk_audit for deployment (1 so far)")
    assert [w.code for w in result.warnings] == ["W403"]


# --- fields ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_event_type_lists_the_allowed_types(fmt):
    data, file = dump([REG, ev("deployed", "2026-01-02T09:00:00Z", to="deployment")], fmt)
    allowed = ", ".join(f'"{t}"' for t in EVENT_TYPES)
    assert problems(data, file) == [
        ("E400", f"{file}:2", f'event deployed $.type is "deployed"; allowed: {allowed}', None)]
    assert set(EVENT_TYPES) == {"registered", "evidence", "signoff", "transition", "waiver", "monitoring",
                                "review", "retired"}


#: type -> the fields it needs beyond at, type, use_case, version and actor
REQUIRED = {
    "registered": (), "retired": (),
    "evidence": ("kind", "metrics"),
    "signoff": ("decision", "gate", "role"),
    "transition": ("to",),
    "waiver": ("expires", "justification", "requirement"),
    "monitoring": ("kind", "metrics"),
    "review": ("decision", "role"),
}
FULL = {
    "registered": {}, "retired": {},
    "evidence": {"kind": "bias_test", "metrics": {"disparate_impact": 0.9}},
    "signoff": {"role": "risk_audit", "gate": "development", "decision": "approve"},
    "transition": {"to": "ideation"},
    "waiver": {"requirement": "evidence:red_team@deployment", "justification": "pen test booked",
               "expires": "2026-01-10T00:00:00Z"},
    "monitoring": {"kind": "input_drift", "metrics": {"psi": 0.1}},
    "review": {"role": "risk_audit", "decision": "approve"},
}
MISSING = [(t, f) for t, fields in REQUIRED.items() for f in fields] + \
          [(t, f) for t in ("registered", "signoff") for f in ("at", "type", "use_case", "version", "actor")]


def test_every_event_type_is_covered():
    assert set(REQUIRED) == set(FULL) == set(EVENT_TYPES)
    for type_, fields in FULL.items():  # and the full events are valid
        assert len(parse_events(*dump([ev(type_, "2026-01-02T09:00:00Z", **fields)], "jsonl")).events) == 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("type_", "missing"), MISSING, ids=[f"{t}-{f}" for t, f in MISSING])
def test_a_missing_required_field_is_named(fmt, type_, missing):
    record = ev(type_, "2026-01-02T09:00:00Z", **FULL[type_])
    del record[missing]
    data, file = dump([REG, record], fmt)
    name = type_ if missing != "type" else "?"
    assert problems(data, file) == [("E400", f"{file}:2", f"event {name} misses {missing}", None)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_missing_field_of_one_event_is_reported(fmt):
    data, file = dump([ev("signoff", "2026-01-02T09:00:00Z")], fmt)
    assert problems(data, file) == [("E400", f"{file}:1", f"event signoff misses {f}", None)
                                    for f in ("decision", "gate", "role")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_field_values(fmt):
    records = [ev("registered", "2026-01-02T09:00:00Z", use_case="Loan Approval"),
               ev("signoff", "2026-01-02T09:00:00Z", role="risk_audit", gate="development", decision="maybe"),
               ev("evidence", "2026-01-02T09:00:00Z", kind="bias test", metrics={"auc": [0.9]}),
               dict(REG, version=""), dict(REG, version=2)]
    data, file = dump(records, fmt)
    assert problems(data, file) == [
        ("E400", f"{file}:1", "event registered $.use_case: 'Loan Approval' does not match "
                              "'^[a-z0-9]+(-[a-z0-9]+)*$'", None),
        ("E400", f"{file}:2", 'event signoff $.decision is "maybe"; allowed: "approve", "reject"', None),
        ("E400", f"{file}:3", "event evidence $.kind: 'bias test' does not match '^[A-Za-z_][A-Za-z0-9_]*$'", None),
        ("E400", f"{file}:3", "event evidence $.metrics.auc: [0.9] is not of type 'number', 'boolean', 'string'",
         None),
        ("E400", f"{file}:4", "event registered $.version: '' should be non-empty", None),
        ("E400", f"{file}:5", "event registered $.version: 2 is not of type 'string'", None)]


# --- times ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("at", ["2026-01-02T09:00:00", "2026-01-02", "2026-01-02T09:00:00 UTC", "yesterday"])
def test_a_time_without_an_offset_is_refused(fmt, at):
    data, file = dump([REG, ev("registered", at, version="2.0")], fmt)
    [(code, where, message, hint)] = problems(data, file)
    assert (code, where) == ("E400", f"{file}:2")
    assert message == f'event registered $.at is "{at}", not an RFC 3339 time with an offset'
    assert "offset" in message and hint == OFFSET_HINT


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("at", ["2026-02-30T09:00:00Z", "2026-01-02T25:00:00+01:00", "2026-13-01T09:00:00Z"])
def test_a_time_that_does_not_exist_is_e401(fmt, at):
    data, file = dump([ev("registered", at)], fmt)
    assert problems(data, file) == [
        ("E401", f"{file}:1", f"time {at!r} has no UTC offset or is not a valid time",
         "write times like 2026-03-01T09:30:00Z")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_waiver_expiry_without_an_offset_is_refused(fmt):
    waiver = ev("waiver", "2026-01-02T09:00:00Z", actor="rita", requirement="evidence:red_team@deployment",
                justification="booked", expires="2026-01-10T00:00:00")
    data, file = dump([REG, waiver], fmt)
    [(code, where, message, hint)] = problems(data, file)
    assert (code, where, hint) == ("E400", f"{file}:2", OFFSET_HINT)
    assert message == 'event waiver $.expires is "2026-01-10T00:00:00", not an RFC 3339 time with an offset'
    assert "offset" in message


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_waiver_expiry_that_does_not_exist_is_e401(fmt):
    waiver = ev("waiver", "2026-01-02T09:00:00Z", actor="rita", requirement="evidence:red_team@deployment",
                justification="booked", expires="2026-02-30T00:00:00Z")
    data, file = dump([REG, waiver], fmt)
    assert problems(data, file) == [
        ("E401", f"{file}:2", "waiver expiry '2026-02-30T00:00:00Z' is not a time with an offset", None)]


BLOCK_YAML = """\
# times written the way YAML users write them: unquoted
- at: 2026-01-01T09:00:00Z
  type: registered
  use_case: loan-approval
  version: "1.0"
  actor: dana
- at: 2026-01-02 10:00:00+01:00
  type: waiver
  use_case: loan-approval
  version: "1.0"
  actor: rita
  requirement: evidence:red_team@deployment
  justification: pen test booked
  expires: 2026-01-10T00:00:00Z
"""


def test_unquoted_yaml_times_are_read_as_times():
    log = parse_events(BLOCK_YAML, "events.yaml")
    assert [(e.type, e.line, e.at) for e in log.events] == [
        ("registered", 2, datetime(2026, 1, 1, 9, tzinfo=timezone.utc)),
        ("waiver", 7, datetime(2026, 1, 2, 9, tzinfo=timezone.utc))]
    expires = log.events[1].get("expires")
    assert isinstance(expires, str) and datetime.fromisoformat(expires) == datetime(2026, 1, 10, tzinfo=timezone.utc)
    assert log.warnings == ()


def test_unquoted_yaml_times_without_an_offset_are_refused():
    text = BLOCK_YAML.replace("at: 2026-01-01T09:00:00Z", "at: 2026-01-01T09:00:00").replace(
        "expires: 2026-01-10T00:00:00Z", "expires: 2026-01-10")
    found = problems(text, "events.yaml")
    assert [(c, w) for c, w, _, _ in found] == [("E400", "events.yaml:2"), ("E400", "events.yaml:7")]
    assert all("not an RFC 3339 time with an offset" in m for _, _, m, _ in found)
    assert found[0][2].startswith("event registered $.at is \"2026-01-01")
    assert found[1][2].startswith("event waiver $.expires is \"2026-01-10")


def test_an_unquoted_yaml_date_that_does_not_exist_is_located():
    text = BLOCK_YAML.replace("at: 2026-01-01T09:00:00Z", "at: 2026-02-30T09:00:00Z")
    [(code, where, message, _)] = problems(text, "events.yaml")
    assert (code, where) == ("E400", "events.yaml:2:7")
    assert message.startswith("this is not valid YAML: ") and "2026-02-30T09:00:00Z" in message


# --- file shapes ----------------------------------------------------------------------------------

def test_malformed_yaml_gives_line_and_column():
    text = "- at: \"2026-01-01T09:00:00Z\"\n  type: registered\n  use_case: [loan-approval\n  version: \"1\"\n"
    [(code, where, message, hint)] = problems(text, "events.yaml")
    assert (code, where) == ("E400", "events.yaml:4:10")  # where the unclosed `[` runs into the next key
    assert message == "this is not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence)"
    assert hint == "check the indentation and quoting on this line and the one above"


def test_malformed_yaml_key_twice():
    text = BLOCK_YAML.replace("  actor: dana\n", "  actor: dana\n  actor: sam\n")
    assert problems(text, "events.yaml") == [
        ("E308", "events.yaml:7:3", "key `actor` appears twice (first at line 6)",
         "keep one of them: YAML would silently use the last")]


def test_malformed_json_lines_name_the_line_of_the_bad_record():
    good = json.dumps(REG)
    text = f"{good}\n\n{good[:-1]}\n{json.dumps(dict(REG, version='2'))}\n{{'at': 1}}\n"
    assert problems(text, "events.jsonl") == [
        ("E400", f"events.jsonl:3:{len(good)}", "this line is not a JSON object: Expecting ',' delimiter",
         "one JSON object per line"),
        ("E400", "events.jsonl:5:2", "this line is not a JSON object: Expecting property name enclosed in double "
                                     "quotes", "one JSON object per line")]


@pytest.mark.parametrize("line", ["[1, 2]", '"text"', "7", "null"])
def test_a_json_line_that_is_not_an_object(line):
    text = f"{json.dumps(REG)}\n{line}\n"
    assert problems(text, "events.jsonl") == [("E400", "events.jsonl:2", "an event must be a mapping of fields", None)]


def test_a_json_line_nested_too_deeply_is_reported():
    text = f"{json.dumps(REG)}\n" + "[" * 100_000 + "\n"
    [(code, where, message, _)] = problems(text, "events.jsonl")
    assert (code, where) == ("E400", "events.jsonl:2")
    assert "nest" in message


@pytest.mark.parametrize("text", ["use_case: loan-approval\nevents: 3\n", "just some text\n", "42\n",
                                  "{at: x}\n"])
def test_a_yaml_file_that_is_not_a_list(text):
    assert problems(text, "events.yaml") == [
        ("E400", "events.yaml:1", "an events file is a YAML list of events (or JSON Lines)",
         "start each event with `- at: ...`")]


def test_a_yaml_list_item_that_is_not_a_mapping():
    text = f"- {json.dumps(REG)}\n- registered\n- [1, 2]\n"
    assert problems(text, "events.yaml") == [
        ("E400", "events.yaml:2", "an event must be a mapping of fields", None),
        ("E400", "events.yaml:3", "an event must be a mapping of fields", None)]


def test_an_events_key_holding_the_list_is_read_with_its_lines():
    text = "# log\nevents:\n" + "".join(f"  - {json.dumps(r)}\n" for r in (REG, dict(REG, version="2")))
    assert [e.line for e in parse_events(text, "events.yaml").events] == [3, 4]


@pytest.mark.parametrize("file", ["events.yaml", "events.jsonl"])
def test_an_empty_file_has_no_events(file):
    assert parse_events("", file) == EventLog((), ())
    assert parse_events("\n\n", file) == EventLog((), ())


@pytest.mark.parametrize("file", ["events.yaml", "events.jsonl"])
def test_text_that_is_not_utf8(file):
    data = json.dumps(REG).encode() + b"\n\xff\n"
    [(code, where, message, _)] = problems(data, file)
    assert (code, where) == ("E400", file)
    assert message.startswith("the file is not UTF-8 text (bad byte at offset")


@pytest.mark.parametrize("file", ["events.yaml", "events.jsonl"])
def test_text_with_a_lone_surrogate(file):
    [(code, where, message, _)] = problems("- x\ud800\n", file)
    assert (code, where) == ("E400", file)


# --- values YAML reads as something other than text ----------------------------------------------

def test_keys_that_are_not_text_do_not_crash():
    text = BLOCK_YAML + "  1: one\n  true: yes\n"
    log = parse_events(text, "events.yaml")
    assert len(log.events) == 2
    metrics = f"- {json.dumps(ev('evidence', '2026-01-02T09:00:00Z', kind='x', metrics={'a': 1}))}\n"
    text = metrics.replace('{"a": 1}', '{"a": 1, 2: 3}')
    assert len(parse_events(text + text, "events.yaml").events) == 1  # and a duplicate is still found


@pytest.mark.parametrize("value", ["2026-01-01", "!!binary aGVsbG8=", "2026-01-01 10:00:00Z", "[a, b]", "{a: b}"])
def test_a_value_of_the_wrong_kind_in_a_choice_field(value):
    text = ('- {at: "2026-01-02T09:00:00Z", type: signoff, use_case: loan-approval, version: "1", actor: rita, '
            f"role: risk_audit, gate: development, decision: {value}}}\n")
    [(code, where, message, _)] = problems(text, "events.yaml")
    assert (code, where) == ("E400", "events.yaml:1")
    assert message.startswith("event signoff $.decision is ") and message.endswith('allowed: "approve", "reject"')


def test_a_type_that_is_a_date():
    text = '- {at: "2026-01-02T09:00:00Z", type: 2026-01-01, use_case: x, version: "1", actor: a}\n'
    [(code, where, message, _)] = problems(text, "events.yaml")
    assert (code, where) == ("E400", "events.yaml:1")
    assert message.startswith('event 2026-01-01 $.type is "2026-01-01"; allowed: "registered"')


# --- what the policy and roster make of the events (raised or warned by tiergate.decide.check.check) -------

AT = datetime(2026, 1, 5, tzinfo=timezone.utc)


def check_problems(policy, answers, roster, records, fmt="yaml", **kwargs):
    log = parse_events(*dump(records, fmt))
    with pytest.raises(TiergateError) as info:
        check(policy, answers, log, roster, at=AT, **kwargs)
    return [(d.code, str(d.location), d.message, d.hint) for d in info.value.diagnostics]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_sign_off_for_a_stage_that_does_not_exist(policy, answers, roster, fmt):
    records = [REG, ev("signoff", "2026-01-02T09:00:00Z", actor="rita", role="risk_audit", gate="preprod",
                       decision="approve")]
    file = dump([], fmt)[1]
    # kept as history (another policy's or tier's workflow) and warned about once: the check still judges
    result = check(policy, answers, parse_events(*dump(records, fmt)), roster, at=AT, to="development")
    assert [(d.code, str(d.location), d.message, d.hint) for d in result.warnings] == [
        ("W426", f"{file}:2", "a sign-off for stage `preprod`, which workflow `default` does not have: kept as "
         "history (recorded under another policy, or another tier), it counts for no gate of `default`",
         "did you mean `preproduction`?")]


def test_a_transition_to_a_stage_that_does_not_exist(policy, answers, roster):
    records = [REG, ev("transition", "2026-01-02T09:00:00Z", to="prod")]
    result = check(policy, answers, parse_events(*dump(records, "yaml")), roster, at=AT, replay=True)
    unknown, off = result.warnings
    assert (unknown.code, str(unknown.location)) == ("W426", "events.yaml:2")
    assert unknown.message.startswith("a transition to stage `prod`, which workflow `default` does not have")
    assert unknown.hint == ("declared stages: `business_scoping`, `ideation`, `development`, `preproduction`, "
                            "`deployment`, `monitoring`")
    assert (off.code, off.message) == ("W427", "version 1.0 of loan-approval is at stage `prod`, which workflow "
                                       "`default` does not have: it is off its workflow")
    assert result.violations == () and result.stage == "prod"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_transition_for_an_unregistered_version(policy, answers, roster, fmt):
    records = [REG, ev("transition", "2026-01-02T09:00:00Z", version="2.0", to="ideation"),
               ev("registered", "2026-01-03T09:00:00Z", version="2.0")]
    file = dump([], fmt)[1]
    assert check_problems(policy, answers, roster, records, fmt, replay=True) == [
        ("E420", f"{file}:2", "transition event for version 2.0 of loan-approval, which is not registered before it",
         "record a `registered` event for the version first")]


def test_events_of_other_use_cases_are_not_judged(policy, answers, roster):
    records = [REG, ev("transition", "2026-01-02T09:00:00Z", use_case="churn-dashboard", version="9", to="nowhere")]
    result = check(policy, answers, parse_events(*dump(records, "yaml")), roster, at=AT, replay=True)
    assert result.version == "1.0" and result.violations == ()


def test_a_version_that_is_not_registered_is_e422(policy, answers, roster):
    found = check_problems(policy, answers, roster, [REG], version="3.0")
    assert found == [("E422", "events.yaml", "version 3.0 of loan-approval is not registered (by 2026-01-05T00:00:00Z)",
                      "did you mean `1.0`?")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_sign_off_by_someone_not_in_the_roster_counts_for_nothing(policy, answers, roster, fmt):
    records = [REG, ev("signoff", "2026-01-02T09:00:00Z", actor="zoe", role="risk_audit", gate="development",
                       decision="approve"),
               ev("signoff", "2026-01-02T10:00:00Z", actor="bea", role="business_stakeholder", gate="development",
                  decision="approve")]
    data, file = dump(records, fmt)
    result = check(policy, answers, parse_events(data, file), roster, to="development", at=AT)
    assert [(w.code, w.severity, str(w.location), w.message, w.hint) for w in result.warnings] == [
        ("W425", "warning", f"{file}:2", "zoe is not in the roster, so their signoff counts for nothing",
         f"add zoe with their roles to {roster.file}")]
    status = {s.id: s for s in result.requirements}
    assert status["signoff:business_stakeholder@development"].status == "met"
    risk = status["signoff:risk_audit@development"]
    assert risk.status == "unmet"
    assert risk.reason == ("needs an approving sign-off from risk_audit for development (none recorded); zoe's "
                           "sign-off does not count: zoe held no role at 2026-01-02T09:00:00Z, not risk_audit and "
                           "is not in the roster")
    assert result.allowed is False


def test_a_role_held_only_later_does_not_count(policy, answers):
    roster = parse_roster("people:\n  rita:\n    - role: risk_audit\n      since: \"2026-01-03T00:00:00Z\"\n"
                          "  bea: [business_stakeholder]\n", "roster.yaml")
    records = [REG, ev("signoff", "2026-01-02T09:00:00Z", actor="rita", role="risk_audit", gate="development",
                       decision="approve"),
               ev("signoff", "2026-01-02T09:00:00Z", actor="bea", role="business_stakeholder", gate="development",
                  decision="approve")]
    result = check(policy, answers, parse_events(*dump(records, "yaml")), roster, to="development", at=AT)
    risk = {s.id: s for s in result.requirements}["signoff:risk_audit@development"]
    assert risk.status == "unmet"
    assert "rita held no role at 2026-01-02T09:00:00Z, not risk_audit" in risk.reason
    assert result.warnings == ()


# --- rosters --------------------------------------------------------------------------------------

def test_a_roster_with_a_since_without_an_offset():
    text = ("people:\n  rita:\n    - role: risk_audit\n      since: \"2026-01-03T00:00:00\"\n"
            "  bea: [business_stakeholder]\n")
    assert roster_problems(text) == [("E410", "roster.yaml:4", "roster: rita's `since` is not a time with an offset")]


def test_a_roster_with_a_since_that_is_not_a_time():
    text = "people:\n  rita:\n    - role: risk_audit\n      since: \"last spring\"\n      until: 5\n"
    assert roster_problems(text) == [
        ("E410", "roster.yaml:3", "roster $.people.rita[0]: {'role': 'risk_audit', 'since': 'last spring', "
                                  "'until': 5} is not valid under any of the given schemas")]
    text = "people:\n  rita:\n    - role: risk_audit\n      since: \"last spring\"\n"
    assert roster_problems(text) == [("E410", "roster.yaml:4", "roster: rita's `since` is not a time with an offset")]


def test_a_roster_with_unquoted_times():
    roster = parse_roster("people:\n  rita:\n    - role: risk_audit\n      since: 2026-01-03T00:00:00Z\n"
                          "      until: 2026-02-01 00:00:00+01:00\n", "roster.yaml")
    assert roster.holds("rita", "risk_audit", datetime(2026, 1, 4, tzinfo=timezone.utc))
    assert not roster.holds("rita", "risk_audit", datetime(2026, 1, 2, tzinfo=timezone.utc))
    assert not roster.holds("rita", "risk_audit", datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc))


def test_a_roster_with_an_unquoted_since_without_an_offset():
    text = "people:\n  rita:\n    - role: risk_audit\n      since: 2026-01-03\n"
    assert roster_problems(text) == [("E410", "roster.yaml:4", "roster: rita's `since` is not a time with an offset")]


def test_a_roster_with_a_date_that_does_not_exist():
    text = "people:\n  rita:\n    - role: risk_audit\n      since: 2026-02-30T00:00:00Z\n"
    [(code, where, message)] = roster_problems(text)
    assert (code, where) == ("E410", "roster.yaml:4:14")
    assert message.startswith("this is not valid YAML: ")


@pytest.mark.parametrize(("text", "expected"), [
    ("", [("E410", "roster.yaml:1", "roster $: None is not of type 'object'")]),
    ("people: []\n", [("E410", "roster.yaml:1", "roster $.people: [] is not of type 'object'")]),
    ("people:\n  rita: risk_audit\n", [("E410", "roster.yaml:2", "roster $.people.rita: 'risk_audit' is not of type "
                                                                 "'array'")]),
    ("people:\n  rita: [risk_audit]\nteams: {}\n",
     [("E410", "roster.yaml:1", "roster $: Additional properties are not allowed ('teams' was unexpected)")]),
])
def test_roster_shapes(text, expected):
    assert roster_problems(text) == expected


# --- never a traceback, never a pass, at the command line -----------------------------------------

BAD_EVENTS = {
    "unknown type": ([REG, ev("deployed", "2026-01-02T09:00:00Z")], "events.{ext}:2"),
    "missing field": ([REG, ev("transition", "2026-01-02T09:00:00Z")], "events.{ext}:2"),
    "no offset": ([REG, ev("evidence", "2026-01-02T09:00:00", kind="k", metrics={})], "events.{ext}:2"),
    "unregistered": ([REG, ev("transition", "2026-01-02T09:00:00Z", version="7", to="ideation")], "events.{ext}:2"),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_bad_events_at_the_command_line_exit_2_with_the_place(tmp_path, monkeypatch, cli_runner, fmt, case):
    records, where = BAD_EVENTS[case]
    data, name = dump(records, fmt)
    (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    result = cli_runner.invoke(main, ["check", "--policy", str(POLICY), "--answers", str(ANSWERS), "--events", name,
                                         "--roster", str(ROSTER), "--to", "ideation", "--at", "2026-01-05T00:00:00Z"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert where.format(ext=fmt) + ": error[E4" in result.stderr
    assert result.stderr.rstrip().endswith("tiergate: nothing was checked, so nothing is allowed")
    assert "Traceback" not in result.output


# --- properties -----------------------------------------------------------------------------------

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OFFSETS = [timezone.utc, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30)),
           timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]
names = st.text(st.sampled_from("abcXYZ019 _-.:'\"#&*!|>%@`{}[],?éß中😀\u00a0"), min_size=1, max_size=8)
idents = st.builds(str.__add__, st.sampled_from(["k", "K", "_"]), st.text(st.sampled_from("az_09Z"), max_size=6))
metric_values = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                          st.booleans(), names)
metrics = st.dictionaries(idents, metric_values, max_size=3)
moments = st.builds(lambda d, tz: d.replace(tzinfo=tz),
                    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
                    st.sampled_from(OFFSETS))


def _write_time(moment: datetime, style: int) -> str:
    text = moment.isoformat()
    if style == 1:
        text = moment.isoformat(timespec="seconds")
    elif style == 2:
        text = moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    elif style == 3:
        text = moment.isoformat(sep=" ", timespec="minutes")
    return text


times = st.builds(_write_time, moments, st.integers(0, 3))
STAGES = ("business_scoping", "ideation", "development", "preproduction", "deployment", "monitoring")
TYPE_FIELDS = {
    "registered": st.fixed_dictionaries({}, optional={"artifact": names, "parent": names}),
    "retired": st.fixed_dictionaries({}),
    "evidence": st.fixed_dictionaries({"kind": idents, "metrics": metrics},
                                      optional={"attributes": st.dictionaries(idents, metrics, max_size=2)}),
    "signoff": st.fixed_dictionaries({"role": names, "gate": st.sampled_from(STAGES),
                                      "decision": st.sampled_from(["approve", "reject"])}),
    "transition": st.fixed_dictionaries({"to": st.sampled_from(STAGES)},
                                        optional={"mode": st.sampled_from(["shadow", "canary", "full"])}),
    "waiver": st.fixed_dictionaries({"requirement": names, "justification": names, "expires": times}),
    "monitoring": st.fixed_dictionaries({"kind": idents, "metrics": metrics}),
    "review": st.fixed_dictionaries({"role": names, "decision": st.sampled_from(["approve", "reject"])}),
}
events = st.sampled_from(EVENT_TYPES).flatmap(lambda t: st.builds(
    lambda at, uc, v, actor, fields: {"at": at, "type": t, "use_case": uc, "version": v, "actor": actor, **fields},
    times, st.sampled_from(["loan-approval", "churn-dashboard", "a1"]), names, names, TYPE_FIELDS[t]))


def serialise(records: list, fmt: str) -> tuple[bytes, str]:
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode(), "events.jsonl"
    return yaml.safe_dump(records, allow_unicode=True, sort_keys=False).encode(), "events.yaml"


def _identity(e: Event) -> tuple:
    return e.at.astimezone(timezone.utc), e.type, e.use_case, e.version, e.actor, json.dumps(e.data, sort_keys=True)


@PROPERTY
@given(st.lists(events, max_size=12), st.sampled_from(FORMATS))
def test_valid_events_always_parse_and_come_back_in_time_order(records, fmt):
    log = parse_events(*serialise(records, fmt))
    assert all(isinstance(e, Event) for e in log.events)
    assert [e.at for e in log.events] == sorted(e.at for e in log.events)
    assert all(e.at.tzinfo is not None for e in log.events)
    for a, b in zip(log.events, log.events[1:]):  # equal times keep the written order
        assert a.at < b.at or a.seq < b.seq
    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)

    common = ("at", "type", "use_case", "version", "actor")
    written = sorted(((utc(r["at"]), r["type"], r["use_case"], r["version"], r["actor"],
                       json.dumps({k: v for k, v in r.items() if k not in common}, sort_keys=True))
                      for r in records), key=str)
    assert len(log.events) == len(set(written))
    assert sorted(map(_identity, log.events), key=str) == sorted(set(written), key=str)
    assert {w.code for w in log.warnings} <= {"W402", "W403"}


def _assert_reported(data, file) -> None:
    try:
        parse_events(data, file)
    except TiergateError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.code.startswith("E") and d.location.file == file and d.message


junk = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), names, st.dates(), st.datetimes(),
                 st.binary(max_size=4), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.one_of(names, st.integers()), st.integers(), max_size=2))


@PROPERTY
@given(st.lists(events, min_size=1, max_size=6), st.sampled_from(FORMATS), st.data())
def test_mutated_events_are_reported_not_raised(records, fmt, data):
    """Replace, drop or add fields (with values of any kind, keys of any kind), then cut or splice the text."""
    for _ in range(data.draw(st.integers(0, 3))):
        record = data.draw(st.sampled_from(records))
        action = data.draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "drop":
            record.pop(data.draw(st.sampled_from(sorted(record, key=repr))), None)
        elif action == "replace":
            record[data.draw(st.sampled_from(sorted(record, key=repr)))] = data.draw(junk)
        else:
            key = data.draw(st.one_of(names, st.integers(), st.booleans())) if fmt == "yaml" else data.draw(names)
            record[key] = data.draw(junk)
    if fmt == "jsonl":
        text = "".join(json.dumps(r, default=str) + "\n" for r in records)
    else:
        text = yaml.safe_dump(records, allow_unicode=True, sort_keys=False)
    for _ in range(data.draw(st.integers(0, 2))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 20)))
        text = text[:i] + data.draw(st.text(max_size=6)) + text[j:]
    _assert_reported(text, f"events.{fmt}")
    _assert_reported(text.encode("utf-8", "surrogatepass"), f"events.{fmt}")


@PROPERTY
@given(st.one_of(st.text(), st.binary()), st.sampled_from(FORMATS))
def test_random_text_is_reported_not_raised(text, fmt):
    _assert_reported(text, f"events.{fmt}")


@PROPERTY
@given(st.text(st.characters(codec=None), max_size=40), st.sampled_from(FORMATS))
def test_any_code_points_are_reported_not_raised(text, fmt):
    _assert_reported(text, f"events.{fmt}")


_json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                         max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_json_values, st.sampled_from(["", " ", "\t", "  "]), st.sampled_from(["", " ", "\t", "\r"]),
                          st.booleans(), st.booleans()), max_size=6))
def test_json_lines_are_read_as_json_loads_reads_each_line(lines):
    """Lines read by the scanner alone give what json.loads gives; any other line gets json.loads' own error.
    Only \n ends a line: strings may hold U+2028, U+0085 and the other breaks as they are."""
    from tiergate.inputs.events import _records

    text = "".join(f"{before}{json.dumps(value, separators=(',', ':') if compact else None, ensure_ascii=ascii)}"
                   f"{after}\n" for value, before, after, compact, ascii in lines)
    expected = [(json.loads(line), n) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    assert _records(text.encode(), "events.jsonl") == expected


def test_a_json_string_may_hold_unicode_line_separators():
    from tiergate.inputs.events import _records

    line = json.dumps(dict(REG, artifact="s3://a\u2028b\u2029c\x85d"), ensure_ascii=False)
    assert _records(f"{line}\n{line}\n".encode(), "events.jsonl") == [(json.loads(line), 1), (json.loads(line), 2)]


@pytest.mark.parametrize("line, message", [('{"a": 1} {"b": 2}', "Extra data"), ('{"a": 1', "Expecting ',' delimiter"),
                                           ("[1, 2", "Expecting ',' delimiter")])
def test_a_json_line_that_is_not_one_value_is_named(line, message):
    from tiergate.inputs.events import _records

    with pytest.raises(TiergateError) as caught:
        _records(f'{{"ok": 1}}\n{line}\n'.encode(), "events.jsonl")
    (problem,) = caught.value.diagnostics
    assert (problem.location.line, problem.message) == (2, f"this line is not a JSON object: {message}")


# --- the fast schema check of events never passes what the schema refuses ------------------------------

_VALID = {
    "registered": {"artifact": "s3://m/1", "sha256": "a" * 64, "parent": "0.9"},
    "evidence": {"kind": "bias_test", "metrics": {"disparate_impact": 0.9, "ok": True, "note": "x"},
                 "attributes": {"gender": {"disparate_impact": 0.85}}, "uri": "s3://e", "sha256": "b" * 64},
    "signoff": {"role": "risk_audit", "gate": "deployment", "decision": "approve", "comment": "fine"},
    "transition": {"to": "deployment", "mode": "canary"},
    "waiver": {"requirement": "evidence:red_team@deployment", "justification": "scheduled",
               "expires": "2026-03-01T00:00:00Z"},
    "monitoring": {"kind": "input_drift", "metrics": {"psi": 0.1}},
    "review": {"role": "risk_audit", "decision": "reject"},
    "retired": {},
}
_ODD = st.sampled_from([None, 0, 1.5, float("nan"), True, "", "x y", "UC_1", "2026-01-01", "2026-01-01T00:00:00",
                        [], ["a"], {}, {"a": None}, {"a": [1]}, "a" * 64, "A" * 64, "reject", "maybe"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(_VALID)), st.data())
def test_the_fast_check_passes_nothing_the_events_schema_refuses(kind, data):
    from tiergate.inputs.events import _validator, fast_valid

    record = {"at": "2026-01-05T09:00:00+01:00", "type": kind, "use_case": "loan-approval", "version": "1.0",
              "actor": "dana", **_VALID[kind]}
    assert fast_valid(dict(record)) and not list(_validator("events.schema.json").iter_errors(record))
    for _ in range(data.draw(st.integers(1, 3))):  # change, add or drop a field or two
        key = data.draw(st.sampled_from(sorted(record) + ["extra", "attributes", "sha256", "metrics"]))
        if data.draw(st.booleans()) and key in record:
            del record[key]
        else:
            record[key] = data.draw(_ODD)
    if fast_valid(record):
        assert not list(_validator("events.schema.json").iter_errors(record)), record


def test_every_example_event_takes_the_fast_check():
    from tiergate.inputs.events import _records, fast_valid

    for path in sorted((ROOT / "examples" / "events").glob("*.yaml")):
        for record, line in _records(path.read_bytes(), str(path)):
            assert fast_valid(record), (path.name, line)


@pytest.mark.parametrize("kind", sorted(_VALID))
def test_the_fast_check_refuses_every_single_field_the_schema_refuses(kind):
    """Each field of a valid event set to each odd value, or dropped: never fast-valid where the schema objects."""
    from tiergate.inputs.events import _validator, fast_valid

    schema = _validator("events.schema.json")
    base = {"at": "2026-01-05T09:00:00Z", "type": kind, "use_case": "loan-approval", "version": "1.0",
            "actor": "dana", **_VALID[kind]}
    odd = [None, 0, 1.5, float("nan"), True, "", "x y", "UC_1", "2026-01-01", "2026-01-01T00:00:00", [], ["a"], {},
           {"a": None}, {"a": [1]}, "a" * 64, "A" * 64, "reject", "maybe", "…"]
    for key in sorted(base) + ["extra", "attributes", "sha256", "metrics", "answers"]:
        for value in [*odd, ...]:
            record = dict(base)
            if value is ...:
                record.pop(key, None)
            else:
                record[key] = value
            if fast_valid(record):
                assert not list(schema.iter_errors(record)), (key, value)


@settings(max_examples=50, deadline=None)
@given(st.datetimes(timezones=st.just(timezone.utc)), st.sampled_from(EVENT_TYPES), st.text(max_size=5),
       st.text(max_size=5), st.text(max_size=5), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
       st.integers(0, 10 ** 6))
def test_make_event_makes_the_event_the_constructor_makes(at, kind, use_case, version, actor, data, seq):
    import dataclasses

    from tiergate.inputs.events import make_event

    made, built = make_event(at, kind, use_case, version, actor, data, "ledger", seq, seq), \
        Event(at, kind, use_case, version, actor, data, "ledger", seq, seq)
    assert dataclasses.astuple(made) == dataclasses.astuple(built) and made == built and hash(made) == hash(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.actor = "someone else"
