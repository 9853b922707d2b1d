"""The story event logs in examples/events: each one's verdict, through the library and the command line.

Every story is checked at fixed times (`--at`), so no verdict depends on today's date. The text,
Markdown and GitHub reports of three stories are compared with files in tests/golden/check/.
Set TIERGATE_UPDATE_GOLDEN=1 to rewrite them, then read every changed one by eye.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiergate.decide.check import CheckResult, check
from tiergate.cli import main
from tiergate.inputs.events import load_events, parse_time
from tiergate.decide.gates.base import BREACH, MET, OK, UNMET, WAIVED
from tiergate import load_answers

ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "examples" / "events"
USE_CASES = ROOT / "examples" / "use-cases"
ROSTER = ROOT / "examples" / "roster.yaml"
POLICY = ROOT / "policies" / "mlops-default.policy"
GOLDEN = ROOT / "tests" / "golden" / "check"
UPDATE = os.environ.get("TIERGATE_UPDATE_GOLDEN") == "1"

#: story file -> the use case it tells about
STORY_USE_CASE = {
    "fraud-promotion.yaml": "card-fraud-scoring",
    "loan-no-risk-signoff.yaml": "loan-approval",
    "bias-fail-then-pass.yaml": "inflight-meal-counts",
    "expired-waiver.yaml": "plane-fuelling",
    "self-approval.yaml": "churn-dashboard",
    "drift-breach.yaml": "predictive-maintenance",
    "over-long-waiver.yaml": "ecommerce-recommender",
    "skipped-stage.yaml": "adhoc-analysis",
}


# --- helpers --------------------------------------------------------------------------------

def story(policy, roster, name: str, at: str, **options) -> CheckResult:
    """The library's verdict on a story at a fixed time."""
    answers = load_answers(USE_CASES / f"{STORY_USE_CASE[name]}.yaml", policy)
    return check(policy, answers, load_events(STORIES / name), roster, at=parse_time(at), **options)


def by_id(statuses) -> dict:
    return {s.id: s for s in statuses}


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into output unless told not to
    except TypeError:
        return CliRunner()


@pytest.fixture
def at_root(monkeypatch):
    """Run from the checkout root, so reports name files by their relative paths."""
    monkeypatch.chdir(ROOT)


def tiergate_check(name: str, *args: str):
    """`tiergate check` on a story (relative paths: run with the at_root fixture)."""
    argv = ["check", "--policy", "policies/mlops-default.policy",
            "--answers", f"examples/use-cases/{STORY_USE_CASE[name]}.yaml",
            "--events", f"examples/events/{name}", "--roster", "examples/roster.yaml", *args]
    result = runner().invoke(main, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def lines_of(output: str) -> list[str]:
    return output.splitlines()


def golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with TIERGATE_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


# --- the set of stories ---------------------------------------------------------------------

def test_every_story_is_pinned():
    assert sorted(p.name for p in STORIES.glob("*.yaml")) == sorted(STORY_USE_CASE)


@pytest.mark.parametrize("name", sorted(STORY_USE_CASE))
def test_each_story_explains_itself_and_is_clean(policy, roster, name):
    """A header tells the story and the expected verdict; the log is in time order, every actor known."""
    text = (STORIES / name).read_text(encoding="utf-8")
    header = text.split("\n- ", 1)[0]
    assert header.startswith("# Story: ")
    assert "# Expected verdict:" in header
    assert f"examples/use-cases/{STORY_USE_CASE[name]}.yaml" in header
    log = load_events(STORIES / name)
    assert not log.warnings, [str(w) for w in log.warnings]
    assert {e.use_case for e in log.events} == {STORY_USE_CASE[name]}
    result = story(policy, roster, name, "2027-01-01T00:00:00Z", replay=True)
    assert not result.warnings, [str(w) for w in result.warnings]  # no unknown role, id or person


# --- (a) fraud-promotion: every gate passed, shadow then canary -----------------------------

def test_fraud_promotion_is_compliant(policy, roster):
    r = story(policy, roster, "fraud-promotion.yaml", "2026-04-23T12:00:00Z", replay=True)
    assert (r.use_case, r.version, r.tier, r.stage) == ("card-fraud-scoring", "2026.03", "critical", "deployment")
    assert r.violations == ()
    assert {o.id: o.status for o in r.obligations} == {
        "monitoring:infrastructure_alerts@deployment": OK,
        "monitoring:input_drift@deployment": OK,
        "review:data_scientist@deployment": OK,
        "monitoring:performance@deployment": OK,
        "review:risk_audit@deployment": OK,
    }
    drift = by_id(r.obligations)["monitoring:input_drift@deployment"]
    assert drift.next_due == parse_time("2026-04-28T06:00:00Z")  # a week after the latest result
    assert r.compliant and not r.failing and r.exit_code() == 0 and r.exit_code(fail_on_warn=True) == 0


def test_fraud_promotion_shadow_version_is_retired(policy, roster):
    r = story(policy, roster, "fraud-promotion.yaml", "2026-04-23T12:00:00Z", version="2026.02", replay=True)
    assert r.stage == "deployment" and r.obligations == ()  # retired: no obligations any more
    before = story(policy, roster, "fraud-promotion.yaml", "2026-03-24T12:00:00Z", replay=True)
    assert before.version == "2026.02"
    assert {o.id: o.status for o in before.obligations}["monitoring:input_drift@deployment"] == OK


def test_fraud_promotion_full_mode_is_blocked_canary_allowed(policy, roster):
    full = story(policy, roster, "fraud-promotion.yaml", "2026-04-17T12:00:00Z", version="2026.03",
                 to="deployment", mode="full")
    assert full.allowed is False and full.transition_ok
    failing = [s for s in full.requirements if s.failing]
    assert [s.id for s in failing] == ["deployment@deployment"]
    assert failing[0].reason == "deployment mode full is not allowed here; allowed: shadow, canary, ab_test"
    canary = story(policy, roster, "fraud-promotion.yaml", "2026-04-17T12:00:00Z", version="2026.03",
                   to="deployment", mode="canary", replay=True)
    assert canary.allowed is True and canary.violations == ()
    assert all(s.status == MET for s in canary.requirements)
    assert by_id(canary.requirements)["signoff:risk_audit@deployment"].reason == \
        "approved by risk_audit: rita, raj"


def test_fraud_promotion_cli(at_root):
    out = tiergate_check("fraud-promotion.yaml", "--replay", "--at", "2026-04-23T12:00:00Z")
    assert out.exit_code == 0, out.output
    assert lines_of(out.output)[0] == \
        "card-fraud-scoring 2026.03: tier critical, now in deployment; history: no violations"
    full = tiergate_check("fraud-promotion.yaml", "--version", "2026.03", "--to", "deployment", "--mode", "full",
                          "--at", "2026-04-17T12:00:00Z")
    assert full.exit_code == 1
    assert lines_of(full.output)[0] == ("BLOCKED: card-fraud-scoring 2026.03 may not enter deployment "
                                        "(tier critical, now in preproduction)")
    assert ("  ✗ deployment@deployment: deployment mode full is not allowed here; allowed: shadow, canary, "
            "ab_test  [policies/mlops-default.policy:94]") in lines_of(full.output)
    canary = tiergate_check("fraud-promotion.yaml", "--version", "2026.03", "--to", "deployment", "--mode",
                            "canary", "--at", "2026-04-17T12:00:00Z")
    assert canary.exit_code == 0
    assert lines_of(canary.output)[0].startswith("ALLOWED: card-fraud-scoring 2026.03 may enter deployment")


# --- (b) loan-no-risk-signoff: deployed without the risk sign-off ---------------------------

def test_loan_without_risk_signoff_is_a_violation(policy, roster):
    r = story(policy, roster, "loan-no-risk-signoff.yaml", "2026-05-20T12:00:00Z", replay=True)
    assert (r.version, r.stage) == ("4.2.0", "deployment")
    assert len(r.violations) == 1
    v = r.violations[0]
    assert (v.kind, v.version, v.from_stage, v.to_stage, v.mode) == ("gate", "4.2.0", "preproduction",
                                                                     "deployment", "canary")
    assert v.at == parse_time("2026-05-15T16:30:00Z") and v.line == 215
    assert v.message == "entered deployment while its gate was not met: signoff:risk_audit@deployment"
    # the critical tier asks for two risk sign-offs in place of the one it inherits: one requirement, not two
    assert {s.id: s.reason for s in v.unmet} == {
        "signoff:risk_audit@deployment":
            "needs 2 approving sign-offs from risk_audit for deployment (none recorded)",
    }
    # Rita's approval of 19 May does not repair the history; the gate of deployment still lacks a second
    # risk auditor today, and every obligation is kept.
    assert r.failing and not r.compliant and r.exit_code() == 1
    standing = by_id(r.standing)
    assert standing["signoff:risk_audit@deployment"].status == UNMET
    assert standing["signoff:risk_audit@deployment"].reason == (
        "needs 2 approving sign-offs from risk_audit for deployment (1 so far)")
    assert all(o.status == OK for o in r.obligations)


def test_loan_was_blocked_before_the_push(policy, roster):
    r = story(policy, roster, "loan-no-risk-signoff.yaml", "2026-05-15T12:00:00Z", to="deployment", mode="canary")
    assert r.allowed is False
    assert [s.id for s in r.requirements if s.failing] == ["signoff:risk_audit@deployment"]


def test_loan_without_risk_signoff_cli(at_root):
    out = tiergate_check("loan-no-risk-signoff.yaml", "--replay", "--at", "2026-05-20T12:00:00Z")
    assert out.exit_code == 1
    lines = lines_of(out.output)
    assert lines[0] == "loan-approval 4.2.0: tier critical, now in deployment; history: 1 violation"
    assert lines[1] == "violations:"
    assert lines[2] == ("  ✗ 2026-05-15T16:30:00Z version 4.2.0: preproduction -> deployment (canary) "
                        "[examples/events/loan-no-risk-signoff.yaml:215]: entered deployment while its gate was "
                        "not met: signoff:risk_audit@deployment")
    assert lines[3] == ("      ✗ signoff:risk_audit@deployment: needs 2 approving sign-offs from risk_audit for "
                        "deployment (none recorded)  [policies/mlops-default.policy:117]")


# --- (c) bias-fail-then-pass: per protected attribute ---------------------------------------

def test_bias_test_failing_blocks_version_1(policy, roster):
    r = story(policy, roster, "bias-fail-then-pass.yaml", "2026-03-12T12:00:00Z", version="1", to="preproduction")
    assert r.tier == "monitored" and r.stage == "development" and r.allowed is False
    assert [s.id for s in r.requirements if s.failing] == ["evidence:bias_test@preproduction"]
    assert by_id(r.requirements)["evidence:bias_test@preproduction"].reason == (
        "the latest bias_test (line 84, 2026-03-11T09:00:00Z), for religion: `disparate_impact >= 0.8` does not "
        "hold (disparate_impact = 0.71)")
    # rita's sign-off stands, but it does not make up for the failed evidence
    assert by_id(r.requirements)["signoff:risk_audit@preproduction"].status == MET


def test_bias_test_passing_lets_version_2_in(policy, roster):
    before = story(policy, roster, "bias-fail-then-pass.yaml", "2026-03-27T12:00:00Z", to="preproduction")
    assert before.version == "2" and before.allowed is True
    assert by_id(before.requirements)["evidence:bias_test@preproduction"].reason == (
        "the latest bias_test (line 143, 2026-03-26T09:00:00Z) satisfies `disparate_impact >= 0.8` for religion")
    after = story(policy, roster, "bias-fail-then-pass.yaml", "2026-03-31T12:00:00Z", replay=True)
    assert (after.version, after.stage, after.violations, after.obligations) == ("2", "preproduction", (), ())
    assert after.exit_code() == 0
    v1 = story(policy, roster, "bias-fail-then-pass.yaml", "2026-03-31T12:00:00Z", version="1")
    assert v1.stage == "development"  # version 1 never moved on


def test_bias_fail_then_pass_cli(at_root):
    v1 = tiergate_check("bias-fail-then-pass.yaml", "--version", "1", "--to", "preproduction",
                        "--at", "2026-03-12T12:00:00Z")
    assert v1.exit_code == 1
    assert lines_of(v1.output)[0] == ("BLOCKED: inflight-meal-counts 1 may not enter preproduction "
                                      "(tier monitored, now in development)")
    assert ("  ✗ evidence:bias_test@preproduction: the latest bias_test (line 84, 2026-03-11T09:00:00Z), for "
            "religion: `disparate_impact >= 0.8` does not hold (disparate_impact = 0.71)  "
            "[policies/mlops-default.policy:90]") in lines_of(v1.output)
    v2 = tiergate_check("bias-fail-then-pass.yaml", "--replay", "--at", "2026-03-31T12:00:00Z")
    assert v2.exit_code == 0
    assert lines_of(v2.output)[0] == "inflight-meal-counts 2: tier monitored, now in preproduction; history: no violations"


# --- (d) expired-waiver ---------------------------------------------------------------------

LINEAGE = "evidence:lineage_review@preproduction"


def test_waiver_counts_while_it_runs(policy, roster):
    r = story(policy, roster, "expired-waiver.yaml", "2026-06-05T12:00:00Z", to="preproduction")
    assert r.allowed is True
    lineage = by_id(r.requirements)[LINEAGE]
    assert lineage.status == WAIVED and not lineage.failing
    assert lineage.reason.startswith("waived by rita until 2026-06-15T10:00:00Z (line 103): Supplier data")
    assert lineage.reason.endswith("; otherwise: no lineage_review evidence recorded for version 7.3.0")
    assert [s.id for s in r.requirements if s.status != MET] == [LINEAGE]


def test_expired_waiver_blocks_and_says_so(policy, roster):
    r = story(policy, roster, "expired-waiver.yaml", "2026-06-18T09:00:00Z", to="preproduction", replay=True)
    assert r.allowed is False and r.violations == ()
    assert [s.id for s in r.requirements if s.failing] == [LINEAGE]
    assert by_id(r.requirements)[LINEAGE].reason == (
        "no lineage_review evidence recorded for version 7.3.0; the waiver by rita (line 103) expired at "
        "2026-06-15T10:00:00Z")


@pytest.mark.parametrize("at, status", [
    ("2026-06-15T09:59:59Z", WAIVED),  # the last second of the waiver
    ("2026-06-15T10:00:00Z", UNMET),   # it ends at its expiry
])
def test_waiver_ends_at_its_expiry(policy, roster, at, status):
    r = story(policy, roster, "expired-waiver.yaml", at, to="preproduction")
    assert by_id(r.requirements)[LINEAGE].status == status


def test_expired_waiver_cli(at_root):
    ok = tiergate_check("expired-waiver.yaml", "--to", "preproduction", "--at", "2026-06-05T12:00:00Z")
    assert ok.exit_code == 0
    assert lines_of(ok.output)[0].startswith("ALLOWED: plane-fuelling 7.3.0 may enter preproduction")
    assert any(line.startswith(f"  ~ {LINEAGE}: waived by rita until 2026-06-15T10:00:00Z")
               for line in lines_of(ok.output))
    late = tiergate_check("expired-waiver.yaml", "--to", "preproduction", "--replay", "--at", "2026-06-18T09:00:00Z")
    assert late.exit_code == 1
    assert lines_of(late.output)[0] == ("BLOCKED: plane-fuelling 7.3.0 may not enter preproduction (tier critical, "
                                        "now in development); history: no violations")
    assert (f"  ✗ {LINEAGE}: no lineage_review evidence recorded for version 7.3.0; the waiver by rita (line 103) "
            "expired at 2026-06-15T10:00:00Z  [policies/mlops-default.policy:109]") in lines_of(late.output)


# --- (e) self-approval ----------------------------------------------------------------------

def test_self_approval_does_not_count(policy, roster):
    r = story(policy, roster, "self-approval.yaml", "2026-06-12T12:00:00Z", to="deployment", replay=True)
    assert (r.tier, r.stage, r.allowed, r.violations) == ("scheduled", "preproduction", False, ())
    assert [s.id for s in r.requirements if s.failing] == ["signoff:business_stakeholder@deployment"]
    assert by_id(r.requirements)["signoff:business_stakeholder@deployment"].reason == (
        "needs an approving sign-off from business_stakeholder for deployment (none recorded); bea's sign-off "
        "does not count: bea registered this version (separation of duties)")
    assert roster.holds("bea", "business_stakeholder", parse_time("2026-06-11T09:00:00Z"))  # she holds the role


def test_self_approval_cli(at_root):
    out = tiergate_check("self-approval.yaml", "--to", "deployment", "--replay", "--at", "2026-06-12T12:00:00Z")
    assert out.exit_code == 1
    assert lines_of(out.output)[0] == ("BLOCKED: churn-dashboard 2026.2 may not enter deployment (tier scheduled, "
                                       "now in preproduction); history: no violations")
    assert ("  ✗ signoff:business_stakeholder@deployment: needs an approving sign-off from business_stakeholder for "
            "deployment (none recorded); bea's sign-off does not count: bea registered this version (separation of "
            "duties)  [policies/mlops-default.policy:75]") in lines_of(out.output)


# --- (f) drift-breach -----------------------------------------------------------------------

DRIFT = "monitoring:input_drift@deployment"


def test_drift_breach(policy, roster):
    r = story(policy, roster, "drift-breach.yaml", "2026-07-22T12:00:00Z", replay=True)
    assert (r.tier, r.version, r.stage, r.violations) == ("monitored", "3.0", "deployment", ())
    drift = by_id(r.obligations)[DRIFT]
    assert drift.status == BREACH and drift.failing
    assert drift.reason == ("the latest input_drift result (line 173, 2026-07-22T06:00:00Z): `psi < 0.2` does not "
                            "hold (psi = 0.31)")
    assert [o.id for o in r.obligations if o.failing] == [DRIFT]
    assert r.exit_code() == 1


def test_drift_fine_before_the_firmware_update(policy, roster):
    r = story(policy, roster, "drift-breach.yaml", "2026-07-16T12:00:00Z", replay=True)
    assert {o.id: o.status for o in r.obligations} == {
        "monitoring:infrastructure_alerts@deployment": OK, DRIFT: OK, "review:data_scientist@deployment": OK}
    assert by_id(r.obligations)[DRIFT].next_due == parse_time("2026-07-22T06:00:00Z")
    assert r.exit_code() == 0


def test_drift_breach_cli(at_root):
    out = tiergate_check("drift-breach.yaml", "--replay", "--at", "2026-07-22T12:00:00Z")
    assert out.exit_code == 1
    lines = lines_of(out.output)
    assert lines[0] == ("predictive-maintenance 3.0: tier monitored, now in deployment; history: no violations; "
                        "1 obligation breach")
    assert (f"  ✗ {DRIFT} breach: the latest input_drift result (line 173, 2026-07-22T06:00:00Z): `psi < 0.2` does "
            "not hold (psi = 0.31)  [policies/mlops-default.policy:95]") in lines
    fine = tiergate_check("drift-breach.yaml", "--replay", "--at", "2026-07-16T12:00:00Z")
    assert fine.exit_code == 0


# --- (g) over-long-waiver: unauthorised and too long -----------------------------------------

def test_over_long_and_unauthorised_waivers_do_not_count(policy, roster):
    r = story(policy, roster, "over-long-waiver.yaml", "2026-11-17T12:00:00Z", to="deployment", mode="canary",
              replay=True)
    assert (r.tier, r.version, r.allowed, r.violations) == ("critical", "5.0", False, ())
    assert [s.id for s in r.requirements if s.failing] == ["evidence:red_team@deployment"]
    assert by_id(r.requirements)["evidence:red_team@deployment"].reason == (
        "no red_team evidence recorded for version 5.0; "
        "the waiver by raj (line 223) does not count: it runs 30 days, longer than the 14 days the policy allows; "
        "the waiver by dana (line 215) does not count: only risk_audit may waive evidence:red_team@deployment")


def test_over_long_waiver_cli(at_root):
    out = tiergate_check("over-long-waiver.yaml", "--to", "deployment", "--mode", "canary", "--replay",
                         "--at", "2026-11-17T12:00:00Z")
    assert out.exit_code == 1
    assert lines_of(out.output)[0] == ("BLOCKED: ecommerce-recommender 5.0 may not enter deployment (tier critical, "
                                       "now in preproduction); history: no violations")
    line = next(x for x in lines_of(out.output) if "evidence:red_team@deployment" in x)
    assert "longer than the 14 days the policy allows" in line and "only risk_audit may waive" in line


# --- (h) skipped-stage: not an edge, and a move after retirement -----------------------------

def test_skipped_stage_and_move_after_retirement(policy, roster):
    r = story(policy, roster, "skipped-stage.yaml", "2026-06-10T12:00:00Z", replay=True)
    assert (r.tier, r.version) == ("ad_hoc", "0.3")
    assert [(v.kind, v.from_stage, v.to_stage, v.line, v.message) for v in r.violations] == [
        ("transition", "development", "deployment", 51,
         "development -> deployment is not an edge of the workflow (from development: preproduction)"),
        ("transition", "deployment", "monitoring", 67, "transition to monitoring after the version was retired"),
    ]
    assert all(v.unmet == () for v in r.violations)  # the gates themselves were met
    assert r.exit_code() == 1


def test_skipped_stage_was_blocked_beforehand(policy, roster):
    r = story(policy, roster, "skipped-stage.yaml", "2026-04-14T18:00:00Z", to="deployment")
    assert r.stage == "development" and r.transition_ok is False and r.allowed is False
    assert not any(s.failing for s in r.requirements)  # only the workflow stands in the way
    assert by_id(r.requirements)["evidence:automated_checks@deployment"].warning  # recommended, not blocking


def test_skipped_stage_cli(at_root):
    out = tiergate_check("skipped-stage.yaml", "--replay", "--at", "2026-06-10T12:00:00Z")
    assert out.exit_code == 1
    assert lines_of(out.output)[:4] == [
        "adhoc-analysis 0.3: tier ad_hoc, now in monitoring; history: 2 violations",
        "violations:",
        "  ✗ 2026-04-15T08:00:00Z version 0.3: development -> deployment (full) [examples/events/skipped-stage.yaml:51]: "
        "development -> deployment is not an edge of the workflow (from development: preproduction)",
        "  ✗ 2026-06-08T09:00:00Z version 0.3: deployment -> monitoring [examples/events/skipped-stage.yaml:67]: "
        "transition to monitoring after the version was retired",
    ]


# --- every story through the command line: exit codes and machine formats -----------------------

#: (story, arguments, exit code)
VERDICTS = [
    ("fraud-promotion.yaml", ["--replay", "--at", "2026-04-23T12:00:00Z"], 0),
    ("fraud-promotion.yaml", ["--version", "2026.03", "--to", "deployment", "--mode", "full",
                              "--at", "2026-04-17T12:00:00Z"], 1),
    ("loan-no-risk-signoff.yaml", ["--replay", "--at", "2026-05-20T12:00:00Z"], 1),
    ("bias-fail-then-pass.yaml", ["--version", "1", "--to", "preproduction", "--at", "2026-03-12T12:00:00Z"], 1),
    ("bias-fail-then-pass.yaml", ["--replay", "--at", "2026-03-31T12:00:00Z"], 0),
    ("expired-waiver.yaml", ["--to", "preproduction", "--at", "2026-06-05T12:00:00Z"], 0),
    ("expired-waiver.yaml", ["--to", "preproduction", "--replay", "--at", "2026-06-18T09:00:00Z"], 1),
    ("self-approval.yaml", ["--to", "deployment", "--replay", "--at", "2026-06-12T12:00:00Z"], 1),
    ("drift-breach.yaml", ["--replay", "--at", "2026-07-22T12:00:00Z"], 1),
    ("over-long-waiver.yaml", ["--to", "deployment", "--mode", "canary", "--replay", "--at", "2026-11-17T12:00:00Z"], 1),
    ("skipped-stage.yaml", ["--replay", "--at", "2026-06-10T12:00:00Z"], 1),
]


@pytest.mark.parametrize("name, args, code", VERDICTS, ids=[f"{v[0]}-{i}" for i, v in enumerate(VERDICTS)])
@pytest.mark.parametrize("fmt", ["text", "json", "junit", "sarif", "github", "markdown"])
def test_every_format_gives_the_same_exit_code(at_root, name, args, code, fmt):
    out = tiergate_check(name, *args, "--format", fmt)
    assert out.exit_code == code, out.output
    if fmt == "json":
        data = json.loads(out.output)
        assert data["use_case"] == STORY_USE_CASE[name]
        if "--to" in args:
            assert data["allowed"] is (code == 0)
    elif fmt == "sarif":
        results = json.loads(out.output)["runs"][0]["results"]
        assert any(r["level"] == "error" for r in results) is (code == 1)
    elif fmt == "github":
        last = lines_of(out.output)[-1]
        assert last.startswith("::error title=tiergate::" if code else "::notice title=tiergate::")
    elif fmt == "junit":
        failures = sum(int(n) for n in re.findall(r'<testsuite [^>]*failures="(\d+)"', out.output))
        assert (failures > 0) is (code == 1)


# --- golden reports -------------------------------------------------------------------------

GOLDEN_RUNS = {
    "fraud-promotion": ("fraud-promotion.yaml", ["--replay", "--at", "2026-04-23T12:00:00Z"]),
    "loan-no-risk-signoff": ("loan-no-risk-signoff.yaml", ["--replay", "--at", "2026-05-20T12:00:00Z"]),
    "expired-waiver": ("expired-waiver.yaml", ["--to", "preproduction", "--replay", "--at", "2026-06-18T09:00:00Z"]),
}
EXTENSIONS = {"text": "txt", "markdown": "md", "github": "github.txt"}


@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
@pytest.mark.parametrize("run", sorted(GOLDEN_RUNS))
def test_golden_reports(at_root, run, fmt):
    name, args = GOLDEN_RUNS[run]
    out = tiergate_check(name, *args, "--format", fmt)
    golden(f"{run}.{EXTENSIONS[fmt]}", out.output)


# --- the documentation shows real runs --------------------------------------------------------

DOCS = [ROOT / "docs" / "gates.md", ROOT / "docs" / "ci.md", ROOT / "docs" / "packs.md"]


def console_runs(path: Path) -> list[tuple[int, list[str], str, int | None]]:
    """(line, argv, expected output, expected exit code or None) for each `$ tiergate` command in the
    page's ```console blocks; `$ echo $?` after a command gives its exit code. A command may end in `| tail -N`
    (its last N lines are shown): argv then ends with ("|", "tail", "-N")."""
    runs: list = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            assert lines[i].startswith("$ "), f"{path.name}:{i + 1}: console blocks start each command with `$ `"
            start, command = i + 1, lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            i += 1
            output = []
            while i < len(lines) and lines[i].strip() != "```" and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            if command == "echo $?":
                assert runs and runs[-1][3] is None, f"{path.name}:{start}: `echo $?` without a command before it"
                runs[-1] = (*runs[-1][:3], int(output[0]))
                continue
            argv = shlex.split(command)
            assert argv[0] == "tiergate", f"{path.name}:{start}: only tiergate commands are run"
            runs.append((start, argv[1:], "\n".join(output) + "\n", None))
        i += 1
    return runs


DOC_RUNS = [(path.name, *run) for path in DOCS for run in console_runs(path)]


def test_the_docs_show_runs():
    assert {name for name, *_ in DOC_RUNS} == {"gates.md", "ci.md", "packs.md"}
    assert len(DOC_RUNS) >= 8


@pytest.mark.parametrize("page, line, argv, expected, code", DOC_RUNS,
                         ids=[f"{name}:{line}" for name, line, *_ in DOC_RUNS])
def test_docs_console_blocks_are_real(at_root, page, line, argv, expected, code):
    tail = None
    if len(argv) > 3 and argv[-3:-1] == ["|", "tail"]:
        argv, tail = argv[:-3], int(argv[-1].lstrip("-"))
    result = runner().invoke(main, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    output = result.output if tail is None else "\n".join(result.output.splitlines()[-tail:]) + "\n"
    assert output == expected, f"docs/{page}:{line} shows another output"
    if code is not None:
        assert result.exit_code == code, f"docs/{page}:{line} shows another exit code"
