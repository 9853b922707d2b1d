"""The ledger commands: record (validated first), promote, import the stories, status, history, reclassify,
export/import round trips, and `check --ledger` against `check --events`.

Every refused command must exit 2 with its reason on standard error and leave the ledger unchanged
(same head, same number of events). Times are pinned with --at, so nothing depends on today's date.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import STORY_USE_CASE
from conftest import tiergate as run_cli

ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "examples" / "events"
USE_CASES = ROOT / "examples" / "use-cases"
ROSTER = ROOT / "examples" / "roster.yaml"
POLICY = ROOT / "policies" / "mlops-default.policy"

#: refused whole: each holds an event the ledger rightly refuses (see test_a_refused_story_...); they import
#: with --allow-violations, as the history they are
REFUSED = {"over-long-waiver.yaml": ["over-long-waiver.yaml:215: error[E611]: dana may not waive "
                                     "evidence:red_team@deployment: only risk_audit may",
                                     "over-long-waiver.yaml:223: error[E610]: the waiver runs 30 days; "
                                     "evidence:red_team@deployment may be waived for at most 14 days"],
           "skipped-stage.yaml": ["skipped-stage.yaml:67: error[E610]: version 0.3 of adhoc-analysis is retired"]}
IMPORTABLE = [name for name in STORY_USE_CASE if name not in REFUSED]
ENV = {"TIERGATE_LEDGER": None, "TIERGATE_POLICY": None, "TIERGATE_ROSTER": None, "TIERGATE_ACTOR": None,
       "COLUMNS": "200"}


def tiergate(*args, env: dict | None = None):
    """The command line with no TIERGATE_* variables from the machine, and a wide terminal."""
    return run_cli(*args, env={**ENV, **(env or {})})


def state(ledger: Path) -> tuple[str, int]:
    """(head, number of events), from `tiergate audit verify`."""
    result = tiergate("audit", "verify", "--ledger", ledger)
    assert result.exit_code == 0, result.stdout + result.stderr
    found = re.fullmatch(r"ledger intact: (\d+) events, head ([0-9a-f]{64})\n", result.stdout)
    return found.group(2), int(found.group(1))


def exported(ledger: Path) -> list[dict]:
    result = tiergate("export", "--ledger", ledger)
    assert result.exit_code == 0
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def ledger(tmp_path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def loan(ledger) -> Path:
    """The example roster stored, loan-approval 1.0 registered by dana."""
    assert tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    assert tiergate("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml",
                    "--ledger", ledger, "--actor", "dana", "--at", "2026-01-05T09:00:00Z").exit_code == 0
    return ledger


def record(ledger: Path, *args, actor: str = "dana", at: str = "2026-01-06T09:00:00Z"):
    return tiergate(*args, "--ledger", ledger, "--actor", actor, "--at", at)


# --- register, actor, roster ----------------------------------------------------------------------

def test_register_stores_tier_policy_and_answers(ledger):
    result = tiergate("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml",
                      "--artifact", "s3://models/loan-approval/1.0/model.pkl", "--sha256", "0123456789abcdef" * 4,
                      "--ledger", ledger, "--actor", "dana", "--at", "2026-01-05T09:00:00Z")
    assert result.exit_code == 0, result.stderr
    head, count = state(ledger)
    # the first recording under a policy adopts it first (event 1), with its source
    assert result.stdout == f"registered loan-approval 1.0: tier critical under mlops-default 1.0.0 (#2, {head[:12]})\n"
    adoption, event = exported(ledger)
    from tiergate.language.load import load_policy

    policy = load_policy(POLICY)
    assert event["policy"] == {"name": "mlops-default", "version": "1.0.0", "sha256": policy.sha256}
    assert adoption["type"] == "policy_adopted" and adoption["policy"] == event["policy"]
    assert (adoption["actor"], adoption["at"]) == ("dana", "2026-01-05T09:00:00Z")
    assert adoption["sources"] == {policy.sha256: policy.source,
                                   policy.questionnaire_sha256: policy.questionnaire_source}
    assert result.stderr.startswith("adopted policy mlops-default 1.0.0 (sha256 "
                                    f"{policy.sha256[:12]}) as the policy in force (#1, ")
    assert event["tier"] == "critical"
    assert event["answers"]["use_case"] == "loan-approval" and event["answers"]["answers"]["audience"] == "public"
    assert (event["artifact"], event["sha256"]) == ("s3://models/loan-approval/1.0/model.pkl", "0123456789abcdef" * 4)


@pytest.mark.parametrize("args, env, actor", [
    (["--actor", "cli-actor"], {"TIERGATE_ACTOR": "env-actor", "LOGNAME": "os-user"}, "cli-actor"),
    ([], {"TIERGATE_ACTOR": "env-actor", "LOGNAME": "os-user"}, "env-actor"),
    ([], {"LOGNAME": "os-user", "USER": "os-user", "LNAME": None, "USERNAME": None}, "os-user"),
], ids=["--actor", "TIERGATE_ACTOR", "OS user"])
def test_the_actor_is_the_option_else_the_variable_else_the_os_user(ledger, args, env, actor):
    result = tiergate("register", "churn-dashboard", "1", "--answers", USE_CASES / "churn-dashboard.yaml",
                      "--ledger", ledger, "--at", "2026-01-05T09:00:00Z", *args, env=env)
    assert result.exit_code == 0, result.stderr
    assert exported(ledger)[1]["actor"] == actor


def test_the_roster_comes_from_the_ledger_only(ledger):
    assert tiergate("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml",
                    "--ledger", ledger, "--actor", "dana", "--at", "2026-01-05T09:00:00Z").exit_code == 0
    signoff = ("signoff", "loan-approval", "1.0", "--gate", "development", "--role", "risk_audit")
    refused = record(ledger, *signoff, actor="rita")
    assert refused.exit_code == 2
    assert "there is no roster, so nobody's roles can be checked" in refused.stderr
    assert "store one with `tiergate roster import FILE`" in refused.stderr
    given = record(ledger, *signoff, "--roster", ROSTER, actor="rita")  # a roster file decides nothing recorded
    assert given.exit_code == 2 and "error[E630]" in given.stderr and "tiergate roster import" in given.stderr
    stored = tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin", "--at",
                      "2026-01-05T10:00:00Z")
    assert stored.exit_code == 0 and stored.stdout.startswith("roster stored (#3, ") and "8 people" in stored.stdout
    roster_event = exported(ledger)[-1]
    assert (roster_event["type"], roster_event["use_case"], roster_event["actor"]) == ("roster", "-", "admin")
    assert roster_event["people"]["rita"] == ["risk_audit"]
    assert record(ledger, *signoff, "--roster", ROSTER, actor="rita").exit_code == 0  # the same roster: accepted
    assert record(ledger, *signoff, actor="raj").exit_code == 0  # no --roster: the stored one


def test_a_roster_file_with_a_problem_is_not_stored(ledger, tmp_path):
    bad = tmp_path / "roster.yaml"
    bad.write_text("people:\n  rita: risk_audit\n")
    result = tiergate("roster", "import", bad, "--ledger", ledger, "--actor", "admin")
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "error[E410]" in result.stderr
    assert not ledger.exists() or state(ledger)[1] == 0


# --- every recording command, and what each refuses -----------------------------------------------

def test_each_recording_command_records(loan):
    steps = [
        (("evidence", "loan-approval", "1.0", "bias_test", "rows=1200", "--attribute", "age.disparate_impact=0.91",
          "--uri", "s3://evidence/bias.html"), "dana", "evidence"),
        (("signoff", "loan-approval", "1.0", "--gate", "development", "--role", "risk_audit", "--comment", "ok"),
         "rita", "signoff"),
        (("waive", "loan-approval", "1.0", "evidence:red_team@deployment", "--until", "2026-01-20T09:00:00Z",
          "--justification", "booked for the 18th"), "rita", "waiver"),
        (("monitor", "loan-approval", "1.0", "input_drift", "psi=0.04"), "paula", "monitoring"),
        (("review", "loan-approval", "1.0", "--role", "risk_audit"), "raj", "review"),
        (("retire", "loan-approval", "1.0"), "dana", "retired"),
    ]
    for seq, (args, actor, kind) in enumerate(steps, start=4):  # (after the adoption, the roster, the registration)
        result = record(loan, *args, actor=actor)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith(f"recorded {kind} #{seq} for loan-approval 1.0 (")
    events = exported(loan)[1:]
    assert events[2]["metrics"] == {"rows": 1200} and events[2]["attributes"] == {"age": {"disparate_impact": 0.91}}
    assert events[4]["expires"] == "2026-01-20T09:00:00Z"
    assert events[5]["metrics"] == {"psi": 0.04}
    assert [e["type"] for e in exported(loan)] == ["policy_adopted", "roster", "registered", "evidence", "signoff",
                                                   "waiver", "monitoring", "review", "retired"]


REFUSALS = {
    "sign-off by someone not holding the role":
        (("signoff", "loan-approval", "1.0", "--gate", "development", "--role", "risk_audit"), "dana",
         "signoff: error[E611]: dana does not hold role risk_audit (holds data_scientist)"),
    "sign-off for a stage that does not exist":
        (("signoff", "loan-approval", "1.0", "--gate", "prod", "--role", "risk_audit"), "rita",
         "signoff: error[E610]: `prod` is not a stage of workflow `default`"),
    "waiver beyond the policy's `up to`":
        (("waive", "loan-approval", "1.0", "evidence:red_team@deployment", "--until", "2026-01-21T09:00:00Z",
          "--justification", "x"), "rita",
         "waiver: error[E610]: the waiver runs 15 days; evidence:red_team@deployment may be waived for at most "
         "14 days"),
    "waiver by a role not in `waivable by`":
        (("waive", "loan-approval", "1.0", "evidence:red_team@deployment", "--until", "2026-01-10T09:00:00Z",
          "--justification", "x"), "bea",
         "waiver: error[E611]: bea may not waive evidence:red_team@deployment: only risk_audit may"),
    "transition to a stage that does not exist":
        (("promote", "loan-approval", "1.0", "--to", "production"), "dana",
         "promote: error[E610]: `production` is not a stage of workflow `default`"),
    "event for an unregistered version":
        (("evidence", "loan-approval", "2.0", "pii_handling", "dpia=true"), "dana",
         "evidence: error[E610]: version 2.0 of loan-approval is not registered"),
    "event for an unregistered use case":
        (("monitor", "churn-dashboard", "1.0", "input_drift", "psi=0.1"), "paula",
         "monitoring: error[E610]: version 1.0 of churn-dashboard is not registered"),
    "review in a role the policy does not have":
        (("review", "loan-approval", "1.0", "--role", "auditor"), "rita",
         "review: error[E610]: `auditor` is not a role of policy mlops-default"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_command_exits_2_and_writes_nothing(loan, case):
    args, actor, reason = REFUSALS[case]
    before = state(loan)
    result = record(loan, *args, actor=actor)
    assert result.exit_code == 2
    assert reason in result.stderr
    assert result.stderr.rstrip().endswith("tiergate: nothing was written")
    assert result.stdout == ""
    assert state(loan) == before


def test_a_duplicate_event_is_refused(loan):
    args = ("evidence", "loan-approval", "1.0", "pii_handling", "dpia=true")
    assert record(loan, *args).exit_code == 0
    before = state(loan)
    result = record(loan, *args)
    assert result.exit_code == 2
    assert "evidence: error[E612]: this exact event is already in the ledger" in result.stderr
    assert state(loan) == before


def test_bad_arguments_write_nothing(loan):
    before = state(loan)
    assert record(loan, "evidence", "loan-approval", "1.0", "pii_handling", "dpia").exit_code == 2
    assert record(loan, "signoff", "loan-approval", "1.0", "--gate", "development", "--role", "risk_audit",
                  at="tomorrow", actor="rita").exit_code == 2
    assert state(loan) == before


# --- promote ---------------------------------------------------------------------------------------

def test_promote_is_blocked_with_every_reason_then_allowed(loan):
    assert record(loan, "promote", "loan-approval", "1.0", "--to", "ideation", at="2026-01-05T10:00:00Z").exit_code == 0
    before = state(loan)
    blocked = record(loan, "promote", "loan-approval", "1.0", "--to", "development", at="2026-01-05T11:00:00Z")
    assert blocked.exit_code == 1
    assert blocked.stdout.startswith("BLOCKED: loan-approval 1.0 may not enter development (tier critical, now in "
                                     "ideation)")
    unmet = [line.split(":", 2)[0:2] for line in blocked.stdout.splitlines() if line.startswith("  ✗ ")]
    assert [":".join(u).strip("✗ ") for u in unmet] == ["evidence:pii_handling@development",
                                                         "signoff:business_stakeholder@development",
                                                         "signoff:risk_audit@development"]
    assert "no pii_handling evidence recorded for version 1.0" in blocked.stdout
    assert "needs an approving sign-off from risk_audit for development (none recorded)" in blocked.stdout
    assert blocked.stderr == "tiergate: not promoted; nothing was written\n"
    assert state(loan) == before

    as_json = record(loan, "promote", "loan-approval", "1.0", "--to", "development", "--format", "json",
                     at="2026-01-05T11:00:00Z")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["allowed"] is False
    assert [r["id"] for r in report["requirements"] if r["status"] == "unmet"] == [
        "evidence:pii_handling@development", "signoff:business_stakeholder@development",
        "signoff:risk_audit@development"]
    assert state(loan) == before

    record(loan, "evidence", "loan-approval", "1.0", "pii_handling", "dpia=true", at="2026-01-05T12:00:00Z")
    record(loan, "signoff", "loan-approval", "1.0", "--gate", "development", "--role", "business_stakeholder",
           actor="bea", at="2026-01-05T13:00:00Z")
    record(loan, "signoff", "loan-approval", "1.0", "--gate", "development", "--role", "risk_audit", actor="rita",
           at="2026-01-05T14:00:00Z")
    allowed = record(loan, "promote", "loan-approval", "1.0", "--to", "development", at="2026-01-05T15:00:00Z")
    assert allowed.exit_code == 0, allowed.stdout + allowed.stderr
    assert allowed.stdout.startswith("ALLOWED: loan-approval 1.0 may enter development")
    head, count = state(loan)
    assert allowed.stderr == f"promoted loan-approval 1.0 to development (#{count}, {head[:12]})\n"
    last = exported(loan)[-1]
    assert (last["type"], last["to"], last["actor"], last["at"]) == ("transition", "development", "dana",
                                                                    "2026-01-05T15:00:00Z")


def test_promote_into_deployment_needs_an_allowed_mode(ledger):
    """fraud-promotion: on 17 April, `--mode full` is blocked and `--mode canary` is allowed."""
    records = [r for r in yaml.safe_load((STORIES / "fraud-promotion.yaml").read_text())
               if not (r["version"] == "2026.03" and r["at"] >= "2026-04-17")]
    partial = ledger.parent / "fraud-until-17-april.yaml"
    partial.write_text(yaml.safe_dump(records))
    assert tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0  # promote decides with the stored roster only
    assert tiergate("import", partial, "--answers", USE_CASES / "card-fraud-scoring.yaml", "--roster", ROSTER,
                    "--ledger", ledger).exit_code == 0
    promote = ("promote", "card-fraud-scoring", "2026.03", "--to", "deployment", "--roster", ROSTER)
    before = state(ledger)
    full = record(ledger, *promote, "--mode", "full", actor="paula", at="2026-04-17T12:00:00Z")
    assert full.exit_code == 1
    assert "✗ deployment@deployment: deployment mode full is not allowed here; allowed: shadow, canary, ab_test" \
        in full.stdout
    assert state(ledger) == before
    canary = record(ledger, *promote, "--mode", "canary", actor="paula", at="2026-04-17T12:00:00Z")
    assert canary.exit_code == 0, canary.stdout
    assert exported(ledger)[-1]["mode"] == "canary"


# --- import the stories -------------------------------------------------------------------------------

def import_story(ledger: Path, name: str, *extra):
    return tiergate("import", STORIES / name, "--answers", USE_CASES / f"{STORY_USE_CASE[name]}.yaml",
                    "--ledger", ledger, *extra)


@pytest.fixture(scope="module")
def stories(tmp_path_factory) -> Path:
    """The example roster, then every story, each imported whole (those with a violation as it happened)."""
    ledger = tmp_path_factory.mktemp("stories") / "ledger.db"
    assert tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    for name in STORY_USE_CASE:
        result = import_story(ledger, name, *(["--allow-violations"] if name in REFUSED else []))
        assert result.exit_code == 0, result.stderr
    return ledger


def story_count(name: str) -> int:
    return len(yaml.safe_load((STORIES / name).read_text()))


@pytest.mark.parametrize("name", IMPORTABLE)
def test_each_story_imports_with_its_answers_file(ledger, name):
    tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin", "--at", "2026-01-01T00:00:00Z")
    result = import_story(ledger, name)
    assert result.exit_code == 0, result.stderr
    head, count = state(ledger)
    assert count == 2 + story_count(name)  # (the roster import adopted its policy first)
    assert result.stdout == f"imported {count - 2} events from {STORIES / name}; head {head}\n"


@pytest.mark.parametrize("suffix", [".yaml", ".jsonl"])
@pytest.mark.parametrize("name", IMPORTABLE)
def test_each_story_imports_with_answers_embedded(tmp_path, name, suffix):
    """The same story with its answers inside the `registered` events: the same ledger, to the hash."""
    answers = yaml.safe_load((USE_CASES / f"{STORY_USE_CASE[name]}.yaml").read_text())
    records = [dict(r, answers=copy.deepcopy(answers)) if r["type"] == "registered" else r  # no YAML aliases
               for r in yaml.safe_load((STORIES / name).read_text())]
    embedded = tmp_path / f"embedded{suffix}"
    embedded.write_text(yaml.safe_dump(records) if suffix == ".yaml" else
                        "".join(json.dumps(r) + "\n" for r in records))
    with_file, with_embedded = tmp_path / "a.db", tmp_path / "b.db"
    assert import_story(with_file, name, "--roster", ROSTER).exit_code == 0
    result = tiergate("import", embedded, "--roster", ROSTER, "--ledger", with_embedded)
    assert result.exit_code == 0, result.stderr
    assert state(with_embedded) == state(with_file)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_refused_story_imports_nothing_and_names_each_event(ledger, name):
    tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin", "--at", "2026-01-01T00:00:00Z")
    before = state(ledger)
    result = import_story(ledger, name)
    assert result.exit_code == 2
    problems = [line for line in result.stderr.splitlines() if "error[" in line]
    assert problems == [f"{STORIES}/{problem}" for problem in REFUSED[name]]
    assert result.stderr.rstrip().endswith("tiergate: nothing was written")
    assert state(ledger) == before


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_refused_story_imports_as_it_happened_with_allow_violations(ledger, name):
    """Each event the ledger would refuse goes in with a warning that names it; the chain verifies, and replay
    from the ledger reports what the story broke."""
    tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin", "--at", "2026-01-01T00:00:00Z")
    result = import_story(ledger, name, "--allow-violations")
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning[" in line]
    as_warning = [re.sub(r"error\[E61[01]\]", "warning[W610]", problem) for problem in REFUSED[name]]
    assert warnings == [f"{STORIES}/{problem}; recorded as it happened" for problem in as_warning]
    head, count = state(ledger)
    assert count == 2 + story_count(name)  # (the roster import adopted its policy first)
    assert result.stdout == f"imported {count - 2} events from {STORIES / name}; head {head}\n"
    assert tiergate("audit", "verify", "--ledger", ledger).exit_code == 0


def _with_line_changed(source: Path, target: Path, line: int, old: str, new: str) -> None:
    lines = source.read_text().splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    target.write_text("".join(lines))


def test_one_bad_event_imports_nothing_and_names_file_and_line(stories, tmp_path):
    """fraud-promotion with one sign-off by sam, who is no risk_audit: none of its 67 events is imported."""
    ledger = tmp_path / "ledger.db"
    tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin", "--at", "2026-01-01T00:00:00Z")
    source = STORIES / "fraud-promotion.yaml"
    text = source.read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1)  # raj's first risk_audit sign-off
                if t == "  actor: raj" and text[i] == "  role: risk_audit")
    event_line = max(i for i in range(1, line) if text[i - 1].startswith("- at:"))
    bad = tmp_path / "fraud-promotion.yaml"
    _with_line_changed(source, bad, line, "raj", "sam")
    before = state(ledger)
    result = tiergate("import", bad, "--answers", USE_CASES / "card-fraud-scoring.yaml", "--ledger", ledger)
    assert result.exit_code == 2
    assert f"{bad}:{event_line}: error[E611]: sam does not hold role risk_audit (holds data_scientist, citizen_ds)" \
        in result.stderr
    assert state(ledger) == before


def test_a_malformed_line_imports_nothing_and_names_file_and_line(tmp_path):
    ledger = tmp_path / "ledger.db"
    records = yaml.safe_load((STORIES / "self-approval.yaml").read_text())
    lines = [json.dumps(r) for r in records]
    del records[5]["metrics"]
    lines[5] = json.dumps(records[5])
    lines[8] = lines[8][:-1]  # not JSON any more
    bad = tmp_path / "self-approval.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    result = tiergate("import", bad, "--answers", USE_CASES / "churn-dashboard.yaml", "--roster", ROSTER,
                      "--ledger", ledger)
    assert result.exit_code == 2
    assert f"{bad}:9:" in result.stderr and "this line is not a JSON object" in result.stderr
    lines[8] = json.dumps(records[8])
    bad.write_text("\n".join(lines) + "\n")
    result = tiergate("import", bad, "--answers", USE_CASES / "churn-dashboard.yaml", "--roster", ROSTER,
                      "--ledger", ledger)
    assert result.exit_code == 2
    assert f"{bad}:6: error[E400]: event evidence misses metrics" in result.stderr
    assert not ledger.exists() or state(ledger)[1] == 0


# --- status ---------------------------------------------------------------------------------------

def status(ledger: Path, at: str, *args) -> list[dict]:
    result = tiergate("status", "--ledger", ledger, "--at", at, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["versions"]


def brief(row: dict) -> tuple:
    not_ok = {o["id"]: o["status"] for o in row["obligations"] if o["status"] != "ok"}
    return row["tier"], row["stage"], row["next_stage"], row["unmet"], not_ok, row["violations"], row["attention"]


#: (the deployment mode is chosen when promoting, so `deployment@deployment` is never listed as unmet)
MONITORED_DEPLOYMENT = ["evidence:metrics_record@deployment", "evidence:environment_recreation@deployment",
                        "evidence:model_documentation@deployment", "evidence:automated_checks@deployment",
                        "signoff:business_stakeholder@deployment", "signoff:risk_audit@deployment"]

#: (use case, version, --at) -> (tier, stage, next gate, unmet, obligations not ok, violations, attention)
WHERE_EACH_STORY_LEAVES_ITS_MODEL = {
    ("inflight-meal-counts", "1", "2026-03-12T12:00:00Z"):
        ("monitored", "development", "preproduction", ["evidence:bias_test@preproduction"], {}, 0, False),
    ("inflight-meal-counts", "2", "2026-03-31T12:00:00Z"):
        ("monitored", "preproduction", "deployment", MONITORED_DEPLOYMENT, {}, 0, False),
    ("predictive-maintenance", "3.0", "2026-07-16T12:00:00Z"):
        ("monitored", "deployment", "monitoring", [], {}, 0, False),
    ("predictive-maintenance", "3.0", "2026-07-22T12:00:00Z"):
        ("monitored", "deployment", "monitoring", [], {"monitoring:input_drift@deployment": "breach"}, 0, True),
    ("plane-fuelling", "7.3.0", "2026-06-05T12:00:00Z"):  # lineage review waived; the waiver ends within 14 days
        ("critical", "development", "preproduction", [], {}, 0, True),
    ("plane-fuelling", "7.3.0", "2026-06-18T09:00:00Z"):
        ("critical", "development", "preproduction", ["evidence:lineage_review@preproduction"], {}, 0, False),
    ("card-fraud-scoring", "2026.03", "2026-04-23T12:00:00Z"):
        ("critical", "deployment", "monitoring", [], {}, 0, False),
    ("card-fraud-scoring", "2026.02", "2026-04-23T12:00:00Z"):
        ("critical", "retired", None, [], {}, 0, False),
    ("loan-approval", "4.2.0", "2026-05-15T12:00:00Z"):
        ("critical", "preproduction", "deployment",
         ["signoff:risk_audit@deployment"], {}, 0, False),
    ("loan-approval", "4.2.0", "2026-05-20T12:00:00Z"):
        ("critical", "deployment", "monitoring", [], {}, 1, True),
    ("churn-dashboard", "2026.2", "2026-06-12T12:00:00Z"):
        ("scheduled", "preproduction", "deployment", ["signoff:business_stakeholder@deployment"], {}, 0, False),
    # imported with --allow-violations: the shortcut to deployment and the step after retirement
    ("adhoc-analysis", "0.3", "2026-04-20T12:00:00Z"):
        ("ad_hoc", "deployment", "monitoring", [], {}, 1, True),
    ("adhoc-analysis", "0.3", "2026-06-10T12:00:00Z"):
        ("ad_hoc", "retired", None, [], {}, 2, True),
    # neither waiver counts, so the red team exercise still blocks deployment
    ("ecommerce-recommender", "5.0", "2026-11-17T12:00:00Z"):
        ("critical", "preproduction", "deployment", ["evidence:red_team@deployment"], {}, 0, False),
}


@pytest.mark.parametrize("use_case, version, at", list(WHERE_EACH_STORY_LEAVES_ITS_MODEL))
def test_status_shows_each_model_where_its_story_leaves_it(stories, use_case, version, at):
    rows = {(r["use_case"], r["version"]): r for r in status(stories, at)}
    assert brief(rows[use_case, version]) == WHERE_EACH_STORY_LEAVES_ITS_MODEL[use_case, version, at]
    assert rows[use_case, version]["classified_under"] == "mlops-default 1.0.0"
    assert rows[use_case, version]["stale"] is False


def test_status_details(stories):
    rows = {(r["use_case"], r["version"]): r for r in status(stories, "2026-06-05T12:00:00Z")}
    fuel = rows["plane-fuelling", "7.3.0"]
    assert fuel["expiring_waivers"] == [{"requirement": "evidence:lineage_review@preproduction",
                                         "expires": "2026-06-15T10:00:00Z"}]
    assert (fuel["owner"], fuel["since"]) == ("Flight Operations Engineering", "2026-05-20T08:00:00Z")
    retired = status(stories, "2026-04-23T12:00:00Z")
    shadow = next(r for r in retired if r["version"] == "2026.02")
    assert (shadow["retired"], shadow["since"], shadow["obligations"]) == (True, "2026-04-20T08:30:00Z", [])
    drift = next(r for r in status(stories, "2026-07-22T12:00:00Z") if r["use_case"] == "predictive-maintenance")
    due = {o["id"]: o["next_due"] for o in drift["obligations"]}
    assert due["monitoring:input_drift@deployment"] == "2026-07-29T06:00:00Z"


def test_status_lists_only_versions_registered_by_then(stories):
    assert status(stories, "2026-02-02T08:59:59Z") == []
    assert [(r["use_case"], r["version"]) for r in status(stories, "2026-02-02T09:00:00Z")] == [
        ("card-fraud-scoring", "2026.02")]
    # the ledger's first event is the roster, on 1 January 2026: it knows nothing of an earlier time
    text = tiergate("status", "--ledger", stories, "--at", "2025-01-01T00:00:00Z")
    assert (text.exit_code, text.stdout) == (2, "")
    assert "--at: error[E632]: --at 2025-01-01T00:00:00Z is before the ledger's first event (2026-01-01T00:00:00Z)" \
        in text.stderr
    future = tiergate("status", "--ledger", stories, "--at", "2999-01-01T00:00:00Z")
    assert future.exit_code == 2 and "error[E632]: --at 2999-01-01T00:00:00Z is later than now" in future.stderr


AT = "2026-07-22T12:00:00Z"


@pytest.mark.parametrize("option, expected", [
    ((), ["adhoc-analysis 0.3", "card-fraud-scoring 2026.02", "card-fraud-scoring 2026.03", "churn-dashboard 2026.2",
          "inflight-meal-counts 1", "inflight-meal-counts 2", "loan-approval 4.2.0", "plane-fuelling 7.3.0",
          "predictive-maintenance 3.0"]),
    (("--attention",), ["adhoc-analysis 0.3", "card-fraud-scoring 2026.03", "loan-approval 4.2.0", "predictive-maintenance 3.0"]),
    (("--tier", "monitored"), ["inflight-meal-counts 1", "inflight-meal-counts 2", "predictive-maintenance 3.0"]),
    (("--tier", "scheduled"), ["churn-dashboard 2026.2"]),
    (("--stage", "deployment"), ["card-fraud-scoring 2026.03", "loan-approval 4.2.0", "predictive-maintenance 3.0"]),
    (("--stage", "retired"), ["adhoc-analysis 0.3", "card-fraud-scoring 2026.02"]),
    (("--owner", "Payments Risk team"), ["card-fraud-scoring 2026.02", "card-fraud-scoring 2026.03"]),
    (("--tier", "critical", "--attention"), ["card-fraud-scoring 2026.03", "loan-approval 4.2.0"]),
    (("--owner", "nobody"), []),
])
def test_status_filters(stories, option, expected):
    assert [f"{r['use_case']} {r['version']}" for r in status(stories, AT, *option)] == expected


def test_status_formats(stories):
    def run(fmt):
        result = tiergate("status", "--ledger", stories, "--at", AT, "--attention", "--format", fmt)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    text = run("text").splitlines()
    assert text[0].split() == ["use", "case", "version", "tier", "stage", "since", "next", "gate", "attention"]
    assert text[-1] == "4 versions; 4 need attention"
    assert re.match(r"adhoc-analysis +0\.3 +ad_hoc +retired +2026-05-29 +2 violations$", text[1])
    assert re.match(r"predictive-maintenance +3\.0 +monitored +deployment +2026-07-01 +monitoring +"
                    r"monitoring:input_drift@deployment breach$", text[4])
    table = list(csv.DictReader(io.StringIO(run("csv"))))
    assert [(r["use_case"], r["version"]) for r in table] == [("adhoc-analysis", "0.3"),
                                                             ("card-fraud-scoring", "2026.03"),
                                                             ("loan-approval", "4.2.0"),
                                                             ("predictive-maintenance", "3.0")]
    assert table[2]["attention"].startswith("1 violation; ")
    markdown = run("markdown")
    assert markdown.startswith("## Model registry under mlops-default 1.0.0\n")
    assert "| predictive-maintenance | 3.0 | monitored | deployment | 2026-07-01 | monitoring |" in markdown
    html = run("html")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert html.count("<tr><td>") == 4 and "monitoring:input_drift@deployment breach" in html
    as_json = json.loads(run("json"))
    assert as_json["policy"]["name"] == "mlops-default" and len(as_json["versions"]) == 4


def test_status_on_a_missing_ledger_says_where_it_looked(tmp_path):
    result = tiergate("status", "--ledger", tmp_path / "none.db")
    assert result.exit_code == 2
    assert f"{tmp_path / 'none.db'}: error[E600]: no ledger here" in result.stderr
    assert "nothing was written" not in result.stderr  # status writes nothing anyway
    assert not (tmp_path / "none.db").exists()


# --- history --------------------------------------------------------------------------------------

def test_history_is_the_timeline(stories):
    result = tiergate("history", "self-approval" and "churn-dashboard", "--ledger", stories)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 10
    assert re.fullmatch(r"2026-06-01T09:00:00Z  #\d+ +2026\.2 +registered  by bea: tier=scheduled, "
                        r"policy=mlops-default 1\.0\.0, because=It runs regularly or as a live service, so people rely on "
                        r"it being available and repeatable \(line 45\), "
                        r"artifact=s3://self-service/customer-insights/churn/2026\.2/model\.pkl", lines[0])
    assert lines[-1].startswith("2026-06-11T09:00:00Z  #")
    assert lines[-1].endswith("signoff     by bea: comment=Looks good, ship it for the July board pack., "
                              "decision=approve, gate=deployment, role=business_stakeholder")
    as_json = json.loads(tiergate("history", "churn-dashboard", "--format", "json", "--ledger", stories).stdout)
    assert [e["type"] for e in as_json] == ["registered", "transition", "transition", "evidence", "transition",
                                            "evidence", "evidence", "evidence", "evidence", "signoff"]
    assert all(len(e["hash"]) == 64 and e["recorded_at"] for e in as_json)
    assert [e["seq"] for e in as_json] == sorted(e["seq"] for e in as_json)


def test_history_of_one_version(stories):
    result = tiergate("history", "inflight-meal-counts", "2", "--ledger", stories, "--format", "json")
    assert {e["version"] for e in json.loads(result.stdout)} == {"2"}
    missing = tiergate("history", "inflight-meal-counts", "7", "--ledger", stories)
    assert (missing.exit_code, missing.stderr) == (2, "tiergate: no events for inflight-meal-counts 7\n")


# --- reclassify -------------------------------------------------------------------------------------

@pytest.fixture
def policy_1_1(tmp_path) -> Path:
    """mlops-default 1.1.0: whatever runs regularly is at least monitored (scheduled use cases move up)."""
    text = POLICY.read_text()
    text = text.replace('version "1.0.0"', 'version "1.1.0"')
    text = text.replace('questionnaire: "../schemas/questionnaire.schema.json"',
                        f'questionnaire: "{ROOT / "schemas" / "questionnaire.schema.json"}"')
    old = '  scheduled when availability in ["scheduled", "realtime"]'
    assert old in text
    path = tmp_path / "mlops-default-1.1.policy"
    path.write_text(text.replace(old, '  monitored when availability in ["scheduled", "realtime"]'))
    return path


def clone(source: Path, target: Path) -> Path:
    """A copy of a ledger with everything committed in it, whatever is still in its -wal file."""
    import sqlite3

    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def test_reclassify_records_every_tier_decided_again_and_status_stops_flagging(stories, policy_1_1, tmp_path):
    """Under a new policy version every use case is flagged until reclassified; reclassify records the tiers that
    changed and those that stay (decided again under the new version), prints the changes, and clears the flags."""
    ledger = clone(stories, tmp_path / "ledger.db")
    before = state(ledger)
    dry = tiergate("reclassify", "--dry-run", "--policy", policy_1_1, "--ledger", ledger, "--actor", "admin",
                   "--at", "2026-08-01T00:00:00Z")
    assert (dry.exit_code, dry.stdout) == (0, "churn-dashboard: scheduled -> monitored\n")
    assert dry.stderr == "1 use case would change tier under mlops-default 1.1.0; 7 others would keep their tier\n"
    assert state(ledger) == before

    stale = status(ledger, "2026-08-01T00:00:00Z", "--policy", policy_1_1)
    assert all(r["stale"] and r["classified_under"] == "mlops-default 1.0.0" for r in stale)
    assert all(r["attention"] for r in stale)
    text = tiergate("status", "--ledger", ledger, "--policy", policy_1_1, "--at", "2026-08-01T00:00:00Z")
    assert "classified under mlops-default 1.0.0" in text.stdout

    done = tiergate("reclassify", "--policy", policy_1_1, "--ledger", ledger, "--actor", "ari",
                    "--at", "2026-08-01T00:00:00Z")
    assert (done.exit_code, done.stdout) == (0, "churn-dashboard: scheduled -> monitored\n"), done.stderr
    assert done.stderr.splitlines()[1:] == ["1 use case changed tier under mlops-default 1.1.0; 7 others kept their "
                                            "tier, now recorded as decided under it"]
    assert done.stderr.startswith("adopted policy mlops-default 1.1.0 (sha256 ")  # (decided under it: adopted)
    assert state(ledger)[1] == before[1] + 9
    recorded = {e["use_case"]: e for e in exported(ledger)[before[1] + 1:]}
    assert len(recorded) == 8 and all(e["type"] == "reclassified" and e["actor"] == "ari" and
                                      e["policy"]["version"] == "1.1.0" for e in recorded.values())
    assert {k: recorded["churn-dashboard"][k] for k in ("version", "from_tier", "to_tier")} == {
        "version": "2026.2", "from_tier": "scheduled", "to_tier": "monitored"}
    assert all(e["from_tier"] == e["to_tier"] for name, e in recorded.items() if name != "churn-dashboard")

    rows = {r["use_case"]: r for r in status(ledger, "2026-08-01T00:00:00Z", "--policy", policy_1_1)}
    assert rows["churn-dashboard"]["tier"] == "monitored"
    assert all((r["stale"], r["classified_under"]) == (False, "mlops-default 1.1.0") for r in rows.values())
    # decided under 1.1.0 now: nothing to record again
    again = tiergate("reclassify", "--policy", policy_1_1, "--ledger", ledger, "--actor", "admin",
                     "--at", "2026-08-02T00:00:00Z")
    assert (again.stdout, again.stderr) == ("", "0 use cases changed tier under mlops-default 1.1.0\n")
    assert state(ledger)[1] == before[1] + 9
    text = tiergate("status", "--ledger", ledger, "--policy", policy_1_1, "--at", "2026-08-01T00:00:00Z")
    assert "classified under" not in text.stdout
    history = tiergate("history", "churn-dashboard", "--ledger", ledger).stdout.splitlines()
    assert history[-1].endswith("reclassified by ari: from_tier=scheduled, to_tier=monitored, "
                                "policy=mlops-default 1.1.0, because=It runs regularly or as a live service, so "
                                "people rely on it being available and repeatable (line 45)")
    # with no policy named, status judges under the one the ledger holds in force: 1.1.0, adopted by reclassify
    assert not any(r["stale"] for r in status(ledger, "2026-08-03T00:00:00Z"))
    # and back under 1.0.0, the flags return until reclassified again
    back = status(ledger, "2026-08-03T00:00:00Z", "--policy", POLICY)
    assert all(r["stale"] and r["classified_under"] == "mlops-default 1.1.0" for r in back)


def test_reclassify_under_the_same_policy_changes_nothing(stories, tmp_path):
    ledger = clone(stories, tmp_path / "ledger.db")
    before = state(ledger)
    result = tiergate("reclassify", "--ledger", ledger, "--actor", "admin", "--at", "2026-08-01T00:00:00Z")
    assert result.exit_code == 0 and result.stdout == ""
    assert state(ledger) == before


# --- export and import ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "yaml"])
def test_export_then_import_into_an_empty_ledger_gives_the_same_head(stories, tmp_path, fmt):
    out = tmp_path / f"export.{fmt}"
    result = tiergate("export", "--ledger", stories, "--format", fmt, "--output", out)
    assert result.exit_code == 0
    copy = tmp_path / "copy.db"
    refused = tiergate("import", out, "--ledger", copy)  # it holds the two stories' violations
    assert refused.exit_code == 2 and refused.stderr.count("error[E61") == 3 and state(copy)[1] == 0
    imported = tiergate("import", out, "--ledger", copy, "--allow-violations")
    assert imported.exit_code == 0, imported.stderr
    assert imported.stderr.count("warning[W610]") == 3
    assert state(copy) == state(stories)
    assert tiergate("audit", "head", "--ledger", copy).stdout == tiergate("audit", "head", "--ledger", stories).stdout


def test_an_auditor_recomputes_the_head_from_an_export_with_the_standard_library(stories):
    """docs/ledger.md says what is hashed: SHA-256 over the previous hash, a newline and the canonical JSON that
    json.dumps writes; the first event follows 64 zeros. An auditor's own script must reach `audit head`."""
    import hashlib

    exported = tiergate("export", "--ledger", stories).stdout.splitlines()
    previous = "0" * 64
    for line in exported:
        text = json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        previous = hashlib.sha256(f"{previous}\n{text}".encode("utf-8")).hexdigest()
    assert len(exported) == state(stories)[1]
    assert previous + "\n" == tiergate("audit", "head", "--ledger", stories).stdout


def test_export_of_one_use_case(stories):
    result = tiergate("export", "--ledger", stories, "--use-case", "churn-dashboard")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 10 and {e["use_case"] for e in events} == {"churn-dashboard"}


def test_importing_an_export_twice_is_refused_whole(stories, tmp_path):
    out = tmp_path / "export.jsonl"
    tiergate("export", "--ledger", stories, "--output", out)
    copy = tmp_path / "copy.db"
    assert tiergate("import", out, "--ledger", copy, "--allow-violations").exit_code == 0
    before = state(copy)
    again = tiergate("import", out, "--ledger", copy, "--allow-violations")  # a duplicate is never let in
    assert again.exit_code == 2
    assert f"{out}:1: error[E612]: this exact event is already in the ledger" in again.stderr
    assert state(copy) == before


# --- check --ledger agrees with check --events -------------------------------------------------------

VERDICTS = [
    ("bias-fail-then-pass.yaml", ("--version", "1", "--to", "preproduction", "--at", "2026-03-12T12:00:00Z"), 1),
    ("bias-fail-then-pass.yaml", ("--replay", "--at", "2026-03-31T12:00:00Z"), 0),
    ("drift-breach.yaml", ("--replay", "--at", "2026-07-22T12:00:00Z"), 1),
    ("drift-breach.yaml", ("--replay", "--at", "2026-07-16T12:00:00Z"), 0),
    ("expired-waiver.yaml", ("--to", "preproduction", "--at", "2026-06-05T12:00:00Z"), 0),
    ("expired-waiver.yaml", ("--to", "preproduction", "--replay", "--at", "2026-06-18T09:00:00Z"), 1),
    ("fraud-promotion.yaml", ("--replay", "--at", "2026-04-23T12:00:00Z"), 0),
    ("fraud-promotion.yaml", ("--version", "2026.03", "--to", "deployment", "--mode", "full",
                              "--at", "2026-04-17T12:00:00Z"), 1),
    ("fraud-promotion.yaml", ("--version", "2026.03", "--to", "deployment", "--mode", "canary",
                              "--at", "2026-04-17T12:00:00Z"), 0),
    ("loan-no-risk-signoff.yaml", ("--replay", "--at", "2026-05-20T12:00:00Z"), 1),
    ("loan-no-risk-signoff.yaml", ("--to", "deployment", "--mode", "canary", "--at", "2026-05-15T12:00:00Z"), 1),
    ("self-approval.yaml", ("--to", "deployment", "--replay", "--at", "2026-06-12T12:00:00Z"), 1),
]


def _comparable(report: dict) -> dict:
    """A check report without where each event was read from (file lines vs ledger events)."""
    text = json.dumps(report)
    text = re.sub(r"\((?:line |lines |ledger event #)\d+[^)]*\)", "(...)", text)
    out = json.loads(text)
    for violation in out["violations"]:
        violation.pop("file"), violation.pop("line"), violation.pop("event", None), violation.pop("roster")
    out.pop("warnings")
    return out


@pytest.mark.parametrize("name, args, code", VERDICTS)
def test_check_ledger_agrees_with_check_events(stories, name, args, code):
    use_case = STORY_USE_CASE[name]
    from_events = tiergate("check", "--events", STORIES / name, "--answers", USE_CASES / f"{use_case}.yaml",
                           "--roster", ROSTER, *args, "--format", "json")
    from_ledger = tiergate("check", "--ledger", stories, "--use-case", use_case, *args, "--format", "json")
    assert (from_events.exit_code, from_ledger.exit_code) == (code, code), from_ledger.stderr
    assert _comparable(json.loads(from_ledger.stdout)) == _comparable(json.loads(from_events.stdout))


def test_check_ledger_text_report(stories):
    result = tiergate("check", "--ledger", stories, "--use-case", "churn-dashboard", "--to", "deployment",
                      "--at", "2026-06-12T12:00:00Z")
    assert result.exit_code == 1
    assert result.stdout.startswith("BLOCKED: churn-dashboard 2026.2 may not enter deployment (tier scheduled, now "
                                    "in preproduction)")
    assert "bea's sign-off does not count: bea registered this version (separation of duties)" in result.stdout


# --- the index status reads -------------------------------------------------------------------------

def test_a_result_hidden_from_status_is_found_by_verify_and_reindex_mends_it(tmp_path):
    """Pointing the index at an older, passing drift result makes `status` miss the breach; the events are intact,
    `audit verify` says where the index is wrong, and `audit reindex` builds it again from the events."""
    import sqlite3

    ledger = tmp_path / "ledger.db"
    assert import_story(ledger, "drift-breach.yaml", "--roster", ROSTER).exit_code == 0
    show = ("status", "--ledger", ledger, "--roster", ROSTER, "--at", "2026-07-23T00:00:00Z", "--format", "csv")
    assert "monitoring:input_drift@deployment breach" in tiergate(*show).stdout
    db = sqlite3.connect(ledger)
    [(latest,)] = db.execute("SELECT seq FROM standing WHERE slot = 'monitoring:input_drift'").fetchall()
    [(older,)] = db.execute("SELECT MAX(seq) FROM events WHERE type = 'monitoring' AND seq < ? AND "
                            "json_extract(body, '$.kind') = 'input_drift'", (latest,)).fetchall()
    db.execute("UPDATE standing SET seq = ? WHERE slot = 'monitoring:input_drift'", (older,))
    db.commit()
    db.close()
    assert "breach" not in tiergate(*show).stdout
    verified = tiergate("audit", "verify", "--ledger", ledger)
    assert verified.exit_code == 1
    assert verified.stdout == ("LEDGER BROKEN: the events are intact, but the index `status` reads does not match "
                               f"them: predictive-maintenance 3.0, monitoring:input_drift: it points at event {older}, "
                               f"where the latest is event {latest}\n")
    assert verified.stderr.endswith("the index can be built again from the events: tiergate audit reindex\n")
    events = story_count("drift-breach.yaml")
    reindexed = tiergate("audit", "reindex", "--ledger", ledger)
    assert (reindexed.exit_code, reindexed.stdout) == (0, f"index built again: {events - 3} rows from {events} "
                                                          "events\n")
    assert tiergate("audit", "verify", "--ledger", ledger).exit_code == 0
    assert "monitoring:input_drift@deployment breach" in tiergate(*show).stdout
