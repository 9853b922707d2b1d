"""Check results in the formats CI tools read: JUnit XML, SARIF 2.1.0 and GitHub Actions annotations."""
from __future__ import annotations

from tiergate.version import __version__
from tiergate.decide.check import CheckResult, Violation
from tiergate.inputs.events import format_time
from tiergate.decide.gates.base import WAIVED, Status
from tiergate.jsoncodec import readable
from tiergate.reports.check import event_location, transition_problem, verdict
from tiergate.reports.escape import github_message, github_property, json_text, xml, xml_attribute

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


# --- JUnit ------------------------------------------------------------------------------------

def _testcase(classname: str, s: Status) -> str:
    head = f'    <testcase name={xml_attribute(s.id)} classname={xml_attribute(classname)} time="0"'
    if s.failing:
        where = f"{s.requirement.loc.file}:{s.requirement.loc.line}"  # where the policy states the requirement
        return (f"{head}>\n      <failure message={xml_attribute(s.reason)} type={xml_attribute(s.status)}>"
                f"{xml(s.requirement.text)}\n{xml(s.reason)}\nat {xml(where)}</failure>\n    </testcase>")
    if s.warning:
        return f"{head}>\n      <skipped message={xml_attribute(s.status + ': ' + s.reason)}/>\n    </testcase>"
    return f"{head}/>"


def _suite(index: int, name: str, classname: str, statuses, stamp: str, extra_failures: list[str] = (),
           event: str | None = None) -> str:
    cases = [_testcase(classname, s) for s in statuses]
    for k, message in enumerate(extra_failures):
        cases.append(f'    <testcase name="workflow-transition-{k}" classname={xml_attribute(classname)} time="0">\n'
                     f'      <failure message={xml_attribute(message)} type="transition">{xml(message)}</failure>\n'
                     f"    </testcase>")
    failures = sum(1 for s in statuses if s.failing) + len(extra_failures)
    skipped = sum(1 for s in statuses if not s.failing and s.warning)
    return (f'  <testsuite name={xml_attribute(name)} package={xml_attribute(classname)} id="{index}" '
            f'timestamp="{stamp}" '
            f'hostname="tiergate" tests="{len(cases)}" failures="{failures}" errors="0" skipped="{skipped}" time="0">\n'
            + (f'    <properties>\n      <property name="event" value={xml_attribute(event)}/>\n    </properties>\n'
               if event is not None else "    <properties/>\n")
            + "".join(c + "\n" for c in cases) +
            "    <system-out/>\n    <system-err/>\n  </testsuite>")


def as_junit(result: CheckResult) -> str:
    stamp = result.at.strftime("%Y-%m-%dT%H:%M:%S")
    base = f"{result.use_case}.{result.version}"
    suites = []
    if result.target is not None:
        extra = [] if result.transition_ok else [transition_problem(result)]
        suites.append(("gate " + result.target, f"{base}.{result.target}", result.requirements, extra, None))
    for v in result.violations:
        name = f"violation {format_time(v.at)} {v.from_stage} -> {v.to_stage}"
        extra = [v.message] if v.kind == "transition" else []
        suites.append((name, f"{result.use_case}.{v.version}.{v.to_stage}", v.unmet, extra, str(event_location(v))))
    if result.obligations:
        suites.append(("obligations", f"{base}.obligations", result.obligations, [], None))
    body = "\n".join(_suite(i, name, cls, statuses, stamp, extra, event)
                     for i, (name, cls, statuses, extra, event) in enumerate(suites))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n{body}\n</testsuites>\n'


# --- SARIF ------------------------------------------------------------------------------------

def _level(s: Status) -> str:
    if s.status == WAIVED or not s.failing:
        return "warning" if s.warning else "note"
    return "error"


def _location(result: CheckResult, s: Status) -> dict:
    return {"physicalLocation": {"artifactLocation": {"uri": result.policy.file},
                                 "region": {"startLine": max(1, s.requirement.loc.line),
                                            "startColumn": max(1, s.requirement.loc.column)}}}


def _event(v: Violation) -> dict:
    """Where a violation's event is, as a SARIF location: a region of the events file, or for an event of a ledger
    (which has no lines) a logical location named after it, with its sequence number in `properties.event`."""
    where = event_location(v)
    if where.event is not None:
        return {"logicalLocations": [{"name": f"event #{where.event}", "fullyQualifiedName": str(where),
                                      "kind": "object"}],
                "properties": {"event": where.event}}
    return {"physicalLocation": {"artifactLocation": {"uri": v.file}, "region": {"startLine": max(1, v.line)}}}


def _result(result: CheckResult, s: Status, rule_index: dict, context: str) -> dict:
    out = {"ruleId": s.id, "ruleIndex": rule_index[s.id], "level": _level(s),
           "message": {"text": f"{context}: {s.status}: {s.reason}"},
           "locations": [_location(result, s)],
           "properties": {"status": s.status, "useCase": result.use_case, "version": result.version}}
    if s.status == WAIVED:
        out["suppressions"] = [{"kind": "external", "justification": s.reason}]
    return out


def as_sarif(result: CheckResult) -> str:
    reported: list[tuple[Status, str, dict | None]] = []
    if result.target is not None:
        reported += [(s, f"gate {result.target}", None) for s in result.requirements if s.failing or s.warning
                     or s.status == WAIVED]
    for v in result.violations:
        related = {**_event(v),
                   "message": {"text": f"transition {v.from_stage} -> {v.to_stage} at {format_time(v.at)}"}}
        reported += [(s, f"violation: version {v.version} entered {v.to_stage} at {format_time(v.at)}", related)
                     for s in v.unmet]
    reported += [(o, "obligation", None) for o in result.obligations if o.failing or o.warning or o.status == WAIVED]
    rules, index = [], {}
    for s, _, _ in reported:
        if s.id not in index:
            index[s.id] = len(rules)
            r = s.requirement
            rules.append({"id": r.id, "name": r.kind,
                          "shortDescription": {"text": r.text},
                          "properties": {"tier": r.tier, "severity": r.severity}})
    results = []
    for s, context, related in reported:
        item = _result(result, s, index, context)
        if related is not None:
            item["relatedLocations"] = [{"id": 0, **related}]
        results.append(item)
    for v in result.violations:
        if v.kind == "transition":
            results.append({"ruleId": "workflow-transition", "level": "error", "message": {"text": v.message},
                            "locations": [_event(v)]})
    blocked_move = transition_problem(result)
    if blocked_move is not None:
        line = result.policy.workflow_of(result.tier).loc.line
        results.append({"ruleId": "workflow-transition", "level": "error",
                        "message": {"text": f"gate {result.target}: {blocked_move}"},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": result.policy.file},
                                                            "region": {"startLine": max(1, line)}}}]})
    if (blocked_move is not None or any(v.kind == "transition" for v in result.violations)) \
            and "workflow-transition" not in index:
        rules.append({"id": "workflow-transition", "name": "transition",
                      "shortDescription": {"text": "a transition must follow an edge of the workflow"}})
        for item in results:
            if item["ruleId"] == "workflow-transition":
                item["ruleIndex"] = len(rules) - 1
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tiergate", "version": __version__, "rules": rules}},
            "invocations": [{"executionSuccessful": True,
                             "properties": {"verdict": verdict(result), "allowed": result.allowed}}],
            "properties": {"useCase": result.use_case, "version": result.version, "tier": result.tier,
                           "policy": result.policy.identity(), "at": format_time(result.at)},
            "results": results,
        }],
    }
    return json_text(readable(doc)) + "\n"


# --- GitHub Actions ---------------------------------------------------------------------------

def as_github(result: CheckResult) -> str:
    lines = []

    def annotate(level: str, file: str | None, line: int, title: str, message: str) -> None:
        where = f"file={github_property(file)},line={max(1, line)}," if file is not None else ""
        lines.append(f"::{level} {where}title={github_property(title)}::{github_message(message)}")

    if result.target is not None:
        if not result.transition_ok:
            annotate("error", result.policy.file, result.policy.workflow_of(result.tier).loc.line, "workflow",
                     transition_problem(result))
        for s in result.requirements:
            if s.failing:
                annotate("error", result.policy.file, s.requirement.loc.line, s.id, s.reason)
            elif s.warning or s.status == WAIVED:
                annotate("warning", result.policy.file, s.requirement.loc.line, s.id, f"{s.status}: {s.reason}")
    for v in result.violations:
        where = event_location(v)
        if where.event is not None:  # no file of the repository holds it: an annotation of the run, naming the event
            annotate("error", None, 0, f"violation {v.version}", f"{where}: {v.message}")
        else:
            annotate("error", v.file, v.line, f"violation {v.version}", v.message)
    for o in result.obligations:
        if o.failing:
            annotate("error", result.policy.file, o.requirement.loc.line, o.id, f"{o.status}: {o.reason}")
        elif o.warning:
            annotate("warning", result.policy.file, o.requirement.loc.line, o.id, f"{o.status}: {o.reason}")
    level = "error" if result.failing else "notice"
    lines.append(f"::{level} title=tiergate::{github_message(verdict(result))}")
    return "\n".join(lines) + "\n"
