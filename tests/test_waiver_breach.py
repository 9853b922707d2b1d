"""A waiver that runs out is a breach: a gate requirement the version entered its stage under a waiver of becomes an
obligation once the waiver has expired, `breach` until the requirement is met or the version leaves the stage.
`check` (text, JSON, markdown), `status` (text, JSON, CSV) and policy test files (`obligations:`) show it."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import yaml

from tiergate import compile_policy
from tiergate.decide.check import check
from tiergate.decide.gates.obligations import WaiverBreach
from tiergate.inputs.events import parse_events

from test_independence import ANSWERS, HERE, POLICY_FILE, ROSTER, event, run

BACKTESTING = "evidence:backtesting@production"
STORY = yaml.safe_load((HERE / "waiver-expiry.yaml").read_text(encoding="utf-8"))  # version 2 enters on 4 March
BEFORE, AFTER = "2026-03-10T00:00:00Z", "2026-03-25T00:00:00Z"  # the waiver expires on 20 March


def judge(events: list[dict], at: str, policy=None):
    policy = policy or compile_policy(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))
    log = parse_events("\n".join(json.dumps(e) for e in events) + "\n", "events.jsonl")  # line n: the nth event
    return check(policy, ANSWERS, log, ROSTER, at=datetime.fromisoformat(at.replace("Z", "+00:00")), replay=True)


def breaches(result) -> list:
    return [o for o in result.obligations if isinstance(o, WaiverBreach)]


def later(day: int, type_: str, actor: str, **data) -> dict:
    return event(day, 9, type_, actor, version="2", **data)


def test_while_the_waiver_runs_there_is_no_breach():
    result = judge(STORY, BEFORE)
    assert breaches(result) == [] and result.compliant and not result.failing


def test_a_waiver_that_ran_out_with_nothing_recorded_is_a_breach():
    result = judge(STORY, AFTER)
    (b,) = breaches(result)
    assert (b.id, b.status, b.failing) == (BACKTESTING, "breach", True)
    assert b.reason == ("entered production at 2026-03-04T09:00:00Z under the waiver by carl (line 5: The backtesting "
                        "window closes on 15 March), which expired at 2026-03-20T00:00:00Z; still unmet: no backtesting "
                        "evidence recorded for version 2")
    assert result.failing and not result.compliant and result.exit_code() == 1
    assert result.violations == ()  # entering under the waiver broke nothing
    assert b.to_dict() == {"id": BACKTESTING, "kind": "evidence", "severity": "require", "status": "breach",
                           "reason": b.reason, "line": 26, "last": None, "next_due": None,
                           "waiver": {"event": "line 5", "by": "carl",
                                      "justification": "The backtesting window closes on 15 March",
                                      "expires": "2026-03-20T00:00:00Z", "entered": "2026-03-04T09:00:00Z"}}


def test_recorded_later_by_a_validator_ends_the_breach():
    assert breaches(judge(STORY + [later(22, "evidence", "vera", kind="backtesting", metrics={"hit_rate": 0.93})],
                          AFTER)) == []


def test_recorded_later_by_the_developer_does_not():
    (b,) = breaches(judge(STORY + [later(22, "evidence", "devi", kind="backtesting", metrics={"hit_rate": 0.93})],
                          AFTER))
    assert b.reason.endswith("still unmet: backtesting evidence was recorded by devi, who does not hold validator (the "
                             "latest backtesting, line 7, 2026-03-22T09:00:00Z, does not count)")


def test_leaving_the_stage_ends_the_breach():
    result = judge(STORY + [later(22, "transition", "devi", to="development")], AFTER)
    assert breaches(result) == [] and result.stage == "development"


def test_a_renewed_waiver_keeps_it_waived_and_is_named_when_it_runs_out_too():
    renewed = STORY + [later(18, "waiver", "carl", requirement=BACKTESTING, justification="Window extended",
                             expires="2026-03-30T00:00:00Z")]
    assert breaches(judge(renewed, AFTER)) == []
    (b,) = breaches(judge(renewed, "2026-04-02T00:00:00Z"))
    assert "under the waiver by carl (line 7: Window extended), which expired at 2026-03-30T00:00:00Z" in b.reason


def test_a_requirement_met_when_the_version_entered_is_no_breach():
    met = STORY[:5] + [later(3, "evidence", "vera", kind="backtesting", metrics={"hit_rate": 0.95})] + STORY[5:]
    assert breaches(judge(met, AFTER)) == []


def test_a_version_that_entered_without_a_waiver_has_no_waiver_breach():
    no_waiver = [e for e in STORY if e["type"] != "waiver"]
    result = judge(no_waiver, AFTER)
    assert breaches(result) == []
    assert [s.id for v in result.violations for s in v.unmet] == [BACKTESTING]  # (a violation instead)


def test_a_retired_version_has_none():
    assert breaches(judge(STORY + [later(21, "retired", "devi")], AFTER)) == []


def test_the_check_command_text_json_and_markdown():
    args = ["check", "--policy", str(POLICY_FILE), "--answers", str(HERE / "loan-approval.yaml"), "--events",
            str(HERE / "waiver-expiry.yaml"), "--roster", str(HERE / "roster.yaml"), "--replay"]
    ok = run(*args, "--at", BEFORE)
    assert ok.exit_code == 0 and "breach" not in ok.output
    text = run(*args, "--at", AFTER)
    assert text.exit_code == 1
    assert "history: no violations; 1 obligation breach" in text.output
    assert f"  ✗ {BACKTESTING} breach: entered production at 2026-03-04T09:00:00Z under the waiver by carl" in \
        text.output
    data = json.loads(run(*args, "--at", AFTER, "--format", "json").output)
    (o,) = [o for o in data["obligations"] if o["id"] == BACKTESTING]
    assert o["status"] == "breach" and o["waiver"]["expires"] == "2026-03-20T00:00:00Z"
    markdown = run(*args, "--at", AFTER, "--format", "markdown").output
    assert f"`{BACKTESTING}` | breach |" in markdown


def _ledger(tmp_path, events: list[dict]) -> list[str]:
    ledger = tmp_path / "ledger.db"
    (tmp_path / "events.yaml").write_text(yaml.safe_dump(events), encoding="utf-8")
    result = run("import", str(tmp_path / "events.yaml"), "--answers", str(HERE / "loan-approval.yaml"), "--policy",
                 str(POLICY_FILE), "--roster", str(HERE / "roster.yaml"), "--ledger", str(ledger), "--actor", "carl")
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return ["--ledger", str(ledger), "--policy", str(POLICY_FILE), "--roster", str(HERE / "roster.yaml")]


def test_status_flags_the_version_naming_the_waiver(tmp_path):
    common = _ledger(tmp_path, STORY)
    data = json.loads(run("status", *common, "--at", AFTER, "--format", "json").output)
    (row,) = data["versions"]
    assert row["attention"] is True
    assert {"id": BACKTESTING, "status": "breach", "next_due": None} in row["obligations"]
    assert row["waiver_breaches"] == [{"requirement": BACKTESTING, "event": "ledger event #5", "by": "carl",
                                       "justification": "The backtesting window closes on 15 March",
                                       "expires": "2026-03-20T00:00:00Z", "entered": "2026-03-04T09:00:00Z"}]
    csv = run("status", *common, "--at", AFTER, "--format", "csv").output
    assert f"{BACKTESTING} breach (waiver ledger event #5 by carl expired 2026-03-20T00:00:00Z)" in csv
    before = json.loads(run("status", *common, "--at", BEFORE, "--format", "json").output)["versions"][0]
    assert before["waiver_breaches"] == [] and all(o["status"] != "breach" for o in before["obligations"])


def test_status_after_the_evidence_is_recorded(tmp_path):
    common = _ledger(tmp_path, STORY + [later(22, "evidence", "vera", kind="backtesting", metrics={"hit_rate": 0.93})])
    (row,) = json.loads(run("status", *common, "--at", AFTER, "--format", "json").output)["versions"]
    assert row["waiver_breaches"] == [] and row["attention"] is False


def test_a_policy_test_file_expects_it():
    result = run("test", str(HERE / "validation_test.yaml"))
    assert result.exit_code == 0, result.output
    assert "PASS  the waiver ran out with no backtesting recorded, a breach" in result.output
