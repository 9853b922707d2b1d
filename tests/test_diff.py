"""`tiergate diff`: what a policy change does to the policy, to each use case's tier, and to deployed versions.

tests/golden/authoring/mlops-default-1.1.policy is the default pack as a change request would propose it
(version 1.1.0): a live public service whose failure hardly harms trust is no longer critical on that count,
a moderate quality decay now needs monitoring too, the scheduled tier's data quality recommendation is gone,
the drift limit is tighter, and data ops signs off the deployment gate of the monitored tier. Its events
(diff-events.yaml) and roster belong to the tests of `--events`. The golden outputs beside them are exactly
what the commands print; set TIERGATE_UPDATE_GOLDEN=1 to rewrite them, then read every change by eye.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import SMALL_POLICY, tiergate
from tiergate import load_policy
from tiergate.decide.check import check
from tiergate.inputs.events import load_events, load_roster
from tiergate import load_answers

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "authoring"
UPDATE = os.environ.get("TIERGATE_UPDATE_GOLDEN") == "1"

OLD = "policies/mlops-default.policy"
NEW = "tests/golden/authoring/mlops-default-1.1.policy"
USE_CASES = ("--use-cases", "examples/use-cases")
EVENTS = ("--events", "tests/golden/authoring/diff-events.yaml", "--roster", "tests/golden/authoring/roster.yaml",
          "--at", "2026-03-20T12:00:00Z")
AT = "2026-03-20T12:00:00Z"





@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with TIERGATE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_the_modified_pack_is_the_default_pack_with_the_intended_changes():
    """When the default pack changes, this fixture must be made again from it (and the goldens rewritten)."""
    shipped = (ROOT / OLD).read_text(encoding="utf-8").splitlines()
    modified = (ROOT / NEW).read_text(encoding="utf-8").splitlines()
    added = modified.index("  require signoff from data_ops before deployment")
    removed = shipped.index("  recommend evidence data_quality_check before preproduction")
    rest = modified[:added] + modified[added + 1:]
    rest.insert(removed, shipped[removed])
    changed = [i + 1 for i, (a, b) in enumerate(zip(shipped, rest)) if a != b]
    # besides those two lines: the comment, the version, the questionnaire path from the new folder, two rules, one drift limit
    assert len(shipped) == len(rest) and changed == [1, 8, 10, 35, 41, 95], changed


# --- policy-level changes -------------------------------------------------------------------------

SMALL_V2 = (SMALL_POLICY
            .replace("tiers low < high", "tiers low < mid < high")
            .replace('  high when availability == "realtime" because "Live"\n',
                     '  high when availability == "realtime" because "Live"\n'
                     '  mid when availability == "scheduled" because "Regular"\n')
            .replace("tier high extends low:\n  require signoff from reviewer before release\n",
                     "tier mid extends low:\n  require signoff from owner before release\n\n"
                     "tier high extends mid:\n  require 2 signoffs from reviewer before release\n"
                     "  require evidence unit_tests where coverage >= 0.8 before release\n"))


@pytest.fixture
def small_pair(tmp_path):
    (tmp_path / "v1.policy").write_text(SMALL_POLICY, encoding="utf-8")
    (tmp_path / "v2.policy").write_text(SMALL_V2, encoding="utf-8")
    return str(tmp_path / "v1.policy"), str(tmp_path / "v2.policy")


def test_policy_changes_by_id(small_pair):
    v1, v2 = small_pair
    result = tiergate("diff", v1, v2, "--format", "json")
    assert result.exit_code == 0, result.stderr
    policy = json.loads(result.stdout)["policy"]
    assert policy == {
        "tiers": {"added": ["mid"], "removed": []},
        "rules": {"added": ['mid when availability == "scheduled"'], "removed": []},
        "requirements": {"added": {"high": ["signoff:owner@release", "signoff:2xreviewer@release"]},
                         "removed": {"high": ["signoff:reviewer@release"]},
                         "changed": {"high": ["evidence:unit_tests@release"]}},
        "other": ["tier high extends: low -> mid"],
    }


def test_policy_changes_the_other_way(small_pair):
    v1, v2 = small_pair
    policy = json.loads(tiergate("diff", v2, v1, "--format", "json").stdout)["policy"]
    assert policy["tiers"] == {"added": [], "removed": ["mid"]}
    assert policy["rules"] == {"added": [], "removed": ['mid when availability == "scheduled"']}
    assert policy["requirements"]["added"] == {"high": ["signoff:reviewer@release"]}
    assert policy["requirements"]["removed"] == {"high": ["signoff:owner@release", "signoff:2xreviewer@release"]}
    assert policy["requirements"]["changed"] == {"high": ["evidence:unit_tests@release"]}


def test_policy_changes_as_text(small_pair):
    v1, v2 = small_pair
    result = tiergate("diff", v1, v2)
    lines = result.stdout.splitlines()
    assert lines[0] == "the policy changed"
    assert lines[1].startswith(f"old: small 1.0.0 ({v1}, sha256 ")
    assert lines[3:] == [
        "policy changes:",
        "  tier added: mid",
        '  rule added: mid when availability == "scheduled"',
        "  tier high: requirement added: signoff:owner@release",
        "  tier high: requirement added: signoff:2xreviewer@release",
        "  tier high: requirement removed: signoff:reviewer@release",
        "  tier high: requirement changed: evidence:unit_tests@release",
        "  tier high extends: low -> mid",
    ]


def test_the_same_policy_is_the_same(small_pair):
    v1, _ = small_pair
    result = tiergate("diff", v1, v1, "--fail-on-change")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "the policies are the same"
    assert "policy changes:" not in result.stdout


def test_changes_beyond_ids_are_reported(tmp_path):
    """A pack edited only in a reason, an attribute, the workflow or the RACI is not `the same`."""
    text = (ROOT / OLD).read_text(encoding="utf-8").replace('"../schemas/', f'"{ROOT}/schemas/')
    edited = text.replace("builder_autonomy: 3\n  versioning: 0", "builder_autonomy: 2\n  versioning: 0", 1) \
        .replace('"Monitoring": business_stakeholder I,', '"Monitoring": business_stakeholder C,') \
        .replace("It processes personal data, which brings", "It processes personal data, and that brings")
    path = tmp_path / "edited.policy"
    path.write_text(edited, encoding="utf-8")
    result = tiergate("diff", OLD, str(path), "--fail-on-change")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "the policy changed"
    assert "  tier ad_hoc attribute builder_autonomy: 3 -> 2" in lines
    assert "  RACI task 'Monitoring' changed" in lines
    assert any(line.startswith("  reason of rule `monitored when") for line in lines)


def test_identical_packs_on_the_examples_change_nothing():
    result = tiergate("diff", OLD, OLD, *USE_CASES, *EVENTS, "--fail-on-change", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["summary"] == {"use_cases": 8, "tier_changes": 0, "up": 0, "down": 0, "requirement_changes": 0,
                               "versions_non_compliant": 0, "versions_compliant": 0, "policy_changed": False}
    assert all(u["direction"] == "same" and not u["added"] and not u["removed"] for u in data["use_cases"])
    assert data["versions"] == []


def test_the_same_pack_in_another_file_is_the_same(tmp_path):
    copy = tmp_path / "copy.policy"
    copy.write_text((ROOT / OLD).read_text(encoding="utf-8").replace('"../schemas/', f'"{ROOT}/schemas/'),
                    encoding="utf-8")
    result = tiergate("diff", OLD, str(copy), "--fail-on-change")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "the policies are the same"


# --- impact on the example use cases --------------------------------------------------------------

def test_summary_line_comes_first():
    result = tiergate("diff", OLD, NEW, *USE_CASES)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "2 use cases change tier: 1 up, 1 down; 7 get different requirements"
    assert "  churn-dashboard: scheduled -> monitored (up); 10 requirements added, 0 removed" in lines
    assert lines[-1] == "1 use case unchanged"


def test_text_report_golden():
    result = tiergate("diff", OLD, NEW, *USE_CASES, *EVENTS)
    assert result.exit_code == 0
    check_golden("diff-1.1.txt", result.stdout)


def test_markdown_report_golden():
    result = tiergate("diff", OLD, NEW, *USE_CASES, *EVENTS, "--format", "markdown")
    assert result.exit_code == 0
    check_golden("diff-1.1.md", result.stdout)


def test_json_lists_every_use_case_in_the_documented_shape():
    result = tiergate("diff", OLD, NEW, *USE_CASES, *EVENTS, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["old", "new", "summary", "policy", "use_cases", "versions"]
    assert data["old"]["version"] == "1.0.0" and data["new"]["version"] == "1.1.0"
    assert len(data["old"]["sha256"]) == 64
    assert data["summary"] == {"use_cases": 8, "tier_changes": 2, "up": 1, "down": 1, "requirement_changes": 7,
                               "versions_non_compliant": 2, "versions_compliant": 1, "policy_changed": True}
    examples = sorted(p.stem for p in (ROOT / "examples" / "use-cases").glob("*.yaml"))
    assert [u["use_case"] for u in data["use_cases"]] == examples
    for u in data["use_cases"]:
        assert list(u) == ["use_case", "old_tier", "new_tier", "direction", "added", "removed"]
    by_id = {u["use_case"]: u for u in data["use_cases"]}
    assert by_id["churn-dashboard"]["direction"] == "up"
    assert (by_id["churn-dashboard"]["old_tier"], by_id["churn-dashboard"]["new_tier"]) == ("scheduled", "monitored")
    assert "evidence:pii_handling@development" in by_id["churn-dashboard"]["added"]
    down = by_id["ecommerce-recommender"]
    assert (down["old_tier"], down["new_tier"], down["direction"]) == ("critical", "monitored", "down")
    assert down["added"] == ["signoff:data_ops@deployment"]
    assert "evidence:load_test@deployment" in down["removed"]
    assert "signoff:risk_audit@deployment" not in down["removed"]  # monitored asks for one, critical for two
    assert by_id["adhoc-analysis"] == {"use_case": "adhoc-analysis", "old_tier": "ad_hoc", "new_tier": "ad_hoc",
                                       "direction": "same", "added": [], "removed": []}
    assert by_id["loan-approval"]["added"] == ["signoff:data_ops@deployment"]
    for v in data["versions"]:
        assert list(v) == ["use_case", "version", "stage", "before", "after", "reasons"]


# --- impact on deployed versions ------------------------------------------------------------------

def test_a_version_compliant_before_is_not_after_a_requirement_joins_its_stage_gate():
    """predictive-maintenance 3.0 met every gate of the monitored tier; 1.1.0 adds a data ops sign-off
    to the deployment gate it stands in, so the same history is no longer compliant."""
    old, new = load_policy(ROOT / OLD), load_policy(ROOT / NEW)
    answers = load_answers(ROOT / "examples/use-cases/predictive-maintenance.yaml", old)
    events = load_events(GOLDEN / "diff-events.yaml")
    roster = load_roster(GOLDEN / "roster.yaml")
    from tiergate.inputs.events import parse_time

    before = check(old, answers, events, roster, version="3.0", at=parse_time(AT), replay=True)
    after = check(new, answers, events, roster, version="3.0", at=parse_time(AT), replay=True)
    assert before.tier == after.tier == "monitored" and before.stage == "deployment"
    assert before.compliant and not after.compliant

    result = tiergate("diff", OLD, NEW, *USE_CASES, *EVENTS, "--format", "json")
    versions = {(v["use_case"], v["version"]): v for v in json.loads(result.stdout)["versions"]}
    assert versions[("predictive-maintenance", "3.0")] == {
        "use_case": "predictive-maintenance", "version": "3.0", "stage": "deployment",
        "before": "compliant", "after": "non-compliant", "reasons": ["signoff:data_ops@deployment"]}
    assert versions[("churn-dashboard", "2.0")]["after"] == "non-compliant"
    assert versions[("ecommerce-recommender", "7.2")]["before"] == "non-compliant"
    assert versions[("ecommerce-recommender", "7.2")]["after"] == "compliant"
    assert ("adhoc-analysis", "1") not in versions  # compliant under both: not a change


def test_versions_in_text():
    lines = tiergate("diff", OLD, NEW, *USE_CASES, *EVENTS).stdout.splitlines()
    assert lines[0] == ("2 use cases change tier: 1 up, 1 down; 7 get different requirements; "
                        "2 deployed versions become non-compliant, 1 becomes compliant")
    assert ("  predictive-maintenance 3.0 in deployment: compliant -> non-compliant (signoff:data_ops@deployment)"
            in lines)


# --- exit codes and usage -------------------------------------------------------------------------

def test_fail_on_change():
    assert tiergate("diff", OLD, NEW, *USE_CASES, "--fail-on-change").exit_code == 1
    assert tiergate("diff", OLD, NEW, "--fail-on-change").exit_code == 1
    assert tiergate("diff", OLD, NEW, *USE_CASES).exit_code == 0
    assert tiergate("diff", OLD, OLD, *USE_CASES, "--fail-on-change").exit_code == 0


def test_output_file(tmp_path):
    out = tmp_path / "impact.md"
    result = tiergate("diff", OLD, NEW, *USE_CASES, "--format", "markdown", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("### Policy impact: 2 use cases change tier: 1 up, 1 down")


def test_events_need_use_cases_and_a_roster():
    result = tiergate("diff", OLD, NEW, "--events", "tests/golden/authoring/diff-events.yaml")
    assert result.exit_code == 2
    assert "--events needs --use-cases and --roster" in result.stderr


def test_an_unusable_policy_exits_2(tmp_path):
    bad = tmp_path / "bad.policy"
    bad.write_text("policy \"x\" version \"1\"\n", encoding="utf-8")
    result = tiergate("diff", OLD, str(bad))
    assert result.exit_code == 2
    assert "the policy cannot be used" in result.stderr
    assert tiergate("diff", OLD, str(tmp_path / "missing.policy")).exit_code == 2


def test_an_unusable_answers_file_exits_2(tmp_path):
    (tmp_path / "broken.yaml").write_text("use_case: broken\nanswers: [\n", encoding="utf-8")
    result = tiergate("diff", OLD, NEW, "--use-cases", str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path / 'broken.yaml'}:" in result.stderr
