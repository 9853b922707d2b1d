"""`require evidence KIND [where C] [for A] recorded by ROLE before STAGE`: the latest evidence of the kind counts only
when the person who recorded it held the role at its time (the roster then). The words in the grammar (with `where`,
`for` and `signed`), lint, fmt, ids, requirements, doc, matrix, diff, and the gate (a developer recording the
validator's evidence)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from tiergate import compile_policy, format_source
from tiergate.authoring.policydiff import policy_changes
from tiergate.decide.check import check
from tiergate.decide.gates.base import Context
from tiergate.decide.gates.plan import plan_of
from tiergate.decide.gates.registry import REGISTRY
from tiergate.decide.workflow import VersionState
from tiergate.inputs.events import parse_events, parse_roster
from tiergate.language import lark_parser
from tiergate.language.load import lint_source
from tiergate.language.parser import parse

from test_independence import ANSWERS, POLICY_FILE, ROSTER, _walk, event, run, small

BACKTESTING = "evidence:backtesting@production"
ENVELOPE = {"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": [{"keyid": "k", "sig": "c2ln"}]}


def judge(evidence: list[dict], policy=None, roster=ROSTER):
    policy = policy or compile_policy(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))
    events = [event(2, 9, "registered", "devi"), *evidence]
    log = parse_events(json.dumps(events), "events.json")
    result = check(policy, ANSWERS, log, roster, to="production", at=datetime(2026, 3, 5, tzinfo=timezone.utc))
    return next(s for s in result.requirements if s.id == BACKTESTING)


def backtest(actor: str, hit_rate: float = 0.94, day: int = 3, **extra) -> dict:
    return event(day, 9, "evidence", actor, kind="backtesting", metrics={"hit_rate": hit_rate}, **extra)


# --- the language ---------------------------------------------------------------------------

def test_it_combines_with_where_for_and_signed_in_one_order():
    line = ("require signed evidence backtesting where hit_rate >= 0.9 for segment recorded by validator, cro before "
            "production waivable by cro up to 30d")
    text = small(line)
    policy = compile_policy(text, "a.policy")
    (req,) = policy.tier("low").requirements
    assert req.recorded_by == ("validator", "cro") and req.signed and req.for_names == ("segment",)
    assert req.text == line and req.id == BACKTESTING
    assert format_source(text, "a.policy") == text
    assert parse(text, "a.policy") == lark_parser.parse(text, "a.policy", {"a.policy": text})


def test_recorded_by_after_the_stage_is_a_syntax_error():
    result = lint_source(small("require evidence backtesting before production recorded by validator"), "a.policy")
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("E100", "unexpected `recorded by`: expected `as`, `waivable`, `when` or the end of the line after `production`")]


def test_ids_and_text_without_the_words_are_as_before():
    policy = compile_policy(small("require evidence backtesting where hit_rate >= 0.9 before production"), "a.policy")
    (req,) = policy.tier("low").requirements
    assert req.id == BACKTESTING and req.recorded_by == ()
    assert req.text == "require evidence backtesting where hit_rate >= 0.9 before production"


def test_fmt_normalises_the_spacing():
    text = small("require evidence backtesting   recorded by  validator,cro   before production")
    assert "  require evidence backtesting recorded by validator, cro before production\n" in \
        format_source(text, "a.policy")


def test_lint_unknown_and_twice():
    result = lint_source(small("require evidence backtesting recorded by validater, cro, cro before production"),
                         "a.policy")
    found = [(d.code, d.location.column, d.message, d.hint) for d in result.diagnostics if d.severity == "error"]
    assert found == [("E211", 44, "unknown role `validater`", "did you mean `validator`?"),
                     ("E289", 60, "role `cro` is named twice in `recorded by`", "name each role once (first at "
                                                                                 "column 55)")]


def test_reports_show_it():
    assert "recorded by validator before production" in run("requirements", "--policy", str(POLICY_FILE),
                                                            "high").output
    data = json.loads(run("requirements", "--policy", str(POLICY_FILE), "high", "--format", "json").output)
    assert [r["recorded_by"] for r in _walk(data) if r.get("id") == BACKTESTING] == [["validator"]]
    assert "— only evidence recorded by someone holding validator counts" in run("doc", str(POLICY_FILE)).output
    assert "recorded by validator" in run("matrix", "--policy", str(POLICY_FILE)).output
    cells = json.loads(run("matrix", "--policy", str(POLICY_FILE), "--format", "json").output)
    assert any(c.get("recorded_by") == ["validator"] for c in _walk(cells))


def test_diff_reports_it():
    before = compile_policy(small("require evidence backtesting before production"), "a.policy")
    after = compile_policy(small("require evidence backtesting recorded by validator before production"), "a.policy")
    assert "tier low: evidence:backtesting@production now requires evidence recorded by validator" in \
        policy_changes(before, after).other


# --- the gate ---------------------------------------------------------------------------------

def test_a_developer_recording_the_validators_evidence_does_not_count():
    s = judge([backtest("devi")])
    assert s.status == "unmet"
    assert s.reason == ("backtesting evidence was recorded by devi, who does not hold validator (the latest "
                        "backtesting, line 1, 2026-03-03T09:00:00Z, does not count)")


def test_a_validators_evidence_counts():
    s = judge([backtest("vera")])
    assert s.status == "met"
    assert s.reason.startswith("the latest backtesting (line 1, 2026-03-03T09:00:00Z) satisfies `hit_rate >= 0.9`")


def test_the_latest_decides_a_developers_result_after_the_validators_does_not_count():
    assert judge([backtest("vera"), backtest("devi", day=4)]).status == "unmet"
    assert judge([backtest("devi"), backtest("vera", day=4)]).status == "met"


def test_the_role_held_at_the_time_of_the_evidence_decides():
    # tom holds validator from 1 March: a result he recorded in February does not count, one in March does
    feb = {**backtest("tom"), "at": "2026-02-27T09:00:00+00:00"}
    registered = {**event(2, 9, "registered", "devi"), "at": "2026-02-26T09:00:00+00:00"}
    policy = compile_policy(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))
    log = parse_events(json.dumps([registered, feb]), "e.json")
    result = check(policy, ANSWERS, log, ROSTER, to="production", at=datetime(2026, 3, 5, tzinfo=timezone.utc))
    assert next(s for s in result.requirements if s.id == BACKTESTING).status == "unmet"
    assert judge([backtest("tom")]).status == "met"


def test_signed_and_recorded_by_both_hold():
    policy = compile_policy(POLICY_FILE.read_text(encoding="utf-8").replace(
        "require evidence backtesting", "require signed evidence backtesting"), "v.policy")
    assert judge([backtest("vera")], policy).status == "unmet"  # not signed
    assert judge([backtest("devi", envelope=ENVELOPE)], policy).status == "unmet"  # not a validator
    assert judge([backtest("vera", envelope=ENVELOPE)], policy).status == "met"


@pytest.mark.parametrize("actor", ["vera", "devi"])
def test_the_decider_agrees_with_the_evaluator(actor):
    policy = compile_policy(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))
    plan = plan_of(policy.tier("high"))
    ctx = Context(policy, plan, ROSTER, (), ANSWERS["answers"])
    state = VersionState("loan-approval", "1", "development")
    for e in parse_events(json.dumps([event(2, 9, "registered", "devi"), backtest(actor)]), "e.json").events:
        state.apply(e)
    req, decider = next((r, d) for r, d in plan.gates["production"] if r.id == BACKTESTING)
    evaluated = REGISTRY["evidence"].evaluate(req, state, ctx, None, True)[0]
    assert decider(state, None, ctx) == (evaluated == "met") == (actor == "vera")
    assert REGISTRY["evidence"].code(req, None) is None


def test_an_unknown_person_does_not_hold_the_role():
    roster = parse_roster("people:\n  vera: [validator]\n", "r.yaml")
    s = judge([backtest("someone")], roster=roster)
    assert s.status == "unmet" and "recorded by someone, who does not hold validator" in s.reason
