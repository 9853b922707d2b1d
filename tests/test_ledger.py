"""The governance ledger through the library: validation before writing, promote, import, and tamper evidence.

Every refusal is checked to leave the ledger as it was (same head, same number of events). The
tamper-evidence tests alter a stored ledger with sqlite3 (or its raw bytes) behind tiergate's back and
expect `tiergate audit verify` to exit 1 and name the first event that no longer fits the chain.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import STORY_USE_CASE, tiergate
from tiergate.language.load import load_policy
from tiergate.errors import TiergateError
from tiergate.inputs.events import _records
from tiergate.ledger.actions import Blocked, promote, record, register, roster_body
from tiergate.ledger.importing import import_records
from tiergate.ledger.chain import GENESIS, canonical
from tiergate.ledger.service import Ledger
from tiergate.inputs.answers import load_answers
from tiergate.inputs.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "examples" / "events"
USE_CASES = ROOT / "examples" / "use-cases"
ROSTER = ROOT / "examples" / "roster.yaml"
POLICY = ROOT / "policies" / "mlops-default.policy"

#: the stories the ledger refuses whole, with the line of each event refused
REFUSED_STORIES = {
    # dana (data_scientist) waives a requirement only risk_audit may waive; raj waives it for 30 days (max 14)
    "over-long-waiver.yaml": [(215, "dana may not waive evidence:red_team@deployment: only risk_audit may"),
                              (223, "the waiver runs 30 days; evidence:red_team@deployment may be waived for at "
                                    "most 14 days")],
    # a transition of version 0.3 after it was retired
    "skipped-stage.yaml": [(67, "version 0.3 of adhoc-analysis is retired")],
}
T0 = "2026-01-05T09:00:00Z"


def link(previous: str, text: str) -> str:
    """An event's hash as docs/ledger.md words it for auditors (computed here, not by tiergate)."""
    return hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()




@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "ledger.db") as opened:
        yield opened


def state(led: Ledger) -> tuple[str, int]:
    """What must not change when something is refused: the head and the number of events."""
    return led.head(), led.count()


def body(event_type: str, use_case: str = "loan-approval", version: str = "1.0", actor: str = "dana",
         at: str = "2026-01-06T09:00:00Z", **fields) -> dict:
    return {"at": at, "type": event_type, "use_case": use_case, "version": version, "actor": actor, **fields}


def answers(policy, use_case: str):
    return load_answers(USE_CASES / f"{use_case}.yaml", policy)


def story_records(name: str):
    path = STORIES / name
    return _records(path.read_bytes(), str(path))


def import_story(led: Ledger, policy, roster, name: str, embedded: bool = False):
    use_case = STORY_USE_CASE[name]
    records = story_records(name)
    if embedded:  # the answers go inside each `registered` event instead of --answers
        doc = load_yaml((USE_CASES / f"{use_case}.yaml").read_bytes(), use_case).data
        records = [(dict(r, answers=doc) if r["type"] == "registered" else r, line) for r, line in records]
        return import_records(led, policy, roster, records, str(STORIES / name), {})
    return import_records(led, policy, roster, records, str(STORIES / name), {use_case: answers(policy, use_case)})


@pytest.fixture
def loan(ledger, policy, roster):
    """A ledger with the example roster stored and loan-approval 1.0 (critical) registered by dana."""
    record(ledger, policy, None, roster_body(load_yaml(ROSTER.read_bytes(), str(ROSTER)).data, "admin",
                                             "2026-01-01T00:00:00Z"))
    register(ledger, policy, None, "loan-approval", "1.0", answers(policy, "loan-approval"), "dana", T0)
    return ledger


# --- register ---------------------------------------------------------------------------------

def test_register_stores_tier_policy_and_answers(ledger, policy):
    row, stored = register(ledger, policy, None, "loan-approval", "1.0", answers(policy, "loan-approval"), "dana", T0,
                           artifact="s3://models/loan/1.0", sha256="ab" * 32)
    assert row.seq == 1 and row.prev_hash == GENESIS and row.hash == link(GENESIS, canonical(stored))
    kept = ledger.registration("loan-approval", "1.0")
    assert kept == stored
    assert kept["tier"] == "critical"
    assert kept["policy"] == {"name": "mlops-default", "version": "1.0.0", "sha256": policy.sha256}
    assert len(kept["policy"]["sha256"]) == 64
    assert kept["answers"]["answers"] == answers(policy, "loan-approval").answers
    assert kept["answers"]["owner"] == "Retail Credit Risk team"
    assert (kept["artifact"], kept["sha256"], kept["actor"], kept["at"]) == ("s3://models/loan/1.0", "ab" * 32, "dana",
                                                                           T0)


def test_register_refuses_answers_of_another_use_case(ledger, policy):
    with pytest.raises(TiergateError, match="describes `churn-dashboard`, not `loan-approval`"):
        register(ledger, policy, None, "loan-approval", "1.0", answers(policy, "churn-dashboard"), "dana", T0)
    assert state(ledger) == (GENESIS, 0)


def test_a_version_is_registered_once(loan, policy):
    before = state(loan)
    with pytest.raises(TiergateError, match="version 1.0 of loan-approval is already registered"):
        register(loan, policy, None, "loan-approval", "1.0", answers(policy, "loan-approval"), "dana",
                 "2026-01-07T09:00:00Z")
    assert state(loan) == before


# --- refusals: validated before anything is written ---------------------------------------------

REFUSALS = {
    "sign-off by someone not holding the role":
        (body("signoff", actor="dana", role="risk_audit", gate="development", decision="approve"),
         "dana does not hold role risk_audit (holds data_scientist)"),
    "sign-off by someone not in the roster":
        (body("signoff", actor="mallory", role="risk_audit", gate="development", decision="approve"),
         "mallory does not hold role risk_audit (holds no role)"),
    "sign-off in a role the policy does not have":
        (body("signoff", actor="rita", role="auditor", gate="development", decision="approve"),
         "`auditor` is not a role of policy mlops-default"),
    "sign-off for a stage that does not exist":
        (body("signoff", actor="rita", role="risk_audit", gate="devlopment", decision="approve"),
         "`devlopment` is not a stage of workflow `default`"),
    "transition to a stage that does not exist":
        (body("transition", to="production"), "`production` is not a stage of workflow `default`"),
    "waiver longer than the policy's `up to`":
        (body("waiver", actor="rita", requirement="evidence:red_team@deployment", justification="booked",
              expires="2026-01-20T09:00:01Z"),
         "the waiver runs 14 days 1 second; evidence:red_team@deployment may be waived for at most 14 days"),
    "waiver by a role not in `waivable by`":
        (body("waiver", actor="otto", requirement="evidence:red_team@deployment", justification="booked",
              expires="2026-01-10T09:00:00Z"),
         "otto may not waive evidence:red_team@deployment: only risk_audit may"),
    "waiver of a requirement that is not waivable":
        (body("waiver", actor="rita", requirement="evidence:load_test@deployment", justification="later",
              expires="2026-01-10T09:00:00Z"), "evidence:load_test@deployment is not waivable"),
    "waiver of a requirement the tier does not have":
        (body("waiver", actor="rita", requirement="evidence:red_teem@deployment", justification="later",
              expires="2026-01-10T09:00:00Z"), "`evidence:red_teem@deployment` is no requirement of tier critical"),
    "waiver that ends before it is given":
        (body("waiver", actor="rita", requirement="evidence:red_team@deployment", justification="booked",
              expires="2026-01-06T08:00:00Z"), "the waiver expires (2026-01-06T08:00:00Z) before it is given"),
    "event for a version that is not registered":
        (body("evidence", version="2.0", kind="pii_handling", metrics={"fields": 3}),
         "version 2.0 of loan-approval is not registered"),
    "event for a use case that is not registered":
        (body("evidence", use_case="churn-dashboard", kind="pii_handling", metrics={"fields": 3}),
         "version 1.0 of churn-dashboard is not registered"),
    "review by someone not holding the role":
        (body("review", actor="sam", role="risk_audit", decision="approve"),
         "sam does not hold role risk_audit (holds data_scientist, citizen_ds)"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refused_event_is_not_written(loan, policy, case):
    event, reason = REFUSALS[case]
    before = state(loan)
    with pytest.raises(TiergateError) as caught:
        record(loan, policy, None, event)
    # the person may not (E611), else the event is wrong (E610): the service answers 403 and 422
    may_not = "does not hold role" in reason or "may not" in reason or "is not in the roster" in reason
    assert [d.code for d in caught.value.diagnostics] == ["E611" if may_not else "E610"]
    assert caught.value.diagnostics[0].message == reason
    assert state(loan) == before


@pytest.mark.parametrize("requirement, hint", [
    ("evidence:red_teem@deployment", "did you mean `evidence:red_team@deployment`?"),
    ("sign-off", "the requirements of tier critical that may be waived: `evidence:lineage_review@preproduction`, "
                 "`evidence:red_team@deployment`"),
])
def test_a_waiver_of_no_requirement_of_the_tier_says_what_may_be_waived(loan, policy, requirement, hint):
    event = body("waiver", actor="rita", requirement=requirement, justification="later",
                 expires="2026-01-10T09:00:00Z")
    with pytest.raises(TiergateError) as caught:
        record(loan, policy, None, event)
    assert caught.value.diagnostics[0].hint == hint


def test_a_duplicate_event_is_refused(loan, policy):
    event = body("evidence", kind="pii_handling", metrics={"fields": 3})
    record(loan, policy, None, event)
    before = state(loan)
    with pytest.raises(TiergateError, match="this exact event is already in the ledger"):
        record(loan, policy, None, dict(reversed(list(event.items()))))  # the same event, fields in another order
    assert state(loan) == before
    record(loan, policy, None, dict(event, at="2026-01-06T09:00:01Z"))  # a second later it is another event


def test_a_schema_problem_is_refused_with_the_field(loan, policy):
    before = state(loan)
    with pytest.raises(TiergateError, match="misses metrics"):
        record(loan, policy, None, body("evidence", kind="pii_handling"))
    with pytest.raises(TiergateError, match="not an RFC 3339 time"):
        record(loan, policy, None, body("evidence", at="yesterday", kind="pii_handling", metrics={}))
    assert state(loan) == before


def test_nobody_can_sign_without_a_roster(ledger, policy):
    register(ledger, policy, None, "loan-approval", "1.0", answers(policy, "loan-approval"), "dana", T0)
    before = state(ledger)
    with pytest.raises(TiergateError, match="there is no roster"):
        record(ledger, policy, None, body("signoff", actor="rita", role="risk_audit", gate="development",
                                          decision="approve"))
    assert state(ledger) == before


def test_a_roster_given_by_the_caller_is_used(ledger, policy, roster):
    register(ledger, policy, None, "loan-approval", "1.0", answers(policy, "loan-approval"), "dana", T0)
    row = record(ledger, policy, roster, body("signoff", actor="rita", role="risk_audit", gate="development",
                                              decision="approve"))
    assert row.seq == 2


def test_the_stored_roster_is_the_latest_one(loan, policy):
    """A roster import is an event: a later one replaces the roles (rita leaves risk_audit)."""
    people = load_yaml(ROSTER.read_bytes(), str(ROSTER)).data["people"]
    record(loan, policy, None, roster_body({"people": dict(people, rita=["business_stakeholder"])}, "admin",
                                           "2026-01-05T12:00:00Z"))
    assert loan.roster().roles_of("rita", loan_time()) == ["business_stakeholder"]
    with pytest.raises(TiergateError, match="rita does not hold role risk_audit"):
        record(loan, policy, None, body("signoff", actor="rita", role="risk_audit", gate="development",
                                        decision="approve"))


def loan_time():
    from tiergate.inputs.events import parse_time

    return parse_time("2026-01-06T09:00:00Z")


def test_recording_one_event_does_not_read_the_use_cases_history(loan, policy, monkeypatch):
    """Only the registrations (and retirements) are read; a duplicate is looked for by the store."""
    from tiergate.ledger.service import MILESTONES

    for i in range(20):
        record(loan, policy, None, body("monitoring", at=f"2026-01-07T09:{i:02d}:00Z", actor="paula",
                                        kind="performance", metrics={"auc": 0.8}))
    rows = type(loan.store).rows

    def no_full_read(self, use_case=None, version=None, types=None):
        if not types or not set(types) <= set(MILESTONES):
            raise AssertionError("the whole history was read")
        return rows(self, use_case, version, types)

    monkeypatch.setattr(type(loan.store), "rows", no_full_read)
    record(loan, policy, None, body("monitoring", at="2026-01-07T10:00:00Z", actor="paula", kind="performance",
                                    metrics={"auc": 0.8}))
    with pytest.raises(TiergateError, match="this exact event is already in the ledger"):
        record(loan, policy, None, body("monitoring", at="2026-01-07T09:05:00Z", actor="paula", kind="performance",
                                        metrics={"auc": 0.8}))
    with pytest.raises(TiergateError, match="is not registered"):
        record(loan, policy, None, body("monitoring", version="2.0", actor="paula", kind="performance",
                                        metrics={"auc": 0.8}))


def test_a_retired_version_takes_only_monitoring(loan, policy):
    record(loan, policy, None, body("retired"))
    record(loan, policy, None, body("monitoring", at="2026-01-07T09:00:00Z", actor="paula", kind="performance",
                                    metrics={"auc": 0.8}))
    before = state(loan)
    with pytest.raises(TiergateError, match="version 1.0 of loan-approval is retired"):
        record(loan, policy, None, body("evidence", at="2026-01-07T10:00:00Z", kind="pii_handling", metrics={}))
    assert state(loan) == before


# --- promote: the gate decides, and only an allowed transition is written ------------------------

def test_promote_writes_the_transition_only_when_the_gate_is_met(loan, policy):
    row, result = promote(loan, policy, None, "loan-approval", "1.0", "ideation", None, "dana", "2026-01-05T10:00:00Z")
    assert result.allowed and row.seq == 3
    before = state(loan)
    with pytest.raises(Blocked) as blocked:
        promote(loan, policy, None, "loan-approval", "1.0", "development", None, "dana", "2026-01-05T11:00:00Z")
    unmet = {s.id: s.reason for s in blocked.value.result.requirements if s.failing}
    assert sorted(unmet) == ["evidence:pii_handling@development", "signoff:business_stakeholder@development",
                             "signoff:risk_audit@development"]
    assert state(loan) == before
    for event in (body("evidence", at="2026-01-05T12:00:00Z", kind="pii_handling", metrics={"dpia": True}),
                  body("signoff", at="2026-01-05T13:00:00Z", actor="bea", role="business_stakeholder",
                       gate="development", decision="approve"),
                  body("signoff", at="2026-01-05T14:00:00Z", actor="rita", role="risk_audit", gate="development",
                       decision="approve")):
        record(loan, policy, None, event)
    row, result = promote(loan, policy, None, "loan-approval", "1.0", "development", None, "dana",
                          "2026-01-05T15:00:00Z")
    assert result.allowed and result.stage == "ideation"
    stored = loan.events("loan-approval").events[-1]
    assert (stored.type, stored.data, stored.seq) == ("transition", {"to": "development"}, row.seq)


def test_promote_refuses_a_stage_that_is_not_next(loan, policy):
    before = state(loan)
    with pytest.raises(Blocked) as blocked:
        promote(loan, policy, None, "loan-approval", "1.0", "deployment", "canary", "dana", "2026-01-05T10:00:00Z")
    assert blocked.value.result.transition_ok is False
    assert state(loan) == before


def test_promote_refuses_a_stage_that_does_not_exist(loan, policy):
    before = state(loan)
    with pytest.raises(TiergateError, match="`deploymnt` is not a stage of workflow `default`"):
        promote(loan, policy, None, "loan-approval", "1.0", "deploymnt", None, "dana", "2026-01-05T10:00:00Z")
    assert state(loan) == before


def test_promote_refuses_an_unregistered_version(loan, policy):
    before = state(loan)
    with pytest.raises(TiergateError, match="version 9 of loan-approval is not registered"):
        promote(loan, policy, None, "loan-approval", "9", "ideation", None, "dana", "2026-01-05T10:00:00Z")
    assert state(loan) == before


# --- import -------------------------------------------------------------------------------------

IMPORTABLE = sorted(set(STORY_USE_CASE) - set(REFUSED_STORIES))


@pytest.mark.parametrize("embedded", [False, True], ids=["answers-file", "answers-embedded"])
@pytest.mark.parametrize("name", IMPORTABLE)
def test_each_story_imports_whole(ledger, policy, roster, name, embedded):
    done = import_story(ledger, policy, roster, name, embedded)
    records = story_records(name)
    assert done.count == len(records) == ledger.count()
    assert [r.seq for r in ledger.store.rows()] == list(range(1, len(records) + 1))
    assert done.head == ledger.head()
    assert ledger.verify().ok
    registration = ledger.registration(STORY_USE_CASE[name])
    assert registration["answers"] == answers(policy, STORY_USE_CASE[name]).to_dict()
    assert registration["policy"]["version"] == "1.0.0"


def test_embedded_answers_and_answers_files_give_the_same_ledger(tmp_path, policy, roster):
    heads = []
    for embedded in (False, True):
        with Ledger(tmp_path / f"{embedded}.db") as led:
            for name in IMPORTABLE:
                import_story(led, policy, roster, name, embedded)
            heads.append(led.head())
    assert heads[0] == heads[1]


@pytest.mark.parametrize("name", sorted(REFUSED_STORIES))
def test_a_story_with_an_event_the_ledger_refuses_imports_nothing(ledger, policy, roster, name):
    with pytest.raises(TiergateError) as caught:
        import_story(ledger, policy, roster, name)
    found = [(d.location.file, d.location.line, d.message) for d in caught.value.diagnostics]
    assert found == [(str(STORIES / name), line, message) for line, message in REFUSED_STORIES[name]]
    assert state(ledger) == (GENESIS, 0)


def test_one_bad_event_imports_nothing_and_is_named(ledger, policy, roster, tmp_path):
    import_story(ledger, policy, roster, "self-approval.yaml")
    before = state(ledger)
    lines = [json.dumps(r) for r, _ in story_records("drift-breach.yaml")]
    lines[14] = json.dumps(dict(json.loads(lines[14]), actor="dana"))  # bea's business sign-off, now by dana
    path = tmp_path / "drift.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TiergateError) as caught:
        import_records(ledger, policy, roster, _records(path.read_bytes(), str(path)), str(path),
                       {"predictive-maintenance": answers(policy, "predictive-maintenance")})
    assert [(d.location.file, d.location.line) for d in caught.value.diagnostics] == [(str(path), 15)]
    assert caught.value.diagnostics[0].message == "dana does not hold role business_stakeholder (holds data_scientist)"
    assert state(ledger) == before


def test_an_import_that_repeats_recorded_events_imports_nothing(ledger, policy, roster):
    import_story(ledger, policy, roster, "self-approval.yaml")
    before = state(ledger)
    with pytest.raises(TiergateError) as caught:
        import_story(ledger, policy, roster, "self-approval.yaml")
    assert [d.message for d in caught.value.diagnostics] == ["this exact event is already in the ledger"] * 10
    lines = [line for _, line in story_records("self-approval.yaml")]
    assert [d.location.line for d in caught.value.diagnostics] == lines
    assert state(ledger) == before


def test_an_import_without_answers_names_the_use_case(ledger, policy, roster):
    with pytest.raises(TiergateError, match="no answers for churn-dashboard"):
        import_records(ledger, policy, roster, story_records("self-approval.yaml"), "self-approval.yaml", {})
    assert state(ledger) == (GENESIS, 0)


def test_embedded_answers_are_validated(ledger, policy, roster):
    records = story_records("self-approval.yaml")
    doc = load_yaml((USE_CASES / "churn-dashboard.yaml").read_bytes(), "x").data
    bad = dict(doc, answers=dict(doc["answers"], audience="everyone"))
    records[0] = (dict(records[0][0], answers=bad), records[0][1])
    with pytest.raises(TiergateError) as caught:
        import_records(ledger, policy, roster, records, "self-approval.yaml", {})
    assert "everyone" in caught.value.diagnostics[0].message
    assert caught.value.diagnostics[0].location.line == records[0][1]
    other = dict(doc, use_case="loan-approval")
    records[0] = (dict(records[0][0], answers=other), records[0][1])
    with pytest.raises(TiergateError, match="the embedded answers describe `loan-approval`, not `churn-dashboard`"):
        import_records(ledger, policy, roster, records, "self-approval.yaml", {})
    assert state(ledger) == (GENESIS, 0)


def test_unquoted_yaml_times_import_like_check_reads_them(ledger, policy, roster, tmp_path):
    path = tmp_path / "unquoted.yaml"
    path.write_text("- at: 2026-06-01T09:00:00Z\n  type: registered\n  use_case: churn-dashboard\n  version: '1'\n"
                    "  actor: bea\n- at: 2026-06-02T09:00:00Z\n  type: transition\n  use_case: churn-dashboard\n"
                    "  version: '1'\n  actor: bea\n  to: ideation\n")
    rows = import_records(ledger, policy, roster, _records(path.read_bytes(), str(path)), str(path),
                          {"churn-dashboard": answers(policy, "churn-dashboard")})
    assert rows.count == 2
    assert ledger.events("churn-dashboard").events[1].data == {"to": "ideation"}


@pytest.mark.parametrize("record_, message", [
    ({"at": "2026-01-01T00:00:00Z", "type": "roster", "use_case": "-", "version": "-", "actor": "admin",
      "people": {"rita": [{"since": "2026-01-01T00:00:00Z"}]}}, "roster"),
    ({"at": "2026-01-01T00:00:00Z", "type": "roster", "use_case": "x", "version": "-", "actor": "admin",
      "people": {}}, "a roster event belongs to no use case"),
    ({"at": "tomorrow", "type": "roster", "use_case": "-", "version": "-", "actor": "admin", "people": {}},
     "not an RFC 3339 time"),
    ({"at": "2026-01-01T00:00:00Z", "type": "reclassified", "use_case": "x", "version": "1", "actor": "admin"},
     "misses `from_tier`"),
    ({"type": "reclassified", "use_case": "x", "version": "1", "actor": "admin"}, "misses `at`"),
])
def test_records_only_a_ledger_holds_are_validated_too(ledger, policy, record_, message):
    with pytest.raises(TiergateError) as caught:
        import_records(ledger, policy, None, [(record_, 7)], "events.jsonl", {})
    assert message in caught.value.diagnostics[0].message
    assert caught.value.diagnostics[0].location.line == 7
    assert state(ledger) == (GENESIS, 0)


@pytest.mark.parametrize("value", [["evidence"], {"evidence": 1}, 7, None])
def test_an_event_type_that_is_not_text_is_reported_not_raised(ledger, policy, value):
    event = body("evidence", kind="pii_handling", metrics={})
    event["type"] = value
    with pytest.raises(TiergateError) as caught:
        import_records(ledger, policy, None, [(event, 3)], "events.jsonl", {})
    assert [(d.code, d.location.line) for d in caught.value.diagnostics][0] == ("E400", 3)
    assert state(ledger) == (GENESIS, 0)


def test_events_read_back_in_time_order(loan, policy):
    """A back-dated event takes its place in time, as `check --events` sorts an events file."""
    record(loan, policy, None, body("evidence", at="2026-01-09T09:00:00Z", kind="pii_handling", metrics={"v": 2}))
    record(loan, policy, None, body("evidence", at="2026-01-08T09:00:00Z", kind="pii_handling", metrics={"v": 1}))
    events = loan.events("loan-approval").events
    assert [e.data.get("metrics") for e in events] == [None, {"v": 1}, {"v": 2}]
    assert [e.seq for e in events] == [2, 4, 3]


# --- tamper evidence ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pristine(tmp_path_factory, policy, roster):
    """A ledger of 33 events: the roster, then the drift-breach and self-approval stories."""
    path = tmp_path_factory.mktemp("pristine") / "ledger.db"
    with Ledger(path) as led:
        record(led, policy, None, roster_body(load_yaml(ROSTER.read_bytes(), str(ROSTER)).data, "admin",
                                              "2026-01-01T00:00:00Z"))
        import_story(led, policy, None, "drift-breach.yaml")
        import_story(led, policy, None, "self-approval.yaml")
        assert led.count() == 33
    return path


@pytest.fixture
def copy(pristine, tmp_path):
    path = tmp_path / "ledger.db"
    shutil.copy(pristine, path)
    return path


N_EVENTS = 33
FIELDS = ["body", "hash", "prev_hash", "at", "type", "use_case", "version", "actor"]


def verify(path: Path, *args: str):
    return tiergate("audit", "verify", "--ledger", str(path), *args)


def sql(path: Path, *statements: tuple) -> list:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        out = []
        for statement in statements:
            out.extend(db.execute(*statement).fetchall())
        return out
    finally:
        db.close()


def flipped(text: str, rng: random.Random) -> str:
    """`text` with one ASCII byte changed (the lowest bit flipped), so it stays text."""
    data = bytearray(text.encode("utf-8"))
    positions = [i for i, b in enumerate(data) if b < 0x7E and b ^ 1 >= 0x20]
    i = rng.choice(positions)
    data[i] ^= 1
    return data.decode("utf-8")


def test_a_fresh_ledger_verifies(pristine):
    result = verify(pristine)
    assert result.exit_code == 0
    assert result.stdout.startswith("ledger intact: 33 events, head ")


def test_an_empty_ledger_verifies(tmp_path):
    Ledger(tmp_path / "empty.db").close()
    result = verify(tmp_path / "empty.db")
    assert (result.exit_code, result.stdout) == (0, f"ledger intact: 0 events, head {GENESIS}\n")


@pytest.mark.parametrize("field", FIELDS)
def test_one_flipped_byte_in_any_field_of_any_event_is_found(pristine, tmp_path, field):
    rng = random.Random(field)
    for seq in range(1, N_EVENTS + 1):
        path = tmp_path / f"{seq}.db"
        shutil.copy(pristine, path)
        [(value,)] = sql(path, (f"SELECT {field} FROM events WHERE seq = ?", (seq,)))
        sql(path, (f"UPDATE events SET {field} = ? WHERE seq = ?", (flipped(value, rng), seq)))
        result = verify(path)
        assert result.exit_code == 1, (field, seq, result.stdout)
        assert result.stdout.startswith(f"LEDGER BROKEN: event {seq} "), (field, seq, result.stdout)
        path.unlink()


@pytest.mark.parametrize("value", ["CAST(x'7b22ff22' AS TEXT)", "x'7b2261743a2231227d'", "42", "NULL"],
                         ids=["text-not-utf8", "blob", "integer", "null"])
def test_a_body_of_the_wrong_kind_is_reported_not_raised(copy, value):
    if value == "NULL":  # the column is NOT NULL: rebuild the table without the constraint, as a forger would
        sql(copy, ("PRAGMA writable_schema = 1",),
            ("UPDATE sqlite_master SET sql = replace(sql, 'body TEXT NOT NULL', 'body TEXT') WHERE name = 'events'",))
    sql(copy, (f"UPDATE events SET body = {value} WHERE seq = 12",))
    result = verify(copy)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stdout.startswith("LEDGER BROKEN: event 12 "), result.stdout


@pytest.mark.parametrize("seq", range(1, N_EVENTS))
def test_a_deleted_event_is_found(copy, seq):
    sql(copy, ("DELETE FROM events WHERE seq = ?", (seq,)))
    result = verify(copy)
    assert result.exit_code == 1
    assert result.stdout == f"LEDGER BROKEN: event {seq} is missing (found {seq + 1} next): an event was deleted or " \
                            "the order was changed\n"


def test_deleted_events_renumbered_are_found(copy):
    """A forger who closes the gap (renumbers the later events) still breaks the chain at the first of them."""
    sql(copy, ("DELETE FROM events WHERE seq = 10",), ("UPDATE events SET seq = seq - 1 WHERE seq > 10",))
    result = verify(copy)
    assert result.exit_code == 1
    assert result.stdout.startswith("LEDGER BROKEN: event 10 does not follow event 9")


def test_the_last_event_deleted_is_found_with_the_published_head(copy):
    """The chain cannot tell that its end was cut off (by a forger who also mends the index); the head published
    elsewhere can."""
    head = tiergate("audit", "head", "--ledger", str(copy)).output.strip()
    sql(copy, ("DELETE FROM events WHERE seq = ?", (N_EVENTS,)), ("DELETE FROM standing WHERE seq = ?", (N_EVENTS,)))
    assert verify(copy).exit_code == 0
    result = verify(copy, "--head", head)
    assert result.exit_code == 1
    assert "which is no event of this ledger: the ledger was rewritten" in result.stdout


def _insert_at(path: Path, position: int, forged_hash) -> None:
    """Insert a forged evidence event at `position`, renumbering the events from there on."""
    [(prev,)] = sql(path, ("SELECT hash FROM events WHERE seq = ?", (position - 1,)))
    forged = body("evidence", use_case="churn-dashboard", version="2026.2", actor="otto", at="2026-06-10T08:00:00Z",
                  kind="automated_checks", metrics={"checks_passed": 18})
    text = canonical(forged)
    digest = forged_hash(prev, text)
    sql(path, ("UPDATE events SET seq = seq + 1000 WHERE seq >= ?", (position,)),
        ("UPDATE events SET seq = seq - 999 WHERE seq >= 1000",),
        ("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (position, forged["at"], "evidence", forged["use_case"], forged["version"], forged["actor"], text, prev,
          digest, "2026-06-10T08:00:00+00:00")))


@pytest.mark.parametrize("position", [1 + 1, 17, N_EVENTS])
def test_a_forged_event_inserted_is_found(copy, position):
    _insert_at(copy, position, lambda prev, text: "f" * 64)
    result = verify(copy)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"LEDGER BROKEN: event {position} was altered: its content does not match its "
                                    "hash")


@pytest.mark.parametrize("position", [1 + 1, 17, N_EVENTS])
def test_a_forged_event_with_a_right_hash_breaks_the_chain_after_it(copy, position):
    """A forger who hashes the inserted event properly is found at the next event, which no longer follows."""
    _insert_at(copy, position, link)
    result = verify(copy)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"LEDGER BROKEN: event {position + 1} does not follow event {position}")


def test_an_event_appended_by_a_forger_is_found_with_the_published_head(copy):
    head = tiergate("audit", "head", "--ledger", str(copy)).output.strip()
    [(prev,)] = sql(copy, ("SELECT hash FROM events WHERE seq = ?", (N_EVENTS,)))
    forged = body("signoff", use_case="churn-dashboard", version="2026.2", actor="bea", at="2026-06-11T10:00:00Z",
                  role="business_stakeholder", gate="deployment", decision="approve")
    sql(copy, ("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (N_EVENTS + 1, forged["at"], "signoff", forged["use_case"], forged["version"], "bea", canonical(forged),
                prev, link(prev, canonical(forged)), "now")),
        ("INSERT INTO standing VALUES (?, ?, ?, ?, ?)", (forged["use_case"], forged["version"], f"#{N_EVENTS + 1}",
                                                         0.0, N_EVENTS + 1)))
    assert verify(copy).exit_code == 0  # a well-formed append (with its index row) is an append
    result = verify(copy, "--head", head)
    assert result.exit_code == 1
    assert result.stdout == f"LEDGER BROKEN: the ledger moved on: the published head {head} is event {N_EVENTS}, " \
                            f"and 1 event was added since (head now {link(prev, canonical(forged))})\n"


@pytest.mark.parametrize("first, second", [(1, 2), (5, 6), (3, 20), (10, N_EVENTS), (1, N_EVENTS)])
def test_two_events_swapped_are_found(copy, first, second):
    columns = "at, type, use_case, version, actor, body, prev_hash, hash, recorded_at"
    [a] = sql(copy, (f"SELECT {columns} FROM events WHERE seq = ?", (first,)))
    [b] = sql(copy, (f"SELECT {columns} FROM events WHERE seq = ?", (second,)))
    assignments = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
    sql(copy, (f"UPDATE events SET {assignments} WHERE seq = ?", (*b, first)),
        (f"UPDATE events SET {assignments} WHERE seq = ?", (*a, second)))
    result = verify(copy)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"LEDGER BROKEN: event {first} does not follow event {first - 1}")


def _bodies(path: Path) -> dict[int, str]:
    return dict(sql(path, ("SELECT seq, body FROM events",)))


@pytest.mark.parametrize("seq", [1, 2, 7, 12, 19, 24, 30, N_EVENTS])
def test_a_byte_flipped_in_the_database_file_is_found(pristine, tmp_path, seq):
    """Flip a byte of the file where the event's body is stored: found, or the file is reported damaged."""
    rng = random.Random(seq)
    for attempt in range(4):
        path = tmp_path / f"{attempt}.db"
        shutil.copy(pristine, path)
        assert not Path(f"{path}-wal").exists()  # everything is in the main file
        data = bytearray(path.read_bytes())
        needle = _bodies(path)[seq].encode("utf-8")
        offsets = []
        start = data.find(needle)
        while start != -1:
            offsets.append(start)
            start = data.find(needle, start + 1)
        assert offsets, "the body is stored in one piece"
        where = rng.randrange(len(needle))
        bit = 1 << rng.randrange(8)
        for offset in offsets:  # a page split may leave a stale copy: change every copy
            data[offset + where] ^= bit
        path.write_bytes(bytes(data))
        result = verify(path)
        assert result.exit_code in (1, 2), result.stdout
        assert "Traceback" not in result.stdout + result.stderr
        if result.exit_code == 1:
            assert result.stdout.startswith(f"LEDGER BROKEN: event {seq} "), result.stdout
        else:
            assert "not a readable tiergate ledger" in result.stderr, result.stderr


def test_a_damaged_file_header_is_reported(copy):
    data = bytearray(copy.read_bytes())
    data[0:16] = b"not a database!!"
    copy.write_bytes(bytes(data))
    result = verify(copy)
    assert result.exit_code == 2
    assert f"{copy}: error[E600]: this file is not a readable tiergate ledger" in result.stderr


def test_audit_head_and_a_head_that_moved_on(copy, policy):
    head = tiergate("audit", "head", "--ledger", str(copy))
    assert head.exit_code == 0
    [(last,)] = sql(copy, ("SELECT hash FROM events ORDER BY seq DESC LIMIT 1",))
    assert head.output == f"{last}\n"
    assert verify(copy, "--head", last).exit_code == 0
    with Ledger(copy) as led:
        row = record(led, policy, None, body("monitoring", use_case="predictive-maintenance", version="3.0",
                                             actor="paula", at="2026-07-23T06:00:00Z", kind="input_drift",
                                             metrics={"psi": 0.12}))
    result = verify(copy, "--head", last)
    assert result.exit_code == 1
    assert result.stdout == f"LEDGER BROKEN: the ledger moved on: the published head {last} is event {N_EVENTS}, " \
                            f"and 1 event was added since (head now {row.hash})\n"


def test_a_published_head_of_another_ledger_is_refused(copy):
    result = verify(copy, "--head", "0" * 63 + "1")
    assert result.exit_code == 1
    assert "is no event of this ledger" in result.stdout


def test_status_reports_a_version_it_cannot_judge_and_goes_on(loan, policy, tmp_path):
    """Answers registered under an older questionnaire may lack what the current policy reads: that one row
    says so and needs attention; the other use cases are still shown."""
    from tiergate.ledger.registry import status

    register(loan, policy, None, "churn-dashboard", "1.0", answers(policy, "churn-dashboard"), "dana", T0)
    source = (ROOT / "policies" / "mlops-default.policy").read_text(encoding="utf-8")
    schema = json.loads((ROOT / "schemas" / "questionnaire.schema.json").read_text(encoding="utf-8"))
    schema["properties"]["answers"]["properties"]["on_call"] = {"type": "boolean", "description": "Paged at night?"}
    (tmp_path / "q.json").write_text(json.dumps(schema), encoding="utf-8")
    newer = source.replace('questionnaire: "../schemas/questionnaire.schema.json"', 'questionnaire: "q.json"') \
        .replace("  otherwise ad_hoc", '  critical when on_call because "Someone is paged at night"\n  otherwise ad_hoc')
    (tmp_path / "newer.policy").write_text(newer, encoding="utf-8")
    rows = {r.use_case: r for r in status(loan, load_policy(tmp_path / "newer.policy"), None,
                                          datetime(2026, 3, 1, tzinfo=timezone.utc))}
    assert set(rows) == {"loan-approval", "churn-dashboard"}
    for row in rows.values():
        assert row.attention and row.problem.startswith("the answer on_call is missing")
