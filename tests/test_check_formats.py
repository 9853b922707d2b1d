"""`tiergate check` in every output format, for a blocked check, an allowed one and a replay with violations.

JUnit is validated against the Ant JUnit XSD and SARIF against the SARIF 2.1.0 schema, both read from the shared
reference folder beside the checkout. In every format each failing requirement names its id, its reason and the
line of the policy that states it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import extra_module, reference_file
from tiergate.language.load import load_policy
from tiergate.cli import main

ROOT = Path(__file__).resolve().parent.parent
POLICY_FILE = "policies/mlops-default.policy"
USE_CASES = ROOT / "examples" / "use-cases"
ROSTER = ROOT / "examples" / "roster.yaml"


def ev(at: str, type_: str, use_case: str, version: str, actor: str, **fields) -> dict:
    return {"at": at, "type": type_, "use_case": use_case, "version": version, "actor": actor, **fields}


def loan(at, type_, actor="dana", **fields):
    return ev(at, type_, "loan-approval", "1.0", actor, **fields)


def churn(at, type_, actor="sam", **fields):
    return ev(at, type_, "churn-dashboard", "2.1", actor, **fields)


#: A critical use case asks to enter preproduction: three requirements unmet, one waived, the rest met.
BLOCKED = [
    loan("2026-01-01T09:00:00Z", "registered"),
    loan("2026-01-02T09:00:00Z", "signoff", "bea", role="business_stakeholder", gate="development", decision="approve"),
    loan("2026-01-02T09:30:00Z", "signoff", "rita", role="risk_audit", gate="development", decision="approve"),
    loan("2026-01-02T10:00:00Z", "evidence", kind="pii_handling", metrics={"masked": True}),
    loan("2026-01-03T09:00:00Z", "transition", to="ideation"),
    loan("2026-01-04T09:00:00Z", "transition", to="development"),
    loan("2026-01-10T09:00:00Z", "evidence", kind="data_quality_check", metrics={"completeness": 0.99}),
    loan("2026-01-10T09:05:00Z", "evidence", kind="test_pipeline", metrics={"passed": True}),
    loan("2026-01-10T09:10:00Z", "evidence", kind="bias_test", metrics={},
         attributes={"age": {"disparate_impact": 0.7}}),
    loan("2026-01-10T09:15:00Z", "evidence", kind="explainability_report", metrics={}),
    loan("2026-01-10T09:20:00Z", "evidence", kind="data_snapshot", metrics={"rows": 120000}),
    loan("2026-01-11T09:00:00Z", "signoff", "dana", role="risk_audit", gate="preproduction", decision="approve"),
    loan("2026-01-11T10:00:00Z", "signoff", "otto", role="data_ops", gate="preproduction", decision="approve"),
    loan("2026-01-12T09:00:00Z", "waiver", "rita", requirement="evidence:lineage_review@preproduction",
         justification="lineage tool migration, review booked", expires="2026-01-25T00:00:00Z"),
]

#: A scheduled use case enters deployment with every requirement met.
ALLOWED = [
    churn("2026-02-01T09:00:00Z", "registered"),
    churn("2026-02-01T10:00:00Z", "transition", to="ideation"),
    churn("2026-02-02T10:00:00Z", "transition", to="development"),
    churn("2026-02-05T10:00:00Z", "evidence", kind="data_quality_check", metrics={"completeness": 1.0}),
    churn("2026-02-05T11:00:00Z", "transition", to="preproduction"),
    churn("2026-02-06T09:00:00Z", "evidence", kind="metrics_record", metrics={"auc": 0.81}),
    churn("2026-02-06T09:10:00Z", "evidence", kind="environment_recreation", metrics={"lockfile": "ok"}),
    churn("2026-02-06T09:20:00Z", "evidence", kind="model_documentation", metrics={}),
    churn("2026-02-06T09:30:00Z", "evidence", kind="automated_checks", metrics={"passed": 42, "failed": 0}),
    churn("2026-02-07T09:00:00Z", "signoff", "bea", role="business_stakeholder", gate="deployment",
          decision="approve"),
]

#: The same scheduled use case, asking for preproduction without the recommended data quality check.
RECOMMENDED = ALLOWED[:3]

#: A critical use case that skipped preproduction, with a drifting model and a missed monitoring run.
REPLAY = [
    loan("2026-01-01T09:00:00Z", "registered"),
    loan("2026-01-02T09:00:00Z", "transition", to="ideation"),
    loan("2026-01-03T09:00:00Z", "waiver", "rita", requirement="evidence:red_team@deployment",
         justification="red team booked for next sprint", expires="2026-01-10T00:00:00Z"),
    loan("2026-01-03T10:00:00Z", "transition", to="development"),
    loan("2026-01-03T11:00:00Z", "signoff", "zoe", role="risk_audit", gate="deployment", decision="approve"),
    loan("2026-01-04T09:00:00Z", "transition", to="deployment", mode="full"),
    loan("2026-01-05T09:00:00Z", "monitoring", "paula", kind="infrastructure_alerts", metrics={"alerts": 0}),
    loan("2026-01-19T12:00:00Z", "monitoring", "paula", kind="performance", metrics={"auc": 0.9}),
    loan("2026-01-19T13:00:00Z", "monitoring", "paula", kind="input_drift", metrics={"psi": 0.35}),
]

#: name -> (answers file, events, events file name, extra arguments)
SCENARIOS = {
    "blocked": ("loan-approval.yaml", BLOCKED, "events.yaml",
                ["--to", "preproduction", "--at", "2026-01-20T00:00:00Z"]),
    "allowed": ("churn-dashboard.yaml", ALLOWED, "events.jsonl",
                ["--to", "deployment", "--at", "2026-02-08T00:00:00Z"]),
    "recommended": ("churn-dashboard.yaml", RECOMMENDED, "events.yaml",
                    ["--to", "preproduction", "--at", "2026-02-08T00:00:00Z"]),
    # `:` and `,` in the file name: they must be escaped in GitHub annotation properties
    "replay": ("loan-approval.yaml", REPLAY, "ev:2026,q1.jsonl", ["--replay", "--at", "2026-01-20T00:00:00Z"]),
}
EXIT = {"blocked": 1, "allowed": 0, "recommended": 0, "replay": 1}
FORMATS = ("text", "json", "junit", "sarif", "github", "markdown")


@pytest.fixture(scope="module")
def policy():
    return load_policy(ROOT / POLICY_FILE)


@pytest.fixture(scope="module")
def policy_lines() -> list[str]:
    return (ROOT / POLICY_FILE).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """scenario -> format -> (exit code, standard output, standard error, events file name)."""
    from click.testing import CliRunner

    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    folder = tmp_path_factory.mktemp("events")
    out: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)  # so that the policy is shown as policies/mlops-default.policy
        for name, (answers, records, file_name, extra) in SCENARIOS.items():
            path = folder / name / file_name
            path.parent.mkdir()
            if file_name.endswith(".jsonl"):
                path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
            else:
                path.write_text("".join(f"- {json.dumps(r)}\n" for r in records), encoding="utf-8")
            out[name] = {}
            for fmt in FORMATS:
                result = runner.invoke(main, ["check", "--policy", POLICY_FILE, "--answers", str(USE_CASES / answers),
                                              "--events", str(path), "--roster", str(ROSTER), *extra,
                                              "--format", fmt])
                assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
                    result.output
                out[name][fmt] = (result.exit_code, result.stdout, result.stderr, str(path))
    return out


def report(outputs, name: str) -> dict:
    return json.loads(outputs[name]["json"][1])


def failing(items) -> list[dict]:
    """Blocking requirements that are unmet, overdue or breached (what a CI job fails on)."""
    return [s for s in items if s["severity"] == "require" and s["status"] in ("unmet", "overdue", "breach")]


def all_statuses(data: dict) -> list[dict]:
    return data["requirements"] + [u for v in data["violations"] for u in v["unmet"]] + data["obligations"]


# --- the scenarios themselves ---------------------------------------------------------------------

@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_exit_codes_and_no_stderr(outputs, name, fmt):
    code, stdout, stderr, _ = outputs[name][fmt]
    assert code == EXIT[name], stderr
    assert stderr == ""
    assert stdout.strip()


def test_the_scenarios_say_what_they_should(outputs):
    blocked = report(outputs, "blocked")
    assert blocked["allowed"] is False and blocked["stage"] == "development"
    assert [s["id"] for s in failing(blocked["requirements"])] == [
        "evidence:bias_test@preproduction", "signoff:risk_audit@preproduction",
        "evidence:hand_coded_verification@preproduction"]
    assert [s["id"] for s in blocked["requirements"] if s["status"] == "waived"] == [
        "evidence:lineage_review@preproduction"]
    reasons = {s["id"]: s["reason"] for s in blocked["requirements"]}
    assert reasons["evidence:bias_test@preproduction"] == (
        "the latest bias_test (line 9, 2026-01-10T09:10:00Z), for age: `disparate_impact >= 0.8` does not hold "
        "(disparate_impact = 0.7)")
    assert reasons["signoff:risk_audit@preproduction"] == (
        "needs an approving sign-off from risk_audit for preproduction (none recorded); dana's sign-off does not "
        "count: dana registered this version (separation of duties)")

    allowed = report(outputs, "allowed")
    assert allowed["allowed"] is True and allowed["stage"] == "preproduction"
    assert {s["status"] for s in allowed["requirements"]} == {"met"} and len(allowed["requirements"]) == 5

    recommended = report(outputs, "recommended")
    assert recommended["allowed"] is True
    assert [(s["id"], s["severity"], s["status"]) for s in recommended["requirements"]] == [
        ("evidence:data_quality_check@preproduction", "recommend", "unmet")]

    replay = report(outputs, "replay")
    assert replay["allowed"] is None and replay["target"] is None and replay["stage"] == "deployment"
    assert [(v["kind"], v["from"], v["to"]) for v in replay["violations"]] == [
        ("gate", "ideation", "development"), ("transition", "development", "deployment"),
        ("gate", "development", "deployment")]
    assert {o["id"]: o["status"] for o in replay["obligations"]} == {
        "monitoring:infrastructure_alerts@deployment": "overdue", "monitoring:input_drift@deployment": "breach",
        "review:data_scientist@deployment": "ok", "monitoring:performance@deployment": "ok",
        "review:risk_audit@deployment": "ok",
        "evidence:red_team@deployment": "breach"}  # entered under rita's waiver, which ran out on 10 January
    deployment = replay["violations"][2]["unmet"]
    assert "evidence:red_team@deployment" not in {u["id"] for u in deployment}  # waived at the time
    assert {"deployment@deployment", "signoff:risk_audit@deployment"} <= {u["id"] for u in deployment}
    assert [w["code"] for w in replay["warnings"]] == ["W425"]


# --- text -----------------------------------------------------------------------------------------

def test_text_starts_with_the_verdict(outputs):
    assert outputs["blocked"]["text"][1].startswith(
        "BLOCKED: loan-approval 1.0 may not enter preproduction (tier critical, now in development)\n")
    assert outputs["allowed"]["text"][1].startswith(
        "ALLOWED: churn-dashboard 2.1 may enter deployment (tier scheduled, now in preproduction)\n")
    assert outputs["recommended"]["text"][1].startswith(
        "ALLOWED: churn-dashboard 2.1 may enter preproduction (tier scheduled, now in development)\n")
    assert outputs["replay"]["text"][1].startswith(
        "loan-approval 1.0: tier critical, now in deployment; history: 3 violations; 3 obligations breach/overdue\n")


@pytest.mark.parametrize("name", SCENARIOS)
def test_text_names_each_requirement_with_its_policy_line(outputs, name, policy_lines):
    text = outputs[name]["text"][1]
    data = report(outputs, name)
    for s in all_statuses(data):
        where = f"[{POLICY_FILE}:{s['line']}]"
        assert f" {s['id']}" in text
        line = next(l for l in text.splitlines() if f" {s['id']}" in l and l.endswith(where))
        if s in failing(all_statuses(data)):
            assert line.lstrip().startswith("✗ ")
            assert s["reason"] in line
        assert policy_lines[s["line"] - 1].strip().startswith(("require ", "recommend "))
    assert text.rstrip().splitlines()[-1].startswith("policy mlops-default 1.0.0 (sha256 ")


def test_text_of_a_replay_lists_violations_with_the_event_line(outputs):
    _, text, _, events_file = outputs["replay"]["text"]
    assert f"version 1.0: development -> deployment (full) [{events_file}:6]: development -> deployment is not an " \
           f"edge of the workflow (from development: preproduction)" in text
    assert f"version 1.0: ideation -> development [{events_file}:4]: entered development while its gate was not met: " \
           in text
    assert f"warning: {events_file}:5: zoe is not in the roster, so their signoff counts for nothing" in text


# --- requirement lines agree with the policy --------------------------------------------------------

def test_every_reported_line_is_the_requirement_in_the_policy(outputs, policy, policy_lines):
    for name in SCENARIOS:
        data = report(outputs, name)
        texts = {r.id: (r.text, r.loc.line) for r in policy.tier(data["tier"]).requirements}
        for s in all_statuses(data):
            text, line = texts[s["id"]]
            assert s["line"] == line
            assert policy_lines[line - 1].strip() == text


# --- JSON -----------------------------------------------------------------------------------------

TOP = ["use_case", "version", "tier", "policy", "at", "stage", "target", "mode", "allowed", "requirements",
       "violations", "obligations", "warnings"]
REQUIREMENT = ["id", "kind", "severity", "status", "reason", "line"]
OBLIGATION = REQUIREMENT + ["last", "next_due"]
VIOLATION = ["kind", "version", "at", "from", "to", "mode", "file", "line", "message", "unmet", "policy", "roster"]
WARNING = ["code", "severity", "file", "line", "column", "message", "hint"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_json_has_exactly_the_documented_keys(outputs, name):
    data = report(outputs, name)
    assert list(data) == TOP
    assert list(data["policy"]) == ["name", "version", "sha256"]
    assert data["policy"]["name"] == "mlops-default" and re.fullmatch(r"[0-9a-f]{64}", data["policy"]["sha256"])
    for s in data["requirements"]:
        assert list(s) == REQUIREMENT
    for o in data["obligations"]:  # (a waiver that ran out adds the waiver)
        assert list(o) == (OBLIGATION + ["waiver"] if o["kind"] in ("signoff", "evidence", "deployment") else OBLIGATION)
    for v in data["violations"]:
        assert list(v) == VIOLATION
        for u in v["unmet"]:
            assert list(u) == REQUIREMENT
    for w in data["warnings"]:
        assert list(w) == WARNING


def test_json_values(outputs):
    blocked = report(outputs, "blocked")
    assert {k: blocked[k] for k in ("use_case", "version", "tier", "at", "stage", "target", "mode", "allowed")} == {
        "use_case": "loan-approval", "version": "1.0", "tier": "critical", "at": "2026-01-20T00:00:00Z",
        "stage": "development", "target": "preproduction", "mode": None, "allowed": False}
    replay = report(outputs, "replay")
    drift = {o["id"]: o for o in replay["obligations"]}["monitoring:input_drift@deployment"]
    assert drift == {"id": "monitoring:input_drift@deployment", "kind": "monitoring", "severity": "require",
                     "status": "breach", "line": 95, "last": "2026-01-19T13:00:00Z",
                     "next_due": "2026-01-26T13:00:00Z",
                     "reason": "the latest input_drift result (line 9, 2026-01-19T13:00:00Z): `psi < 0.2` does not "
                               "hold (psi = 0.35)"}
    alerts = {o["id"]: o for o in replay["obligations"]}["monitoring:infrastructure_alerts@deployment"]
    assert (alerts["status"], alerts["line"], alerts["last"], alerts["next_due"]) == (
        "overdue", 74, "2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z")
    assert replay["violations"][1]["file"] == outputs["replay"]["json"][3] and replay["violations"][1]["line"] == 6


# --- JUnit ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def junit_schema():
    xsd = reference_file("JUnit.xsd")
    return extra_module("xmlschema").XMLSchema(str(xsd))


@pytest.mark.parametrize("name", SCENARIOS)
def test_junit_validates_against_the_ant_xsd(outputs, junit_schema, name):
    xml = outputs[name]["junit"][1]
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>')
    junit_schema.validate(xml)


@pytest.mark.parametrize("name", SCENARIOS)
def test_junit_has_a_failing_testcase_per_failing_requirement(outputs, junit_schema, name):
    data = report(outputs, name)
    root = ElementTree.fromstring(outputs[name]["junit"][1])
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)
    failures = [(suite.get("name"), case.get("name"), case.find("failure"))
                for suite in suites for case in suite.findall("testcase") if case.find("failure") is not None]
    expected = [("gate " + str(data["target"]), s) for s in failing(data["requirements"])]
    for v in data["violations"]:
        name_ = f"violation {v['at']} {v['from']} -> {v['to']}"
        expected += [(name_, {"id": "workflow-transition-0", "reason": v["message"], "status": "transition",
                              "line": None})] if v["kind"] == "transition" else []
        expected += [(name_, s) for s in failing(v["unmet"])]
    expected += [("obligations", s) for s in failing(data["obligations"])]
    assert sorted((suite, case) for suite, case, _ in failures) == sorted((suite, s["id"]) for suite, s in expected)
    by_case = {(suite, case): failure for suite, case, failure in failures}
    for suite, s in expected:
        failure = by_case[(suite, s["id"])]
        assert failure.get("message") == s["reason"]
        assert failure.get("type") == s["status"]
        assert s["reason"] in failure.text
        if s["line"] is not None:  # the requirement, where the policy states it
            assert f"{POLICY_FILE}:{s['line']}" in failure.text
    if not expected:
        assert failures == []


def test_junit_of_an_allowed_check_has_passing_testcases(outputs):
    root = ElementTree.fromstring(outputs["allowed"]["junit"][1])
    [suite] = root.findall("testsuite")
    assert (suite.get("name"), suite.get("package"), suite.get("tests"), suite.get("failures")) == (
        "gate deployment", "churn-dashboard.2.1.deployment", "5", "0")
    assert all(list(case) == [] for case in suite.findall("testcase"))
    root = ElementTree.fromstring(outputs["recommended"]["junit"][1])
    [case] = root.find("testsuite").findall("testcase")
    assert case.get("name") == "evidence:data_quality_check@preproduction"
    assert case.find("skipped").get("message").startswith("unmet: no data_quality_check evidence recorded")


# --- SARIF ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sarif_validator():
    path = reference_file("sarif-schema-2.1.0.json")
    import jsonschema

    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("name", SCENARIOS)
def test_sarif_validates_against_the_schema(outputs, sarif_validator, name):
    doc = json.loads(outputs[name]["sarif"][1])
    problems = [f"{e.json_path}: {e.message}" for e in sarif_validator.iter_errors(doc)]
    assert problems == []
    assert doc["version"] == "2.1.0"


@pytest.mark.parametrize("name", SCENARIOS)
def test_sarif_results_point_at_the_requirement_in_the_policy(outputs, sarif_validator, name, policy):
    data = report(outputs, name)
    doc = json.loads(outputs[name]["sarif"][1])
    [run] = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    ids = {r.id: r for r in policy.tier(data["tier"]).requirements}
    lines = {s["id"]: s["line"] for s in all_statuses(data)}
    for result in run["results"]:
        assert result["ruleId"] in ids or result["ruleId"] == "workflow-transition"
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        [location] = result["locations"]
        region = location["physicalLocation"]["region"]
        if result["ruleId"] == "workflow-transition":
            assert location["physicalLocation"]["artifactLocation"]["uri"] == outputs[name]["sarif"][3]
            continue
        assert location["physicalLocation"]["artifactLocation"]["uri"] == POLICY_FILE
        assert region["startLine"] == lines[result["ruleId"]] == ids[result["ruleId"]].loc.line
        assert result["ruleId"] in result["message"]["text"] or result["properties"]["status"] in \
            result["message"]["text"]
        assert ("suppressions" in result) == (result["properties"]["status"] == "waived")
    # every failing requirement is an error result
    errors = sorted(r["ruleId"] for r in run["results"]
                    if r["level"] == "error" and r["ruleId"] != "workflow-transition")
    expected = sorted(s["id"] for s in failing(data["requirements"]) + failing(data["obligations"]) +
                      [u for v in data["violations"] for u in failing(v["unmet"])])
    assert errors == expected
    transitions = [r for r in run["results"] if r["ruleId"] == "workflow-transition"]
    assert len(transitions) == sum(1 for v in data["violations"] if v["kind"] == "transition")


def test_sarif_waived_requirements_carry_suppressions(outputs):
    doc = json.loads(outputs["blocked"]["sarif"][1])
    [waived] = [r for r in doc["runs"][0]["results"] if r["properties"]["status"] == "waived"]
    assert waived["ruleId"] == "evidence:lineage_review@preproduction"
    assert waived["locations"][0]["physicalLocation"]["region"]["startLine"] == 109
    [suppression] = waived["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["justification"].startswith("waived by rita until 2026-01-25T00:00:00Z (line 14): lineage tool "
                                                   "migration, review booked; otherwise: no lineage_review evidence")


def test_sarif_of_an_allowed_check_has_no_results(outputs):
    doc = json.loads(outputs["allowed"]["sarif"][1])
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["invocations"][0]["properties"]["allowed"] is True


# --- GitHub annotations ---------------------------------------------------------------------------

_PROP = r"(?:[^%:,\r\n]|%25|%0D|%0A|%3A|%2C)*"
_DATA = r"(?:[^%\r\n]|%25|%0D|%0A)*"
ANNOTATION = re.compile(rf"::(error|warning|notice)(?: (?:file=({_PROP}),line=(\d+),)?title=({_PROP}))?::({_DATA})")


def _unescape(text: str) -> str:
    return (text.replace("%3A", ":").replace("%2C", ",").replace("%0D", "\r").replace("%0A", "\n")
            .replace("%25", "%"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_github_lines_follow_the_workflow_command_syntax(outputs, name):
    data = report(outputs, name)
    stdout = outputs[name]["github"][1]
    assert stdout.endswith("\n")
    parsed = []
    for line in stdout.splitlines():
        match = ANNOTATION.fullmatch(line)
        assert match, line
        level, file, number, title, message = match.groups()
        parsed.append((level, file and _unescape(file), number and int(number), _unescape(title), _unescape(message)))
    level, file, number, title, message = parsed[-1]
    assert (level, file, title) == ("error" if EXIT[name] else "notice", None, "tiergate")
    assert message == outputs[name]["text"][1].splitlines()[0]
    annotations = {(t, l): (lv, f, m) for lv, f, l, t, m in parsed[:-1]}
    for s in failing(data["requirements"]) + failing(data["obligations"]):
        level, file, message = annotations[(s["id"], s["line"])]
        assert (level, file) == ("error", POLICY_FILE)
        assert message.endswith(s["reason"])
    for s in data["requirements"] + data["obligations"]:
        if s["status"] in ("waived", "due") or (s["severity"] == "recommend" and s["status"] == "unmet"):
            assert annotations[(s["id"], s["line"])][0] == "warning"


def test_github_escapes_colons_and_commas_in_properties(outputs):
    stdout = outputs["blocked"]["github"][1]
    assert ("::error file=policies/mlops-default.policy,line=92,title=signoff%3Arisk_audit@preproduction::needs an "
            "approving sign-off from risk_audit for preproduction (none recorded); dana's sign-off does not count: "
            "dana registered this version (separation of duties)\n") in stdout
    _, replay, _, events_file = outputs["replay"]["github"]
    escaped = events_file.replace("%", "%25").replace(":", "%3A").replace(",", "%2C")
    assert "%3A" in escaped and "%2C" in escaped
    assert f"::error file={escaped},line=6,title=violation 1.0::development -> deployment is not an edge" in replay
    assert f"::error file={escaped},line=4,title=violation 1.0::entered development while its gate was not met: " \
           in replay


# --- Markdown -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCENARIOS)
def test_markdown_starts_with_the_verdict(outputs, name):
    markdown = outputs[name]["markdown"][1]
    verdict = outputs[name]["text"][1].splitlines()[0]
    icon = "❌" if EXIT[name] else "✅"
    assert markdown.splitlines()[0] == f"### {icon} {verdict}"
    data = report(outputs, name)
    for s in failing(data["requirements"]):
        row = next(l for l in markdown.splitlines() if f"`{s['id']}`" in l)
        assert s["reason"] in row and f"line {s['line']}" in row
