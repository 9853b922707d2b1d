"""A person's work: the sign-offs waiting for one of their roles and the reviews due, and signing from the inbox."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from tiergate.app.results import Recorded
from tiergate.language.policy import Policy
from tiergate.ledger.service import Ledger


@dataclass(frozen=True)
class Task:
    #: "signoff" (a sign-off the next gate needs) or "review" (a periodic review due, or overdue)
    kind: str
    use_case: str
    version: str
    owner: str
    tier: str
    stage: str
    role: str
    #: signoff: the stage whose entry it approves; review: the stage it is due in
    gate: str
    #: the requirement or obligation id (`signoff:risk_audit@production`)
    requirement: str
    #: review: "due" or "overdue", and when; signoff: "waiting"
    status: str
    due: datetime | None = None


@dataclass(frozen=True)
class Inbox:
    person: str
    #: the roles the person holds now
    roles: Sequence[str]
    tasks: Sequence[Task]


def inbox(ledger: Ledger, policy: Policy | None, person: str, at: datetime | None = None) -> Inbox:
    """What `person` can act on at `at` (default now): for each version not retired, every sign-off its next gate
    still needs from a role they hold, and every review obligation of such a role that is due or overdue."""
    from tiergate.app.recording import when
    from tiergate.app.registry import status
    from tiergate.inputs.events import parse_time

    moment = parse_time(when(at))
    roster = ledger.roster()
    held = {role for role in _roles(roster) if roster is not None and roster.holds(person, role, moment)}
    tasks: list[Task] = []
    for row in status(ledger, policy, None, at).rows:
        if row.retired:
            continue
        for rid in row.unmet:
            kind, _, rest = rid.partition(":")
            role, _, gate = rest.partition("@")
            if kind == "signoff" and role in held:
                tasks.append(Task("signoff", row.use_case, row.version, row.owner, row.tier, row.stage, role, gate,
                                  rid, "waiting"))
        for oid, state, due in row.obligations:
            kind, _, rest = oid.partition(":")
            role, _, stage = rest.partition("@")
            if kind == "review" and role in held and state in ("due", "overdue"):
                tasks.append(Task("review", row.use_case, row.version, row.owner, row.tier, row.stage, role, stage,
                                  oid, state, due))
    tasks.sort(key=lambda t: (t.kind != "signoff", t.use_case, t.version, t.requirement))
    return Inbox(person, sorted(held), tasks)


def sign(ledger: Ledger, policy: Policy, person: str, use_case: str, version: str, *, role: str, gate: str,
         decision: str, comment: str | None = None) -> Recorded:
    """Record `person`'s sign-off (approve or reject) in `role` for entering `gate`, validated as every recording is
    (a person without the role, or the version's author where the policy says so, is refused)."""
    from tiergate.app.recording import record

    fields = {"role": role, "gate": gate, "decision": decision}
    if comment:
        fields["comment"] = comment
    return record(ledger, policy, None, "signoff", use_case, version, actor=person, **fields)


def _roles(roster) -> set[str]:
    if roster is None:
        return set()
    return {holding.role for holdings in roster.people.values() for holding in holdings}
