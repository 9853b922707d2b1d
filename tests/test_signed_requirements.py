"""`require signed ...`: only signed events (their data holds the DSSE "envelope") meet a signed sign-off, evidence or
review requirement. The word in the grammar, the formatter, lint, the gates (a forged approval does not count), the
waivers, doc, matrix, requirements, diff, a policy test file, and the docs' outputs."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tiergate import compile_policy, load_policy
from tiergate.authoring.policydiff import policy_changes
from tiergate.authoring.policytest import run_tests
from tiergate.cli import main
from tiergate.decide.check import check
from tiergate.inputs.events import parse_events, parse_roster
from tiergate.language import lark_parser
from tiergate import format_source
from tiergate.language.load import lint_source
from tiergate.language.parser import parse

ROOT = Path(__file__).resolve().parent.parent
SIGNING = ROOT / "examples" / "signing"
POLICY_FILE = SIGNING / "signed.policy"
ANSWERS = yaml.safe_load((ROOT / "examples" / "use-cases" / "loan-approval.yaml").read_text(encoding="utf-8"))
ROSTER = parse_roster("people:\n  dana: [data_scientist]\n  rita: [risk_audit]\n  raj: [risk_audit]\n", "roster.yaml")
SIGNOFF, BIAS, REVIEW = "signoff:risk_audit@deployment", "evidence:bias_test@validation", "review:risk_audit@deployment"
ENVELOPE = {"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": [{"keyid": "k", "sig": "c2ln"}]}

SMALL = '''\
policy "signing" version "1.0.0":
  description: "signed requirements"

tiers low < high

roles signed, risk_audit, validator

workflow default:
  development -> validation -> deployment

consideration oversight "Oversight": signoff, review, bias_test, drift, deployment

classify:
  high when audience == "public"
  otherwise low

tier low:
{lines}
'''


def small(*lines: str) -> str:
    return SMALL.format(lines="\n".join("  " + line for line in lines))


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=timezone.utc)


def event(minute: int, type_: str, actor: str = "dana", signed: bool = False, **data) -> dict:
    out = {"at": at(9, minute).isoformat(), "type": type_, "use_case": "loan-approval", "version": "1", "actor": actor,
           **data}
    if signed:
        out["envelope"] = ENVELOPE
    return out


def events(*extra: dict, bias_signed: bool = True):
    base = [event(0, "registered"),
            event(5, "evidence", signed=bias_signed, kind="bias_test", metrics={"disparity": 0.04}),
            event(10, "transition", to="validation"),
            event(15, "evidence", kind="metrics_record", metrics={"auc": 0.81})]
    return parse_events(log(*base, *extra), "events.yaml")


def log(*items: dict) -> str:
    """A YAML list, one event a line: the event at index i is on line i + 2."""
    return "[\n" + ",\n".join(json.dumps(e) for e in items) + "\n]\n"


def approve(minute: int, actor: str = "rita", signed: bool = False, decision: str = "approve") -> dict:
    return event(minute, "signoff", actor, signed, role="risk_audit", gate="deployment", decision=decision)


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY_FILE)


def status(result, rid: str):
    return next(s for s in result.requirements if s.id == rid)


# --- the language ---------------------------------------------------------------------------------

def test_signed_is_read_on_each_kind_that_takes_it_and_keeps_the_id():
    lines = ("require signed signoff from risk_audit before deployment",
             "recommend signed signoff from any of risk_audit, validator before validation",
             "require signed 2 signoffs from validator before deployment",
             "require signed evidence bias_test where disparity <= 0.1 before validation waivable by risk_audit up to 7d",
             "require signed review by risk_audit every 90d after deployment")
    signed = compile_policy(small(*lines), "signing.policy")
    unsigned = compile_policy(small(*(line.replace(" signed ", " ") for line in lines)), "signing.policy")
    got = {r.id: (r.signed, r.text) for r in signed.tier("low").requirements}
    assert [r.id for r in unsigned.tier("low").requirements] == list(got)  # the ids do not change
    assert all(flag for flag, _ in got.values())
    assert [text for _, text in got.values()] == list(lines)
    assert not any(r.signed for r in unsigned.tier("low").requirements)


def test_signed_stays_a_name_where_a_name_is_expected():
    policy = compile_policy(small("require signoff from signed before deployment",
                                  "require signed signoff from signed before deployment as \"signed-by-signed\""),
                            "signing.policy")
    first, second = policy.tier("low").requirements
    assert (first.roles, first.signed, first.id) == (("signed",), False, "signoff:signed@deployment")
    assert (second.roles, second.signed, second.id) == (("signed",), True, "signed-by-signed")


def test_the_reader_and_the_reference_parser_agree():
    text = small("require   signed  2 signoffs from validator before deployment",
                 "recommend signed evidence bias_test before validation")
    assert parse(text, "a.policy") == lark_parser.parse(text, "a.policy", {"a.policy": text})


def test_fmt_puts_signed_after_the_severity_and_round_trips():
    messy = small("require    signed   signoff  from  risk_audit   before deployment",
                  "recommend signed 2 signoffs from validator before deployment  # two of them",
                  "require signed review by risk_audit every 90d after deployment waivable by risk_audit up to 7d")
    formatted = format_source(messy, "a.policy")
    assert "  require signed signoff from risk_audit before deployment\n" in formatted
    assert "  recommend signed 2 signoffs from validator before deployment  # two of them\n" in formatted
    assert "  require signed review by risk_audit every 90d after deployment waivable by risk_audit up to 7d\n" \
        in formatted
    assert format_source(formatted, "a.policy") == formatted
    before, after = compile_policy(messy, "a.policy"), compile_policy(formatted, "a.policy")
    assert [(r.id, r.text, r.signed) for r in before.tier("low").requirements] == \
        [(r.id, r.text, r.signed) for r in after.tier("low").requirements]


def test_the_example_policies_are_lint_clean_and_formatted():
    result = CliRunner().invoke(main, ["fmt", "--check", *map(str, sorted(SIGNING.glob("*.policy")))])
    assert result.exit_code == 0, result.output
    for path in sorted(SIGNING.glob("*.policy")):
        lint = lint_source(path.read_bytes(), str(path), path.parent)
        assert not lint.diagnostics, lint.diagnostics


@pytest.mark.parametrize("line, kind", [
    ("require signed deployment in [canary] before deployment", "deployment"),
    ("require signed monitoring drift every 30d after deployment", "monitoring"),
])
def test_lint_refuses_signed_on_a_kind_no_one_signs(line, kind):
    result = lint_source(small(line), "a.policy")
    (found,) = [d for d in result.diagnostics if d.is_error]
    assert found.code == "E287"
    assert found.message == f"`signed` means nothing for a {kind} requirement: no one signs what meets it"
    assert found.hint == "remove `signed`; only `signoff`, `evidence` and `review` requirements can ask for signed events"
    assert (found.location.line, found.location.column) == (18, 11)  # under the word


def test_signed_cannot_stand_anywhere_else():
    for line in ("require signoff signed from risk_audit before deployment",
                 "forbid signed when audience == \"public\"",
                 "signed require signoff from risk_audit before deployment"):
        result = lint_source(small(line), "a.policy")
        assert [d.code for d in result.diagnostics if d.is_error][:1] == ["E100"], line


# --- the gates -----------------------------------------------------------------------------------

def test_a_forged_approval_does_not_meet_a_signed_signoff(policy):
    r = check(policy, ANSWERS, events(approve(20)), ROSTER, to="deployment", at=at(10))
    assert r.allowed is False
    s = status(r, SIGNOFF)
    assert s.status == "unmet"
    assert s.reason == ("needs an approving sign-off from risk_audit for deployment (none recorded); rita's sign-off "
                        "does not count: it is not signed (the policy requires signed sign-offs)")


def test_a_signed_approval_meets_it(policy):
    r = check(policy, ANSWERS, events(approve(20, signed=True)), ROSTER, to="deployment", at=at(10))
    assert r.allowed is True
    assert status(r, SIGNOFF).reason == "approved by risk_audit: rita"


def test_an_unsigned_rejection_cancels_no_signed_approval_and_a_signed_one_does(policy):
    r = check(policy, ANSWERS, events(approve(20, signed=True), approve(25, "raj", decision="reject")), ROSTER,
              to="deployment", at=at(10))
    assert r.allowed is True
    r = check(policy, ANSWERS, events(approve(20, signed=True), approve(25, "raj", True, "reject")), ROSTER,
              to="deployment", at=at(10))
    assert r.allowed is False
    assert status(r, SIGNOFF).reason.startswith("needs an approving sign-off from risk_audit for deployment "
                                                "(none recorded); rejected by raj at 2026-03-02T09:25:00Z")


def test_a_signed_count_counts_signed_people_only():
    policy = compile_policy(small("require signed 2 signoffs from risk_audit before deployment"), "a.policy")
    answers = {"use_case": "loan-approval", "answers": {"audience": "internal"}}
    r = check(policy, answers, parse_events(log(
        event(0, "registered"), event(1, "transition", to="validation"), approve(20, signed=True),
        approve(21, "raj")), "e"), ROSTER, to="deployment", at=at(10))
    (s,) = r.requirements
    assert s.status == "unmet"
    assert s.reason == ("needs 2 approving sign-offs from risk_audit for deployment (1 so far); raj's sign-off does "
                        "not count: it is not signed (the policy requires signed sign-offs)")


def test_unsigned_evidence_does_not_meet_signed_evidence(policy):
    r = check(policy, ANSWERS, events(bias_signed=False), ROSTER, to="validation", at=at(10))
    s = status(r, BIAS)
    assert s.status == "unmet"
    assert s.reason == ("the latest bias_test evidence (line 3, 2026-03-02T09:05:00Z) does not count: it is not signed "
                        "(the policy requires signed evidence)")
    r = check(policy, ANSWERS, events(), ROSTER, to="validation", at=at(10))
    assert status(r, BIAS).status == "met"
    history = events(approve(20, signed=True), event(30, "transition", to="deployment"), bias_signed=False)
    (violation,) = check(policy, ANSWERS, history, ROSTER, at=at(10), replay=True).violations
    assert [s.id for s in violation.unmet] == [BIAS]  # (the compiled gate of validation, by its decider)


def test_an_unsigned_waiver_does_not_stand_in_for_a_signed_signoff(policy):
    waiver = event(20, "waiver", "rita", requirement=SIGNOFF, justification="audit next week",
                   expires="2026-03-09T00:00:00Z")
    r = check(policy, ANSWERS, events(waiver), ROSTER, to="deployment", at=at(10))
    s = status(r, SIGNOFF)
    assert s.status == "unmet"
    note = ("the waiver by rita (line 6) does not count: it is not signed (signoff:risk_audit@deployment requires "
            "signed sign-offs, so a waiver of it must be signed too)")
    assert s.reason.endswith(note)
    assert note.replace("(line 6)", "(line 7)") in " ".join((ROOT / "docs" / "language.md").read_text().split())
    r = check(policy, ANSWERS, events({**waiver, "envelope": ENVELOPE}), ROSTER, to="deployment", at=at(10))
    assert status(r, SIGNOFF).status == "waived"


def test_replay_finds_a_deployment_on_a_forged_approval(policy):
    """Replay decides with the compiled gate (its deciders), the check --to with the evaluators: they agree."""
    history = events(approve(20), event(30, "transition", to="deployment"))
    r = check(policy, ANSWERS, history, ROSTER, at=at(10), replay=True)
    (violation,) = r.violations
    assert [s.id for s in violation.unmet] == [SIGNOFF]
    signed = events(approve(20, signed=True), event(30, "transition", to="deployment"))
    assert not check(policy, ANSWERS, signed, ROSTER, at=at(10), replay=True).violations


def test_only_signed_reviews_keep_a_signed_review_obligation(policy):
    deployed = [approve(20, signed=True), event(30, "transition", to="deployment")]
    later = datetime(2026, 6, 15, tzinfo=timezone.utc)
    review = {**event(0, "review", "rita", role="risk_audit", decision="approve"), "at": "2026-05-20T09:00:00+00:00"}
    r = check(policy, ANSWERS, events(*deployed, review), ROSTER, at=later)
    (o,) = [o for o in r.obligations if o.id == REVIEW]
    assert o.status == "overdue"
    assert "rita's review at 2026-05-20T09:00:00Z (line 8) does not count: it is not signed (the policy requires " \
           "signed reviews)" in o.reason
    r = check(policy, ANSWERS, events(*deployed, {**review, "envelope": ENVELOPE}), ROSTER, at=later)
    (o,) = [o for o in r.obligations if o.id == REVIEW]
    assert o.status == "ok"


def test_the_policy_tests_of_the_example_pass_with_full_coverage(monkeypatch):
    monkeypatch.chdir(ROOT)
    run = run_tests(["examples/signing"])
    assert not run.errors and not run.failed and len(run.results) == 7
    (coverage,) = run.coverage().values()
    assert coverage["percent"] == 100


# --- what reports and diff say -------------------------------------------------------------------

def run(*argv: str) -> str:
    result = CliRunner().invoke(main, list(argv))
    return result.output


def test_requirements_matrix_and_doc_show_the_word(monkeypatch):
    monkeypatch.chdir(ROOT)
    data = json.loads(run("requirements", "--policy", "examples/signing/signed.policy", "high", "--format", "json"))
    assert {r["id"]: r.get("signed", False) for r in data["requirements"]} == {
        "evidence:metrics_record@deployment": False, SIGNOFF: True, BIAS: True, REVIEW: True}
    matrix = json.loads(run("matrix", "--policy", "examples/signing/signed.policy", "--format", "json"))
    high = next(t for t in matrix["tiers"] if t["tier"] == "high")
    assert [c.get("signed", False) for c in high["cells"]["oversight"]] == [True, True]
    assert "| high | signed signoff from risk_audit before deployment waivable by risk_audit up to 14d; signed review " \
           "by risk_audit every 90d after deployment |" in run("matrix", "--policy", "examples/signing/signed.policy")
    doc = run("doc", "examples/signing/signed.policy")
    assert ("- Required: signed signoff from risk_audit before deployment waivable by risk_audit up to 14d — what is "
            "not signed with the person's own key does not count (`signoff:risk_audit@deployment`, line 25)") in doc


def test_diff_reports_requirements_that_start_asking_for_signatures(policy):
    old = load_policy(SIGNING / "signed-0.9.policy")
    changes = policy_changes(old, policy)
    assert changes.requirements_changed == {"high": (SIGNOFF, BIAS, REVIEW)}
    assert "tier high: signoff:risk_audit@deployment now requires signed sign-offs (unsigned ones no longer count)" \
        in changes.other
    back = policy_changes(policy, old)
    assert "tier high: review:risk_audit@deployment no longer requires signed reviews" in back.other


def _doc_section() -> str:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    return text.split("### Signed requirements\n", 1)[1].split("\n## ", 1)[0]


def test_the_outputs_shown_in_the_language_reference_are_real(monkeypatch):
    monkeypatch.chdir(ROOT)
    shown = re.findall(r"```\n\$ (.*?)\n(.*?)```", _doc_section(), flags=re.S)
    assert len(shown) == 3
    for command, output in shown:
        lines = output.split("\n")
        while lines[0].startswith("    "):  # the command's continued lines
            command += " " + lines.pop(0).strip()
        argv = command.replace("\\", " ").split()
        assert argv[0] == "tiergate"
        assert run(*argv[1:]) == "\n".join(lines), command


def test_the_examples_in_the_language_reference_compile():
    (block,) = re.findall(r"```\n(require signed .*?)```", _doc_section(), flags=re.S)
    lines = block.replace("validator before production", "risk_audit before deployment").splitlines()
    policy = compile_policy(small(*lines), "a.policy")
    assert all(r.signed for r in policy.tier("low").requirements)
