"""The ledger is the authority on who may do what: attacks a hostile user tried, each refused (exit 2, nothing
written) or judged as the ledger holds it. Driven through the command line and the application layer."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from test_ledger_cli import POLICY, ROSTER, USE_CASES, exported, state, tiergate

MINE = {"people": {"mallory": ["risk_audit", "data_scientist"], "dana": ["data_scientist"]}}


@pytest.fixture
def loan(tmp_path):
    """The example roster stored, loan-approval 1.0 registered by dana."""
    ledger = tmp_path / "ledger.db"
    assert tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    assert tiergate("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml",
                    "--ledger", ledger, "--actor", "dana", "--at", "2026-01-05T09:00:00Z").exit_code == 0
    return ledger


def run(ledger, *args, actor="dana", at="2026-01-06T09:00:00Z"):
    return tiergate(*args, "--ledger", ledger, "--actor", actor, *(["--at", at] if at else []))


def refused(result, code: str, *words: str) -> None:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert f"error[{code}]" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "nothing was written" in result.stderr


# --- finding 1: a roster or policy of one's own decides nothing recorded -----------------------------------

def test_a_roster_file_of_ones_own_records_no_signoff_and_promotes_nothing(loan, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump(MINE))
    before = state(loan)
    signoff = run(loan, "signoff", "loan-approval", "1.0", "--gate", "development", "--role", "risk_audit",
                  "--roster", mine, actor="mallory")
    refused(signoff, "E630", "is not the roster stored in the ledger", "tiergate roster import")
    promote = run(loan, "promote", "loan-approval", "1.0", "--to", "ideation", "--roster", mine)
    refused(promote, "E630", "tiergate roster import")
    assert state(loan) == before


def test_promote_under_a_lax_policy_is_refused(loan, tmp_path):
    lax = tmp_path / "lax.policy"
    schema = (POLICY.parent.parent / "schemas" / "questionnaire.schema.json").as_posix()
    lax.write_text(POLICY.read_text(encoding="utf-8").replace("../schemas/questionnaire.schema.json", schema)
                   + "\n# lax\n", encoding="utf-8")
    before = state(loan)
    refused(run(loan, "promote", "loan-approval", "1.0", "--to", "ideation", "--policy", lax), "E630",
            "was classified under the policy with sha256", "tiergate reclassify")
    refused(run(loan, "evidence", "loan-approval", "1.0", "pii_handling", "fields=0", "--policy", lax), "E630")
    assert state(loan) == before


def test_a_transition_records_the_policy_and_the_roster_it_was_decided_under(loan):
    from tiergate.language.load import load_policy

    done = run(loan, "promote", "loan-approval", "1.0", "--to", "ideation")
    assert done.exit_code == 0, done.stdout + done.stderr
    last = exported(loan)[-1]
    assert last["type"] == "transition"
    assert last["policy_sha256"] == load_policy(str(POLICY)).sha256
    assert last["roster_seq"] == 2  # (event 1 adopted the policy the roster was stored under)


def test_check_from_the_ledger_refuses_other_answers_for_a_registered_use_case(loan, tmp_path):
    lower = yaml.safe_load((USE_CASES / "adhoc-analysis.yaml").read_text())
    lower["use_case"] = "loan-approval"
    answers = tmp_path / "lower-risk.yaml"
    answers.write_text(yaml.safe_dump(lower))
    result = tiergate("check", "--ledger", loan, "--answers", answers, "--to", "ideation", "--at",
                      "2026-01-06T00:00:00Z")
    assert result.exit_code == 2 and "ALLOWED" not in result.stdout
    assert "error[E630]" in result.stderr and "registered with" in result.stderr
    same = tiergate("check", "--ledger", loan, "--answers", USE_CASES / "loan-approval.yaml", "--to", "ideation",
                    "--at", "2026-01-06T00:00:00Z")
    assert same.exit_code != 2, same.stderr


def test_check_from_the_ledger_refuses_a_roster_of_ones_own(loan, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump(MINE))
    result = tiergate("check", "--ledger", loan, "--use-case", "loan-approval", "--roster", mine, "--to", "ideation")
    assert result.exit_code == 2 and "error[E630]" in result.stderr


# --- finding 2: time is the ledger's --------------------------------------------------------------------

def test_a_backdated_event_is_refused(loan):
    assert run(loan, "evidence", "loan-approval", "1.0", "pii_handling", "fields=0",
               at="2026-03-01T09:00:00Z").exit_code == 0
    before = state(loan)
    refused(run(loan, "signoff", "loan-approval", "1.0", "--gate", "development", "--role", "risk_audit",
                actor="rita", at="2026-01-06T09:00:00Z"), "E631", "before the latest event", "tiergate import")
    assert state(loan) == before


def test_evidence_dated_before_the_latest_transition_is_refused(loan):
    """A result may carry the time it was measured, but not one before a decision already taken: backdated
    evidence would otherwise make a past transition look compliant in replay."""
    assert run(loan, "promote", "loan-approval", "1.0", "--to", "ideation", at="2026-01-06T09:00:00Z").exit_code == 0
    assert run(loan, "evidence", "loan-approval", "1.0", "pii_handling", "fields=0",
               at="2026-01-06T10:00:00Z").exit_code == 0  # after the transition: kept with its time
    before = state(loan)
    for kind in ("evidence", "monitor"):
        what = ("pii_handling",) if kind == "evidence" else ("input_drift",)
        refused(run(loan, kind, "loan-approval", "1.0", *what, "psi=0.1" if kind == "monitor" else "fields=0",
                    at="2026-01-06T08:00:00Z"), "E631", "before the latest transition", "cannot change it")
    assert state(loan) == before


def test_an_event_dated_ahead_of_the_clock_is_refused(loan):
    before = state(loan)
    refused(run(loan, "evidence", "loan-approval", "1.0", "pii_handling", "fields=0", at="2099-01-01T00:00:00Z"),
            "E631", "later than now")
    assert state(loan) == before


def test_without_at_an_event_is_recorded_now(loan):
    assert run(loan, "evidence", "loan-approval", "1.0", "pii_handling", "fields=0", at=None).exit_code == 0
    recorded = datetime.fromisoformat(exported(loan)[-1]["at"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - recorded).total_seconds()) < 120


def test_a_history_recorded_out_of_time_order_is_named(tmp_path):
    """An imported history keeps its times; where they go back against the recording order, `check --ledger`
    says so (W631)."""
    ledger = tmp_path / "ledger.db"
    assert tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    events = [
        {"at": "2026-01-05T09:00:00Z", "type": "registered", "use_case": "loan-approval", "version": "1.0",
         "actor": "dana"},
        {"at": "2026-01-07T09:00:00Z", "type": "transition", "use_case": "loan-approval", "version": "1.0",
         "actor": "dana", "to": "ideation"},
        {"at": "2026-01-08T09:00:00Z", "type": "transition", "use_case": "loan-approval", "version": "1.0",
         "actor": "dana", "to": "development"},
        {"at": "2026-01-06T09:00:00Z", "type": "signoff", "use_case": "loan-approval", "version": "1.0",
         "actor": "rita", "role": "risk_audit", "gate": "development", "decision": "approve"},
    ]
    history = tmp_path / "history.yaml"
    history.write_text(yaml.safe_dump(events))
    assert tiergate("import", history, "--answers", USE_CASES / "loan-approval.yaml", "--ledger", ledger,
                    "--actor", "admin").exit_code == 0
    replay = tiergate("check", "--ledger", ledger, "--use-case", "loan-approval", "--replay",
                      "--at", "2026-01-09T00:00:00Z")
    assert "the history of loan-approval was not recorded in time order" in replay.stdout


# --- finding 3: waivers do not chain past `up to`; a justification says why -----------------------------

WHY = "Red team booked for the next sprint"


def test_consecutive_waivers_do_not_chain_past_up_to(loan):
    waive = ("waive", "loan-approval", "1.0", "evidence:red_team@deployment")
    first = run(loan, *waive, "--until", "2026-01-20T09:00:00Z", "--justification", WHY, actor="rita")
    assert first.exit_code == 0, first.stderr
    before = state(loan)
    second = run(loan, *waive, "--until", "2026-02-02T09:00:00Z", "--justification", WHY, actor="rita",
                 at="2026-01-19T09:00:00Z")
    refused(second, "E610", "without a break for 27 days", "at most 14 days")
    assert state(loan) == before
    after_a_break = run(loan, *waive, "--until", "2026-02-03T09:00:00Z", "--justification", WHY, actor="rita",
                        at="2026-01-21T09:00:00Z")
    assert after_a_break.exit_code == 0, after_a_break.stderr


@pytest.mark.parametrize("why", [" ", "ok", "fine fine", "                     x"])
def test_a_justification_needs_real_words(loan, why):
    before = state(loan)
    refused(run(loan, "waive", "loan-approval", "1.0", "evidence:red_team@deployment", "--until",
                "2026-01-10T09:00:00Z", "--justification", why, actor="rita"), "E610", "says too little")
    assert state(loan) == before


# --- finding 4: identities ------------------------------------------------------------------------------

def test_identities_are_trimmed_and_case_folded_and_recorded_as_the_roster_writes_them(loan):
    assert run(loan, "register", "loan-approval", "2.0", "--answers", USE_CASES / "loan-approval.yaml",
               actor=" Raj").exit_code == 0
    # raj registered it, however his name is written: his own approval is refused (separation of duties)
    refused(run(loan, "signoff", "loan-approval", "2.0", "--gate", "development", "--role", "risk_audit",
                actor="RAJ"), "E611", "raj registered loan-approval 2.0, so may not approve it")
    assert run(loan, "signoff", "loan-approval", "2.0", "--gate", "development", "--role", "risk_audit",
               actor=" RITA ").exit_code == 0
    registered, signed = exported(loan)[-2:]
    assert (registered["actor"], signed["actor"]) == ("raj", "rita")
    check = tiergate("check", "--ledger", loan, "--use-case", "loan-approval", "--version", "2.0", "--to",
                     "ideation", "--at", "2026-01-07T00:00:00Z", "--format", "json")
    assert check.exit_code in (0, 1), check.stderr


def test_every_actor_must_be_in_the_roster(loan):
    before = state(loan)
    refused(run(loan, "register", "loan-approval", "3.0", "--answers", USE_CASES / "loan-approval.yaml",
                actor="mallory"), "E611", "mallory is not in the roster")
    refused(run(loan, "evidence", "loan-approval", "1.0", "pii_handling", "fields=0", actor="mallory"), "E611",
            "not in the roster")
    assert state(loan) == before


def test_a_roster_naming_one_person_twice_is_refused(tmp_path):
    from tiergate.errors import TiergateError
    from tiergate.inputs.events import parse_roster

    with pytest.raises(TiergateError, match="are one person"):
        parse_roster("people:\n  Raj: [risk_audit]\n  raj: [data_scientist]\n")
    roster = parse_roster("people:\n  Raj: [risk_audit]\n")
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert roster.holds(" raj ", "risk_audit", at) and roster.person("RAJ") == "Raj"


def test_the_application_layer_refuses_a_roster_of_ones_own(loan, tmp_path):
    from tiergate.app.recording import open_ledger, record
    from tiergate.errors import TiergateError
    from tiergate.inputs.events import parse_roster
    from tiergate.language.load import load_policy

    policy = load_policy(str(POLICY))
    mine = parse_roster(yaml.safe_dump(MINE), "mine.yaml")
    with open_ledger(str(loan)) as ledger:
        count = ledger.count()
        with pytest.raises(TiergateError) as caught:
            record(ledger, policy, mine, "signoff", "loan-approval", "1.0", actor="mallory", role="risk_audit",
                   gate="development", decision="approve")
        assert caught.value.diagnostics[0].code == "E630"
        assert ledger.count() == count
