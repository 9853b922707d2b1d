"""`tiergate test` results: one line per case, expected against actual for failures; JSON and JUnit."""
from __future__ import annotations

import json

from tiergate.authoring.policytest import CaseResult, TestRun
from tiergate.reports import escape
from tiergate.reports.escape import xml, xml_attribute


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _policy_lines(result: CaseResult, source_lines: dict[str, list[str]]) -> list[str]:
    lines = source_lines.get(result.policy_file, [])
    out = []
    for number in sorted(set(result.rules))[:5]:
        if 0 < number <= len(lines):
            out.append(f"      {result.policy_file}:{number}: {lines[number - 1].strip()}")
    return out


def as_text(run: TestRun, coverage: bool = False) -> str:
    sources = {f: p.source.splitlines() for f, p in run.policies.items()}
    out = []
    for r in run.results:
        where = f"{r.file}:{r.case.line}"
        if r.passed:
            out.append(f"PASS  {r.case.name}  ({where})")
            continue
        out.append(f"FAIL  {r.case.name}  ({where})")
        if r.error is not None:
            out.append(f"      error: {r.error.headline()}")
        width = max((len(m.field) for m in r.mismatches), default=0)
        for m in r.mismatches:
            out.append(f"      {m.field:<{width}}  expected {_show(m.expected)}")
            out.append(f"      {'':<{width}}  actual   {_show(m.actual)}")
        rule_lines = _policy_lines(r, sources)
        if rule_lines:
            out.append("      rules that matched:")
            out.extend(rule_lines)
    passed = sum(1 for r in run.results if r.passed)
    failed = len(run.results) - passed
    summary = f"{passed} passed, {failed} failed"
    if run.errors:
        summary += f", {len(run.errors)} test file problem{'s' if len(run.errors) != 1 else ''}"
    if coverage:
        for file, cov in run.coverage().items():
            out.append(f"coverage of {file}: {cov['percent']:.0f}%")
            for line, text in cov["rules"]:
                out.append(f"  rule not exercised: {file}:{line}: {text}")
            for rid, line in cov["requirements"]:
                out.append(f"  requirement not exercised: {rid} ({file}:{line})")
    out.append(summary)
    return escape.lines(out) + "\n"  # each line is one line, whatever its values hold


def as_json(run: TestRun, coverage: bool = False) -> str:
    data = {
        "passed": sum(1 for r in run.results if r.passed),
        "failed": len(run.failed),
        "cases": [{"file": r.file, "line": r.case.line, "name": r.case.name, "passed": r.passed,
                   "error": r.error.to_dict() if r.error else None,
                   "mismatches": [{"field": m.field, "expected": m.expected, "actual": m.actual} for m in r.mismatches]}
                  for r in run.results],
        "errors": [d.to_dict() for d in run.errors],
    }
    if coverage:
        data["coverage"] = {f: {"percent": c["percent"],
                                "rules": [{"line": line, "text": t} for line, t in c["rules"]],
                                "requirements": [{"id": rid, "line": line} for rid, line in c["requirements"]]}
                            for f, c in run.coverage().items()}
    return escape.json_text(json.dumps(data, indent=2, ensure_ascii=False, default=str)) + "\n"


def as_junit(run: TestRun, coverage: bool = False) -> str:
    by_file: dict[str, list[CaseResult]] = {}
    for r in run.results:
        by_file.setdefault(r.file, []).append(r)
    suites = []
    for index, (file, results) in enumerate(by_file.items()):
        cases = []
        for r in results:
            head = f'    <testcase name={xml_attribute(r.case.name)} classname={xml_attribute(file)} time="0"'
            if r.passed:
                cases.append(head + "/>")
                continue
            details = [r.error.headline()] if r.error else [] + \
                [f"{m.field}: expected {_show(m.expected)}, actual {_show(m.actual)}" for m in r.mismatches]
            kind = "error" if r.error else "failure"  # each detail one line of the text, whatever its values hold
            cases.append(f"{head}>\n      <{kind} message={xml_attribute(details[0] if details else kind)} "
                         f"type=\"{kind}\">{chr(10).join(map(xml, details))}</{kind}>\n    </testcase>")
        failures = sum(1 for r in results if not r.passed and r.error is None)
        errors = sum(1 for r in results if r.error is not None)
        suites.append(f'  <testsuite name={xml_attribute(file)} package={xml_attribute(file)} id="{index}" '
                      f'timestamp="1970-01-01T00:00:00" hostname="tiergate" tests="{len(results)}" '
                      f'failures="{failures}" errors="{errors}" time="0">\n    <properties/>\n'
                      + "".join(c + "\n" for c in cases) + "    <system-out/>\n    <system-err/>\n  </testsuite>")
    if run.errors:  # test files that could not be used: one errored testcase each, so CI shows them
        cases = [f'    <testcase name={xml_attribute(d.location.file)} classname="test files" time="0">\n'
                 f'      <error message={xml_attribute(d.message)} type={xml_attribute(d.code)}>{xml(d.headline())}'
                 f"</error>\n    </testcase>" for d in run.errors]
        suites.append(f'  <testsuite name="test files" package="test files" id="{len(suites)}" '
                      f'timestamp="1970-01-01T00:00:00" hostname="tiergate" tests="{len(cases)}" failures="0" '
                      f'errors="{len(cases)}" time="0">\n    <properties/>\n' + "".join(c + "\n" for c in cases)
                      + "    <system-out/>\n    <system-err/>\n  </testsuite>")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n' + "\n".join(suites) + "\n</testsuites>\n"
