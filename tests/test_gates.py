"""Gate semantics, one rule at a time, with small inline event logs and rosters.

Most tests use GATES_POLICY, a small policy whose requirements each exercise one rule; a few use the
shipped default pack where its own requirements are the point (forbids, protected attributes).
Every check runs at a fixed time, so no outcome depends on today's date.
"""
from __future__ import annotations

import copy
import html
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tiergate import compile_policy, load_policy
from tiergate.decide.check import check
from tiergate.cli import main
from tiergate import TiergateError
from tiergate.inputs.events import EventLog, format_time, parse_events, parse_roster
from tiergate.decide.gates.base import BREACH, DUE, MET, OK, OVERDUE, UNMET, WAIVED

ROOT = Path(__file__).resolve().parent.parent

GATES_POLICY = '''\
policy "gates-test" version "1.0.0":
  description: "One requirement per gate rule"

tiers low < high

roles builder, reviewer, risk, ops

workflow default:
  draft -> build -> staging -> live -> watch
  watch -> build

consideration quality "Quality": metrics_record, load_test, tests, input_drift, review, signoff, deployment
consideration fairness "Fairness": bias_test, fairness

classify:
  high when availability == "realtime" because "Live"
  otherwise low

tier low:
  require evidence metrics_record before live
  recommend evidence load_test before live
  forbid when decisions_about_people and availability == "ad_hoc" because "No decisions about people from ad hoc work" as "no-adhoc-people"

tier high extends low:
  require signoff from reviewer, risk before staging
  require 2 signoffs from reviewer before live
  require evidence bias_test where disparate_impact >= 0.8 for protected_attributes before staging
  require evidence fairness where gap < 0.1 for age, region before staging
  require evidence tests where failed == 0 before staging waivable by risk up to 7d
  require deployment in [shadow, canary] before live
  require monitoring input_drift where psi < 0.2 every 10d after live
  require review by risk every 10d after live
'''

SIGNOFF = "signoff:reviewer+risk@staging"
TWO = "signoff:2xreviewer@live"
BIAS = "evidence:bias_test@staging"
FAIRNESS = "evidence:fairness@staging"
TESTS = "evidence:tests@staging"
METRICS = "evidence:metrics_record@live"
LOAD = "evidence:load_test@live"
MODE = "deployment@live"
DRIFT = "monitoring:input_drift@live"
REVIEW = "review:risk@live"

ROSTER = '''\
people:
  alice: [builder, reviewer]
  bob: [reviewer]
  carol: [reviewer]
  rick: [risk]
  tess:
    - reviewer
    - role: risk
      since: "2026-01-10T00:00:00Z"
      until: "2026-01-20T00:00:00Z"
'''

#: a realtime use case (tier high) that names two protected attributes
ANSWERS = {
    "use_case": "uc",
    "title": "Test use case",
    "owner": "Tests",
    "answers": {
        "regulations": {"sector": "finance", "regions": ["eu"], "pii": True},
        "audience": "public",
        "availability": "realtime",
        "impact": {"legal": "high", "financial": "high", "personal": "high", "public_trust": "medium"},
        "release_cadence": "quarterly",
        "model_lifetime": "years",
        "decision_impact_lifetime": "years",
        "quality_decay": "moderate",
        "explainability": "required",
        "decisions_about_people": True,
        "protected_attributes": ["age", "gender"],
    },
}

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)  # version 1 is registered by alice


def t(days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours, seconds=seconds)


def ev(when: datetime, type_: str, actor: str, version: str = "1", **fields) -> str:
    """One event as a line of YAML (flow style)."""
    record = {"at": format_time(when), "type": type_, "use_case": "uc", "version": version, "actor": actor, **fields}
    return "- " + json.dumps(record)


def signoff(when, actor, role, gate, decision="approve", version="1") -> str:
    return ev(when, "signoff", actor, version, role=role, gate=gate, decision=decision)


def evidence(when, kind, metrics=None, attributes=None, actor="alice", version="1") -> str:
    fields = {"kind": kind, "metrics": metrics or {}}
    if attributes is not None:
        fields["attributes"] = attributes
    return ev(when, "evidence", actor, version, **fields)


def waiver(when, actor, requirement, expires, version="1") -> str:
    return ev(when, "waiver", actor, version, requirement=requirement, justification="test", expires=format_time(expires))


def transition(when, to, mode=None, actor="alice", version="1") -> str:
    return ev(when, "transition", actor, version, to=to, **({"mode": mode} if mode else {}))


def log(*lines: str, author: str = "alice") -> EventLog:
    """Version 1 registered by `author` at T0, then the given events."""
    text = "\n".join([ev(T0, "registered", author), *lines]) + "\n"
    return parse_events(text, "events.yaml")


def walk(*stages: str, start: float = 0.01) -> list[str]:
    """Transitions of version 1 through `stages`, an hour apart from T0 + `start` days."""
    return [transition(t(start, hours=i), stage) for i, stage in enumerate(stages)]


#: everything version 1 needs to enter live (staging reached properly, two reviewers, metrics, mode canary)
def ready_for_live() -> list[str]:
    return [
        *walk("build"),
        signoff(t(1), "bob", "reviewer", "staging"), signoff(t(1), "rick", "risk", "staging"),
        evidence(t(1), "bias_test", attributes={"age": {"disparate_impact": 0.9}, "gender": {"disparate_impact": 0.95}}),
        evidence(t(1), "fairness", attributes={"age": {"gap": 0.02}, "region": {"gap": 0.03}}),
        evidence(t(1), "tests", {"failed": 0}),
        transition(t(2), "staging"),
        evidence(t(3), "metrics_record", {"auc": 0.9}), evidence(t(3), "load_test", {"p99_ms": 40}),
        signoff(t(3), "bob", "reviewer", "live"), signoff(t(3), "carol", "reviewer", "live"),
    ]


@pytest.fixture(scope="module")
def policy():
    return compile_policy(GATES_POLICY, "gates.policy", ROOT / "policies")


@pytest.fixture(scope="module")
def roster():
    return parse_roster(ROSTER, "roster.yaml")


@pytest.fixture(scope="module")
def default_pack():
    return load_policy(ROOT / "policies" / "mlops-default.policy")


def gate(policy, roster, events: EventLog, to: str, at: datetime, mode=None, answers=ANSWERS, **options):
    return check(policy, answers, events, roster, to=to, mode=mode, at=at, **options)


def status(result, requirement_id: str):
    matches = [s for s in result.requirements if s.id == requirement_id]
    assert len(matches) == 1, [s.id for s in result.requirements]
    return matches[0]


def obligation(result, requirement_id: str):
    matches = [o for o in result.obligations if o.id == requirement_id]
    assert len(matches) == 1, [o.id for o in result.obligations]
    return matches[0]


def test_the_test_policy_has_the_requirements_we_test(policy):
    ids = {r.id for r in policy.tier("high").requirements}
    assert {SIGNOFF, TWO, BIAS, FAIRNESS, TESTS, METRICS, LOAD, MODE, DRIFT, REVIEW, "no-adhoc-people"} == ids


# --- sign-offs: separation of duties ---------------------------------------------------------

def test_the_author_cannot_approve_their_own_version(policy, roster):
    # alice registered version 1 and holds reviewer; her approval is recorded but does not count
    r = gate(policy, roster, log(*walk("build"), signoff(t(1), "alice", "reviewer", "staging"),
                                 signoff(t(1), "rick", "risk", "staging")), "staging", t(2))
    s = status(r, SIGNOFF)
    assert s.status == UNMET
    assert s.reason == ("needs an approving sign-off from reviewer for staging (none recorded); alice's sign-off "
                        "does not count: alice registered this version (separation of duties)")


def test_a_colleague_can_approve(policy, roster):
    r = gate(policy, roster, log(*walk("build"), signoff(t(1), "bob", "reviewer", "staging"),
                                 signoff(t(1), "rick", "risk", "staging")), "staging", t(2))
    assert status(r, SIGNOFF).status == MET
    assert status(r, SIGNOFF).reason == "approved by reviewer: bob; risk: rick"


def test_the_author_is_whoever_registered_the_version(policy, roster):
    # bob registered it this time: alice may approve, bob may not
    events = log(*walk("build"), signoff(t(1), "alice", "reviewer", "staging"), signoff(t(1), "bob", "reviewer", "live"),
                 signoff(t(1), "rick", "risk", "staging"), author="bob")
    assert status(gate(policy, roster, events, "staging", t(2)), SIGNOFF).status == MET
    r = gate(policy, roster, events, "live", t(2))
    assert "bob's sign-off does not count: bob registered this version" in status(r, TWO).reason


def test_each_role_needs_its_own_signoff(policy, roster):
    r = gate(policy, roster, log(*walk("build"), signoff(t(1), "bob", "reviewer", "staging")), "staging", t(2))
    assert status(r, SIGNOFF).reason == "needs an approving sign-off from risk for staging (none recorded)"


def test_a_signoff_for_another_gate_does_not_count(policy, roster):
    r = gate(policy, roster, log(*walk("build"), signoff(t(1), "bob", "reviewer", "live"),
                                 signoff(t(1), "rick", "risk", "live")), "staging", t(2))
    assert status(r, SIGNOFF).status == UNMET


def test_a_signoff_in_a_role_the_person_does_not_hold(policy, roster):
    r = gate(policy, roster, log(*walk("build"), signoff(t(1), "bob", "reviewer", "staging"),
                                 signoff(t(1), "carol", "risk", "staging")), "staging", t(2))
    assert status(r, SIGNOFF).reason == ("needs an approving sign-off from risk for staging (none recorded); carol's "
                                         "sign-off does not count: carol held reviewer at 2026-01-02T09:00:00Z, not risk")


def test_a_person_missing_from_the_roster(policy, roster):
    r = gate(policy, roster, log(*walk("build"), signoff(t(1), "bob", "reviewer", "staging"),
                                 signoff(t(1), "zoe", "risk", "staging")), "staging", t(2))
    assert "zoe's sign-off does not count: zoe held no role at 2026-01-02T09:00:00Z, not risk and is not in the " \
           "roster" in status(r, SIGNOFF).reason
    assert [w.code for w in r.warnings] == ["W425"]


# --- sign-offs: the role must be held at the time (roster since/until) -------------------------

@pytest.mark.parametrize("signed, counts", [
    (datetime(2026, 1, 5, tzinfo=timezone.utc), False),           # before `since`
    (datetime(2026, 1, 10, tzinfo=timezone.utc), True),           # `since` is inclusive
    (datetime(2026, 1, 15, tzinfo=timezone.utc), True),
    (datetime(2026, 1, 19, 23, 59, 59, tzinfo=timezone.utc), True),
    (datetime(2026, 1, 20, tzinfo=timezone.utc), False),          # `until` is exclusive
    (datetime(2026, 1, 25, tzinfo=timezone.utc), False),          # after `until`
])
def test_role_must_be_held_when_signing(policy, roster, signed, counts):
    events = log(*walk("build"), signoff(t(1), "bob", "reviewer", "staging"), signoff(signed, "tess", "risk", "staging"))
    s = status(gate(policy, roster, events, "staging", datetime(2026, 2, 1, tzinfo=timezone.utc)), SIGNOFF)
    assert (s.status == MET) is counts
    if not counts:
        assert f"tess's sign-off does not count: tess held reviewer at {format_time(signed)}, not risk" in s.reason


def test_a_signoff_given_while_holding_the_role_still_counts_after_it_ends(policy, roster):
    events = log(*walk("build"), signoff(t(1), "bob", "reviewer", "staging"),
                 signoff(datetime(2026, 1, 12, tzinfo=timezone.utc), "tess", "risk", "staging"))
    r = gate(policy, roster, events, "staging", datetime(2026, 6, 1, tzinfo=timezone.utc))
    assert not roster.holds("tess", "risk", datetime(2026, 6, 1, tzinfo=timezone.utc))
    assert status(r, SIGNOFF).status == MET


# --- sign-offs: N distinct people ------------------------------------------------------------

@pytest.mark.parametrize("signers, met, have", [
    (["bob"], False, "1 so far"),
    (["bob", "bob"], False, "1 so far"),             # the same person twice counts once
    (["bob", "carol"], True, None),
    (["bob", "carol", "bob"], True, None),
    (["alice", "bob"], False, "1 so far"),           # the author does not count
    (["bob", "rick"], False, "1 so far"),            # rick does not hold reviewer
    ([], False, "none recorded"),
])
def test_n_signoffs_need_n_distinct_people(policy, roster, signers, met, have):
    events = log(*[signoff(t(1, hours=i), who, "reviewer", "live") for i, who in enumerate(signers)])
    s = status(gate(policy, roster, events, "live", t(2)), TWO)
    assert (s.status == MET) is met
    if met:
        assert s.reason == "approved by reviewer: bob, carol"
    else:
        assert s.reason.startswith(f"needs 2 approving sign-offs from reviewer for live ({have})")


# --- sign-offs: rejections ---------------------------------------------------------------------

def test_a_rejection_after_an_approval_cancels_it(policy, roster):
    events = log(signoff(t(1), "bob", "reviewer", "staging"), signoff(t(1), "rick", "risk", "staging"),
                 signoff(t(2), "carol", "reviewer", "staging", "reject"))
    s = status(gate(policy, roster, events, "staging", t(3)), SIGNOFF)
    assert s.status == UNMET
    assert s.reason == ("needs an approving sign-off from reviewer for staging (none recorded); rejected by carol at "
                        "2026-01-03T09:00:00Z (line 4)")


def test_an_approval_after_a_rejection_counts(policy, roster):
    events = log(signoff(t(1), "carol", "reviewer", "staging", "reject"), signoff(t(2), "bob", "reviewer", "staging"),
                 signoff(t(2), "rick", "risk", "staging"))
    assert status(gate(policy, roster, events, "staging", t(3)), SIGNOFF).status == MET


def test_the_same_person_can_change_their_mind(policy, roster):
    events = log(signoff(t(1), "rick", "risk", "staging", "reject"), signoff(t(1), "bob", "reviewer", "staging"),
                 signoff(t(2), "rick", "risk", "staging"))
    assert status(gate(policy, roster, events, "staging", t(3)), SIGNOFF).status == MET
    again = log(signoff(t(1), "rick", "risk", "staging"), signoff(t(1), "bob", "reviewer", "staging"),
                signoff(t(2), "rick", "risk", "staging", "reject"))
    assert status(gate(policy, roster, again, "staging", t(3)), SIGNOFF).status == UNMET


def test_a_rejection_from_another_role_leaves_this_role_alone(policy, roster):
    events = log(signoff(t(1), "bob", "reviewer", "staging"), signoff(t(1), "rick", "risk", "staging"),
                 signoff(t(2), "rick", "risk", "live", "reject"))  # another gate
    assert status(gate(policy, roster, events, "staging", t(3)), SIGNOFF).status == MET


def test_a_rejection_by_someone_without_the_role_does_not_count(policy, roster):
    events = log(signoff(t(1), "bob", "reviewer", "staging"), signoff(t(1), "rick", "risk", "staging"),
                 signoff(t(2), "carol", "risk", "staging", "reject"))  # carol is no risk officer
    assert status(gate(policy, roster, events, "staging", t(3)), SIGNOFF).status == MET


def test_a_rejection_cancels_every_earlier_approval_of_a_counted_signoff(policy, roster):
    events = log(signoff(t(1), "bob", "reviewer", "live"), signoff(t(1), "carol", "reviewer", "live"),
                 signoff(t(2), "tess", "reviewer", "live", "reject"), signoff(t(3), "bob", "reviewer", "live"))
    s = status(gate(policy, roster, events, "live", t(4)), TWO)
    assert s.status == UNMET and s.reason.startswith("needs 2 approving sign-offs from reviewer for live (1 so far)")


def test_a_rejection_after_the_evaluation_time_is_not_known_yet(policy, roster):
    events = log(signoff(t(1), "bob", "reviewer", "staging"), signoff(t(1), "rick", "risk", "staging"),
                 signoff(t(5), "carol", "reviewer", "staging", "reject"))
    assert status(gate(policy, roster, events, "staging", t(3)), SIGNOFF).status == MET
    assert status(gate(policy, roster, events, "staging", t(6)), SIGNOFF).status == UNMET


# --- evidence: the latest decides ----------------------------------------------------------------

@pytest.mark.parametrize("results, at, met", [
    ([0], 5, True),
    ([3], 5, False),
    ([0, 2], 5, False),   # a newer failing test blocks even after an older pass
    ([2, 0], 5, True),    # a newer passing test replaces an older failure
    ([0, 2], 1.5, True),  # the newer one, recorded after the evaluation time, is not known yet
])
def test_the_latest_evidence_decides(policy, roster, results, at, met):
    events = log(*[evidence(t(1 + i), "tests", {"failed": n}) for i, n in enumerate(results)])
    s = status(gate(policy, roster, events, "staging", t(at)), TESTS)
    assert (s.status == MET) is met
    latest = min(len(results), int(at))  # the line of the last event known at `at` (line 1 is the registration)
    assert f"the latest tests (line {latest + 1}, " in s.reason


def test_failing_evidence_says_what_does_not_hold(policy, roster):
    s = status(gate(policy, roster, log(evidence(t(1), "tests", {"failed": 3})), "staging", t(2)), TESTS)
    assert s.reason == "the latest tests (line 2, 2026-01-02T09:00:00Z): `failed == 0` does not hold (failed = 3)"


def test_missing_evidence(policy, roster):
    s = status(gate(policy, roster, log(), "staging", t(2)), TESTS)
    assert (s.status, s.reason) == (UNMET, "no tests evidence recorded for version 1")


def test_a_missing_metric_is_unmet_with_that_reason(policy, roster):
    s = status(gate(policy, roster, log(evidence(t(1), "tests", {"passed": 120})), "staging", t(2)), TESTS)
    assert (s.status, s.reason) == (UNMET, "the latest tests (line 2, 2026-01-02T09:00:00Z): metric failed is missing")


def test_evidence_without_a_condition_only_needs_recording(policy, roster):
    s = status(gate(policy, roster, log(evidence(t(1), "metrics_record")), "live", t(2)), METRICS)
    assert (s.status, s.reason) == (MET, "the latest metrics_record (line 2, 2026-01-02T09:00:00Z) is recorded")


# --- evidence: per attribute -------------------------------------------------------------------

@pytest.mark.parametrize("attributes, met, reason", [
    ({"age": {"gap": 0.02}, "region": {"gap": 0.05}}, True,
     "the latest fairness (line 2, 2026-01-02T09:00:00Z) satisfies `gap < 0.1` for age, region"),
    ({"age": {"gap": 0.02}, "region": {"gap": 0.2}}, False,
     "the latest fairness (line 2, 2026-01-02T09:00:00Z), for region: `gap < 0.1` does not hold (gap = 0.2)"),
    ({"age": {"gap": 0.02}}, False,
     "the latest fairness (line 2, 2026-01-02T09:00:00Z) has no metrics for region"),
    ({"age": {"gap": 0.02}, "region": {"spread": 0.01}}, False,
     "the latest fairness (line 2, 2026-01-02T09:00:00Z), for region: metric gap is missing"),
    (None, False,
     "the latest fairness (line 2, 2026-01-02T09:00:00Z) has no metrics for age; "
     "the latest fairness (line 2, 2026-01-02T09:00:00Z) has no metrics for region"),
])
def test_for_names_check_each_attribute(policy, roster, attributes, met, reason):
    # the top-level metrics do not stand in for the attributes
    events = log(evidence(t(1), "fairness", {"gap": 0.01}, attributes))
    s = status(gate(policy, roster, events, "staging", t(2)), FAIRNESS)
    assert ((s.status == MET) is met, s.reason) == (True, reason)


@pytest.mark.parametrize("protected, attributes, met, reason_part", [
    (["age", "gender"], {"age": {"disparate_impact": 0.9}, "gender": {"disparate_impact": 0.85}}, True,
     "satisfies `disparate_impact >= 0.8` for age, gender"),
    (["age", "gender"], {"age": {"disparate_impact": 0.9}}, False, "has no metrics for gender"),
    (["age", "gender"], {"age": {"disparate_impact": 0.9}, "gender": {"disparate_impact": 0.6}}, False,
     "for gender: `disparate_impact >= 0.8` does not hold (disparate_impact = 0.6)"),
    # attributes the use case does not name are not checked
    (["age"], {"age": {"disparate_impact": 0.9}, "gender": {"disparate_impact": 0.1}}, True,
     "satisfies `disparate_impact >= 0.8` for age"),
    ([], {}, True, "is recorded (the use case names no protected_attributes to test)"),
])
def test_a_list_question_stands_for_the_use_cases_answers(policy, roster, protected, attributes, met, reason_part):
    answers = copy.deepcopy(ANSWERS)
    answers["answers"]["protected_attributes"] = protected
    events = log(evidence(t(1), "bias_test", {}, attributes))
    s = status(gate(policy, roster, events, "staging", t(2), answers=answers), BIAS)
    assert (s.status == MET) is met
    assert reason_part in s.reason


def test_protected_attributes_in_the_default_pack(default_pack, roster):
    # loan-approval names `age`; its bias test must carry metrics for age
    answers = yaml.safe_load((ROOT / "examples" / "use-cases" / "loan-approval.yaml").read_text(encoding="utf-8"))
    events = parse_events("\n".join([
        '- {at: "2026-01-01T09:00:00Z", type: registered, use_case: loan-approval, version: "1", actor: dana}',
        '- {at: "2026-01-02T09:00:00Z", type: evidence, use_case: loan-approval, version: "1", actor: dana, '
        'kind: bias_test, metrics: {disparate_impact: 0.95}, attributes: {gender: {disparate_impact: 0.9}}}',
    ]), "events.yaml")
    r = check(default_pack, answers, events, roster, to="preproduction", at=t(2))
    s = status(r, "evidence:bias_test@preproduction")
    assert s.status == UNMET and s.reason.endswith("has no metrics for age")


# --- deployment modes --------------------------------------------------------------------------

@pytest.mark.parametrize("mode, met, reason", [
    (None, False, "the transition declares no deployment mode; allowed: shadow, canary"),
    ("full", False, "deployment mode full is not allowed here; allowed: shadow, canary"),
    ("ab_test", False, "deployment mode ab_test is not allowed here; allowed: shadow, canary"),
    ("shadow", True, "deployment mode shadow"),
    ("canary", True, "deployment mode canary"),
])
def test_deployment_mode(policy, roster, mode, met, reason):
    r = gate(policy, roster, log(*ready_for_live()), "live", t(4), mode=mode)
    s = status(r, MODE)
    assert ((s.status == MET) is met, s.reason) == (True, reason)
    assert r.allowed is met  # everything else for live is in place


def test_deployment_mode_of_a_past_transition_is_judged_in_replay(policy, roster):
    r = gate(policy, roster, log(*ready_for_live(), transition(t(4), "live", mode="full")), None, t(5), replay=True)
    assert [(v.to_stage, v.mode, v.message) for v in r.violations] == [
        ("live", "full", "entered live while its gate was not met: deployment@live")]
    ok = gate(policy, roster, log(*ready_for_live(), transition(t(4), "live", mode="canary")), None, t(5), replay=True)
    assert ok.violations == ()


# --- waivers -----------------------------------------------------------------------------------

#: waived requirement: `evidence tests where failed == 0 before staging waivable by risk up to 7d`
@pytest.mark.parametrize("who, recorded, expires, at, outcome", [
    ("rick", 1, 8, 5, WAIVED),       # valid: by risk, 7 days, not expired
    ("rick", 1, 8, 8, "expired"),    # it ends at its expiry
    ("rick", 1, 4, 5, "expired"),
    ("rick", 1, 9, 5, "over-long"),  # 8 days > 7 days
    ("rick", 1, 1 + 7 + 1 / 86400, 5, "over-long"),  # one second too long
    ("bob", 1, 8, 5, "unauthorised"),   # bob holds no risk role
    ("alice", 1, 8, 5, "unauthorised"),
])
def test_waivers(policy, roster, who, recorded, expires, at, outcome):
    events = log(waiver(t(recorded), who, TESTS, t(expires)))
    s = status(gate(policy, roster, events, "staging", t(at)), TESTS)
    line = "the waiver by {} (line 2)".format(who)
    if outcome == WAIVED:
        assert s.status == WAIVED and not s.failing
        assert s.reason == (f"waived by {who} until {format_time(t(expires))} (line 2): test; "
                            "otherwise: no tests evidence recorded for version 1")
        return
    assert s.status == UNMET and s.failing
    assert s.reason.startswith("no tests evidence recorded for version 1; ")
    if outcome == "expired":
        assert s.reason.endswith(f"{line} expired at {format_time(t(expires))}")
    elif outcome == "over-long":
        days = (t(expires) - t(recorded)).total_seconds() / 86400
        assert s.reason.endswith(f"{line} does not count: it runs {days:g} days, longer than the 7 days the policy "
                                 "allows")
    else:
        assert s.reason.endswith(f"{line} does not count: only risk may waive {TESTS}")


def test_a_waiver_of_exactly_the_longest_time_counts(policy, roster):
    s = status(gate(policy, roster, log(waiver(t(1), "rick", TESTS, t(8))), "staging", t(7.999)), TESTS)
    assert s.status == WAIVED


def test_the_waiver_must_be_recorded_by_someone_holding_the_role_then(policy, roster):
    # tess holds risk from 10 to 20 January only
    inside = log(waiver(datetime(2026, 1, 12, tzinfo=timezone.utc), "tess", TESTS,
                        datetime(2026, 1, 18, tzinfo=timezone.utc)))
    outside = log(waiver(datetime(2026, 1, 21, tzinfo=timezone.utc), "tess", TESTS,
                         datetime(2026, 1, 27, tzinfo=timezone.utc)))
    assert status(gate(policy, roster, inside, "staging", datetime(2026, 1, 15, tzinfo=timezone.utc)),
                  TESTS).status == WAIVED
    s = status(gate(policy, roster, outside, "staging", datetime(2026, 1, 22, tzinfo=timezone.utc)), TESTS)
    assert s.status == UNMET and s.reason.endswith(f"does not count: only risk may waive {TESTS}")


def test_a_requirement_without_waivable_by_cannot_be_waived(policy, roster):
    events = log(waiver(t(1), "rick", METRICS, t(3)))
    s = status(gate(policy, roster, events, "live", t(2)), METRICS)
    assert s.status == UNMET
    assert s.reason == (f"no metrics_record evidence recorded for version 1; the waiver by rick (line 2) does not "
                        f"count: {METRICS} is not waivable")


def test_a_waiver_is_not_needed_when_the_requirement_is_met(policy, roster):
    events = log(evidence(t(1), "tests", {"failed": 0}), waiver(t(1), "rick", TESTS, t(3)))
    assert status(gate(policy, roster, events, "staging", t(2)), TESTS).status == MET


def test_a_waiver_recorded_after_the_evaluation_time_is_not_known(policy, roster):
    events = log(waiver(t(3), "rick", TESTS, t(6)))
    assert status(gate(policy, roster, events, "staging", t(2)), TESTS).status == UNMET
    assert status(gate(policy, roster, events, "staging", t(4)), TESTS).status == WAIVED


def test_a_newer_valid_waiver_replaces_an_expired_one(policy, roster):
    events = log(waiver(t(1), "rick", TESTS, t(3)), waiver(t(4), "rick", TESTS, t(10)))
    assert status(gate(policy, roster, events, "staging", t(5)), TESTS).status == WAIVED


def test_a_waived_gate_allows_the_transition_and_replay_agrees(policy, roster):
    base = [*walk("build"), signoff(t(1), "bob", "reviewer", "staging"), signoff(t(1), "rick", "risk", "staging"),
            evidence(t(1), "bias_test", attributes={"age": {"disparate_impact": 0.9}, "gender": {"disparate_impact": 0.9}}),
            evidence(t(1), "fairness", attributes={"age": {"gap": 0.0}, "region": {"gap": 0.0}}),
            waiver(t(1), "rick", TESTS, t(5))]
    r = gate(policy, roster, log(*base), "staging", t(2))
    assert r.allowed is True
    replayed = gate(policy, roster, log(*base, transition(t(2), "staging")), None, t(10), replay=True)
    assert replayed.violations == ()  # judged at the time of the transition, when the waiver ran


# --- obligations ------------------------------------------------------------------------------

#: version 1 enters live at LIVE; drift every 10d where psi < 0.2; review by risk every 10d
LIVE = t(4)


def live_log(*lines: str) -> EventLog:
    return log(*ready_for_live(), transition(LIVE, "live", mode="canary"), *lines)


def drift(days_after_live: float, psi) -> str:
    metrics = {"psi": psi} if psi is not None else {"rows": 10}
    return ev(LIVE + timedelta(days=days_after_live), "monitoring", "ops-bot", kind="input_drift", metrics=metrics)


def review(days_after_live: float, actor: str, decision: str = "approve", role: str = "risk") -> str:
    return ev(LIVE + timedelta(days=days_after_live), "review", actor, role=role, decision=decision)


@pytest.mark.parametrize("results, after, expected, next_due", [
    ([], 5, OK, 10),
    ([], 8.9, OK, 10),
    ([], 9, DUE, 10),            # the last 10% of the period
    ([], 9.5, DUE, 10),
    ([], 10, DUE, 10),           # due at the deadline itself
    ([], 10 + 1 / 86400, OVERDUE, 10),
    ([(8, 0.1)], 12, OK, 18),    # the next one is due a period after the latest result
    ([(8, 0.1)], 18.5, OVERDUE, 18),
    ([(2, 0.3)], 3, BREACH, 12),  # the latest result fails its condition
    ([(2, 0.3), (4, 0.1)], 5, OK, 14),  # a newer passing result ends the breach
    ([(2, 0.1), (4, 0.25)], 5, BREACH, 14),
    ([(2, None)], 3, BREACH, 12),  # a result without the metric fails the condition
])
def test_monitoring_obligation(policy, roster, results, after, expected, next_due):
    reviewed = review(after - 0.1, "rick")  # keeps the review obligation out of the exit code
    r = gate(policy, roster, live_log(*[drift(d, psi) for d, psi in results], reviewed), None,
             LIVE + timedelta(days=after))
    o = obligation(r, DRIFT)
    assert o.status == expected
    assert o.next_due == LIVE + timedelta(days=next_due)
    assert o.failing is (expected in (OVERDUE, BREACH))
    assert r.exit_code() == (1 if expected in (OVERDUE, BREACH) else 0)
    assert r.exit_code(fail_on_warn=True) == (0 if expected == OK else 1)


def test_monitoring_breach_reason(policy, roster):
    r = gate(policy, roster, live_log(drift(2, 0.31)), None, LIVE + timedelta(days=3))
    assert obligation(r, DRIFT).reason == ("the latest input_drift result (line 14, 2026-01-07T09:00:00Z): "
                                           "`psi < 0.2` does not hold (psi = 0.31)")


def test_overdue_and_due_reasons(policy, roster):
    r = gate(policy, roster, live_log(drift(1, 0.1)), None, LIVE + timedelta(days=12))
    assert obligation(r, DRIFT).reason == ("latest input_drift result 2026-01-06T09:00:00Z; the next was due "
                                           "2026-01-16T09:00:00Z")
    r = gate(policy, roster, live_log(drift(1, 0.1)), None, LIVE + timedelta(days=10.5))
    assert obligation(r, DRIFT).reason == ("latest input_drift result 2026-01-06T09:00:00Z; the next is due "
                                           "2026-01-16T09:00:00Z")


@pytest.mark.parametrize("reviews, after, expected, next_due", [
    ([], 5, OK, 10),
    ([(3, "rick", "approve", "risk")], 11, OK, 13),
    ([(3, "rick", "approve", "risk")], 12, DUE, 13),
    ([(3, "rick", "reject", "risk")], 4, BREACH, 13),  # the latest review rejected it
    ([(3, "rick", "reject", "risk"), (5, "rick", "approve", "risk")], 6, OK, 15),
    ([(3, "rick", "approve", "risk"), (5, "rick", "reject", "risk")], 6, BREACH, 15),
    ([(3, "bob", "approve", "risk")], 12, OVERDUE, 10),  # bob holds no risk role: his review does not count
    ([(3, "bob", "reject", "reviewer")], 4, OK, 10),     # a review in another role is not this obligation's
])
def test_review_obligation(policy, roster, reviews, after, expected, next_due):
    r = gate(policy, roster, live_log(drift(after - 0.5, 0.1), *[review(*x) for x in reviews]), None,
             LIVE + timedelta(days=after))
    o = obligation(r, REVIEW)
    assert (o.status, o.next_due) == (expected, LIVE + timedelta(days=next_due))


def test_review_rejection_reason(policy, roster):
    r = gate(policy, roster, live_log(review(3, "rick", "reject")), None, LIVE + timedelta(days=4))
    assert obligation(r, REVIEW).reason == "the latest review, by rick at 2026-01-08T09:00:00Z (line 14), rejected it"


def test_obligations_start_when_the_stage_is_entered(policy, roster):
    before = gate(policy, roster, log(*ready_for_live()), None, t(100))
    assert before.stage == "staging" and before.obligations == ()
    after = gate(policy, roster, live_log(), None, LIVE + timedelta(hours=1))
    assert {o.id: o.status for o in after.obligations} == {DRIFT: OK, REVIEW: OK}


def test_obligations_keep_applying_after_moving_on(policy, roster):
    events = live_log(transition(LIVE + timedelta(days=1), "watch"))
    r = gate(policy, roster, events, None, LIVE + timedelta(days=11))
    assert r.stage == "watch" and obligation(r, DRIFT).status == OVERDUE


def test_a_retired_version_has_no_obligations(policy, roster):
    events = live_log(ev(LIVE + timedelta(days=2), "retired", "alice"))
    assert gate(policy, roster, events, None, LIVE + timedelta(days=30)).obligations == ()
    # before its retirement it had them
    assert obligation(gate(policy, roster, events, None, LIVE + timedelta(days=1)), DRIFT).status == OK


# --- forbids ----------------------------------------------------------------------------------

def forbidden_answers() -> dict:
    answers = copy.deepcopy(ANSWERS)
    answers["answers"].update(availability="ad_hoc", audience="self")  # tier low; decisions about people, ad hoc
    return answers


@pytest.mark.parametrize("stage", ["build", "staging", "live", "watch"])
def test_a_triggered_forbid_blocks_every_transition(policy, roster, stage):
    r = gate(policy, roster, log(), stage, t(1), answers=forbidden_answers())
    assert r.tier == "low" and r.allowed is False
    s = status(r, "no-adhoc-people")
    assert (s.status, s.reason) == (UNMET, "forbidden in tier low: No decisions about people from ad hoc work")


def test_a_triggered_forbid_makes_every_past_transition_a_violation(policy, roster):
    r = gate(policy, roster, log(*walk("build", "staging")), None, t(1), answers=forbidden_answers(), replay=True)
    assert [(v.to_stage, v.message) for v in r.violations] == [
        ("build", "entered build while its gate was not met: no-adhoc-people"),
        ("staging", "entered staging while its gate was not met: no-adhoc-people"),
    ]


def test_a_forbid_that_does_not_trigger_is_not_reported(policy, roster):
    r = gate(policy, roster, log(), "build", t(1))
    assert r.allowed is True and r.requirements == ()


def test_a_forbid_of_the_default_pack(default_pack, roster):
    answers = yaml.safe_load((ROOT / "examples" / "use-cases" / "loan-approval.yaml").read_text(encoding="utf-8"))
    answers["answers"].update(availability="scheduled", audience="internal_few", explainability="none")
    answers["answers"]["impact"].update(legal="medium", personal="medium")
    events = parse_events('- {at: "2026-01-01T09:00:00Z", type: registered, use_case: loan-approval, version: "1", '
                          'actor: dana}\n', "events.yaml")
    r = check(default_pack, answers, events, roster, to="ideation", at=t(1))
    assert r.tier == "monitored" and r.allowed is False
    assert [(s.id, s.reason) for s in r.requirements] == [
        ("explainable-decisions-about-people",
         "forbidden in tier monitored: Decisions about people must be explainable to the people they affect")]


# --- recommendations never block ---------------------------------------------------------------

def test_an_unmet_recommendation_does_not_block(policy, roster):
    lines = [x for x in ready_for_live() if '"load_test"' not in x]
    r = gate(policy, roster, log(*lines), "live", t(4), mode="canary")
    s = status(r, LOAD)
    assert s.status == UNMET and not s.failing and s.warning
    assert r.allowed is True and r.exit_code() == 0
    assert r.exit_code(fail_on_warn=True) == 1


# --- versions are separate -----------------------------------------------------------------------

def test_a_new_version_starts_with_nothing(policy, roster):
    v1 = [*ready_for_live(), waiver(t(1), "rick", TESTS, t(6))]
    v2 = [ev(t(5), "registered", "bob", version="2")]
    events = log(*v1, *v2)
    r = gate(policy, roster, events, "live", t(6), mode="canary")
    assert r.version == "2" and r.stage == "draft"  # the latest registered version, at the start
    assert {s.id: s.status for s in r.requirements} == {METRICS: UNMET, LOAD: UNMET, TWO: UNMET, MODE: MET}
    assert status(gate(policy, roster, events, "staging", t(6)), TESTS).reason == \
        "no tests evidence recorded for version 2"  # version 1's waiver is not version 2's
    one = gate(policy, roster, events, "live", t(6), mode="canary", version="1")
    assert one.allowed is True  # version 1 keeps its own


def test_signoffs_of_another_version_do_not_count(policy, roster):
    events = log(ev(t(1), "registered", "alice", version="2"),
                 signoff(t(2), "bob", "reviewer", "live", version="2"), signoff(t(2), "carol", "reviewer", "live",
                                                                             version="2"))
    assert status(gate(policy, roster, events, "live", t(3), version="1"), TWO).status == UNMET
    assert status(gate(policy, roster, events, "live", t(3), version="2"), TWO).status == MET


# --- the workflow ------------------------------------------------------------------------------

def test_a_transition_that_is_no_edge_is_a_violation(policy, roster):
    r = gate(policy, roster, log(*walk("build"), transition(t(1), "live", mode="canary")), None, t(2), replay=True)
    transition_violations = [v for v in r.violations if v.kind == "transition"]
    assert [(v.from_stage, v.to_stage, v.message) for v in transition_violations] == [
        ("build", "live", "build -> live is not an edge of the workflow (from build: staging)")]
    assert r.exit_code() == 1


def test_a_transition_skipping_the_start_is_a_violation(policy, roster):
    r = gate(policy, roster, log(transition(t(1), "staging")), None, t(2), replay=True)
    assert r.violations[0].message == "draft -> staging is not an edge of the workflow (from draft: build)"


def test_asking_for_a_stage_that_is_no_edge_is_blocked(policy, roster):
    r = gate(policy, roster, log(*walk("build")), "live", t(1), mode="canary")
    assert r.transition_ok is False and r.allowed is False


def test_the_loop_back_edge_is_allowed(policy, roster):
    events = live_log(transition(LIVE + timedelta(hours=1), "watch"), transition(LIVE + timedelta(hours=2), "build"))
    r = gate(policy, roster, events, None, LIVE + timedelta(days=1), replay=True)
    assert r.stage == "build" and r.violations == ()


def test_a_transition_after_retirement_is_a_violation(policy, roster):
    events = live_log(ev(LIVE + timedelta(days=1), "retired", "alice"),
                      transition(LIVE + timedelta(days=2), "watch"))
    r = gate(policy, roster, events, None, LIVE + timedelta(days=3), replay=True)
    assert [(v.kind, v.from_stage, v.to_stage, v.message) for v in r.violations] == [
        ("transition", "live", "watch", "transition to watch after the version was retired")]


def test_a_retired_version_may_not_move_even_along_an_edge(policy, roster):
    events = live_log(ev(LIVE + timedelta(days=1), "retired", "alice"))
    r = gate(policy, roster, events, "watch", LIVE + timedelta(days=2))
    assert r.allowed is False and r.transition_ok is False
    before = gate(policy, roster, events, "watch", LIVE + timedelta(hours=12))
    assert before.allowed is True


def test_a_transition_is_judged_with_what_was_known_then(policy, roster):
    # the second reviewer approves only after the version went live: the history keeps the violation
    lines = [x for x in ready_for_live() if '"carol"' not in x]
    events = log(*lines, transition(LIVE, "live", mode="canary"), signoff(LIVE + timedelta(days=1), "carol",
                                                                          "reviewer", "live"))
    r = gate(policy, roster, events, None, LIVE + timedelta(days=2), replay=True)
    assert [(v.to_stage, [s.id for s in v.unmet]) for v in r.violations] == [("live", [TWO])]
    assert status(gate(policy, roster, events, "live", LIVE + timedelta(days=2), mode="canary"), TWO).status == MET


def test_without_replay_history_is_not_judged(policy, roster):
    r = gate(policy, roster, log(transition(t(1), "live")), None, t(2))
    assert r.violations == () and r.stage == "live"


# --- the command line: exit codes -------------------------------------------------------------

@pytest.fixture
def files(tmp_path, policy):
    """write(events_lines) -> the CLI arguments for a check of the test policy with those events."""
    (tmp_path / "gates.policy").write_text(GATES_POLICY, encoding="utf-8")
    (tmp_path / "answers.yaml").write_text(yaml.safe_dump(ANSWERS), encoding="utf-8")
    (tmp_path / "roster.yaml").write_text(ROSTER, encoding="utf-8")

    def write(*lines: str) -> list[str]:
        text = "\n".join([ev(T0, "registered", "alice"), *lines]) + "\n"
        (tmp_path / "events.yaml").write_text(text, encoding="utf-8")
        return ["check", "--policy", str(tmp_path / "gates.policy"), "--answers", str(tmp_path / "answers.yaml"),
                "--events", str(tmp_path / "events.yaml"), "--roster", str(tmp_path / "roster.yaml")]

    return write


def run(argv: list[str]):
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(main, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.mark.parametrize("drop_load_test, extra, code", [
    (False, [], 0),
    (True, [], 0),                      # an unmet recommendation does not block ...
    (True, ["--fail-on-warn"], 1),      # ... unless warnings fail too
    (False, ["--fail-on-warn"], 0),
])
def test_exit_codes_for_recommendations(files, drop_load_test, extra, code):
    lines = [x for x in ready_for_live() if not (drop_load_test and '"load_test"' in x)]
    out = run(files(*lines) + ["--to", "live", "--mode", "canary", "--at", format_time(t(4)), *extra])
    assert out.exit_code == code, out.output
    assert out.output.startswith("ALLOWED: uc 1 may enter live")
    if drop_load_test:
        assert f"  ! {LOAD} (recommended): no load_test evidence recorded for version 1" in out.output


@pytest.mark.parametrize("after, extra, code", [
    (5, [], 0),                    # ok
    (9.5, [], 0),                  # due ...
    (9.5, ["--fail-on-warn"], 1),  # ... fails only with --fail-on-warn
    (11, [], 1),                   # overdue
])
def test_exit_codes_for_obligations(files, after, extra, code):
    argv = files(*ready_for_live(), transition(LIVE, "live", mode="canary"), review(1, "rick"))
    out = run(argv + ["--at", format_time(LIVE + timedelta(days=after)), *extra])
    assert out.exit_code == code, out.output


def test_exit_code_for_a_breach(files):
    argv = files(*ready_for_live(), transition(LIVE, "live", mode="canary"), drift(1, 0.4))
    out = run(argv + ["--at", format_time(LIVE + timedelta(days=2))])
    assert out.exit_code == 1
    assert "1 obligation breach" in out.output.splitlines()[0]


def test_exit_code_for_a_blocked_gate_and_a_violation(files):
    assert run(files() + ["--to", "staging", "--at", format_time(t(1))]).exit_code == 1
    out = run(files(transition(t(1), "staging")) + ["--replay", "--at", format_time(t(2))])
    assert out.exit_code == 1
    assert "draft -> staging is not an edge of the workflow" in out.output


@pytest.mark.parametrize("problem, args, message", [
    ("unknown stage", ["--to", "production"], "`production` is not a stage of workflow `default`"),
    ("unknown version", ["--version", "9", "--to", "build"], "version 9 of uc is not registered"),
    ("not yet registered", ["--to", "build", "--at", "2025-12-31T00:00:00Z"], "no version of uc is registered"),
])
def test_invalid_input_exits_2(files, problem, args, message):
    out = run(files() + args)
    assert out.exit_code == 2, out.output
    assert message in out.stderr
    assert out.stdout == ""


def test_a_malformed_event_exits_2(files, tmp_path):
    argv = files()
    (tmp_path / "events.yaml").write_text('- {at: "yesterday", type: registered, use_case: uc, version: "1", '
                                          'actor: alice}\n', encoding="utf-8")
    out = run(argv + ["--to", "build"])
    assert out.exit_code == 2
    assert "nothing was checked, so nothing is allowed" in out.stderr


def test_events_naming_a_stage_the_workflow_lacks_are_kept_and_reported_once(policy, roster):
    # history recorded under another workflow: a sign-off and a move to `prod`, which this workflow does not have
    events = log(ev(t(1), "signoff", "bob", gate="prod", role="reviewer", decision="approve"), transition(t(1, hours=1), "prod"),
                 ev(t(1, hours=2), "signoff", "bob", gate="prod", role="reviewer", decision="approve", comment="again"))
    r = gate(policy, roster, events, "build", t(2), replay=True)
    unknown = [d for d in r.warnings if d.code == "W426"]
    assert len(unknown) == 1 and "sign-off for stage `prod`, which workflow `default` does not have" in unknown[0].message
    assert not r.violations  # not judged as a move of this workflow
    off = [d for d in r.warnings if d.code == "W427"]
    assert len(off) == 1 and "is at stage `prod`, which workflow `default` does not have" in off[0].message
    assert r.stage == "prod"


def test_a_version_off_its_workflow_may_enter_any_stage_whose_gate_it_meets(policy, roster):
    events = log(transition(t(1), "prod"))
    to_build = gate(policy, roster, events, "build", t(2))
    assert to_build.transition_ok and to_build.allowed == (not any(s.failing for s in to_build.requirements))
    to_draft = gate(policy, roster, events, "draft", t(2))
    assert to_draft.transition_ok
    # but a stage the workflow does not have is still refused as the target
    with pytest.raises(TiergateError) as caught:
        gate(policy, roster, events, "prod", t(2))
    assert [d.code for d in caught.value.diagnostics] == ["E421"]


@pytest.mark.parametrize("fmt", ["text", "github", "junit"])
def test_reports_say_a_retired_version_may_not_move(files, fmt):
    # live -> watch is an edge: what stops the version is its retirement, and the report says so
    argv = files(*ready_for_live(), transition(LIVE, "live", mode="canary"),
                 ev(LIVE + timedelta(days=1), "retired", "alice"))
    out = run(argv + ["--to", "watch", "--at", format_time(LIVE + timedelta(days=2)), "--format", fmt])
    assert out.exit_code == 1
    assert "version 1 is retired; a retired version may not enter watch" in out.output
    assert "not an edge" not in out.output


@pytest.mark.parametrize("fmt", ["text", "github", "junit"])
def test_reports_say_when_a_stage_is_no_edge(files, fmt):
    out = run(files(*walk("build")) + ["--to", "live", "--mode", "canary", "--at", format_time(t(1)),
                                       "--format", fmt])
    assert out.exit_code == 1
    assert "build -> live is not an edge of the workflow (from build: staging)" in html.unescape(out.output)


@pytest.mark.parametrize("retired", [False, True])
def test_sarif_reports_a_move_the_workflow_does_not_allow(files, retired):
    if retired:  # live -> watch is an edge, but the version is retired
        argv = files(*ready_for_live(), transition(LIVE, "live", mode="canary"),
                     ev(LIVE + timedelta(days=1), "retired", "alice"))
        args, at, problem = ["--to", "watch"], LIVE + timedelta(days=2), \
            "version 1 is retired; a retired version may not enter watch"
    else:
        argv = files(*walk("build"))
        args, at, problem = ["--to", "live", "--mode", "canary"], t(1), \
            "build -> live is not an edge of the workflow (from build: staging)"
    out = run(argv + args + ["--at", format_time(at), "--format", "sarif"])
    assert out.exit_code == 1
    sarif = json.loads(out.output)["runs"][0]
    moves = [r for r in sarif["results"] if r["ruleId"] == "workflow-transition"]
    assert len(moves) == 1 and moves[0]["level"] == "error"
    assert moves[0]["message"]["text"].endswith(problem)
    rules = sarif["tool"]["driver"]["rules"]
    assert rules[moves[0]["ruleIndex"]]["id"] == "workflow-transition"
