"""What the packs needed from the language: a requirement that holds only `when` the answers say so, a tier that
`drop`s a measure it inherits, and a sign-off that `any of` several roles may give.

Each is checked where users meet it: compiling (ids, static checks with located errors), classifying and judging
a gate (the requirement left out or the sign-off met), and the authoring views (`requirements`, `doc`, `matrix`,
`diff`, `fmt`).
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tiergate import TiergateError, compile_policy
from tiergate.authoring.policydiff import policy_changes
from tiergate.decide.check import check
from tiergate.decide.classify import classify
from tiergate.decide.gates.base import MET, UNMET
from tiergate.inputs.events import format_time, parse_events, parse_roster
from tiergate.language.formatter import format_module
from tiergate.language.parser import parse

ROOT = Path(__file__).resolve().parent.parent

POLICY = '''\
policy "features" version "1.0.0":
  description: "when, drop and any of"

tiers low < mid < high

roles builder, business_owner, product_owner, risk

workflow default:
  build -> validation -> deployment

consideration docs "Documentation": model_card, vendor_documentation, signoff

classify:
  high when audience == "public" because "Customers see it"
  mid when audience == "internal_many" because "Many colleagues rely on it"
  otherwise low

tier low:
  require signoff from any of business_owner, product_owner before deployment
  require evidence vendor_documentation before validation when availability == "realtime"
  recommend evidence model_card before deployment when decisions_about_people as "card-for-people"
  forbid when audience == "self" and decisions_about_people because "No personal decisions from self-service"

tier mid extends low:
  drop "forbid:no-personal-decisions-from-self-service" because "Reviewed by a colleague at this tier"

tier high extends mid:
  drop "card-for-people" because "The model card is required below"
  require evidence model_card before deployment
  require signoff from risk before deployment
'''

ANY_OF = "signoff:business_owner|product_owner@deployment"
VENDOR = "evidence:vendor_documentation@validation/when-"  # the condition's digest follows
FORBID = "forbid:no-personal-decisions-from-self-service"

ROSTER = parse_roster("people:\n  alice: [builder]\n  bea: [business_owner]\n  pat: [product_owner]\n"
                      "  rita: [risk]\n  both: [business_owner, product_owner]\n", "roster.yaml")
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)


def answers(**changes) -> dict:
    values = {
        "regulations": {"sector": "none", "regions": ["eu"], "pii": False},
        "audience": "public", "availability": "realtime",
        "impact": {"legal": "low", "financial": "low", "personal": "low", "public_trust": "low"},
        "release_cadence": "quarterly", "model_lifetime": "years", "decision_impact_lifetime": "months",
        "quality_decay": "slow", "explainability": "helpful", "decisions_about_people": False,
        "protected_attributes": [],
    }
    values.update(changes)
    return {"use_case": "uc", "title": "A use case", "owner": "Tests", "answers": values}


@pytest.fixture(scope="module")
def policy():
    return compile_policy(POLICY, "features.policy", ROOT / "policies")


def ids(tier) -> set[str]:
    return {r.id for r in tier.requirements}


def vendor_id(policy) -> str:
    return next(r.id for r in policy.tier("low").requirements if r.id.startswith(VENDOR))


def events(*lines: dict) -> object:
    records = [{"at": format_time(T0), "type": "registered", "use_case": "uc", "version": "1", "actor": "alice"}]
    for i, fields in enumerate(lines, 1):
        records.append({"at": format_time(T0 + timedelta(hours=i)), "use_case": "uc", "version": "1", **fields})
    return parse_events(json.dumps(records), "events.yaml")


def signoff(actor: str, role: str, decision: str = "approve") -> dict:
    return {"type": "signoff", "actor": actor, "role": role, "gate": "deployment", "decision": decision}


def compile_error(text: str) -> list:
    with pytest.raises(TiergateError) as caught:
        compile_policy(text, "features.policy", ROOT / "policies")
    return [d for d in caught.value.diagnostics if d.is_error]


# --- any of ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("signers, met", [
    ([], False),
    ([("bea", "business_owner")], True),
    ([("pat", "product_owner")], True),
    ([("bea", "business_owner"), ("pat", "product_owner")], True),
    ([("rita", "business_owner")], False),  # a role she does not hold
    ([("alice", "business_owner")], False),  # (and not the author either)
    ([("bea", "business_owner"), ("both", "business_owner", "reject")], False),  # rejected by a holder
    ([("bea", "business_owner"), ("both", "product_owner", "reject"), ("pat", "product_owner")], True),
])
def test_any_of_is_met_by_one_approval_from_any_one_of_the_roles(policy, signers, met):
    log = events(*(signoff(*s) for s in signers))
    result = check(policy, answers(audience="internal_few"), log, ROSTER, to="deployment", at=T0 + timedelta(days=1))
    status = next(s for s in result.requirements if s.id == ANY_OF)
    assert status.status == (MET if met else UNMET)
    if not met:
        assert status.reason.startswith("needs an approving sign-off from any of business_owner, product_owner "
                                        "for deployment")
    # replay decides with the generated gate, and agrees with the worded check
    later = events(*(signoff(*s) for s in signers), {"type": "transition", "actor": "alice", "to": "validation"},
                   {"type": "transition", "actor": "alice", "to": "deployment"})
    replay = check(policy, answers(audience="internal_few"), later, ROSTER, at=T0 + timedelta(days=1), replay=True)
    unmet = {s.id for v in replay.violations for s in v.unmet}
    assert (ANY_OF not in unmet) == met


def test_any_of_has_its_own_id_and_text(policy):
    req = policy.tier("low").requirement(ANY_OF)
    assert req.any_of and req.roles == ("business_owner", "product_owner")
    assert req.text == "require signoff from any of business_owner, product_owner before deployment"


def test_a_role_named_any_is_still_a_role():
    text = POLICY.replace("roles builder,", "roles any, builder,").replace(
        "require signoff from risk before deployment", "require signoff from any, risk before deployment")
    policy = compile_policy(text, "features.policy", ROOT / "policies")
    assert "signoff:any+risk@deployment" in ids(policy.tier("high"))


def test_any_of_an_unknown_role_is_a_located_error():
    errors = compile_error(POLICY.replace("any of business_owner, product_owner", "any of business_owner, produkt_owner"))
    assert [(d.code, d.location.line, d.hint) for d in errors] == [("E211", 19, "did you mean `product_owner`?")]


# --- when ------------------------------------------------------------------------------------------------

def test_a_conditional_requirement_has_an_id_of_its_own_condition(policy):
    vendor = vendor_id(policy)
    assert len(vendor) == len(VENDOR) + 8
    other = compile_policy(POLICY.replace('before validation when availability == "realtime"',
                                          'before validation when availability == "scheduled"'),
                           "features.policy", ROOT / "policies")
    assert vendor_id(other) != vendor
    # the same measure under two conditions is two requirements
    both = compile_policy(POLICY.replace(
        '  recommend evidence model_card', '  require evidence vendor_documentation before validation when '
        'decisions_about_people\n  recommend evidence model_card'), "features.policy", ROOT / "policies")
    assert len([r for r in both.tier("low").requirements if r.id.startswith(VENDOR)]) == 2


@pytest.mark.parametrize("availability, applies", [("realtime", True), ("scheduled", False), ("ad_hoc", False)])
def test_a_requirement_holds_only_when_the_answers_meet_its_condition(policy, availability, applies):
    vendor = vendor_id(policy)
    c = classify(policy, answers(audience="internal_few", availability=availability))
    assert (vendor in {r.id for r in c.requirements}) == applies
    assert (vendor in {r.id for r in c.not_applying}) == (not applies)
    result = check(policy, answers(audience="internal_few", availability=availability), events(), ROSTER,
                   to="validation", at=T0 + timedelta(days=1))
    assert (vendor in {s.id for s in result.requirements}) == applies
    assert result.allowed == (not applies)  # nothing else guards validation


def test_a_gate_replayed_skips_a_requirement_that_does_not_apply(policy):
    walk = events({"type": "transition", "actor": "alice", "to": "validation"})
    for availability, violated in (("realtime", True), ("scheduled", False)):
        result = check(policy, answers(audience="internal_few", availability=availability), walk, ROSTER,
                       at=T0 + timedelta(days=1), replay=True)
        assert bool(result.violations) == violated


def test_a_classification_lists_what_does_not_apply(policy):
    from tiergate.reports.classification import text_one

    c = classify(policy, answers(audience="internal_few", availability="scheduled"))
    text = text_one(c)
    assert "not applying to this use case (2; their `when` does not hold):" in text
    assert c.to_dict()["not_applying"][0]["id"].startswith(VENDOR)


def test_a_missing_answer_that_a_condition_reads_stops_classification(policy):
    doc = answers(audience="internal_few")
    del doc["answers"]["availability"]
    with pytest.raises(TiergateError) as caught:
        classify(policy, doc)
    (d,) = caught.value.diagnostics
    assert d.code == "E310" and "availability is missing" in d.message and "features.policy:20" in d.message


@pytest.mark.parametrize("condition, code, column, message", [
    ('sourcing == "vendor"', "E250", 64, "`sourcing` is not a question of the questionnaire"),
    ('availability == "hourly"', "E251", 80, '"hourly" is not an allowed value of `availability`'),
    ("audience", "E252", 64, "`audience` is one of"),
])
def test_a_condition_is_checked_against_the_questionnaire(condition, code, column, message):
    errors = compile_error(POLICY.replace('when availability == "realtime"', f"when {condition}"))
    assert len(errors) == 1
    (d,) = errors
    assert (d.code, d.location.line, d.location.column) == (code, 20, column)
    assert message in d.message


def test_the_condition_shows_in_requirements_matrix_and_doc(policy):
    from tiergate.reports import matrix, policydoc

    req = policy.tier("low").requirement(vendor_id(policy))
    assert req.text == 'require evidence vendor_documentation before validation when availability == "realtime"'
    headers, rows = matrix.tier_matrix(policy)
    assert 'evidence vendor_documentation before validation when availability == "realtime"' in rows[0][1]
    words = [item for block in policydoc.build(policy) if block[0] == "list" for item in block[1]]
    assert any(w.startswith('Required only when `availability` is "realtime": evidence vendor_documentation '
                            "before validation") for w in words)


# --- drop ------------------------------------------------------------------------------------------------

def test_a_dropped_measure_is_left_out_of_the_tier_and_those_under_it(policy):
    assert FORBID in ids(policy.tier("low"))
    assert FORBID not in ids(policy.tier("mid")) and FORBID not in ids(policy.tier("high"))
    assert [(d.id, d.tier, d.because) for d in policy.tier("mid").dropped] == [
        (FORBID, "mid", "Reviewed by a colleague at this tier")]
    assert [(d.id, d.tier) for d in policy.tier("high").dropped] == [(FORBID, "mid"), ("card-for-people", "high")]
    # the forbid no longer forbids: a self-service use case about people is allowed in mid (not in low)
    assert classify(policy, answers(audience="self", decisions_about_people=True)).forbidden
    mid = answers(audience="internal_many", decisions_about_people=True)
    assert classify(policy, mid).tier == "mid" and not classify(policy, mid).forbidden


def test_a_tier_that_states_a_dropped_measure_again_takes_it_back():
    text = POLICY.replace('  require signoff from risk before deployment',
                          '  require signoff from risk before deployment\n'
                          '  forbid when audience == "self" and decisions_about_people because '
                          '"No personal decisions from self-service"')
    policy = compile_policy(text, "features.policy", ROOT / "policies")
    assert FORBID in ids(policy.tier("high"))
    assert [d.id for d in policy.tier("high").dropped] == ["card-for-people"]


@pytest.mark.parametrize("drop, code, message, hint", [
    ('drop "forbid:no-personal-decisions-from-self-servce" because "x"', "E233",
     "tier `mid` inherits no requirement or forbid `forbid:no-personal-decisions-from-self-servce` from `low`",
     f"did you mean `{FORBID}`?"),
    ('drop "signoff:risk@deployment" because "x"', "E233",
     "tier `mid` inherits no requirement or forbid `signoff:risk@deployment` from `low`", None),
    (f'drop "{FORBID}" because "again"', "E234", f"`{FORBID}` is dropped twice in tier `mid` (first at line 25)",
     "keep one `drop` line"),
])
def test_a_drop_that_names_nothing_inherited_is_a_located_error(drop, code, message, hint):
    text = POLICY.replace(
        'because "Reviewed by a colleague at this tier"\n',
        f'because "Reviewed by a colleague at this tier"\n  {drop}\n')
    (d,) = compile_error(text)
    assert (d.code, d.location.line, d.location.column, d.message) == (code, 26, 8, message)
    if hint is not None:
        assert d.hint == hint


def test_a_drop_in_a_tier_that_extends_none_is_an_error():
    (d,) = compile_error(POLICY.replace("tier low:\n", f'tier low:\n  drop "{ANY_OF}" because "x"\n'))
    assert (d.code, d.location.line, d.message) == ("E233", 19, "tier `low` extends no tier, so it has nothing to drop")


def test_a_drop_without_a_reason_is_a_syntax_error():
    with pytest.raises(TiergateError) as caught:
        compile_policy(POLICY.replace(' because "Reviewed by a colleague at this tier"', ""), "f.policy")
    (d,) = caught.value.diagnostics
    assert d.code == "E100" and d.location.line == 25 and "`because`" in d.message


def test_dropped_measures_show_in_requirements_doc_and_diff(policy):
    from tiergate.app.policies import requirements
    from tiergate.reports import policydoc, render

    text = render(requirements(policy, "high"), "text")
    assert ("  dropped (inherited, left out):\n"
            '    forbid when audience == "self" and decisions_about_people because "No personal decisions from '
            f'self-service"  [{FORBID}, from tier low; dropped by tier mid, line 25: Reviewed by a colleague at '
            "this tier]\n") in text
    data = json.loads(render(requirements(policy, "high"), "json"))
    assert [(d["id"], d["dropped_by"], d["drop_line"]) for d in data["dropped"]] == [
        (FORBID, "mid", 25), ("card-for-people", "high", 28)]
    words = [item for block in policydoc.build(policy) if block[0] == "list" for item in block[1]]
    assert any("dropped by tier mid: Reviewed by a colleague at this tier (line 25)" in w for w in words)

    before = compile_policy(POLICY.replace('  drop "card-for-people" because "The model card is required below"\n', ""),
                            "features.policy", ROOT / "policies")
    changes = policy_changes(before, policy)
    assert changes.requirements_removed == {"high": ("card-for-people",)}
    assert ("tier high drops `card-for-people` (from tier low): The model card is required below"
            in changes.other)
    assert "tier high no longer drops `card-for-people`" in policy_changes(policy, before).other


# --- fmt ------------------------------------------------------------------------------------------------

def test_the_new_lines_format_to_themselves_and_keep_their_meaning(policy):
    messy = (POLICY.replace("\n  ", "\n    ").replace("any of business_owner", "any   of  business_owner")
             .replace('when availability == "realtime"', 'when   availability=="realtime"')
             .replace('drop "card-for-people"', 'drop   "card-for-people"  '))
    out = format_module(parse(messy, "features.policy"))
    assert out == POLICY
    again = compile_policy(out, "features.policy", ROOT / "policies")
    assert [(t.name, sorted(ids(t)), [d.id for d in t.dropped]) for t in again.tiers] == \
        [(t.name, sorted(ids(t)), [d.id for d in t.dropped]) for t in policy.tiers]


# --- tiergate test ----------------------------------------------------------------------------------------

def _test_file(tmp_path: Path, expect: str) -> Path:
    (tmp_path / "features.policy").write_text(
        POLICY.replace('description: "when, drop and any of"',
                       f'description: "when, drop and any of"\n  questionnaire: "{ROOT / "schemas" / "questionnaire.schema.json"}"'),
        encoding="utf-8")
    doc = answers(audience="internal_few", availability="scheduled")
    (tmp_path / "features_test.yaml").write_text(
        "policy: features.policy\ncases:\n  - name: a scheduled use case\n"
        f"    answers: {json.dumps(doc)}\n    expect: {expect}\n", encoding="utf-8")
    return tmp_path / "features_test.yaml"


def test_a_policy_test_pins_what_does_not_apply(tmp_path, policy):
    from tiergate.authoring.policytest import run_tests

    vendor = vendor_id(policy)
    run = run_tests([str(_test_file(tmp_path, f'{{tier: low, not_applying: ["{vendor}", card-for-people]}}'))])
    assert not run.errors and not run.failed
    run = run_tests([str(_test_file(tmp_path, "{tier: low, not_applying: [card-for-people]}"))])
    ((mismatch,),) = [r.mismatches for r in run.failed]
    assert (mismatch.field, mismatch.expected, mismatch.actual) == (
        "not_applying", ["card-for-people"], sorted([vendor, "card-for-people"]))


def test_a_policy_test_naming_an_unknown_id_in_not_applying_is_located(tmp_path):
    from tiergate.authoring.policytest import run_tests

    run = run_tests([str(_test_file(tmp_path, "{not_applying: [card-for-peple]}"))])
    (d,) = run.errors
    assert (d.code, d.location.line, d.message) == ("E500", 5, "unknown requirement id `card-for-peple`")
    assert d.hint == "did you mean `card-for-people`?"


def test_an_obligation_with_a_condition_is_kept_only_for_the_use_cases_that_meet_it():
    text = POLICY.replace("consideration docs \"Documentation\": model_card, vendor_documentation, signoff",
                          "consideration docs \"Documentation\": model_card, vendor_documentation, signoff, drift") \
        .replace("  require signoff from risk before deployment\n",
                 "  require signoff from risk before deployment\n"
                 '  require monitoring drift every 7d after deployment when availability == "realtime" as "drift"\n')
    policy = compile_policy(text, "features.policy", ROOT / "policies")
    deployed = events(signoff("bea", "business_owner"), signoff("rita", "risk"),
                      {"type": "evidence", "actor": "alice", "kind": "model_card", "metrics": {}},
                      {"type": "evidence", "actor": "alice", "kind": "vendor_documentation", "metrics": {}},
                      {"type": "transition", "actor": "alice", "to": "validation"},
                      {"type": "transition", "actor": "alice", "to": "deployment"})
    later = T0 + timedelta(days=30)
    for availability, held in (("realtime", True), ("scheduled", False)):
        result = check(policy, answers(availability=availability), deployed, ROSTER, at=later, replay=True)
        assert result.tier == "high" and not result.violations
        assert ("drift" in {o.id for o in result.obligations}) == held
        if held:
            assert next(o for o in result.obligations if o.id == "drift").failing  # nothing for 30 days


def test_an_any_of_id_does_not_end_a_mermaid_edge_label(policy):
    from tiergate.reports import graph

    text = graph.mermaid(policy, policy.workflows["default"], policy.tier("high"))
    edge = next(line for line in text.splitlines() if "s_validation -->" in line)
    assert edge.count("|") == 2 and "signoff:business_owner#124;product_owner@deployment" in edge


def test_diff_shows_a_changed_condition(policy):
    from tiergate.authoring.policydiff import diff

    named = compile_policy(POLICY.replace('when decisions_about_people as "card-for-people"',
                                          'when regulations.pii as "card-for-people"'),
                           "features.policy", ROOT / "policies")
    changes = policy_changes(policy, named)
    assert changes.requirements_changed == {"low": ("card-for-people",), "mid": ("card-for-people",)}
    # a derived id changes with its condition: the old requirement goes, the new one comes
    moved = compile_policy(POLICY.replace('when availability == "realtime"', 'when availability == "scheduled"'),
                           "features.policy", ROOT / "policies")
    changes = policy_changes(policy, moved)
    assert changes.requirements_removed["low"] == (vendor_id(policy),)
    assert changes.requirements_added["low"] == (vendor_id(moved),)
    # and a use case sees the requirement it now gets
    from tiergate.inputs.answers import Answers

    a = answers(audience="internal_few", availability="scheduled")
    result = diff(policy, moved, [Answers("a.yaml", "uc", "", "", a["answers"])])
    (change,) = result.use_cases
    assert (change.added, change.removed) == ((vendor_id(moved),), ())


@pytest.mark.parametrize("line, column", [
    ("require 2 signoffs from any of business_owner, product_owner before deployment", 31),
    ("require review by any of risk every 1y after deployment", 25),
])
def test_any_of_where_the_language_has_none_is_a_syntax_error_that_says_where_it_goes(line, column):
    with pytest.raises(TiergateError) as caught:
        compile_policy(POLICY.replace("require signoff from risk before deployment", line), "f.policy")
    (d,) = caught.value.diagnostics
    assert (d.code, d.location.line, d.location.column) == ("E100", 30, column)
    assert d.message.startswith("unexpected name `of`")
    assert d.hint == ("`any of` is written in `require signoff from any of R1, R2 before STAGE` only: one approving "
                      "sign-off from any one of the roles")
