"""`require signoff from R before STAGE independent of R2, R3`: an approval counts only from someone who held none of
R2, R3 when signing (the roster then) and gave no sign-off of the same version in any of them. The words in the
grammar, lint (E211, E288, E289), fmt, ids, requirements, doc, matrix, diff, the gate's reasons (one person holding
both roles), the decider agreeing with the evaluator, and the docs' outputs."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tiergate import compile_policy, format_source
from tiergate.authoring.policydiff import policy_changes
from tiergate.cli import main
from tiergate.decide.check import check
from tiergate.decide.gates.base import Context
from tiergate.decide.gates.plan import plan_of
from tiergate.decide.gates.registry import REGISTRY
from tiergate.decide.workflow import VersionState
from tiergate.inputs.events import parse_events, parse_roster
from tiergate.language import lark_parser
from tiergate.language.load import lint_source
from tiergate.language.parser import parse

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "tests" / "golden" / "independence"
POLICY_FILE = HERE / "validation.policy"
ANSWERS = yaml.safe_load((HERE / "loan-approval.yaml").read_text(encoding="utf-8"))
ROSTER = parse_roster((HERE / "roster.yaml").read_text(encoding="utf-8"), "roster.yaml")
SIGNOFF = "signoff:validator@production"

SMALL = '''\
policy "independence" version "1.0.0":
  description: "independent sign-offs"

tiers low < high

roles developer, model_owner, validator, cro

workflow default:
  development -> validation -> production

consideration oversight "Oversight": signoff, backtesting

classify:
  high when audience == "public"
  otherwise low

tier low:
{lines}
'''


def small(*lines: str) -> str:
    return SMALL.format(lines="\n".join("  " + line for line in lines))


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def run(*args: str):
    result = runner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def event(day: int, hour: int, type_: str, actor: str, version: str = "1", **data) -> dict:
    when = datetime(2026, 3, day, hour, tzinfo=timezone.utc).isoformat()
    return {"at": when, "type": type_, "use_case": "loan-approval", "version": version, "actor": actor, **data}


def history(*extra: dict) -> list[dict]:
    """Version 1 registered by devi, approved by olga (model_owner) and moved into validation."""
    return [event(2, 9, "registered", "devi"),
            event(2, 10, "signoff", "olga", role="model_owner", gate="validation", decision="approve"),
            event(2, 11, "transition", "devi", to="validation"),
            event(3, 9, "evidence", "vera", kind="backtesting", metrics={"hit_rate": 0.94}),
            *extra]


def judge(events: list[dict], policy=None, roster=ROSTER, at: str = "2026-03-05T00:00:00Z"):
    policy = policy or compile_policy(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))
    log = parse_events(json.dumps(events), "events.json")
    return check(policy, ANSWERS, log, roster, to="production", at=datetime.fromisoformat(at.replace("Z", "+00:00")))


def status_of(result, rid: str):
    return next(s for s in result.requirements if s.id == rid)


# --- the language ---------------------------------------------------------------------------

def test_the_words_parse_into_the_requirement():
    policy = compile_policy(small("require signoff from validator before production independent of model_owner, "
                                  "developer",
                                  "require 2 signoffs from validator before production independent of developer",
                                  "require signoff from any of validator, cro before validation independent of "
                                  "developer"), "a.policy")
    one, two, any_of = policy.tier("low").requirements
    assert one.independent_of == ("model_owner", "developer") and one.roles == ("validator",)
    assert two.independent_of == ("developer",) and two.count == 2
    assert any_of.independent_of == ("developer",) and any_of.any_of


def test_ids_do_not_change():
    """`independent of` leaves the id as it is: waivers, drops and tests that name the requirement keep naming it."""
    plain = compile_policy(small("require signoff from validator before production",
                                 "require 2 signoffs from cro before production"), "a.policy")
    independent = compile_policy(small("require signoff from validator before production independent of developer",
                                       "require 2 signoffs from cro before production independent of developer"),
                                 "a.policy")
    ids = [r.id for r in plain.tier("low").requirements]
    assert ids == [r.id for r in independent.tier("low").requirements] == [SIGNOFF, "signoff:2xcro@production"]
    assert all(not r.independent_of for r in plain.tier("low").requirements)


def test_the_reader_and_the_reference_parser_agree():
    text = POLICY_FILE.read_text(encoding="utf-8")
    assert parse(text, "v.policy") == lark_parser.parse(text, "v.policy", {"v.policy": text})


def test_fmt_round_trips():
    text = small("require   signoff from validator before production   independent of  model_owner,developer  # why",
                 "require 2 signoffs from validator before production independent of developer when audience == "
                 "\"public\" waivable by cro up to 14d as \"two\"")
    once = format_source(text, "a.policy")
    assert "  require signoff from validator before production independent of model_owner, developer  # why\n" in once
    assert ('  require 2 signoffs from validator before production independent of developer when audience == '
            '"public" waivable by cro up to 14d as "two"\n') in once
    assert format_source(once, "a.policy") == once
    assert run("fmt", "--check", str(POLICY_FILE)).exit_code == 0


def _lint(*lines: str) -> list[tuple[str, int, int, str, str | None]]:
    result = lint_source(small(*lines), "a.policy")
    return [(d.code, d.location.line, d.location.column, d.message, d.hint) for d in result.diagnostics
            if d.severity == "error"]


def test_lint_unknown_role_with_a_hint():
    assert _lint("require signoff from validator before production independent of model_ownr") == [
        ("E211", 18, 67, "unknown role `model_ownr`", "did you mean `model_owner`?")]


def test_lint_its_own_role():
    assert _lint("require signoff from any of validator, cro before production independent of developer, cro") == [
        ("E288", 18, 90, "a sign-off from cro cannot be independent of cro: everyone who could give it holds cro",
         "remove `cro` from `independent of`; name the roles the signer must not also hold (the model's owner, its "
         "developers)")]


def test_lint_a_role_twice():
    assert _lint("require signoff from validator before production independent of developer, model_owner, "
                 "developer") == [
        ("E289", 18, 91, "role `developer` is named twice in `independent of`", "name each role once (first at "
                                                                                 "column 67)")]


def test_lint_golden_files_exist_for_the_new_codes():
    for code in ("E288", "E289"):
        assert list((ROOT / "tests" / "golden" / "lint").glob(f"{code}-*.policy")), code


# --- what the reports say -------------------------------------------------------------------

def test_requirements_shows_the_words_and_json_the_roles():
    text = run("requirements", "--policy", str(POLICY_FILE), "high").output
    assert "require signoff from validator before production independent of model_owner, developer  " \
           "[signoff:validator@production, line 25]" in text
    data = json.loads(run("requirements", "--policy", str(POLICY_FILE), "high", "--format", "json").output)
    found = [r for r in json.dumps(data) and _walk(data) if r.get("id") == SIGNOFF]
    assert found and found[0]["independent_of"] == ["model_owner", "developer"]


def _walk(data):
    if isinstance(data, dict):
        if "id" in data:
            yield data
        for v in data.values():
            yield from _walk(v)
    elif isinstance(data, list):
        for v in data:
            yield from _walk(v)


def test_doc_and_matrix_mention_it():
    doc = run("doc", str(POLICY_FILE)).output
    assert ("signoff from validator before production independent of model_owner, developer — independent: a "
            "sign-off does not count from someone who holds model_owner or developer, or who signed this version as "
            "model_owner or developer") in doc
    matrix = run("matrix", "--policy", str(POLICY_FILE)).output
    assert "independent of model_owner, developer" in matrix
    cells = json.loads(run("matrix", "--policy", str(POLICY_FILE), "--format", "json").output)
    assert any(c.get("independent_of") == ["model_owner", "developer"] for c in _walk(cells))


def test_diff_reports_a_requirement_that_starts_asking_for_independence():
    before = compile_policy(small("require signoff from validator before production"), "a.policy")
    after = compile_policy(small("require signoff from validator before production independent of model_owner"),
                           "a.policy")
    changes = policy_changes(before, after)
    assert "tier low: signoff:validator@production now requires sign-offs independent of model_owner" in \
        changes.other
    back = policy_changes(after, before)
    assert "tier low: signoff:validator@production no longer requires sign-offs independent of model_owner" in \
        back.other


# --- the gate ---------------------------------------------------------------------------------

def test_one_person_holding_both_roles_does_not_open_the_gate():
    result = judge(history(event(4, 9, "signoff", "dan", role="validator", gate="production", decision="approve")))
    s = status_of(result, SIGNOFF)
    assert s.status == "unmet" and not result.allowed
    assert s.reason == ("needs an approving sign-off from validator for production (none recorded); dan's sign-off as "
                        "validator does not count: dan also holds model_owner")


def test_an_independent_validator_opens_it():
    result = judge(history(event(4, 9, "signoff", "vera", role="validator", gate="production", decision="approve")))
    assert status_of(result, SIGNOFF).status == "met" and result.allowed
    assert status_of(result, SIGNOFF).reason == "approved by validator: vera"


def test_someone_who_signed_the_version_as_owner_is_not_independent():
    """tom owned models until March and signed this version as its owner then; in March he validates it: his roles
    now are independent, his history with the version is not."""
    events = [event(2, 9, "registered", "devi"),
              {**event(2, 9, "signoff", "tom", role="model_owner", gate="validation", decision="approve"),
               "at": "2026-02-28T10:00:00+00:00"},
              event(3, 9, "evidence", "vera", kind="backtesting", metrics={"hit_rate": 0.94}),
              event(4, 9, "signoff", "tom", role="validator", gate="production", decision="approve")]
    events[0]["at"] = "2026-02-27T09:00:00+00:00"
    result = judge(events)
    s = status_of(result, SIGNOFF)
    assert s.status == "unmet"
    assert s.reason.endswith("tom's sign-off as validator does not count: tom also signed off as model_owner on this "
                             "version (line 1)")


def test_a_role_held_at_the_sign_off_decides_not_the_role_held_now():
    roster = parse_roster("people:\n  devi: [developer]\n  olga: [model_owner]\n  vera: [validator]\n"
                          "  max:\n    - validator\n    - role: model_owner\n      since: \"2026-03-10T00:00:00Z\"\n",
                          "r.yaml")
    result = judge(history(event(4, 9, "signoff", "max", role="validator", gate="production", decision="approve")),
                   roster=roster, at="2026-03-20T00:00:00Z")
    assert status_of(result, SIGNOFF).status == "met"  # he became an owner after he signed


def test_a_conflicted_validators_rejection_still_cancels():
    result = judge(history(event(4, 9, "signoff", "vera", role="validator", gate="production", decision="approve"),
                           event(4, 10, "signoff", "dan", role="validator", gate="production", decision="reject")))
    assert status_of(result, SIGNOFF).status == "unmet"
    assert "rejected by dan" in status_of(result, SIGNOFF).reason


def test_two_signoffs_count_only_independent_people():
    policy = compile_policy(POLICY_FILE.read_text(encoding="utf-8").replace(
        "require signoff from validator before production independent of model_owner, developer",
        "require 2 signoffs from validator before production independent of model_owner, developer"), "v.policy")
    rid = "signoff:2xvalidator@production"
    two = history(event(4, 9, "signoff", "vera", role="validator", gate="production", decision="approve"),
                  event(4, 10, "signoff", "dan", role="validator", gate="production", decision="approve"))
    result = judge(two, policy)
    assert status_of(result, rid).status == "unmet"
    assert "(1 so far); dan's sign-off as validator does not count: dan also holds model_owner" in \
        status_of(result, rid).reason


@pytest.mark.parametrize("signer, holds_owner", [("vera", False), ("dan", True)])
def test_the_decider_agrees_with_the_evaluator(signer, holds_owner):
    policy = compile_policy(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))
    tier = policy.tier("high")
    plan = plan_of(tier)
    ctx = Context(policy, plan, ROSTER, (), ANSWERS["answers"])
    log = parse_events(json.dumps(history(event(4, 9, "signoff", signer, role="validator", gate="production",
                                                decision="approve"))), "e.json")
    state = VersionState("loan-approval", "1", "development")
    for e in log.events:
        state.apply(e)
    req, decider = next((r, d) for r, d in plan.gates["production"] if r.id == SIGNOFF)
    evaluated = REGISTRY["signoff"].evaluate(req, state, ctx, None, True)[0]
    assert decider(state, None, ctx) == (evaluated == "met") == (not holds_owner)
    assert REGISTRY["signoff"].code(req, None) is None  # the generated gate calls the decider


def test_a_replayed_transition_after_a_conflicted_signoff_is_a_violation():
    events = history(event(4, 9, "signoff", "dan", role="validator", gate="production", decision="approve"),
                     event(4, 12, "transition", "devi", to="production"))
    policy = compile_policy(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))
    log = parse_events(json.dumps(events), "events.json")
    result = check(policy, ANSWERS, log, ROSTER, at=datetime(2026, 3, 5, tzinfo=timezone.utc), replay=True)
    assert [s.id for v in result.violations for s in v.unmet] == [SIGNOFF]


def test_the_check_command_says_who_signed_and_why_it_does_not_count():
    result = run("check", "--policy", str(POLICY_FILE), "--answers", str(HERE / "loan-approval.yaml"),
                 "--events", str(HERE / "conflicted.yaml"), "--roster", str(HERE / "roster.yaml"),
                 "--to", "production", "--at", "2026-03-04T00:00:00Z")
    assert result.exit_code == 1
    assert "dan's sign-off as validator does not count: dan also holds model_owner" in result.output


def test_the_policy_test_file_passes():
    result = run("test", str(HERE))
    assert result.exit_code == 0, result.output
    assert "4 passed, 0 failed" in result.output


# --- docs/language.md ---------------------------------------------------------------------------

DOC = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = DOC.index(f"### {title}\n")
    end = DOC.find("\n### ", start + 1)
    return DOC[start:end if end > 0 else None]


def console_runs(section: str) -> list[tuple[list[str], str]]:
    """The `$ tiergate ...` commands of a section's plain ``` blocks and the output shown under each."""
    runs = []
    for block in re.findall(r"```\n(.*?)```", section, flags=re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if lines[i].startswith("$ tiergate "):
                command = lines[i][2:]
                while command.endswith("\\"):
                    i += 1
                    command = command[:-1] + lines[i].strip()
                i += 1
                output = []
                while i < len(lines) and not lines[i].startswith("$ "):
                    output.append(lines[i])
                    i += 1
                runs.append((command.split()[1:], "\n".join(output) + "\n"))
            else:
                i += 1
    return runs


@pytest.mark.parametrize("title", ["Independent sign-offs",
                                   "A waiver that runs out is a breach"])
def test_the_docs_show_real_runs(title, monkeypatch):
    monkeypatch.chdir(ROOT)
    runs = console_runs(_section(title))
    assert runs, f"docs/language.md `{title}` shows no run"
    for argv, expected in runs:
        if argv[-2:] and "|" in argv:
            continue
        assert run(*argv).output == expected, " ".join(argv)
