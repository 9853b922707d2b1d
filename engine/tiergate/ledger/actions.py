"""What the ledger commands do: register, record, promote (the enforcement point), export, reclassify (import:
engine/ledger/importing.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from tiergate.errors import Location
from tiergate.inputs.events import EVENT_TYPES, Roster, format_time, parse_time
from tiergate.language.policy import Policy
from tiergate.inputs.answers import Answers
from tiergate.ledger.integrity import check_use_case
from tiergate.ledger.service import NOBODY, RECLASSIFIED, ROSTER, Ledger, refuse, validate_records


def answers_of(registration: dict) -> Answers:
    doc = registration.get("answers") or {}
    return Answers("ledger", str(doc.get("use_case", registration["use_case"])), str(doc.get("title", "")),
                   str(doc.get("owner", "")), doc.get("answers") or {})


def _classified(policy: Policy, answers: Answers) -> dict:
    from tiergate.decide.classify import classify

    c = classify(policy, answers)
    return {"tier": c.tier, "policy": policy.identity(), "because": because(c)}


def because(classification) -> str:
    """Why a use case has its tier, in the policy's words: the reason of the rule that set it (with its line)."""
    rule = classification.deciding
    if rule is None:
        return f"no rule held: the policy's floor ({classification.tier})"
    return f"{rule.because or 'a rule held'} (line {rule.line})"


def _validated(body: dict, where: Location) -> dict:
    """Schema and time checks of one lifecycle event body (the same as for event files)."""
    if body.get("type") in EVENT_TYPES:
        validate_records([(body, where.line)], where.file)
    return body


def register(ledger: Ledger, policy: Policy, roster: Roster | None, use_case: str, version: str, answers: Answers,
             actor: str, at: str, artifact: str | None = None, sha256: str | None = None, strict: bool = False,
             adopted: list | None = None):
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
    return ledger.append_bodies([body], policy, roster, Location("register"), strict=strict, adopted=adopted)[0], body


def record(ledger: Ledger, policy: Policy, roster: Roster | None, body: dict, where: Location | None = None,
           strict: bool = False, adopted: list | None = None):
    """Validate and append one event. `strict` (how the application layer records what a person does now): only
    what the ledger holds decides, and the time is the ledger's (see Validator._authorised)."""
    where = where or Location(body["type"])
    _validated(body, where)
    return ledger.append_bodies([body], policy, roster, where, strict=strict, adopted=adopted)[0]


class Blocked(Exception):
    """`promote` refused: the gate is not met. Carries the check result with every reason."""

    def __init__(self, result):
        super().__init__("blocked")
        self.result = result


def promote(ledger: Ledger, policy: Policy, roster: Roster | None, use_case: str, version: str, to: str,
            mode: str | None, actor: str, at: str, strict: bool = False, adopted: list | None = None,
            also=None, written: list | None = None):
    """Evaluate the gate and write the transition in one locked step: only when it is allowed. `strict` (the
    application layer): only the stored roster and the version's policy decide, and the transition records both
    (`policy_sha256`, `roster_seq`). `also(result)`: more events to write with the transition, in the same
    transaction (the service's decision log); every row written goes into `written`."""
    from tiergate.decide.check import check

    body = {"at": at, "type": "transition", "use_case": use_case, "version": version, "actor": actor, "to": to}
    if mode:
        body["mode"] = mode
    _validated(body, Location("promote"))
    outcome = {}

    def decide(led: Ledger, validator) -> None:
        check_use_case(led.store, use_case)  # the events decided on fit the hash chain (E620), before anything else
        registration = led.registration(use_case, version)
        if registration is None:
            raise refuse(f"version {version} of {use_case} is not registered")
        people = validator.roster  # strict: the stored roster (a different --roster was refused)
        if people is None or (strict and validator.roster_seq is None):
            raise refuse("the ledger holds no roster, so nobody's sign-offs can be checked",
                         hint="store one with `tiergate roster import FILE`")
        result = check(policy, answers_of(registration), led.events(use_case), people, version=version, to=to,
                       mode=mode, at=parse_time(body["at"]))
        outcome["result"] = result
        if not result.allowed:
            raise Blocked(result)
        if strict:  # what the transition was decided under: the policy (its identity) and the roster event in force
            body["policy_sha256"] = policy.sha256
            body["roster_seq"] = validator.roster_seq
        return also(result) if also is not None else None

    rows = ledger.append_bodies([body], policy, roster, Location("promote"), decide=decide, strict=strict,
                                adopted=adopted)
    if written is not None:
        written.extend(rows)
    return rows[0], outcome["result"]


def roster_body(roster_document: dict, actor: str, at: str) -> dict:
    from tiergate.inputs.events import roster_times_as_text

    roster_document = roster_times_as_text(roster_document)  # (an unquoted `since` is a datetime to YAML)
    body = {"at": at, "type": ROSTER, "use_case": NOBODY, "version": NOBODY, "actor": actor,
            "people": roster_document["people"]}
    if roster_document.get("keys"):  # (the public keys people sign with; a roster without them is stored as ever)
        body["keys"] = roster_document["keys"]
    return body


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

    @property
    def changed(self) -> bool:
        return self.old_tier != self.new_tier


def classified_under_another(identity: dict, policy: Policy) -> bool:
    """Whether a tier decided under the policy `identity` (a stored `policy` field) was decided under another
    policy, or another version of it, than `policy`: `status` flags it, `reclassify` decides it again."""
    return bool(identity) and (identity.get("name"), identity.get("version")) != (policy.name, policy.version)


def reclassify(ledger: Ledger, policy: Policy, actor: str, at: str, dry_run: bool = False,
               strict: bool = False, adopted: list | None = None) -> list[Reclassification]:
    """Classify every registered use case again under `policy`; record a `reclassified` event for each whose tier
    changed, and for each whose tier stays but was decided under another policy version (so that `status` no
    longer flags it: the record says it was decided again). Returns what was (or would be) recorded."""
    from tiergate.decide.classify import classify

    latest: dict[str, dict] = {}
    for body in ledger.bodies():
        if body["type"] in ("registered", RECLASSIFIED):
            current = latest.get(body["use_case"], {})
            if body["type"] == "registered":
                latest[body["use_case"]] = {**body, "current_tier": body.get("tier")}
            else:
                latest[body["use_case"]] = {**current, "current_tier": body.get("to_tier"),
                                            "policy": body.get("policy") or current.get("policy")}
    decided, bodies = [], []
    for use_case, reg in sorted(latest.items()):
        classification = classify(policy, answers_of(reg))
        new_tier = classification.tier
        if new_tier != reg["current_tier"] or classified_under_another(reg.get("policy") or {}, policy):
            decided.append(Reclassification(use_case, reg["current_tier"], new_tier, reg.get("policy") or {}))
            bodies.append({"at": at, "type": RECLASSIFIED, "use_case": use_case, "version": reg["version"],
                           "actor": actor, "from_tier": reg["current_tier"], "to_tier": new_tier,
                           "policy": policy.identity(), "because": because(classification)})
    if bodies and not dry_run:
        ledger.append_bodies(bodies, policy, None, Location("reclassify"), strict=strict, adopted=adopted)
    return decided


def time_or_now(value: datetime | None) -> str:
    from tiergate.ledger.service import now

    return format_time(value or now())
