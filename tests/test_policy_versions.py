"""Policies change; history must not break. Policy versions in the ledger (adopted, listed, shown, exported and
verified), each past transition judged under the policy and the roster in force at its time, a version left off
its workflow by a new policy, and the ledger asked about a point in time.

The history used throughout (examples/policy-evolution): `triage` is registered under triage-governance 0.3.0,
whose `internal` tier goes develop -> release -> operate; version 0.4.0 moves it to `sandbox`, whose lite workflow
goes intake -> build -> operate and asks an ops_lead's sign-off before operate.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from test_ledger_cli import ROOT, exported, state, tiergate

HERE = ROOT / "examples" / "policy-evolution"
P3, P4 = HERE / "triage-0.3.policy", HERE / "triage-0.4.policy"
ANSWERS, ROSTER = HERE / "triage.yaml", HERE / "roster.yaml"


def run(ledger, *args, policy=P3, actor="dana", at=None):
    options = ["--ledger", ledger, "--actor", actor, *(["--policy", policy] if policy else []),
               *(["--at", at] if at else [])]
    result = tiergate(*args, *options)
    return result


def ok(result):
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def evolved(tmp_path) -> Path:
    """triage 1 moved to operate under 0.3.0, then decided again under 0.4.0."""
    ledger = tmp_path / "ledger.db"
    ok(run(ledger, "roster", "import", ROSTER, actor="admin", at="2026-03-01T09:00:00Z"))
    ok(run(ledger, "register", "triage", "1", "--answers", ANSWERS, actor="omar", at="2026-03-02T09:00:00Z"))
    ok(run(ledger, "signoff", "triage", "1", "--gate", "release", "--role", "ds_lead", at="2026-03-03T09:00:00Z"))
    ok(run(ledger, "promote", "triage", "1", "--to", "release", at="2026-03-04T09:00:00Z"))
    ok(run(ledger, "promote", "triage", "1", "--to", "operate", at="2026-03-05T09:00:00Z"))
    ok(run(ledger, "reclassify", policy=P4, at="2026-06-01T09:00:00Z"))
    return ledger


def load(path):
    from tiergate.language.load import load_policy

    return load_policy(path)


# --- policy versions in the ledger ---------------------------------------------------------------------------

def test_the_first_recording_under_a_policy_adopts_it_with_its_sources(evolved):
    events = exported(evolved)
    adoptions = [e for e in events if e["type"] == "policy_adopted"]
    p3, p4 = load(P3), load(P4)
    assert [(a["policy"]["version"], a["actor"], a["at"]) for a in adoptions] == [
        ("0.3.0", "admin", "2026-03-01T09:00:00Z"), ("0.4.0", "dana", "2026-06-01T09:00:00Z")]
    assert adoptions[0]["sources"] == {p3.sha256: p3.source, p3.questionnaire_sha256: p3.questionnaire_source}
    # the questionnaire is the same file: the second adoption carries only the policy's new source
    assert adoptions[1]["sources"] == {p4.sha256: p4.source}
    assert adoptions[1]["questionnaire"]["sha256"] == p3.questionnaire_sha256
    # each adoption comes right before the event recorded under it
    assert [e["type"] for e in events] == ["policy_adopted", "roster", "registered", "signoff", "transition",
                                           "transition", "policy_adopted", "reclassified"]


def test_policy_log_lists_the_versions_and_the_one_in_force(evolved):
    text = ok(tiergate("policy", "log", "--ledger", evolved)).stdout.splitlines()
    p3, p4 = load(P3), load(P4)
    assert text == [
        f"2026-03-01T09:00:00Z  #1     triage-governance 0.3.0  sha256 {p3.sha256[:12]}  questionnaire "
        f"{p3.questionnaire_sha256[:12]}  by admin",
        f"2026-06-01T09:00:00Z  #7     triage-governance 0.4.0  sha256 {p4.sha256[:12]}  questionnaire "
        f"{p4.questionnaire_sha256[:12]}  by dana  (in force)"]
    log = json.loads(ok(tiergate("policy", "log", "--ledger", evolved, "--format", "json")).stdout)
    assert [(e["seq"], e["version"], e["sha256"], e["in_force"]) for e in log] == [
        (1, "0.3.0", p3.sha256, False), (7, "0.4.0", p4.sha256, True)]


def test_policy_show_prints_the_source_exactly_as_adopted(evolved):
    p3 = load(P3)
    shown = ok(tiergate("policy", "show", p3.sha256[:8], "--ledger", evolved)).stdout
    assert shown == P3.read_text(encoding="utf-8")
    schema = ok(tiergate("policy", "show", p3.sha256[:8], "--questionnaire", "--ledger", evolved)).stdout
    assert hashlib.sha256(schema.encode()).hexdigest() == p3.questionnaire_sha256
    for prefix in ("ffff", ""):
        missing = tiergate("policy", "show", prefix, "--ledger", evolved)
        assert missing.exit_code == 2 and "error[E642]" in missing.stderr
        assert "the versions it holds: " in missing.stderr and p3.sha256[:12] in missing.stderr


def test_policy_adopt_records_a_version_once_and_a_return_to_an_older_one(evolved):
    before = state(evolved)[1]
    again = ok(run(evolved, "policy", "adopt", P4, policy=None))
    assert again.stdout.endswith("is in force already; nothing was recorded\n") and state(evolved)[1] == before
    back = ok(run(evolved, "policy", "adopt", P3, policy=None))
    assert back.stdout.startswith("adopted policy triage-governance 0.3.0 (sha256 ")
    last = exported(evolved)[-1]
    # put back in force: named, not stored again (the ledger holds its source)
    assert last["type"] == "policy_adopted" and last["policy"]["version"] == "0.3.0" and "sources" not in last
    log = json.loads(ok(tiergate("policy", "log", "--ledger", evolved, "--format", "json")).stdout)
    assert [(e["version"], e["in_force"]) for e in log] == [("0.3.0", False), ("0.4.0", False), ("0.3.0", True)]


def test_export_and_import_carry_the_versions(evolved, tmp_path):
    dump = tmp_path / "history.jsonl"
    dump.write_text(ok(tiergate("export", "--ledger", evolved)).stdout, encoding="utf-8")
    copy = tmp_path / "copy.db"
    ok(tiergate("import", dump, "--ledger", copy, "--policy", P3))
    assert state(copy)[0] == state(evolved)[0]  # the same events, chained the same: the same head
    p4 = load(P4)
    assert ok(tiergate("policy", "show", p4.sha256[:12], "--ledger", copy)).stdout == P4.read_text()
    ok(tiergate("audit", "verify", "--ledger", copy))


def test_an_import_validates_each_event_under_the_policy_the_history_adopted(tmp_path):
    """A history that spans two workflows imports whole: after its adoption of 0.4.0, a sign-off for `operate` of
    the lite workflow's sandbox tier is validated under 0.4.0, not under the policy given to the import."""
    ledger = tmp_path / "ledger.db"
    ok(run(ledger, "roster", "import", ROSTER, actor="admin", at="2026-03-01T09:00:00Z"))
    ok(run(ledger, "register", "triage", "1", "--answers", ANSWERS, actor="omar", at="2026-03-02T09:00:00Z"))
    ok(run(ledger, "reclassify", policy=P4, at="2026-06-01T09:00:00Z"))
    # (a rejection: omar registered the version, so his approval would be refused; the gate and role are 0.4.0's)
    ok(run(ledger, "signoff", "triage", "1", "--gate", "build", "--role", "ops_lead", "--reject", actor="omar",
           policy=P4, at="2026-06-02T09:00:00Z"))
    dump = tmp_path / "history.jsonl"
    dump.write_text(ok(tiergate("export", "--ledger", ledger)).stdout, encoding="utf-8")
    copy = tmp_path / "copy.db"
    ok(tiergate("import", dump, "--ledger", copy, "--policy", P3))  # (the policy the history starts under)
    assert state(copy) == state(ledger)


def adoption_lines(ledger) -> list[dict]:
    return [e for e in exported(ledger) if e["type"] == "policy_adopted"]


def test_an_import_refuses_a_source_that_does_not_match_its_hash(evolved, tmp_path):
    events = exported(evolved)
    first = next(e for e in events if e["type"] == "policy_adopted")
    sha = first["policy"]["sha256"]
    first["sources"][sha] = first["sources"][sha].replace("ds_lead before release", "ds_lead before operate")
    dump = tmp_path / "forged.jsonl"
    dump.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    copy = tmp_path / "copy.db"
    refused = tiergate("import", dump, "--ledger", copy, "--policy", P3)
    assert refused.exit_code == 2
    assert f"{dump}:1: error[E640]: the source stored under sha256 {sha[:12]} no longer matches it" in refused.stderr
    assert not copy.exists() or state(copy)[1] == 0


def test_an_import_refuses_an_adoption_whose_source_is_missing(evolved, tmp_path):
    events = exported(evolved)
    del next(e for e in events if e["type"] == "policy_adopted")["sources"]
    dump = tmp_path / "incomplete.jsonl"
    dump.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    copy = tmp_path / "copy.db"
    refused = tiergate("import", dump, "--ledger", copy, "--policy", P3)
    assert refused.exit_code == 2 and f"{dump}:1: error[E641]: the policy_adopted event names policy sha256" \
        in refused.stderr
    assert not copy.exists() or state(copy)[1] == 0


def rechain(path: Path) -> None:
    """Rewrite every hash after the bodies (as someone with write access to the file could): the chain is whole
    again, whatever the bodies now say."""
    from tiergate.ledger.chain import GENESIS, event_hash

    db = sqlite3.connect(path)
    previous = GENESIS
    for seq, body in db.execute("SELECT seq, body FROM events ORDER BY seq").fetchall():
        digest = event_hash(previous, body.encode() if isinstance(body, str) else body)
        db.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (previous, digest, seq))
        previous = digest
    db.commit()
    db.close()


def test_audit_verify_finds_a_source_changed_and_chained_again(evolved):
    db = sqlite3.connect(evolved)
    (body,) = db.execute("SELECT body FROM events WHERE seq = 1").fetchone()
    event = json.loads(body)
    sha = event["policy"]["sha256"]
    event["sources"][sha] = event["sources"][sha].replace("before release", "before operate")
    from tiergate.ledger.chain import canonical

    db.execute("UPDATE events SET body = ? WHERE seq = 1", (canonical(event),))
    db.commit()
    db.close()
    rechain(evolved)
    result = tiergate("audit", "verify", "--ledger", evolved)
    assert result.exit_code == 1
    assert f"policy adoption 1: the source stored under sha256 {sha[:12]} no longer matches it" in result.stdout \
        + result.stderr


# --- judged under what was in force --------------------------------------------------------------------------

def test_a_transition_allowed_then_is_not_a_violation_under_a_later_policy(evolved):
    """triage 1 entered operate on 5 March under 0.3.0, which asks nothing for it; 0.4.0 asks an ops_lead's
    sign-off. The replay judges it under 0.3.0: no violation."""
    result = json.loads(tiergate("check", "--ledger", evolved, "--use-case", "triage", "--replay",
                                 "--format", "json").stdout)
    assert result["policy"]["version"] == "0.4.0" and result["stage"] == "operate"
    assert result["violations"] == []
    # the same history judged under 0.4.0 alone (as an events file would be) finds the violation
    from tiergate.decide.check import check
    from tiergate.ledger.actions import answers_of
    from tiergate.ledger.service import Ledger

    with Ledger(evolved, create=False, readonly=True) as ledger:
        alone = check(load(P4), answers_of(ledger.registration("triage")), ledger.events("triage"), ledger.roster(),
                      replay=True)
    assert [(v.to_stage, v.message) for v in alone.violations] == [
        ("operate", "entered operate while its gate was not met: signoff:ops_lead@operate")]
    assert alone.violations[0].policy[1] == "0.4.0"


def test_a_violation_names_the_policy_and_the_roster_it_was_judged_under(evolved, tmp_path):
    """Version 2, imported as it happened, entered release on 10 March without the ds_lead sign-off 0.3.0 asks."""
    answers = yaml.safe_load(ANSWERS.read_text())
    history = tmp_path / "v2.yaml"
    history.write_text(yaml.safe_dump([
        {"at": "2026-03-10T09:00:00Z", "type": "registered", "use_case": "triage", "version": "2", "actor": "dana",
         "answers": answers},
        {"at": "2026-03-11T09:00:00Z", "type": "transition", "use_case": "triage", "version": "2", "actor": "dana",
         "to": "release"}]))
    ok(tiergate("import", history, "--ledger", evolved, "--policy", P3))
    result = json.loads(tiergate("check", "--ledger", evolved, "--use-case", "triage", "--version", "2",
                                 "--replay", "--format", "json").stdout)
    [violation] = result["violations"]
    p3 = load(P3)
    assert violation["message"] == "entered release while its gate was not met: signoff:ds_lead@release"
    assert violation["policy"] == {"name": "triage-governance", "version": "0.3.0", "sha256": p3.sha256}
    assert violation["roster"] == "ledger event #2"
    text = tiergate("check", "--ledger", evolved, "--use-case", "triage", "--version", "2", "--replay").stdout
    assert "entered release while its gate was not met: signoff:ds_lead@release (under triage-governance 0.3.0, " \
        "roster of ledger event #2)" in text
    assert f"signoff:ds_lead@release: needs an approving sign-off from ds_lead for release (none recorded)  " \
        "[triage-governance 0.3.0 line 27]" in text  # the line of the version judged under


def test_a_role_granted_later_does_not_make_an_earlier_signoff_count(tmp_path):
    """mallory, without ds_lead in the roster of 1 March, signs off and moves the version to release; on 20 March
    she imports a roster that makes her ds_lead. The replay judges the move under the roster of its time."""
    ledger = tmp_path / "ledger.db"
    ok(run(ledger, "roster", "import", ROSTER, actor="dana", at="2026-03-01T09:00:00Z"))
    answers = yaml.safe_load(ANSWERS.read_text())
    history = tmp_path / "history.yaml"
    history.write_text(yaml.safe_dump([
        {"at": "2026-03-02T09:00:00Z", "type": "registered", "use_case": "triage", "version": "1", "actor": "dana",
         "answers": answers},
        {"at": "2026-03-03T09:00:00Z", "type": "signoff", "use_case": "triage", "version": "1", "actor": "mallory",
         "gate": "release", "role": "ds_lead", "decision": "approve"},
        {"at": "2026-03-04T09:00:00Z", "type": "transition", "use_case": "triage", "version": "1", "actor": "dana",
         "to": "release"}]))
    imported = ok(tiergate("import", history, "--ledger", ledger, "--policy", P3, "--allow-violations"))
    assert "mallory" in imported.stderr  # (let in as it happened, with a warning)
    granted = tmp_path / "granted.yaml"
    granted.write_text("people:\n  dana: [ds_lead]\n  omar: [ops_lead]\n  mallory: [ds_lead]\n")
    ok(run(ledger, "roster", "import", granted, actor="dana", at="2026-03-20T09:00:00Z"))
    result = json.loads(tiergate("check", "--ledger", ledger, "--use-case", "triage", "--replay", "--policy", P3,
                                 "--format", "json").stdout)
    [violation] = result["violations"]
    assert violation["message"] == "entered release while its gate was not met: signoff:ds_lead@release"
    assert violation["roster"] == "ledger event #2"
    assert "mallory" in violation["unmet"][0]["reason"]


# --- a version off its workflow ------------------------------------------------------------------------------

def test_the_issue_example_ends_judgeable_with_a_clear_next_step(tmp_path):
    ledger = tmp_path / "ledger.db"
    ok(run(ledger, "roster", "import", ROSTER, actor="admin", at="2026-03-01T09:00:00Z"))
    ok(run(ledger, "register", "triage", "1", "--answers", ANSWERS, actor="omar", at="2026-03-02T09:00:00Z"))
    ok(run(ledger, "signoff", "triage", "1", "--gate", "release", "--role", "ds_lead", at="2026-03-03T09:00:00Z"))
    assert ok(run(ledger, "reclassify", policy=P4)).stdout == "triage: internal -> sandbox\n"
    status = json.loads(ok(tiergate("status", "--ledger", ledger, "--format", "json")).stdout)["versions"]
    assert [(r["tier"], r["stage"], r["next_stage"], r["problem"]) for r in status] == [
        ("sandbox", "intake", "build", None)]
    check = tiergate("check", "--ledger", ledger, "--use-case", "triage", "--to", "build")
    assert check.exit_code == 0 and check.stdout.startswith("ALLOWED: triage 1 may enter build")
    assert "4: a sign-off for stage `release`, which workflow `lite` does not have: kept as history" in check.stdout


def test_a_version_left_at_a_stage_the_new_workflow_lacks_is_flagged_and_may_reenter(tmp_path):
    ledger = tmp_path / "ledger.db"
    ok(run(ledger, "roster", "import", ROSTER, actor="admin", at="2026-03-01T09:00:00Z"))
    ok(run(ledger, "register", "triage", "1", "--answers", ANSWERS, actor="omar", at="2026-03-02T09:00:00Z"))
    ok(run(ledger, "signoff", "triage", "1", "--gate", "release", "--role", "ds_lead", at="2026-03-03T09:00:00Z"))
    ok(run(ledger, "promote", "triage", "1", "--to", "release", at="2026-03-04T09:00:00Z"))
    ok(run(ledger, "reclassify", policy=P4))
    [row] = json.loads(ok(tiergate("status", "--ledger", ledger, "--format", "json")).stdout)["versions"]
    assert (row["stage"], row["off_workflow"], row["next_stage"], row["attention"]) == ("release", "lite", "intake",
                                                                                        True)
    text = ok(tiergate("status", "--ledger", ledger)).stdout
    assert "off its workflow: release is not a stage of lite" in text
    # any stage of the new workflow whose gate it meets: build asks nothing, operate an ops_lead's sign-off
    build = tiergate("check", "--ledger", ledger, "--use-case", "triage", "--to", "build", "--format", "json")
    assert build.exit_code == 0 and json.loads(build.stdout)["allowed"] is True
    operate = tiergate("check", "--ledger", ledger, "--use-case", "triage", "--to", "operate", "--format", "json")
    assert operate.exit_code == 1
    assert [r["id"] for r in json.loads(operate.stdout)["requirements"] if r["status"] == "unmet"] == [
        "signoff:ops_lead@operate"]
    warnings = [w["code"] for w in json.loads(operate.stdout)["warnings"]]
    assert warnings.count("W427") == 1 and warnings.count("W426") == 1
    ok(run(ledger, "promote", "triage", "1", "--to", "build", policy=P4))
    [row] = json.loads(ok(tiergate("status", "--ledger", ledger, "--format", "json")).stdout)["versions"]
    assert (row["stage"], row["off_workflow"], row["next_stage"]) == ("build", None, "operate")


# --- a point in time -----------------------------------------------------------------------------------------

def rows_at(ledger, at, *args) -> list[tuple]:
    result = json.loads(ok(tiergate("status", "--ledger", ledger, "--at", at, "--format", "json", *args)).stdout)
    return result["policy"]["version"], [(r["tier"], r["stage"], r["next_stage"], r["classified_under"])
                                         for r in result["versions"]]


def test_status_at_three_times_of_one_history(evolved):
    assert rows_at(evolved, "2026-03-02T12:00:00Z") == ("0.3.0", [
        ("internal", "develop", "release", "triage-governance 0.3.0")])
    assert rows_at(evolved, "2026-03-04T12:00:00Z") == ("0.3.0", [
        ("internal", "release", "operate", "triage-governance 0.3.0")])
    assert rows_at(evolved, "2026-07-01T00:00:00Z") == ("0.4.0", [
        ("sandbox", "operate", None, "triage-governance 0.4.0")])
    # what was in release on 4 March, and on 1 July
    assert rows_at(evolved, "2026-03-04T12:00:00Z", "--stage", "release")[1] != []
    assert rows_at(evolved, "2026-07-01T00:00:00Z", "--stage", "release")[1] == []


def test_check_at_a_past_time_judges_under_the_policy_in_force_then(evolved):
    then = json.loads(tiergate("check", "--ledger", evolved, "--use-case", "triage", "--at", "2026-03-03T12:00:00Z",
                               "--to", "release", "--format", "json").stdout)
    assert (then["policy"]["version"], then["tier"], then["stage"], then["allowed"]) == ("0.3.0", "internal",
                                                                                        "develop", True)


@pytest.mark.parametrize("command", ["status", "check"])
@pytest.mark.parametrize("at, words", [
    ("2020-01-01T00:00:00Z", "is before the ledger's first event (2026-03-01T09:00:00Z)"),
    ("2999-01-01T00:00:00Z", "is later than now")])
def test_at_outside_the_ledgers_history_is_refused(evolved, command, at, words):
    args = ["--use-case", "triage"] if command == "check" else []
    result = tiergate(command, "--ledger", evolved, *args, "--at", at)
    assert result.exit_code == 2 and f"error[E632]: --at {at} {words}" in result.stderr


def test_each_policy_version_is_compiled_once_per_process(evolved, monkeypatch):
    from tiergate.language import load as loading
    from tiergate.ledger import policyversions
    from tiergate.ledger.inforce import in_force
    from tiergate.ledger.service import Ledger

    current = load(P4)
    monkeypatch.setattr(policyversions, "_COMPILED", type(policyversions._COMPILED)())
    compiled = []
    real = loading.compile_policy
    monkeypatch.setattr(loading, "compile_policy", lambda *a, **k: compiled.append(1) or real(*a, **k))
    with Ledger(evolved, create=False, readonly=True) as ledger:
        for _ in range(3):
            forces = in_force(ledger, current)
    assert len(compiled) == 1  # 0.3.0 from its stored source, once; 0.4.0 is the policy given
    assert [e.policy.version for e in forces.eras] == ["0.3.0", "0.4.0"] and forces.eras[-1].policy is current


def test_a_ledger_with_no_adoption_says_so(tmp_path):
    from tiergate.ledger.service import Ledger

    Ledger(tmp_path / "empty.db").close()
    result = ok(tiergate("policy", "log", "--ledger", tmp_path / "empty.db"))
    assert result.stdout == "no policy version adopted yet: the first recording command adopts its policy\n"
    assert json.loads(ok(tiergate("policy", "log", "--ledger", tmp_path / "empty.db", "--format", "json")).stdout) == []


@pytest.mark.parametrize("story", sorted(p.name for p in (ROOT / "examples" / "events").glob("*.yaml")))
def test_judging_under_an_earlier_version_that_decides_alike_finds_the_same(story):
    """The eras' path against the plain one: a history split across versions that decide alike (the pack's own
    text under another version number) has the same violations, each naming the version of its era."""
    from conftest import STORY_USE_CASE
    from tiergate.decide.check import check
    from tiergate.decide.eras import Era, Timeline
    from tiergate.inputs.answers import load_answers
    from tiergate.inputs.events import load_events, load_roster
    from tiergate.language.load import compile_policy

    pack = ROOT / "policies" / "mlops-default.policy"
    policy = load(pack)
    earlier = compile_policy(pack.read_text().replace('version "1.0.0"', 'version "0.9.0"'), str(pack))
    roster = load_roster(ROOT / "examples" / "roster.yaml")
    answers = load_answers(ROOT / "examples" / "use-cases" / f"{STORY_USE_CASE[story]}.yaml", policy)
    events = load_events(ROOT / "examples" / "events" / story)
    times = sorted(e.at for e in events.events if e.type == "transition")
    middle = times[len(times) // 2]
    plain = check(policy, answers, events, roster, replay=True)
    split = check(policy, answers, events, roster, replay=True,
                  eras=Timeline([Era(None, earlier, roster), Era(middle, policy, roster)]))

    def seen(v):
        return v.kind, v.version, v.at, v.from_stage, v.to_stage, v.message, [s.id for s in v.unmet]
    assert [seen(v) for v in split.violations] == [seen(v) for v in plain.violations]
    assert [v.policy[1] for v in split.violations] == ["0.9.0" if v.at < middle else "1.0.0"
                                                       for v in split.violations]
    assert (split.stage, split.obligations) == (plain.stage, plain.obligations)


def test_policy_adopt_takes_the_policy_as_its_argument_only(evolved):
    result = tiergate("policy", "adopt", P3, "--policy", P4, "--ledger", evolved)
    assert result.exit_code == 2 and "the policy to adopt is FILE; leave out --policy" in result.stderr
    missing = tiergate("policy", "adopt", HERE / "nowhere.policy", "--ledger", evolved)
    assert missing.exit_code == 2 and "nowhere.policy" in missing.stderr


def test_a_policy_cannot_be_adopted_as_of_a_time_before_what_is_recorded(evolved):
    """Backdating an adoption would change which policy judged transitions already recorded: refused, whether by
    `policy adopt --at` or by a recording command dated back under a policy not in force then."""
    before = state(evolved)
    adopt = run(evolved, "policy", "adopt", P4, policy=None, at="2026-03-04T12:00:00Z")  # (0.3.0 was in force)
    assert adopt.exit_code == 2 and "error[E631]: the policy would be adopted as of 2026-03-04T12:00:00Z, before " \
        "event 8 (2026-06-01T09:00:00Z)" in adopt.stderr
    backdated = run(evolved, "register", "triage", "2", "--answers", ANSWERS, actor="omar", policy=P4,
                    at="2026-05-01T09:00:00Z")
    assert backdated.exit_code == 2 and "error[E631]: the policy would be adopted as of 2026-05-01T09:00:00Z" \
        in backdated.stderr and "leave out --at" in backdated.stderr
    assert state(evolved) == before
    assert ok(run(evolved, "policy", "adopt", P3, policy=None)).stdout.startswith("adopted policy")
