"""`tiergate test`: unit tests for policies, written as YAML cases (classification and gate cases)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tiergate.errors import Diagnostic, TiergateError, did_you_mean
from tiergate.language.policy import Policy
from tiergate.inputs.yamlsource import YamlDocument, load_yaml

CLASSIFY_KEYS = ("tier", "matched", "forbidden", "not_applying")
GATE_KEYS = ("allowed", "unmet", "waived", "violations", "obligations", "stage")
CASE_KEYS = ("name", "answers", "events", "roster", "at", "to", "mode", "version", "replay", "expect")


@dataclass
class Case:
    name: str
    line: int
    answers: Any  # a document (dict) or a path
    expect: dict
    events: Any = None
    roster: Any = None
    at: datetime | None = None
    to: str | None = None
    mode: str | None = None
    version: str | None = None
    replay: bool = False
    index: int = 0

    @property
    def is_gate(self) -> bool:
        return self.events is not None or self.to is not None or any(k in self.expect for k in GATE_KEYS)


@dataclass
class TestFile:
    file: str
    policy: Policy
    cases: list[Case]
    document: YamlDocument
    policy_file: str = ""


@dataclass
class Mismatch:
    field: str
    expected: Any
    actual: Any


@dataclass
class CaseResult:
    file: str
    case: Case
    policy_file: str = ""
    mismatches: list[Mismatch] = field(default_factory=list)
    error: Diagnostic | None = None
    rules: list[int] = field(default_factory=list)  # policy lines of the rules involved
    requirements: list[tuple[str, int]] = field(default_factory=list)  # (id, line) exercised

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None


@dataclass
class TestRun:
    results: list[CaseResult]
    errors: list[Diagnostic]  # test files that could not be used
    policies: dict[str, Policy]

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    @property
    def unusable(self) -> bool:
        """A test file, or a case's inputs (answers, events, roster), could not be used."""
        return bool(self.errors) or any(r.error is not None for r in self.results)

    def coverage(self) -> dict[str, dict]:
        """Per policy file: the classify rules and requirements no case exercised."""
        out = {}
        for file, policy in self.policies.items():
            seen_rules = {line for r in self.results if r.policy_file == file for line in r.rules}
            seen_reqs = {key for r in self.results if r.policy_file == file for key in r.requirements}
            all_rules = [(rule.loc.line, rule.because or rule.condition.text) for rule in policy.rules]
            all_reqs = sorted({(req.id, req.loc.line) for t in policy.tiers for req in t.requirements},
                              key=lambda x: x[1])
            missing_rules = [(line, text) for line, text in all_rules if line not in seen_rules]
            missing_reqs = [(rid, line) for rid, line in all_reqs if (rid, line) not in seen_reqs]
            total = len(all_rules) + len(all_reqs)
            covered = total - len(missing_rules) - len(missing_reqs)
            out[file] = {"rules": missing_rules, "requirements": missing_reqs,
                         "percent": 100.0 if total == 0 else 100.0 * covered / total}
        return out


def discover(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for p in paths or ["."]:
        path = Path(p)
        if path.is_dir():
            found.extend(sorted(q for q in path.rglob("*_test.yaml") if q.is_file()))
        else:
            found.append(path)
    return found


def _error(doc: YamlDocument, path: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic("E500", message, doc.location(path), hint=hint)


def load_test_file(path: Path, policies: dict[str, Policy]) -> TestFile:
    """Read a test file and its policy; every problem is a located diagnostic (E500)."""
    from tiergate.fileio import INPUT_LIMIT, read_source
    from tiergate.inputs.events import parse_time
    from tiergate.language.load import load_policy

    file = str(path)
    doc = load_yaml(read_source(path, INPUT_LIMIT, what="policy tests", code="E500"), file, code="E500")
    data = doc.data
    if not isinstance(data, dict) or "policy" not in data or "cases" not in data:
        raise TiergateError(_error(doc, "$", "a test file is a mapping with `policy:` (a path) and `cases:` (a list)"))
    policy_file = path.parent / str(data["policy"])
    if not policy_file.is_file():
        raise TiergateError(_error(doc, "$.policy", f"policy `{data['policy']}` does not exist",
                                   hint="the path is relative to the test file"))
    key = str(policy_file)
    if key not in policies:
        try:
            policies[key] = load_policy(policy_file)
        except TiergateError as exc:
            raise TiergateError([_error(doc, "$.policy", f"policy `{data['policy']}` does not compile: "
                                        f"{exc.diagnostics[0].headline()}")]) from None
    policy = policies[key]
    if not isinstance(data["cases"], list):
        raise TiergateError(_error(doc, "$.cases", "`cases` must be a list of cases"))
    problems, cases = [], []
    ids = {r.id for t in policy.tiers for r in t.requirements}
    stages = {s for w in policy.workflows.values() for s in w.stages}
    for i, raw in enumerate(data["cases"]):
        where = f"$.cases[{i}]"
        if not isinstance(raw, dict) or "name" not in raw or "expect" not in raw or "answers" not in raw:
            problems.append(_error(doc, where, "a case needs `name`, `answers` and `expect`"))
            continue
        unknown = [k for k in raw if k not in CASE_KEYS]
        for k in unknown:
            problems.append(_error(doc, f"{where}.{k}", f"unknown case field `{k}`", hint=did_you_mean(k, CASE_KEYS)))
        if not isinstance(raw["expect"], dict):
            problems.append(_error(doc, f"{where}.expect", "`expect` must be a mapping, e.g. `{tier: high}` or "
                                   "`{allowed: false, unmet: [...]}`"))
            continue
        expect = raw["expect"]
        for k in expect:
            if k not in CLASSIFY_KEYS + GATE_KEYS:
                problems.append(_error(doc, f"{where}.expect.{k}", f"unknown expectation `{k}`",
                                       hint=did_you_mean(k, CLASSIFY_KEYS + GATE_KEYS)))
        if "tier" in expect and expect["tier"] not in policy.tier_names:
            problems.append(_error(doc, f"{where}.expect.tier", f"unknown tier `{expect['tier']}`",
                                   hint=did_you_mean(str(expect["tier"]), policy.tier_names, "tiers")))
        for k in ("unmet", "waived", "violations", "not_applying"):
            for j, rid in enumerate(expect.get(k) or []):
                if rid not in ids and rid != "workflow-transition":
                    problems.append(_error(doc, f"{where}.expect.{k}[{j}]", f"unknown requirement id `{rid}`",
                                           hint=did_you_mean(str(rid), sorted(ids), "ids")))
        for k in ("to", "stage"):
            value = raw.get(k) if k == "to" else expect.get(k)
            if value is not None and value not in stages:
                at_path = f"{where}.{k}" if k == "to" else f"{where}.expect.{k}"
                problems.append(_error(doc, at_path, f"unknown stage `{value}`",
                                       hint=did_you_mean(str(value), sorted(stages), "stages")))
        at = None
        if raw.get("at") is not None:
            at = parse_time(raw["at"])
            if at is None:
                problems.append(_error(doc, f"{where}.at", f"`at` {raw['at']!r} is not an RFC 3339 time with an offset"))
        cases.append(Case(str(raw["name"]), doc.line_of(where), raw["answers"], expect, raw.get("events"),
                          raw.get("roster"), at, raw.get("to"), raw.get("mode"),
                          str(raw["version"]) if raw.get("version") is not None else None,
                          bool(raw.get("replay", "violations" in expect)), i))
    if problems:
        raise TiergateError(problems)
    return TestFile(file, policy, cases, doc, key)


def _subdocument(tf: TestFile, where: str, data: Any) -> YamlDocument:
    """An inline part of a test file as a document of its own, keeping the test file's line numbers."""
    def rebase(lines: dict) -> dict:
        return {"$" + k[len(where):]: v for k, v in lines.items() if k == where or k.startswith((where + ".", where + "["))}

    return YamlDocument(tf.file, data, rebase(tf.document.lines), rebase(tf.document.key_lines))


def _answers(tf: TestFile, case: Case):
    from tiergate.inputs.answers import parse_answers, read_answers

    base = Path(tf.file).parent
    if isinstance(case.answers, str):
        path = base / case.answers
        return parse_answers(read_answers(path), str(path), tf.policy.questionnaire)
    from tiergate.inputs.answers import Answers, validate_document

    sub = _subdocument(tf, f"$.cases[{case.index}].answers", case.answers)
    problems = validate_document(sub, tf.policy.questionnaire)
    if problems:
        raise TiergateError(problems)
    d = case.answers
    return Answers(tf.file, str(d["use_case"]), str(d.get("title", "")), str(d.get("owner", "")), d["answers"], sub)


def _events(tf: TestFile, case: Case):
    from tiergate.inputs.events import events_from_records, load_events

    if isinstance(case.events, str):
        return load_events(Path(tf.file).parent / case.events)
    where = f"$.cases[{case.index}].events"
    records = [(record, tf.document.line_of(f"{where}[{i}]")) for i, record in enumerate(case.events or [])]
    return events_from_records(records, tf.file)


def _roster(tf: TestFile, case: Case):
    from tiergate.inputs.events import Roster, load_roster, roster_from_document

    if case.roster is None:
        return Roster({}, tf.file)
    if isinstance(case.roster, str):
        return load_roster(Path(tf.file).parent / case.roster)
    return roster_from_document(_subdocument(tf, f"$.cases[{case.index}].roster", case.roster))


def _matches(expected: Any, rule) -> bool:
    if isinstance(expected, int):
        return rule.line == expected
    return rule.because == expected or (isinstance(expected, str) and rule.because is not None
                                        and expected in rule.because)


def run_case(tf: TestFile, case: Case) -> CaseResult:
    from tiergate.decide.classify import classify

    result = CaseResult(tf.file, case, tf.policy_file)
    try:
        answers = _answers(tf, case)
        c = classify(tf.policy, answers)
        result.rules = [m.line for m in c.matched]
        result.requirements = [(f.id, tf.policy.tier(c.tier).requirement(f.id).loc.line) for f in c.forbidden]
        exp = case.expect
        if "tier" in exp and exp["tier"] != c.tier:
            result.mismatches.append(Mismatch("tier", exp["tier"], c.tier))
        if "matched" in exp:
            missing = [m for m in exp["matched"] or [] if not any(_matches(m, rule) for rule in c.matched)]
            if missing:
                result.mismatches.append(Mismatch("matched", missing, [f"line {m.line}: {m.because}" for m in c.matched]))
        if "forbidden" in exp and bool(exp["forbidden"]) != bool(c.forbidden):
            result.mismatches.append(Mismatch("forbidden", bool(exp["forbidden"]), [m.id for m in c.forbidden]))
        if "not_applying" in exp:  # the tier's requirements whose `when` these answers do not meet
            actual = sorted(r.id for r in c.not_applying)
            if sorted(set(exp["not_applying"] or [])) != actual:
                result.mismatches.append(Mismatch("not_applying", sorted(set(exp["not_applying"] or [])), actual))
            result.requirements += [(r.id, r.loc.line) for r in c.not_applying]
        if case.is_gate:
            _run_gate(tf, case, answers, result)
    except TiergateError as exc:
        result.error = exc.diagnostics[0]
    return result


def _run_gate(tf: TestFile, case: Case, answers, result: CaseResult) -> None:
    from tiergate.decide.check import check
    from tiergate.decide.gates.base import UNMET, WAIVED

    r = check(tf.policy, answers, _events(tf, case), _roster(tf, case), version=case.version, to=case.to,
              mode=case.mode, at=case.at, replay=case.replay)
    statuses = list(r.requirements) + list(r.obligations) + [s for v in r.violations for s in v.unmet]
    result.requirements += [(s.id, s.requirement.loc.line) for s in statuses]
    exp = case.expect
    if "allowed" in exp and exp["allowed"] != r.allowed:
        result.mismatches.append(Mismatch("allowed", exp["allowed"], r.allowed))
    if "stage" in exp and exp["stage"] != r.stage:
        result.mismatches.append(Mismatch("stage", exp["stage"], r.stage))
    for key, status in (("unmet", UNMET), ("waived", WAIVED)):
        if key in exp:
            actual = sorted({s.id for s in r.requirements if s.status == status})
            if sorted(set(exp[key] or [])) != actual:
                result.mismatches.append(Mismatch(key, sorted(set(exp[key] or [])), actual))
    if "violations" in exp:
        actual = sorted({s.id for v in r.violations for s in v.unmet}
                        | {"workflow-transition" for v in r.violations if v.kind == "transition"})
        if sorted(set(exp["violations"] or [])) != actual:
            result.mismatches.append(Mismatch("violations", sorted(set(exp["violations"] or [])), actual))
    if "obligations" in exp:
        actual = {o.id: o.status for o in r.obligations}
        wanted = dict(exp["obligations"] or {})
        if {k: actual.get(k) for k in wanted} != wanted:
            result.mismatches.append(Mismatch("obligations", wanted, {k: actual.get(k) for k in wanted}))


def run_tests(paths: list[str]) -> TestRun:
    policies: dict[str, Policy] = {}
    results, errors = [], []
    for path in discover(paths):
        try:
            tf = load_test_file(path, policies)
        except TiergateError as exc:
            errors.extend(exc.diagnostics)
            continue
        results.extend(run_case(tf, case) for case in tf.cases)
    return TestRun(results, errors, policies)
