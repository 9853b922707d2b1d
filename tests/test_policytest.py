"""`tiergate test`: the shipped policy tests pass, a broken pack fails them readably, and bad test files
are reported with their file and line while the other files still run.

tests/golden/authoring/mlops-default-broken.policy is the default pack with one rule changed (the rule at
line 44 lost `gender`); broken_test.yaml beside it holds a few cases, two of which fail against it, and
broken.expected.txt is exactly what `tiergate test tests/golden/authoring/broken_test.yaml` prints.
Set TIERGATE_UPDATE_GOLDEN=1 to rewrite it, then read the change by eye.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from conftest import SMALL_POLICY, extra_module, reference_file, tiergate
from tiergate.authoring.policytest import run_tests

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
SHIPPED_TESTS = POLICIES / "mlops-default_test.yaml"
GOLDEN = ROOT / "tests" / "golden" / "authoring"
BROKEN_POLICY = GOLDEN / "mlops-default-broken.policy"
BROKEN_TESTS = "tests/golden/authoring/broken_test.yaml"
UPDATE = os.environ.get("TIERGATE_UPDATE_GOLDEN") == "1"
EXAMPLES = ROOT / "examples" / "use-cases"





@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def check_golden(path: Path, text: str) -> None:
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with TIERGATE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


# --- the shipped tests --------------------------------------------------------------------------

def test_the_default_pack_passes_its_tests_with_full_coverage(at_root):
    result = tiergate("test", "policies/mlops-default_test.yaml", "--coverage-min", "100")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "coverage of policies/mlops-default.policy: 100%" in result.stdout
    assert re.search(r"^\d+ passed, 0 failed$", result.stdout, re.MULTILINE)
    assert "not exercised" not in result.stdout


def test_every_rule_and_requirement_of_the_default_pack_is_exercised():
    run = run_tests([str(SHIPPED_TESTS)])
    assert not run.errors and not run.failed
    (coverage,) = run.coverage().values()
    assert coverage["rules"] == [] and coverage["requirements"] == []
    assert coverage["percent"] == 100.0


def test_the_default_pack_tests_cover_every_stage_gate_of_every_tier():
    """A gate case for each stage with requirements, in each tier, and an obligations case per deployed tier."""
    from tiergate.decide.classify import classify
    from tiergate.authoring.policytest import _answers, load_test_file

    tf = load_test_file(SHIPPED_TESTS, {})
    gates, obligations = set(), set()
    for case in tf.cases:
        if case.events is None:
            continue
        tier = classify(tf.policy, _answers(tf, case)).tier
        if case.to:
            gates.add((tier, case.to))
        if "obligations" in case.expect:
            obligations.add(tier)
    for tier in tf.policy.tiers:
        for stage in ("development", "preproduction", "deployment"):
            assert (tier.name, stage) in gates, f"no gate case enters {stage} in tier {tier.name}"
    assert {"scheduled", "monitored", "critical"} <= obligations


def test_the_default_pack_tests_use_the_examples_by_path():
    data = yaml.safe_load(SHIPPED_TESTS.read_text(encoding="utf-8"))
    used = {Path(c["answers"]).name for c in data["cases"] if isinstance(c["answers"], str)}
    examples = {p.name for p in EXAMPLES.glob("*.yaml")}
    assert used == examples, (f"examples with no case in {SHIPPED_TESTS.relative_to(ROOT)}: "
                              f"{sorted(examples - used)}; cases naming no example: {sorted(used - examples)}")


def _test_files_naming_a_missing_policy() -> list[str]:
    missing = []
    for path in sorted(POLICIES.rglob("*_test.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue  # a broken file is a failure tiergate reports, not a reason to skip
        policy = data.get("policy") if isinstance(data, dict) else None
        if isinstance(policy, str) and not (path.parent / policy).is_file():
            missing.append(f"{path.relative_to(ROOT)} names {policy}")
    return missing


def test_every_shipped_pack_passes_its_tests(at_root):
    """`tiergate test policies` runs every pack's *_test.yaml; each pack's tests are that pack's authors'."""
    missing = _test_files_naming_a_missing_policy()
    if missing:
        pytest.skip("another pack's policy file is not in policies/ yet: " + "; ".join(missing))
    result = tiergate("test", "policies")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "policies/mlops-default_test.yaml" in result.stdout


# --- a broken pack ------------------------------------------------------------------------------

def test_a_broken_pack_fails_with_an_expected_and_actual_report(at_root):
    result = tiergate("test", BROKEN_TESTS)
    assert result.exit_code == 1
    assert result.stderr == ""
    check_golden(GOLDEN / "broken.expected.txt", result.stdout)


def test_the_broken_copy_differs_from_the_default_pack_in_one_rule_only():
    shipped = (POLICIES / "mlops-default.policy").read_text(encoding="utf-8").splitlines()
    broken = BROKEN_POLICY.read_text(encoding="utf-8").splitlines()
    assert len(shipped) == len(broken)
    changed = [i + 1 for i, (a, b) in enumerate(zip(shipped, broken)) if a != b]
    # line 1 is the comment saying what is broken, line 10 the questionnaire path from the new folder
    assert changed == [1, 10, 44]
    assert '"gender"' in shipped[43] and '"gender"' not in broken[43]


def test_the_shipped_tests_catch_the_broken_pack(tmp_path):
    """The default pack's own tests, run against the broken copy, fail on the case that uses gender."""
    text = SHIPPED_TESTS.read_text(encoding="utf-8")
    text = text.replace("policy: mlops-default.policy", f"policy: {BROKEN_POLICY}")
    text = text.replace("../examples/", f"{ROOT}/examples/")
    (tmp_path / "against-broken_test.yaml").write_text(text, encoding="utf-8")
    run = run_tests([str(tmp_path)])
    assert not run.errors
    assert [r.case.name for r in run.failed] == ["a scheduled report that uses gender is monitored"]
    assert [m.field for m in run.failed[0].mismatches] == ["tier", "matched"]


def test_json_report(at_root):
    result = tiergate("test", BROKEN_TESTS, "--format", "json", "--coverage")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["passed"], data["failed"], data["errors"]) == (2, 2, [])
    by_name = {c["name"]: c for c in data["cases"]}
    gender = by_name["a scheduled report that uses gender is monitored"]
    assert gender["passed"] is False and gender["line"] == 11 and gender["file"] == BROKEN_TESTS
    assert gender["mismatches"][0] == {"field": "tier", "expected": "monitored", "actual": "scheduled"}
    gate = by_name["a report that uses gender needs a personal data handling record before development"]
    assert {"field": "allowed", "expected": False, "actual": True} in gate["mismatches"]
    assert {"field": "unmet", "expected": ["evidence:pii_handling@development"], "actual": []} in gate["mismatches"]
    coverage = data["coverage"]["tests/golden/authoring/mlops-default-broken.policy"]
    assert 0 < coverage["percent"] < 100
    assert [r["line"] for r in coverage["rules"]] == [41, 43]
    assert coverage["rules"][0]["text"].startswith("Its quality is expected to drop quickly")


def test_junit_report_validates_against_the_junit_schema(at_root, tmp_path):
    schema = extra_module("xmlschema").XMLSchema(str(reference_file("JUnit.xsd")))
    bad = tmp_path / "error_test.yaml"
    bad.write_text(f"policy: {POLICIES / 'mlops-default.policy'}\ncases:\n  - name: answers that are not there\n"
                   "    answers: nowhere.yaml\n    expect: {tier: scheduled}\n", encoding="utf-8")
    result = tiergate("test", BROKEN_TESTS, str(bad), "--format", "junit")
    assert result.exit_code == 2  # a case whose inputs cannot be used makes the run unusable
    schema.validate(result.stdout)
    root = schema.to_dict(result.stdout)
    suites = {s["@name"]: s for s in root["testsuite"]}
    broken = suites[BROKEN_TESTS]
    assert (broken["@tests"], broken["@failures"], broken["@errors"]) == (4, 2, 0)
    failures = [c for c in broken["testcase"] if "failure" in c]
    assert [c["@name"] for c in failures] == ["a scheduled report that uses gender is monitored",
                                              "a report that uses gender needs a personal data handling record "
                                              "before development"]
    assert failures[0]["failure"]["@message"] == 'tier: expected "monitored", actual "scheduled"'
    errored = suites[str(bad)]
    assert (errored["@tests"], errored["@failures"], errored["@errors"]) == (1, 0, 1)
    assert "file not found" in errored["testcase"][0]["error"]["@message"]


def test_output_file(at_root, tmp_path):
    out = tmp_path / "report.xml"
    result = tiergate("test", BROKEN_TESTS, "--format", "junit", "--output", str(out))
    assert result.exit_code == 1
    assert out.read_text(encoding="utf-8").startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert f"wrote {out}" in result.stderr


# --- coverage -----------------------------------------------------------------------------------

@pytest.fixture
def one_case(tmp_path, monkeypatch):
    """A passing test file with one classification case of the default pack: it exercises one rule of 45."""
    (tmp_path / "one_test.yaml").write_text(
        f"policy: {POLICIES / 'mlops-default.policy'}\ncases:\n"
        f"  - name: the churn dashboard is scheduled\n    answers: {EXAMPLES / 'churn-dashboard.yaml'}\n"
        "    expect: {tier: scheduled}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return "one_test.yaml"


def test_coverage_lists_what_no_case_exercised(one_case):
    result = tiergate("test", one_case, "--coverage")
    assert result.exit_code == 0
    policy = str(POLICIES / "mlops-default.policy")
    assert f"coverage of {policy}: 2%" in result.stdout
    assert f"  rule not exercised: {policy}:35: Results are served live to customers" in result.stdout
    assert f"  rule not exercised: {policy}:45:" not in result.stdout
    assert f"  requirement not exercised: signoff:risk_audit@deployment ({policy}:117)" in result.stdout
    assert f"  requirement not exercised: no-public-ad-hoc ({policy}:59)" in result.stdout
    assert result.stdout.count("rule not exercised") == 10
    assert result.stdout.count("requirement not exercised") == 34
    assert result.stdout.splitlines()[-1] == "1 passed, 0 failed"


def test_coverage_min_fails_below_the_threshold(one_case):
    low = tiergate("test", one_case, "--coverage-min", "100")
    assert low.exit_code == 1
    assert f"coverage of {POLICIES / 'mlops-default.policy'} is 2%, below the 100% required" in low.stderr
    assert tiergate("test", one_case, "--coverage-min", "2").exit_code == 0


def test_a_requirement_counts_only_once_a_gate_case_evaluates_it(tmp_path):
    """A classification case covers rules and forbids; requirements need a gate case that reaches them."""
    policy = tmp_path / "small.policy"
    policy.write_text(SMALL_POLICY, encoding="utf-8")
    rule_line = SMALL_POLICY.splitlines().index('  high when availability == "realtime" because "Live"') + 1
    answers = yaml.safe_load((EXAMPLES / "plane-fuelling.yaml").read_text(encoding="utf-8"))
    cases = [{"name": "live is high", "answers": answers, "expect": {"tier": "high", "matched": [rule_line, "Live"]}}]
    (tmp_path / "small_test.yaml").write_text(yaml.safe_dump({"policy": "small.policy", "cases": cases}),
                                              encoding="utf-8")
    run = run_tests([str(tmp_path)])
    assert not run.errors and not run.failed
    (coverage,) = run.coverage().values()
    assert coverage["rules"] == []
    assert [rid for rid, _ in coverage["requirements"]] == ["evidence:unit_tests@release", "signoff:reviewer@release"]
    assert coverage["percent"] == pytest.approx(100 / 3)


# --- test files that cannot be used --------------------------------------------------------------

BAD_FILES = {
    "missing_test.yaml": "policy: no-such.policy\ncases: []\n",
    "tier_test.yaml": """\
policy: {policy}
cases:
  - name: a typo in the tier
    answers: {answers}
    expect:
      tier: schedule
""",
    "stage_test.yaml": """\
policy: {policy}
cases:
  - name: a typo in the stage to enter and in the expected stage
    answers: {answers}
    events: []
    to: deploymnt
    expect:
      stage: monitorin
""",
    "requirement_test.yaml": """\
policy: {policy}
cases:
  - name: a typo in a requirement id
    answers: {answers}
    events: []
    to: deployment
    expect:
      unmet:
        - "signoff:business_stakeholder@deployment"
        - "signoff:bussiness_stakeholder@deployment"
      waived: ["evidence:lineage_review@preproduction", "evidence:lineage@preproduction"]
""",
    "yaml_test.yaml": """\
policy: {policy}
cases:
  - name: an unclosed list
    answers: [
""",
    "fields_test.yaml": """\
policy: {policy}
cases:
  - name: a misspelt field and expectation
    answers: {answers}
    when: "2026-03-01T00:00:00Z"
    expect:
      tiers: scheduled
""",
}

EXPECTED_ERRORS = {
    "missing_test.yaml": ["missing_test.yaml:1: error[E500]: policy `no-such.policy` does not exist",
                          "  hint: the path is relative to the test file"],
    "tier_test.yaml": ["tier_test.yaml:6: error[E500]: unknown tier `schedule`",
                       "  hint: did you mean `scheduled`?"],
    "stage_test.yaml": ["stage_test.yaml:6: error[E500]: unknown stage `deploymnt`",
                        "  hint: did you mean `deployment`?",
                        "stage_test.yaml:8: error[E500]: unknown stage `monitorin`",
                        "  hint: did you mean `monitoring`?"],
    "requirement_test.yaml": [
        "requirement_test.yaml:10: error[E500]: unknown requirement id `signoff:bussiness_stakeholder@deployment`",
        "  hint: did you mean `signoff:business_stakeholder@deployment`?",
        "requirement_test.yaml:11: error[E500]: unknown requirement id `evidence:lineage@preproduction`",
        "  hint: did you mean `evidence:lineage_review@preproduction`?"],
    "yaml_test.yaml": ["yaml_test.yaml:5:1: error[E500]: this is not valid YAML: did not find expected node "
                       "content (while parsing a flow node)",
                       "  hint: check the indentation and quoting on this line and the one above"],
    "fields_test.yaml": ["fields_test.yaml:5: error[E500]: unknown case field `when`",
                         "  hint: expected one of `name`, `answers`, `events`, `roster`, `at`, `to`, `mode`, "
                         "`version`, `replay`, `expect`",
                         "fields_test.yaml:7: error[E500]: unknown expectation `tiers`",
                         "  hint: did you mean `tier`?"],
}

GOOD_FILE = """\
policy: {policy}
cases:
  - name: the churn dashboard is scheduled
    answers: {answers}
    expect: {{tier: scheduled}}
"""


@pytest.fixture
def bad_dir(tmp_path, monkeypatch):
    values = {"policy": POLICIES / "mlops-default.policy", "answers": EXAMPLES / "churn-dashboard.yaml"}
    for name, text in BAD_FILES.items():
        (tmp_path / name).write_text(text.format(**values), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path, values


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_an_unusable_test_file_is_located_and_exits_2(bad_dir, name):
    result = tiergate("test", name)
    assert result.exit_code == 2, result.stdout
    assert result.stderr.splitlines() == EXPECTED_ERRORS[name]
    assert result.stdout.splitlines()[-1].startswith("0 passed, 0 failed, ")


def test_the_other_test_files_still_run(bad_dir):
    tmp_path, values = bad_dir
    (tmp_path / "good_test.yaml").write_text(GOOD_FILE.format(**values), encoding="utf-8")
    result = tiergate("test", ".")
    assert result.exit_code == 2
    assert "PASS  the churn dashboard is scheduled  (good_test.yaml:3)" in result.stdout
    problems = sum(len([l for l in lines if not l.startswith("  hint:")]) for lines in EXPECTED_ERRORS.values())
    assert result.stdout.splitlines()[-1] == f"1 passed, 0 failed, {problems} test file problems"
    assert result.stderr.splitlines() == [line for name in sorted(EXPECTED_ERRORS) for line in EXPECTED_ERRORS[name]]


def test_an_unusable_file_still_exits_2_when_another_case_fails(bad_dir):
    """Unusable input outranks a failing case: the run cannot be trusted to be complete."""
    tmp_path, values = bad_dir
    (tmp_path / "failing_test.yaml").write_text(GOOD_FILE.format(**values).replace("tier: scheduled", "tier: critical"),
                                                encoding="utf-8")
    result = tiergate("test", "failing_test.yaml", "tier_test.yaml")
    assert result.exit_code == 2
    assert "FAIL  the churn dashboard is scheduled  (failing_test.yaml:3)" in result.stdout


def test_inline_answers_are_checked_with_the_test_files_lines(tmp_path, monkeypatch):
    answers = yaml.safe_load((EXAMPLES / "churn-dashboard.yaml").read_text(encoding="utf-8"))
    answers["answers"]["availability"] = "sometimes"
    text = yaml.safe_dump({"policy": str(POLICIES / "mlops-default.policy"),
                           "cases": [{"name": "a bad answer", "answers": answers, "expect": {"tier": "scheduled"}}]},
                          sort_keys=False)
    (tmp_path / "inline_test.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index("      availability: sometimes") + 1
    monkeypatch.chdir(tmp_path)
    result = tiergate("test", "inline_test.yaml")
    assert result.exit_code == 2  # an unusable case input
    assert "FAIL  a bad answer  (inline_test.yaml:3)" in result.stdout
    assert re.search(rf"error: inline_test\.yaml:{line}(:\d+)?: error\[E3\d\d\]: .*sometimes", result.stdout), \
        result.stdout


def test_no_test_files_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = tiergate("test", ".")
    assert result.exit_code == 2
    assert "no *_test.yaml files found" in result.stderr
