"""The ledger's operations: record validated events, promote through gates, import, export, verify."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from ..errors import Diagnostic, Location, TiergateError, did_you_mean
from ..events import EVENT_TYPES, Event, EventLog, Holding, Roster, events_from_records, format_time, parse_time
from ..policy import Policy
from .chain import GENESIS, canonical, link
from .store import Row, SQLiteStore

ROSTER, RECLASSIFIED = "roster", "reclassified"
LEDGER_TYPES = EVENT_TYPES + (ROSTER, RECLASSIFIED)
NOBODY = "-"  # use_case and version of events that belong to no model (roster imports)


def refuse(message: str, hint: str | None = None, where: Location | None = None) -> TiergateError:
    return TiergateError(Diagnostic("E610", message, where or Location("<ledger>"), hint=hint))


def row_event(row: Row) -> Event:
    body = json.loads(row.body)
    at = parse_time(body["at"])
    data = {k: v for k, v in body.items() if k not in ("at", "type", "use_case", "version", "actor")}
    return Event(at, body["type"], body["use_case"], body["version"], body["actor"], data, "ledger", row.seq, row.seq)


@dataclass
class _UseCase:
    """What validation needs to know about one use case while events are recorded or imported."""

    tier: str | None = None
    versions: set[str] = field(default_factory=set)
    retired: set[str] = field(default_factory=set)


class Validator:
    """Validates events one by one against the policy, the roster and what was recorded before them.

    What it knows of a use case is read from the store the first time that use case is touched, so
    recording one event into a large ledger reads only that use case's events.
    """

    def __init__(self, policy: Policy, roster: Roster | None, store: SQLiteStore | None = None):
        self.policy = policy
        self.store = store
        self.cases: dict[str, _UseCase] = {}
        self.seen: dict[str, set[str]] = {}  # use case -> digests of canonical bodies, to refuse duplicates
        self.roster = roster
        if roster is None and store is not None:
            for row in store.rows(NOBODY, NOBODY, types=(ROSTER,)):
                self.roster = roster_from_body(json.loads(row.body))

    def _case(self, use_case: str) -> _UseCase:
        case = self.cases.get(use_case)
        if case is None:
            case = self.cases[use_case] = _UseCase()
            self.seen[use_case] = set()
            if self.store is not None:
                for row in self.store.rows(use_case):
                    self._learn(json.loads(row.body), case)
        return case

    def learn(self, body: dict) -> None:
        """Take an event that is now recorded into account."""
        if body["type"] == ROSTER:
            self.roster = roster_from_body(body)
        self._learn(body, self._case(body["use_case"]))

    def _learn(self, body: dict, case: _UseCase) -> None:
        kind = body["type"]
        if kind == "registered":
            case.tier = body.get("tier", case.tier)
            case.versions.add(body["version"])
        elif kind == RECLASSIFIED:
            case.tier = body.get("to_tier", case.tier)
        elif kind == "retired":
            case.retired.add(body["version"])
        self.seen.setdefault(body["use_case"], set()).add(hashlib.sha256(canonical(body).encode()).hexdigest())

    def check(self, body: dict, where: Location) -> None:
        """Raise E610 when this event may not be recorded now."""
        case = self._case(body["use_case"])
        digest = hashlib.sha256(canonical(body).encode()).hexdigest()
        if digest in self.seen[body["use_case"]]:
            raise refuse("this exact event is already in the ledger", where=where)
        kind = body["type"]
        if kind == ROSTER:
            return
        version = body["version"]
        if kind == "registered":
            if case is not None and version in case.versions:
                raise refuse(f"version {version} of {body['use_case']} is already registered", where=where,
                             hint="register a new version number")
            return
        if version not in case.versions:
            raise refuse(f"version {version} of {body['use_case']} is not registered", where=where,
                         hint=f"register it first: tiergate register {body['use_case']} {version} --answers FILE")
        if kind == RECLASSIFIED:
            return
        if version in case.retired and kind != "monitoring":
            raise refuse(f"version {version} of {body['use_case']} is retired", where=where)
        tier = self.policy.tier(case.tier) if case.tier in self.policy.tier_names else None
        workflow = self.policy.workflow_of(tier) if tier is not None else self.policy.workflows[self.policy.default_workflow]
        at = parse_time(body["at"])
        if kind in ("signoff", "transition"):
            stage = body["gate"] if kind == "signoff" else body["to"]
            if stage not in workflow.stages:
                raise refuse(f"`{stage}` is not a stage of workflow `{workflow.name}`", where=where,
                             hint=did_you_mean(stage, workflow.stages, "stages"))
        if kind in ("signoff", "review"):
            role = body["role"]
            if role not in self.policy.roles:
                raise refuse(f"`{role}` is not a role of policy {self.policy.name}", where=where,
                             hint=did_you_mean(role, self.policy.roles, "roles"))
            self._holds(body["actor"], role, at, where)
        if kind == "waiver":
            self._waiver(body, tier, at, where)

    def _holds(self, actor: str, role: str, at: datetime, where: Location) -> None:
        if self.roster is None:
            raise refuse("there is no roster, so nobody's roles can be checked", where=where,
                         hint="give --roster FILE, or store one with `tiergate roster import FILE`")
        if not self.roster.holds(actor, role, at):
            held = ", ".join(self.roster.roles_of(actor, at)) or "no role"
            raise refuse(f"{actor} does not hold role {role} (holds {held})", where=where,
                         hint="only a person holding the role may act in it")

    def _waiver(self, body: dict, tier, at: datetime, where: Location) -> None:
        rid = body["requirement"]
        req = tier.requirement(rid) if tier is not None else None
        if req is None:
            ids = [r.id for r in tier.requirements] if tier is not None else []
            raise refuse(f"`{rid}` is no requirement of tier {tier.name if tier else '?'}", where=where,
                         hint=did_you_mean(rid, ids, "ids"))
        if not req.waivable_by:
            raise refuse(f"{rid} is not waivable", where=where)
        if self.roster is None or not any(self.roster.holds(body["actor"], r, at) for r in req.waivable_by):
            raise refuse(f"{body['actor']} may not waive {rid}: only {', '.join(req.waivable_by)} may", where=where)
        expires = parse_time(body["expires"])
        if expires <= at:
            raise refuse(f"the waiver expires ({body['expires']}) before it is given", where=where)
        if req.waiver_max is not None and expires - at > timedelta(seconds=req.waiver_max):
            raise refuse(f"the waiver runs {(expires - at).total_seconds() / 86400:g} days; {rid} may be waived "
                         f"for at most {req.waiver_max / 86400:g} days", where=where)


def roster_from_body(body: dict) -> Roster:
    people = {}
    for person, items in body.get("people", {}).items():
        holdings = []
        for item in items:
            if isinstance(item, str):
                holdings.append(Holding(item))
            else:
                holdings.append(Holding(item["role"], parse_time(item.get("since")), parse_time(item.get("until"))))
        people[person] = tuple(holdings)
    return Roster(people, "ledger roster")


@dataclass(frozen=True)
class Verification:
    count: int
    head: str
    problem: str | None = None
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class Ledger:
    def __init__(self, path: Path, create: bool = True, readonly: bool = False):
        self.path = Path(path)
        self.store = SQLiteStore(self.path, create=create, readonly=readonly)

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- reading ------------------------------------------------------------------------------
    def head(self) -> str:
        return self.store.head()[1]

    def bodies(self, use_case: str | None = None, version: str | None = None) -> Iterable[dict]:
        for row in self.store.rows(use_case, version):
            yield json.loads(row.body)

    def events(self, use_case: str | None = None, version: str | None = None) -> EventLog:
        """The lifecycle events (as Event objects) in recorded order."""
        rows = self.store.rows(use_case, version, types=EVENT_TYPES)
        return EventLog(tuple(row_event(r) for r in rows))

    def roster(self) -> Roster | None:
        latest = None
        for row in self.store.rows(NOBODY, NOBODY, types=(ROSTER,)):
            latest = row
        return roster_from_body(json.loads(latest.body)) if latest is not None else None

    def registration(self, use_case: str, version: str | None = None) -> dict | None:
        found = None
        for row in self.store.rows(use_case, version, types=("registered",)):
            found = json.loads(row.body)
        return found

    def validator(self, policy: Policy, roster: Roster | None) -> Validator:
        return Validator(policy, roster, self.store)

    # --- writing ------------------------------------------------------------------------------
    def append_bodies(self, bodies: list[dict], policy: Policy, roster: Roster | None, where: Location,
                      decide=None) -> list[Row]:
        """Validate and append events as one atomic step (all or nothing)."""

        def check(store) -> None:
            validator = self.validator(policy, roster)
            for body in bodies:
                validator.check(body, where)
                validator.learn(body)
            if decide is not None:
                decide(self)

        rows = [(b["at"], b["type"], b["use_case"], b["version"], b["actor"], canonical(b)) for b in bodies]
        return self.store.append(rows, check=check)

    def verify(self, expected_head: str | None = None) -> Verification:
        previous, count, last_seq = GENESIS, 0, 0
        try:
            for row in self.store.rows():
                count += 1
                if row.seq != last_seq + 1:
                    return Verification(count, previous, f"event {last_seq + 1} is missing (found {row.seq} next): "
                                        "an event was deleted or the order was changed", last_seq + 1)
                if row.prev_hash != previous:
                    return Verification(count, previous, f"event {row.seq} does not follow event {row.seq - 1}: "
                                        "an event before it was deleted, inserted or reordered", row.seq)
                if link(previous, row.body) != row.hash:
                    return Verification(count, previous, f"event {row.seq} was altered: its content does not "
                                        "match its hash", row.seq)
                try:
                    body = json.loads(row.body)
                    same = (body["at"], body["type"], body["use_case"], body["version"], body["actor"]) == \
                        (row.at, row.type, row.use_case, row.version, row.actor)
                except (ValueError, KeyError, TypeError):
                    same = False
                if not same:
                    return Verification(count, previous, f"event {row.seq} was altered: its columns do not match "
                                        "its content", row.seq)
                previous, last_seq = row.hash, row.seq
        except TiergateError as exc:
            return Verification(count, previous, exc.diagnostics[0].message, last_seq + 1)
        if expected_head is not None and expected_head != previous:
            return Verification(count, previous, f"the head is {previous}, not the published {expected_head}: "
                                "the ledger was rewritten or events were added since", None)
        return Verification(count, previous)


def now() -> datetime:
    return datetime.now(timezone.utc)


def now_text() -> str:
    return format_time(now())


def validate_records(records: list[tuple[Any, int]], file: str) -> EventLog:
    """Lifecycle records -> events (schema, times); roster/reclassified records are passed over here."""
    lifecycle = [(r, line) for r, line in records if not (isinstance(r, dict) and r.get("type") in (ROSTER, RECLASSIFIED))]
    return events_from_records(lifecycle, file)
