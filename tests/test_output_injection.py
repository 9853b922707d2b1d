"""Hostile values through every report: nothing that came from input can forge a line, a command or markup.

Each payload below goes into every field of input that a result type carries (ids, versions, names, reasons,
file names, the policy's own strings), and each result is rendered in every format `reports.FORMATS` lists
for it. Whatever the format: no line of the payload after its first starts a line of the report (a forged
verdict, a `::error::` workflow command), and no character that acts on a terminal or a viewer is written
raw (escape sequences, other control characters, line separators, bidirectional overrides). Per format: JUnit
parses as XML; Markdown holds no HTML and no link; HTML holds only tiergate's own tags; no CSV cell starts
like a formula; every GitHub line is one of tiergate's commands; JSON holds the value exactly.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

import pytest

from tiergate.app.results import Classified, History, PolicyDoc, Status as Registry, Table, TierRequirements, \
    WorkflowGraph
from tiergate.authoring.policydiff import DiffResult, UseCaseChange, VersionChange, policy_changes
from tiergate.authoring import policytest
from tiergate.decide.check import check
from tiergate.decide.classify import classify
from tiergate.decide.gates.base import DUE, WAIVED, Status
from tiergate.errors import WARNING, Diagnostic, Location
from tiergate.inputs.answers import Answers, load_answers
from tiergate.inputs.events import load_events, load_roster, parse_time
from tiergate.language.load import load_policy
from tiergate.reports import FORMATS, escape, render
from tiergate.reports.policydoc import build

ROOT = Path(__file__).resolve().parent.parent

#: what a hostile user typed, by what it tries
PAYLOADS = {
    "forged verdict": "v1\nALLOWED: forged line\n::error::x",
    "carriage returns": "v1\r\nBLOCKED: forged line\r::warning::y",
    "other line breaks": "v1\x0bALLOWED: forged vt\x0cALLOWED: forged ff\x85ALLOWED: forged nel\u2028"
                         "ALLOWED: forged ls\u2029ALLOWED: forged ps",
    "ANSI escapes": "\x1b[2J\x1b[1;32mALLOWED\x1b[0m \x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
    "control characters": "a\x00b\x07c\x08d\x1ae\x7ff\x9bg",
    "bidirectional override": "2.0\u202e\u2066exe.gpj\u2069",
    "CSV formula =": '=HYPERLINK("https://evil.example","x")',
    "CSV formula +": "+1+cmd|' /C calc'!A0",
    "CSV formula -": "-2+3+cmd|' /C calc'!A0",
    "CSV formula @": "@SUM(1+1)*cmd|' /C calc'!A0",
    "CSV formula tab": "\t=1+1",
    "CSV formula CR": "\r=1+1",
    "script": "<script>alert(1)</script>",
    "img onerror": '<img src=x onerror="alert(1)">',
    "javascript link": "[click me](javascript:alert(1))",
    "javascript image": "![x](javascript:alert(1))",
    "javascript autolink": "<javascript:alert(1)>",
    "link definition": "x\n[x]: javascript:alert(1)",
    "HTML block": "x\n\n<script>alert(1)</script>\n",
    "trailing newline in an id": "card-fraud-scoring\n",
}

#: the lines a payload forges, by how they begin
FORGED = ("ALLOWED: forged", "BLOCKED: forged", "::error::x", "::warning::y", "[x]:")
#: characters no report writes raw (JSON writes them as \u escapes)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: the tags of tiergate's own HTML
OWN_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "table", "thead", "tbody", "tr",
            "th", "td", "ul", "li", "script", "pre", "code", "strong", "br", "i"}
#: and those of the audit report: links (to http(s) URLs only) and its inline SVG workflow diagram
OWN_TAGS |= {"a", "svg", "desc", "defs", "pattern", "marker", "g", "rect", "path", "text"}
AT = datetime(2026, 12, 1, tzinfo=timezone.utc)


# --- results carrying a payload in every field that comes from input ---------------------------------

@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.fixture(scope="module")
def roster():
    return load_roster(ROOT / "examples" / "roster.yaml")


def story(policy, roster, name: str, use_case: str, **options):
    answers = load_answers(ROOT / "examples" / "use-cases" / f"{use_case}.yaml", policy)
    return check(policy, answers, load_events(ROOT / "examples" / "events" / name), roster, at=AT, replay=True,
                 **options)


def poisoned_policy(policy, p: str):
    """The policy with the payload in each of its strings (a policy's strings may hold any character)."""
    tiers = tuple(replace(t, requirements=tuple(replace(r, text=f"require {p}", because=p) for r in t.requirements))
                  for t in policy.tiers)
    return replace(policy, name=p, version=p, description=p, file=p, tiers=tiers,
                   rules=tuple(replace(rule, because=p) for rule in policy.rules),
                   considerations=tuple(replace(c, title=p) for c in policy.considerations),
                   raci=tuple(replace(row, task=p) for row in policy.raci))


def poisoned_status(s: Status, p: str, status: str | None = None) -> Status:
    return Status(replace(s.requirement, text=p), status or s.status, f"{s.reason}: {p}", s.last, s.next_due)


def check_results(policy, roster, p: str) -> list:
    gate = story(policy, roster, "expired-waiver.yaml", "plane-fuelling", to="preproduction")
    gate_violation = story(policy, roster, "loan-no-risk-signoff.yaml", "loan-approval")
    skipped = story(policy, roster, "skipped-stage.yaml", "adhoc-analysis")
    breach = story(policy, roster, "drift-breach.yaml", "predictive-maintenance")
    requirements = [poisoned_status(s, p) for s in gate.requirements]
    requirements[0] = poisoned_status(gate.requirements[0], p, WAIVED)
    requirements[1] = poisoned_status(gate.requirements[1], p, DUE)
    violations = tuple(replace(v, version=p, message=p, file=p, mode=p, unmet=tuple(poisoned_status(s, p) for s in v.unmet))
                       for v in gate_violation.violations + skipped.violations)
    obligations = [poisoned_status(o, p) for o in breach.obligations]
    obligations.append(poisoned_status(breach.obligations[0], p, DUE))
    result = replace(gate, use_case=p, version=p, policy=replace(policy, file=p, name=p, version=p),
                     requirements=tuple(requirements), violations=violations, obligations=tuple(obligations),
                     warnings=(Diagnostic("W402", p, Location(p, 3), WARNING),))
    return [result, replace(result, transition_ok=False), replace(result, target=None, allowed=None)]


def classified(policy, p: str) -> list:
    bad = poisoned_policy(policy, p)
    document = load_answers(ROOT / "examples" / "use-cases" / "loan-approval.yaml", policy)
    answers = Answers(p, p, p, p, document.answers)
    results = [classify(bad, answers), classify(bad, Answers(p, p, p, p, {**document.answers, "audience": "public"}))]
    errors = [Diagnostic("E306", p, Location(p, 2))]
    return [Classified(bad, results, errors, single=True), Classified(bad, results[:1], (), single=True),
            Classified(bad, results, errors, single=False)]


def diffs(policy, p: str) -> list:
    old, new = poisoned_policy(policy, p), poisoned_policy(policy, p + "!")
    changes = replace(policy_changes(policy, policy), tiers_added=[p], tiers_removed=[p], rules_added=[p],
                      rules_removed=[p], requirements_added={p: [p]}, requirements_removed={p: [p]},
                      requirements_changed={p: [p]}, other=[p])
    return [DiffResult(old, new, changes, [UseCaseChange(p, p, p + "!", "up", (p,), (p,)),
                                           UseCaseChange(p, p, p, "same", (p,), (p,))],
                       [VersionChange(p, p, p, "compliant", p, (p, p))], with_use_cases=True)]


def policy_test_runs(policy, p: str) -> list:
    bad = poisoned_policy(policy, p)
    case = policytest.Case(name=p, line=3, answers={}, expect={})
    results = [policytest.CaseResult(p, case, p, mismatches=[policytest.Mismatch(p, p, {p: [p]})], rules=[1, 2]),
               policytest.CaseResult(p, case, p, error=Diagnostic("E306", p, Location(p, 4))),
               policytest.CaseResult(p, case, p)]
    return [policytest.TestRun(results, [Diagnostic("E001", p, Location(p))], {p: replace(bad, source=p)})]


def registries(policy, p: str) -> list:
    row = SimpleNamespace(use_case=p, version=p, owner=p, tier=p, stage=p, since=AT, next_stage=p, unmet=[p, p],
                          obligations=[(p, p, AT), (p, "ok", AT), (p, "breach", None)], expiring_waivers=[(p, p)],
                          problem=p, stale=True, classified_under=p, violations=2, attention=True, off_workflow=p,
                          waiver_breaches=[{"requirement": p, "event": p, "by": p, "justification": p, "expires": p,
                                            "entered": p}])
    row.to_dict = lambda: {**{k: v for k, v in vars(row).items() if k not in ("since", "obligations", "to_dict")},
                           "obligations": [[i, s, str(d)] for i, s, d in row.obligations]}
    return [Registry(poisoned_policy(policy, p), [row, replace_row(row, attention=False, problem="")])]


def replace_row(row, **fields):
    other = SimpleNamespace(**{**vars(row), **fields})
    other.to_dict = row.to_dict
    return other


def histories(policy, p: str) -> list:
    entries = [{"seq": 1, "hash": "ab" * 32, "recorded_at": p, "at": p, "type": "registered", "use_case": p,
                "version": p, "actor": p, "tier": p, "policy": {"name": p, "version": p}, "artifact": p, "sha256": p,
                "answers": {p: p}},
               {"seq": 2, "hash": "cd" * 32, "recorded_at": p, "at": p, "type": p, "use_case": p, "version": p,
                "actor": p, "comment": p, p: [p, 1.5], "metrics": {p: p}}]
    return [History(p, p, entries)]


def policy_logs(policy, p: str) -> list:
    from datetime import datetime, timezone

    from tiergate.app.results import PolicyLog
    from tiergate.ledger.policyversions import Adoption

    adoption = Adoption(1, datetime(2026, 1, 1, tzinfo=timezone.utc), p, p, p, p, p, p)
    return [PolicyLog((adoption,), adoption)]


def token_lists(policy, p: str) -> list:
    from datetime import datetime, timezone

    from tiergate.app.results import TokenList
    from tiergate.ledger.tokens import Token

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [TokenList((Token(p, p, p, when, p, when), Token(p, p, p, when, p, None, when, p)))]


def docs(policy, p: str) -> list:
    bad = poisoned_policy(policy, p)
    blocks = build(bad) + [("h1", p), ("h2", p), ("h3", p), ("p", p), ("list", [p, p]),
                           ("table", [p, p], [[p, [p, p]], [None, -0.5]])]
    return [PolicyDoc(p, blocks)]


def tables(policy, p: str) -> list:
    return [Table(p, [p, "n", p], [[p, 1, [p, p]], [None, -0.5, True], [p, p, p]], p),
            Table(p, [p], [[p]], p, json_data={p: [p]})]


def tier_requirements(policy, p: str) -> list:
    bad = poisoned_policy(policy, p)
    tier = bad.tier("critical")
    group = [replace(r, id=p, tier=p) for r in tier.requirements[:3]]
    return [TierRequirements(bad, replace(tier, name=p, workflow=p), [(p, group), ("deployment", list(tier.requirements))])]


def graphs(policy, p: str) -> list:
    bad = poisoned_policy(policy, p)
    workflow = bad.workflow_of(bad.tier("critical"))
    stages = {s: (p + s if i % 2 else s) for i, s in enumerate(workflow.stages)}
    odd = replace(workflow, name=p, stages=tuple(stages.values()), start=stages[workflow.start],
                  edges=tuple((stages[a], stages[b]) for a, b in workflow.edges))
    tier = bad.tier("critical")
    tier = replace(tier, requirements=tuple(replace(r, id=p + r.id, stage=stages.get(r.stage, r.stage))
                                            for r in tier.requirements))
    return [WorkflowGraph(bad, workflow, bad.tier("critical")), WorkflowGraph(bad, odd, tier),
            WorkflowGraph(bad, odd, None)]


def audit_reports(policy, p: str) -> list:
    from tiergate.app.auditreport import AuditReport, Passage, PolicySpan, Proof, Waiver, WorkflowView
    from tiergate.inputs.events import Event

    bad = poisoned_policy(policy, p)
    result = check_results(policy, load_roster(ROOT / "examples" / "roster.yaml"), p)[0]
    result = replace(result, tier=p, stage=p, standing=result.requirements, violations=tuple(
        replace(v, from_stage=p, to_stage=p, policy=(p, p, p), roster=p) for v in result.violations))

    def event(type_: str, **data) -> Event:
        return Event(AT, type_, p, p, p, data, "ledger", 7, 7)
    values = {**load_answers(ROOT / "examples" / "use-cases" / "loan-approval.yaml", policy).answers, p: [p]}
    registration = event("registered", answers={"use_case": p, "title": p, "owner": p, "answers": values}, tier=p,
                         policy={"name": p, "version": p, "sha256": p}, because=p, artifact=p, sha256=p)
    read = (event("evidence", kind=p, metrics={p: p}, uri=p, sha256=p),
            event("evidence", kind=p, metrics={p: 1.5}, uri="https://evidence.example/" + p),
            event("signoff", gate=p, role=p, decision=p, comment=p),
            event("waiver", requirement=p, expires=p, justification=p))
    moved = event("transition", to=p, mode=p)
    passages = (Passage(moved, p, (p, p, p), p, True, tuple(Proof(s, read) for s in result.requirements)),
                Passage(moved, p, (p, p, p), p, None, problem=p), Passage(moved, p, (p, p, p), p, False))
    view = WorkflowView(p, (p, p + "2", "ok"), ((p, p + "2"), (p + "2", "ok"), ("ok", p)), p + "2",
                        {p: "passed", p + "2": "current", "ok": "blocked"})
    entries = ({"seq": 7, "hash": p, "recorded_at": p, "at": p, "type": p, "use_case": p, "version": p, "actor": p,
                p: [p, 1.5], "uri": "https://evidence.example/" + p, "artifact": p, "sha256": p},)
    report = AuditReport(p, p, p, p, AT, AT, p, p, 3, bad, registration,
                         classify(bad, Answers(p, p, p, p, values)),
                         (event("reclassified", from_tier=p, to_tier=p, policy={"name": p, "version": p}, because=p),),
                         (PolicySpan(p, p, p, None, AT, p, 1), PolicySpan(p, p, p, AT, None)), passages,
                         (Waiver(read[3], True), Waiver(read[3], False)), result, view, None, entries)
    return [report, replace(report, retired=event("retired"), passages=(), waivers=(), reclassifications=())]


def kpi_results(policy, p: str) -> list:
    """Governance KPIs with the payload as every tier, stage, role, requirement, policy and model name."""
    from tiergate.app.kpis import Kpis
    from tiergate.ledger.kpis import (Promotions, Reclassifications, SignoffWaits, Spread, Summary, Unreviewed,
                                      WaiverCounts)

    days = Spread(3, 1.5, 2.25)
    summary = Summary(
        tiers=(p, "low"), stages=(p, "build", "retired"), roles=(p,), versions=4, unjudged=((p, p, p),),
        tier_stage={p: {p: 2, "retired": 1}, "low": {"build": 1}}, to_production={p: days, "low": Spread(), "all": days},
        signoff_waits={p: SignoffWaits(days, days)}, promotions={p: Promotions(4, 1), "all": Promotions(4, 1)},
        violations={p: {"gate": 1, "transition": 0, p: 2}, "low": {"gate": 0, "transition": 0}},
        obligations={p: {"ok": 1, "overdue": 2, p: 1}, "low": {}}, waivers={p: WaiverCounts(1, 1, 1)},
        reclassifications={p: Reclassifications(1, 2)}, in_production=2,
        unreviewed=(Unreviewed(p, p, p, p, ((p, "overdue"), (p, p))),))
    return [Kpis(poisoned_policy(policy, p), AT, AT, summary), Kpis(poisoned_policy(policy, p), AT, None, summary)]


BUILDERS = {"CheckResult": check_results, "Classified": classified, "DiffResult": diffs, "TestRun": policy_test_runs,
            "Status": registries, "History": histories, "PolicyLog": policy_logs, "TokenList": token_lists, "PolicyDoc": docs, "Table": tables,
            "TierRequirements": tier_requirements, "WorkflowGraph": graphs, "AuditReport": audit_reports,
            "Kpis": kpi_results}


# --- what every report must be, whatever its values --------------------------------------------------

def assert_safe(out: str, fmt: str, payload: str) -> None:
    raw = RAW.search(out)
    assert raw is None, f"a raw {raw.group()!r} in the report"
    for line in out.split("\n"):
        for start in FORGED:
            assert not line.lstrip(" \t|>-*#`\"'").startswith(start), f"a forged line: {line!r}"
    check = FORMAT_CHECKS.get(fmt)
    if check is not None:
        check(out, payload)


def _xml(out: str, payload: str) -> None:
    ElementTree.fromstring(out.encode("utf-8"))  # well-formed, or ParseError


def _markdown(out: str, payload: str) -> None:
    prose = re.sub(r"(?ms)^(`{3,})[^\n]*\n.*?^\1\n", "", out)  # fenced code is not HTML: tiergate's own mermaid
    assert not re.search(r"<[A-Za-z/!?]", prose), "raw HTML (or an autolink) in Markdown"
    assert "](" not in prose, "a Markdown link or image"
    assert not re.search(r"(?m)^ {0,3}(?:[-*] )?\[[^\]]*\]:", prose), "a Markdown link definition"


def _html(out: str, payload: str) -> None:
    tags = re.findall(r"<\s*/?\s*([A-Za-z][\w:-]*)", out)
    assert set(map(str.lower, tags)) <= OWN_TAGS, f"tags of the input: {set(tags) - OWN_TAGS}"
    assert out.lower().count("<script") <= 1  # the sorting script of a table page
    for tag in re.findall(r"<[^>]*>", out):
        assert "javascript:" not in tag and "onerror" not in tag, tag


def _csv(out: str, payload: str) -> None:
    for row in csv.reader(io.StringIO(out)):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or re.fullmatch(r"-[0-9.]+", cell), \
                f"a formula cell: {cell!r}"  # (a number tiergate wrote as a number may be negative)


def _github(out: str, payload: str) -> None:
    for line in out.splitlines():
        assert re.fullmatch(r"::(error|warning|notice) (file=[^,:]*,line=[0-9]+,)?title=[^,:]*::.*", line), line


def _json(out: str, payload: str) -> None:
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for k, v in value.items():
                yield k
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
    assert any(payload in s for s in strings(json.loads(out))), "JSON keeps every value exactly"


def _mermaid(out: str, payload: str) -> None:
    for line in out.splitlines()[1:]:
        assert re.fullmatch(r'  s_\w+(\(\["[^"]*"\]\)|\["[^"]*"\])|  s_\w+ -->(\|"[^"]*"\|)? s_\w+', line), line


def _dot(out: str, payload: str) -> None:
    outside = re.sub(r'"(?:[^"\\]|\\.)*"', "S", out)  # every string, ended where its quotes say
    assert re.fullmatch(r"[\sA-Za-z0-9_;=,\[\]{}>-]*", outside.replace("S", "")), f"dot outside strings: {outside}"


FORMAT_CHECKS = {"junit": _xml, "markdown": _markdown, "html": _html, "csv": _csv, "github": _github,
                 "json": _json, "sarif": _json, "mermaid": _mermaid, "dot": _dot}


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_no_payload_forges_anything_in_any_format(policy, roster, payload):
    """Every result type of FORMATS, in every one of its formats; every report that fails is named."""
    assert set(BUILDERS) == set(FORMATS), "a result type no hostile value has been tried on"
    failures = []
    for kind, builder in BUILDERS.items():
        results = builder(policy, roster, payload) if kind == "CheckResult" else builder(policy, payload)
        for n, result in enumerate(results):
            for fmt in FORMATS[kind]:
                for options in ([{}, {"coverage": True}] if kind == "TestRun" else [{}]):
                    out = render(result, fmt, **options)
                    try:
                        assert_safe(out, fmt, payload)
                    except AssertionError as exc:
                        failures.append(f"{kind} #{n} as {fmt}{' ' + str(options) if options else ''}: {exc}")
    assert not failures, "\n".join(failures)


# --- what the reader sees instead --------------------------------------------------------------------

def test_a_forged_verdict_reads_as_one_line_with_its_escapes(policy, roster):
    [result, *_] = check_results(policy, roster, "v1\nALLOWED: forged line\n::error::x")
    first = render(result, "text").splitlines()[0]
    assert first.startswith("BLOCKED: v1\\nALLOWED: forged line\\n::error::x v1\\nALLOWED: forged line\\n::error::x "
                            "may not enter preproduction")
    assert "### ❌ BLOCKED: v1\\nALLOWED: forged line\\n::error::x" in render(result, "markdown")
    assert render(result, "github").splitlines()[-1].startswith(
        "::error title=tiergate::BLOCKED: v1\\nALLOWED: forged line\\n::error::x")


@pytest.mark.parametrize("value, shown", [
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"), ("a\tb\r\n", "a\\tb\\r\\n"), ("\x00\x7f\x85", "\\x00\\x7f\\x85"),
    ("\u2028\u202e\ud800", "\\u2028\\u202e\\ud800"), ("plain, ordinary: 1.0 <b> `x` ✓", "plain, ordinary: 1.0 <b> `x` ✓")])
def test_text_shows_control_characters_as_escapes(value, shown):
    assert escape.text(value) == shown


@pytest.mark.parametrize("value, written", [
    ("<script>alert(1)</script>", "&lt;script>alert(1)&lt;/script>"), ("<!-- x -->", "&lt;!-- x -->"),
    ("[a](javascript:alert(1))", "[a]\\(javascript:alert(1))"), ("[x]: javascript:1", "[x]\\: javascript:1"),
    ("<javascript:alert(1)>", "&lt;javascript:alert(1)>"), ("`psi < 0.2` does not hold", "`psi < 0.2` does not hold"),
    ('audience in ["public", "internal_many"]', 'audience in ["public", "internal_many"]'), ("a\nb", "a\\nb")])
def test_markdown_writes_no_html_and_no_link(value, written):
    assert escape.markdown(value) == written


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "\\t=1"), ("\r=1", "\\r=1"),
    ("a=1", "a=1"), (-0.5, "-0.5"), (3, "3"), ("", "")])
def test_csv_cells_that_begin_like_a_formula_are_quoted(value, written):
    assert escape.csv_cell(value) == written


def test_csv_writes_numbers_as_numbers_and_text_as_text():
    out = render(Table("t", ["n", "text"], [[-0.5, "-0.5"], [-2, "=2"]], "m"), "csv")
    assert out == "n,text\n-0.5,'-0.5\n-2,'=2\n"


def test_junit_keeps_its_own_line_breaks_and_escapes_the_values(policy, roster):
    [result, *_] = check_results(policy, roster, "a\x1bb\nc")
    out = render(result, "junit")
    root = ElementTree.fromstring(out.encode("utf-8"))
    failure = root.find(".//failure")
    assert failure.text.count("\n") == 2 and "a\\x1bb\\nc" in failure.text
    assert "a\\x1bb\\nc" in failure.get("message")


def test_json_keeps_values_exact_and_writes_no_raw_terminal_character(policy, roster):
    value = "v\x1b[31m\x85\u2028\u202e\n"
    [result, *_] = check_results(policy, roster, value)
    for fmt in ("json", "sarif"):
        out = render(result, fmt)
        assert RAW.search(out) is None
        assert value in json.dumps(json.loads(out), ensure_ascii=False) or \
            any(value in s for s in re.findall(r'"((?:[^"\\]|\\.)*)"', out) for s in [json.loads(f'"{s}"')])
    assert json.loads(render(result, "json"))["version"] == value


def test_the_fast_paths_see_every_character_there_is_to_escape():
    """escape's fast paths skip a value that str.isprintable() passes: no character it escapes may pass."""
    control = re.compile(f"[{escape.CONTROL}]")
    for c in map(chr, range(0x110000)):
        if control.search(c):
            assert not c.isprintable(), hex(ord(c))
            assert escape.text(c) != c and escape.markdown(c) != c and escape.csv_cell(c) != c
            assert escape.lines(["a", c]) != "a\n" + c


# --- diagnostics: the messages on standard error carry input too ------------------------------------------------

@pytest.mark.parametrize("value", ["card\n::error::forged", "v1\r\nALLOWED: forged", "\x1b[2J\x1b[31mred", "a\u2028b"])
def test_a_diagnostic_shows_input_on_one_line_without_control_sequences(value):
    from tiergate.errors import Diagnostic, Location, render_all

    d = Diagnostic("E610", f"not `{value}`", Location(f"events-{value}.yaml", 2, 3), hint=f"did you mean `{value}`?")
    text = render_all([d], {f"events-{value}.yaml": f"first\nx: {value}\n"})
    lines = text.splitlines()
    assert not any(line.startswith(("::", "ALLOWED")) for line in lines), text
    assert all(line.isprintable() or "\t" in line for line in lines), text
    assert lines[0].startswith("events-") and lines[0].endswith("`")


def test_register_with_a_control_character_in_the_use_case_id_is_refused_on_one_line(tmp_path):
    from click.testing import CliRunner

    from tiergate.cli import main

    answers = Path(__file__).resolve().parent.parent / "examples" / "use-cases" / "card-fraud-scoring.yaml"
    result = CliRunner().invoke(main, ["register", "card-fraud-scoring\n::error::forged", "1", "--answers",
                                       str(answers), "--ledger", str(tmp_path / "l.db"), "--actor", "dana"])
    assert result.exit_code == 2
    assert not any(line.startswith("::") for line in result.stderr.splitlines()), result.stderr
