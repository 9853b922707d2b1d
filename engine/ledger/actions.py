"""What the ledger commands do: register, record, promote (the enforcement point), import, export, reclassify."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..errors import Diagnostic, Location, TiergateError
from ..events import EVENT_TYPES, Roster, format_time, parse_time
from ..policy import Policy
from ..questionnaire import Answers
from .service import NOBODY, RECLASSIFIED, ROSTER, Ledger, bulk, refuse, stored_row, validate_records


def answers_of(registration: dict) -> Answers:
    doc = registration.get("answers") or {}
    return Answers("ledger", str(doc.get("use_case", registration["use_case"])), str(doc.get("title", "")),
                   str(doc.get("owner", "")), doc.get("answers") or {})


def _classified(policy: Policy, answers: Answers) -> dict:
    from ..classify import classify

    c = classify(policy, answers)
    return {"tier": c.tier, "policy": policy.identity()}


def _validated(body: dict, where: Location) -> dict:
    """Schema and time checks of one lifecycle event body (the same as for event files)."""
    if body.get("type") in EVENT_TYPES:
        validate_records([(body, where.line)], where.file)
    return body


def register(ledger: Ledger, policy: Policy, roster: Roster | None, use_case: str, version: str, answers: Answers,
             actor: str, at: str, artifact: str | None = None, sha256: str | None = None):
    if answers.use_case != use_case:
        raise refuse(f"the answers file describes `{answers.use_case}`, not `{use_case}`",
                     where=Location(answers.file))
    body = {"at": at, "type": "registered", "use_case": use_case, "version": version, "actor": actor}
    if artifact:
        body["artifact"] = artifact
    if sha256:
        body["sha256"] = sha256
    body.update(_classified(policy, answers))
    body["answers"] = answers.to_dict()
    _validated(body, Location("register"))
    return ledger.append_bodies([body], policy, roster, Location("register"))[0], body


def record(ledger: Ledger, policy: Policy, roster: Roster | None, body: dict, where: Location | None = None):
    where = where or Location(body["type"])
    _validated(body, where)
    return ledger.append_bodies([body], policy, roster, where)[0]


class Blocked(Exception):
    """`promote` refused: the gate is not met. Carries the check result with every reason."""

    def __init__(self, result):
        super().__init__("blocked")
        self.result = result


def promote(ledger: Ledger, policy: Policy, roster: Roster | None, use_case: str, version: str, to: str,
            mode: str | None, actor: str, at: str):
    """Evaluate the gate and write the transition in one locked step: only when it is allowed."""
    from ..check import check

    body = {"at": at, "type": "transition", "use_case": use_case, "version": version, "actor": actor, "to": to}
    if mode:
        body["mode"] = mode
    _validated(body, Location("promote"))
    outcome = {}

    def decide(led: Ledger) -> None:
        registration = led.registration(use_case, version)
        if registration is None:
            raise refuse(f"version {version} of {use_case} is not registered")
        people = roster or led.roster()
        if people is None:
            raise refuse("there is no roster, so nobody's sign-offs can be checked",
                         hint="give --roster FILE, or store one with `tiergate roster import FILE`")
        result = check(policy, answers_of(registration), led.events(use_case), people, version=version, to=to,
                       mode=mode, at=parse_time(at))
        outcome["result"] = result
        if not result.allowed:
            raise Blocked(result)

    rows = ledger.append_bodies([body], policy, roster, Location("promote"), decide=decide)
    return rows[0], outcome["result"]


_COMMON_TEXT = ("at", "type", "use_case", "version", "actor")


def _ledger_record_problems(record: dict, file: str, line: int) -> list[Diagnostic]:
    """Schema checks of the records only a ledger holds: `roster` and `reclassified`."""
    from ..events import _TIME, parse_time, roster_from_document
    from ..yamlsource import YamlDocument

    where = Location(file, line)
    kind = record["type"]
    for key in _COMMON_TEXT:
        if not isinstance(record.get(key), str) or not record[key]:
            return [Diagnostic("E400", f"event {kind} misses `{key}` (or it is not text)", where)]
    if not _TIME.match(record["at"]) or parse_time(record["at"]) is None:
        return [Diagnostic("E400", f"event {kind} $.at is {json.dumps(record['at'])}, not an RFC 3339 time with an "
                           "offset", where, hint="write times like 2026-03-01T09:30:00Z or 2026-03-01T09:30:00+01:00")]
    if kind == ROSTER:
        if (record["use_case"], record["version"]) != (NOBODY, NOBODY):
            return [Diagnostic("E400", f"a roster event belongs to no use case: its use_case and version are "
                               f"`{NOBODY}`", where)]
        try:
            roster_from_document(YamlDocument(file, {"people": record.get("people")}, {"$": line}))
        except TiergateError as exc:
            return list(exc.diagnostics)
        return []
    for key in ("from_tier", "to_tier"):
        if not isinstance(record.get(key), str):
            return [Diagnostic("E400", f"event {kind} misses `{key}` (or it is not text)", where)]
    return []


def check_records(records: list[tuple[Any, int]], file: str) -> list[tuple[dict, int, float]]:
    """Schema and time checks of every record of an events file, with the file's line numbers.

    Most records are judged by a fast check; when one fails it, the full validation (jsonschema) runs
    over the lifecycle records to word every problem the way `check --events` does. Returns (record,
    line, instant) with any time YAML read as a datetime given back as text, as `check --events` reads
    it, and the instant of its `at` (see engine/ledger/standing.py).
    """
    from ..events import _times_as_text, fast_valid, parse_time

    problems, slow, out = [], False, []
    for record, line in records:
        if not isinstance(record, dict):
            slow = True
            continue
        kind = record.get("type")
        if kind in (ROSTER, RECLASSIFIED):
            problems.extend(_ledger_record_problems(record, file, line))
            at = parse_time(record.get("at"))
            out.append((record, line, at.timestamp() if at is not None else 0.0))
            continue
        record = _times_as_text(record)
        at = parse_time(record.get("at"))
        out.append((record, line, at.timestamp() if at is not None else 0.0))
        if not isinstance(kind, str) or not fast_valid(record) or at is None or \
                (kind == "waiver" and parse_time(record["expires"]) is None):
            slow = True
    if slow:
        try:
            validate_records(records, file)
        except TiergateError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise TiergateError(sorted(problems, key=lambda d: d.location.line or 0))
    return out


class _Classifier:
    """Validates the answers of `registered` events and classifies them, once per distinct set of answers
    (thousands of use cases often share theirs)."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.tiers: dict[str, dict] = {}

    def problems(self, doc: dict, file: str, line: int) -> list[Diagnostic]:
        from ..questionnaire import validate_document
        from ..yamlsource import YamlDocument

        return validate_document(YamlDocument(file, doc, {"$": line}), self.policy.questionnaire)

    def classified(self, answers: Answers) -> dict:
        key = canonical_or_none(answers.answers)
        if key is None:
            return _classified(self.policy, answers)
        found = self.tiers.get(key)
        if found is None:
            found = self.tiers[key] = _classified(self.policy, answers)
        return found


def canonical_or_none(value) -> str | None:
    from .chain import canonical

    try:
        return canonical(value)
    except (TypeError, ValueError):  # e.g. a date YAML read from an answer
        return None


def import_records(ledger: Ledger, policy: Policy, roster: Roster | None, records: list[tuple[Any, int]], file: str,
                   answers: dict[str, Answers], admitted: list[Diagnostic] | None = None):
    """Import a whole events file, or nothing: each event is validated as if recorded one by one.

    With a list as `admitted`, events that break the policy but are well formed are imported too (a history
    kept as it happened), with a warning for each appended to the list; without, they are refused.
    """
    with bulk():
        return _import_records(ledger, policy, roster, records, file, answers, admitted)


def _import_records(ledger: Ledger, policy: Policy, roster: Roster | None, records: list[tuple[Any, int]], file: str,
                    answers: dict[str, Answers], admitted: list[Diagnostic] | None):
    from .chain import canonical

    bodies, problems = [], []
    classifier = _Classifier(policy)
    for body, line, instant in check_records(records, file):  # schema and times, with the file's line numbers
        if body.get("type") == "registered" and "tier" not in body:
            body = dict(body)
            doc = answers.get(body["use_case"])
            if doc is None and isinstance(body.get("answers"), dict):
                found = classifier.problems(body["answers"], file, line)
                if found:
                    problems.extend(found)
                    continue
                doc = answers_of(body)
                if doc.use_case != body["use_case"]:
                    problems.append(Diagnostic("E610", f"the embedded answers describe `{doc.use_case}`, not "
                                               f"`{body['use_case']}`", Location(file, line)))
                    continue
            if doc is None:
                problems.append(Diagnostic("E610", f"no answers for {body['use_case']}: give --answers FILE for it, "
                                           "or embed them in the event under `answers`", Location(file, line)))
                continue
            body.update(classifier.classified(doc))
            body["answers"] = doc.to_dict()
        bodies.append((body, line, instant))
    if problems:
        raise TiergateError(problems)
    try:
        rows = [stored_row(b, canonical(b), instant) for b, _, instant in bodies]
    except (TypeError, ValueError) as exc:
        raise TiergateError(Diagnostic("E400", f"an event holds a value that is not JSON ({exc})",
                                       Location(file), hint="quote dates and times in YAML")) from None

    def check_all(store) -> None:  # the store passes itself; the validator reads through the ledger
        validator = ledger.validator(policy, roster, preload=True, allow_violations=admitted is not None)
        found = []
        nowhere = Location(file)
        let_in = validator.admitted
        for (body, line, _), row in zip(bodies, rows):
            known = len(let_in)
            try:
                validator.learn(body, validator.check(body, nowhere, row[5]))
            except TiergateError as exc:  # located only when refused: a Location per event costs 3%
                found.extend(replace(d, location=Location(file, line)) if d.location is nowhere else d
                             for d in exc.diagnostics)
                if len(found) >= 50:
                    break
            for i in range(known, len(let_in)):
                let_in[i] = replace(let_in[i], location=Location(file, line))
        if found:
            raise TiergateError(found)
        if admitted is not None:
            admitted[:] = let_in

    return ledger.store.append(rows, check=check_all)


def roster_body(roster_document: dict, actor: str, at: str) -> dict:
    return {"at": at, "type": ROSTER, "use_case": NOBODY, "version": NOBODY, "actor": actor,
            "people": roster_document["people"]}


def export(ledger: Ledger, fmt: str, use_case: str | None = None) -> str:
    bodies = list(ledger.bodies(use_case))
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(bodies, sort_keys=False, allow_unicode=True, width=120)
    return "".join(json.dumps(b, ensure_ascii=False, sort_keys=True) + "\n" for b in bodies)


@dataclass(frozen=True)
class Reclassification:
    use_case: str
    old_tier: str
    new_tier: str
    old_policy: dict


def reclassify(ledger: Ledger, policy: Policy, actor: str, at: str, dry_run: bool = False) -> list[Reclassification]:
    """Classify every registered use case again under `policy`; record a `reclassified` event where the tier changed."""
    from ..classify import classify

    latest: dict[str, dict] = {}
    for body in ledger.bodies():
        if body["type"] in ("registered", RECLASSIFIED):
            current = latest.get(body["use_case"], {})
            if body["type"] == "registered":
                latest[body["use_case"]] = {**body, "current_tier": body.get("tier")}
            else:
                latest[body["use_case"]] = {**current, "current_tier": body.get("to_tier")}
    changes, bodies = [], []
    for use_case, reg in sorted(latest.items()):
        new_tier = classify(policy, answers_of(reg)).tier
        if new_tier != reg["current_tier"]:
            changes.append(Reclassification(use_case, reg["current_tier"], new_tier, reg.get("policy", {})))
            bodies.append({"at": at, "type": RECLASSIFIED, "use_case": use_case, "version": reg["version"],
                           "actor": actor, "from_tier": reg["current_tier"], "to_tier": new_tier,
                           "policy": policy.identity()})
    if bodies and not dry_run:
        ledger.append_bodies(bodies, policy, None, Location("reclassify"))
    return changes


def time_or_now(value: datetime | None) -> str:
    from .service import now

    return format_time(value or now())
