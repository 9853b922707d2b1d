"""The Ledger: validated events chained and appended through a store, and what reading them back needs.

Above the store (store/base.py) and for every backend alike: the validation of each event (`Validator`), its
canonical JSON and place in the hash chain (chain.py), and the rows of the standing index (standing.py). The
commands built on it are in actions.py (register, record, promote, export, reclassify), importing.py (import),
registry.py (status, history) and verify.py (`audit verify`).

Work over a million events makes millions of objects and no reference cycles, so the cyclic garbage collector
only slows it down (by a third to a half on a million-event import). The collector is one switch for the whole
process, so the library never turns it off itself: an import and `status` run inside
`tiergate.language.gcpause.paused_gc()`, which pauses it only in a process whose owner allowed it
(`allow_pauses()`: the command line does; a server must not), and the workers they fork inherit that choice.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from tiergate.errors import WARNING, Diagnostic, Location, TiergateError, closest, did_you_mean
from tiergate.inputs.events import (
    EVENT_TYPES,
    Event,
    EventLog,
    Holding,
    Roster,
    events_from_records,
    format_time,
    keys_from_body,
    make_event,
    parse_time,
    roster_from_body,
)
from tiergate.language.policy import Policy
from tiergate.ledger.chain import GENESIS, canonical, chained
from tiergate.ledger.checkpoints import CHECKPOINT
from tiergate.ledger.integrity import read_body, read_row, unreadable
from tiergate.ledger.kept import Kept
from tiergate.ledger.policyversions import ADOPTED, PolicyVersions, adoption_body, body_problems, missing_source
from tiergate.ledger.standing import index_rows, instant_of, rebuild, slot_of
from tiergate.ledger.store.base import Row, Store, open_store, split_url
from tiergate.ledger.tokens import ISSUED, REVOKED
from tiergate.ledger.decisions import DECISION
from tiergate.ledger.verify import Verification

ROSTER, RECLASSIFIED = "roster", "reclassified"
NOBODY = "-"  # use_case and version of events that belong to no model (roster imports, policy adoptions)
#: the types of event only a ledger holds (the rest are lifecycle events, as events files hold them)
LEDGER_ONLY = (ROSTER, RECLASSIFIED, ADOPTED, ISSUED, REVOKED, DECISION, CHECKPOINT)
#: what every recording reads once it holds the write lock (the roster in force, the policy adopted): the store may
#: read them with the lock (Store.writing's `latest`)
READ_WHEN_WRITING = ((NOBODY, NOBODY, ROSTER), (NOBODY, NOBODY, ADOPTED))
#: the types of event that change what the validator knows of a use case (see Validator._case)
MILESTONES = ("registered", RECLASSIFIED, "retired")


#: how far ahead of the clock a recorded event's `--at` may be (clocks of different machines drift)
SKEW = timedelta(minutes=5)
#: a waiver's justification: at least this many characters once trimmed, and at least two words
JUSTIFICATION_MIN = 15


def refuse(message: str, hint: str | None = None, where: Location | None = None, code: str = "E610") -> TiergateError:
    return TiergateError(Diagnostic(code, message, where or Location("<ledger>"), hint=hint))


def same_roster(a: Roster, b: Roster) -> bool:
    """Whether two rosters give the same people (compared by identity) the same roles for the same periods."""
    from tiergate.inputs.events import identity

    def keyed(roster: Roster) -> dict:
        return {identity(p): tuple(sorted(hs, key=repr)) for p, hs in roster.people.items()}
    return keyed(a) == keyed(b)


def stored_row(body: dict, text: str, instant: float | None = None) -> tuple:
    """What the store appends for a body whose canonical JSON is `text` (`instant`: of its `at`, when known)."""
    return body["at"], body["type"], body["use_case"], body["version"], body["actor"], text, slot_of(body), \
        instant_of(body) if instant is None else instant


def body_of(text: str, seq: int = 0) -> dict:
    """A stored body as a dict; one that cannot be read is E621, naming `seq` (integrity.read_body)."""
    return read_body(text, seq)


def row_event(row: Row) -> Event:
    """A stored event as an Event; one that cannot be read, or whose columns are not its content, is E621."""
    try:
        event = body_event(read_row(row), row.seq)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise unreadable(row.seq, f"it is not an event ({exc})") from None
    if event.at is None:
        raise unreadable(row.seq, "its `at` is not a time")
    return event


def body_event(body: dict, seq: int) -> Event:
    """A stored body as an Event; its line and seq are its number in the ledger."""
    data = dict(body)
    pop = data.pop  # (five pops cost a fifth of a dict comprehension; status reads every event)
    return make_event(parse_time(pop("at")), pop("type"), pop("use_case"), pop("version"), pop("actor"), data,
                      "ledger", seq, seq)


def event_log(events: Iterable[Event]) -> EventLog:
    """Events in time order (equal times in recorded order), as `check --events` orders an events file. (Where a use
    case's events were recorded out of time order, `check` says so: decide/check.py, recorded_out_of_order.)"""
    return EventLog(tuple(sorted(events, key=lambda e: (e.at, e.seq))))


@dataclass
class _UseCase:
    """What validation needs to know about one use case while events are recorded or imported."""

    tier: str | None = None
    versions: set[str] = field(default_factory=set)
    retired: set[str] = field(default_factory=set)
    #: version -> the sha256 of the policy it was registered, or last reclassified, under
    policies: dict[str, str] = field(default_factory=dict)
    #: version -> who registered it (whose own approval of it never counts: separation of duties)
    authors: dict[str, str] = field(default_factory=dict)
    #: (version, requirement) -> (start, end) of each waiver recorded; None until read (see Validator._waivers)
    waivers: dict[tuple[str, str], list[tuple[datetime, datetime]]] | None = None
    #: version -> the sha256 of its registered artifact (what a signed statement about it names: ledger/signed.py)
    artifacts: dict[str, str] = field(default_factory=dict)


class Validator:
    """Validates events one by one against the policy, the roster and what was recorded before them.

    What it knows of a use case is read from the store the first time that use case is touched. For
    one event (`preload=False`) that is the use case's registrations, reclassifications and
    retirements, and a duplicate is looked for by the store (`Store.contains`): recording into a use
    case with a long history does not read that history. An import (`preload=True`) reads each use case it touches once.

    With `allow_violations`, an event that breaks the policy but is well formed (a sign-off by someone
    without the role, a waiver nobody could give, an action on a retired version) is let in, each
    with a warning in `admitted`: a history recorded elsewhere is kept as it happened, and
    `check --replay` reports what it broke.
    """

    #: the types of event judged by their columns alone (`check_row`, `take_row`)
    ROW_ONLY = ("evidence", "monitoring", "retired")
    #: what a body is remembered by: any function of its text (bodies that share a value are told apart by
    #: their text, which tests/test_ledger_import_runs.py holds by making every value the same)
    digest = staticmethod(hash)

    def __init__(self, policy: Policy, roster: Roster | None, store: Store | None = None,
                 preload: bool = False, allow_violations: bool = False, strict: bool = False):
        self.policy = policy
        #: SHA-256 -> text of the policy and questionnaire sources the ledger holds (read on first need: `_held`)
        self.held: dict[str, str] | None = None
        #: token id -> whether it is revoked, of the tokens the ledger holds (read on first need: `_token_ids`)
        self.token_ids: dict[str, bool] | None = None
        #: a recording command (not an import): only what the ledger holds decides (see `authorise`)
        self.strict = strict
        self.allow_violations = allow_violations
        self.admitted: list[Diagnostic] = []
        #: (an import) checkpoints whose head is checked once every event of the import is chained
        self.deferred: list[dict] = []
        self.tiers = {t.name: t for t in policy.tiers}
        self.store = store
        self.preload = preload
        self.cases: dict[str, _UseCase] = {}
        # to refuse an exact duplicate: use case -> hashes of the canonical bodies known (a million bodies would
        # hold hundreds of MB), and the bodies learned since the store last wrote what was learned (see `stored`)
        self.seen: dict[str, set[int]] = {}
        self.unstored: set[str] = set()
        self.recorded: set[str] | None = None  # (preload) the use cases the ledger has events of
        self.roster = roster
        #: the seq of the stored roster event in force (None when the ledger holds no roster)
        self.roster_seq: int | None = None
        latest = store.latest(NOBODY, NOBODY, ROSTER) if store is not None else None
        if latest is not None:
            stored = stored_roster(store, latest)
            if roster is not None and not same_roster(roster, stored):
                raise refuse(f"the roster given ({roster.file}) is not the roster stored in the ledger (event "
                             f"{latest.seq}): the ledger's roster decides who may do what", code="E630",
                             hint="leave out --roster, or store the new roster first: tiergate roster import FILE")
            self.roster, self.roster_seq = stored, latest.seq
        elif roster is not None and strict:
            raise refuse(f"the ledger holds no roster, and a roster given on the command line ({roster.file}) "
                         "decides nothing it records", code="E630",
                         hint="store it first: tiergate roster import FILE")

    def _case(self, use_case: str) -> _UseCase:
        case = self.cases.get(use_case)
        if case is None:
            case = self.cases[use_case] = _UseCase()
            if self.preload or self.store is None:  # (an import reads every event of the use case: waivers too)
                case.waivers = {}
            self.seen[use_case] = set()
            if self.store is not None:
                if self.preload and self.recorded is None:
                    self.recorded = set(self.store.use_cases())
                if not self.preload:
                    rows = self.store.rows(use_case, types=MILESTONES)
                else:  # (one query for the use cases, rather than one per new use case)
                    rows = self.store.rows(use_case) if use_case in self.recorded else ()
                for row in rows:
                    # only registrations and reclassifications carry what the columns do not (the tier)
                    body = json.loads(row.body) if row.type in ("registered", RECLASSIFIED, "waiver") else \
                        {"type": row.type, "use_case": row.use_case, "version": row.version}
                    self._learn(body, case, row.body, stored=True)
        return case

    def _break(self, message: str, where: Location, hint: str | None = None, code: str = "E610") -> None:
        """The event breaks the policy: refused (`code`: E611 when the person may not do it), or let in with a
        warning (see `allow_violations`)."""
        if not self.allow_violations:
            raise refuse(message, hint, where, code)
        self.admitted.append(Diagnostic("W610", f"{message}; recorded as it happened", where, WARNING, hint))

    def _recorded(self, use_case: str, version: str, text: str) -> bool:
        """Whether this exact event is recorded, or learned, already. A body whose hash is known is looked for
        among those not stored yet, then in the store (where two bodies share a hash, it says which)."""
        if self.digest(text) not in self.seen[use_case]:
            return not self.preload and self.store is not None and self.store.contains(use_case, version, text)
        return text in self.unstored or (self.store is not None and self.store.contains(use_case, version, text))

    def stored(self) -> None:
        """The store has written every event learned so far: their bodies need not be held any longer."""
        self.unstored.clear()

    def learn(self, body: dict, text: str | None = None) -> None:
        """Take an event that is now recorded into account (`text`: its canonical JSON, what `check` returned)."""
        if body["type"] == ROSTER:
            self.roster = roster_from_body(body)
        elif body["type"] == ADOPTED:
            self._adopt(body)
        elif body["type"] in (ISSUED, REVOKED):
            self._token_ids()[body["token_id"]] = body["type"] == REVOKED
        self._learn(body, self._case(body["use_case"]), text or canonical(body))

    def _learn(self, body: dict, case: _UseCase, text: str, stored: bool = False) -> None:
        kind = body["type"]
        if kind == "registered":
            case.tier = body.get("tier", case.tier)
            case.versions.add(body["version"])
            case.policies[body["version"]] = _sha256(body)
            case.authors[body["version"]] = body.get("actor", "")
            if body.get("sha256"):
                case.artifacts[body["version"]] = body["sha256"]
        elif kind == RECLASSIFIED:
            case.tier = body.get("to_tier", case.tier)
            for version in case.versions:
                case.policies[version] = _sha256(body)
        elif kind == "retired":
            case.retired.add(body["version"])
        elif kind == "waiver" and case.waivers is not None:
            start, end = parse_time(body.get("at")), parse_time(body.get("expires"))
            if start is not None and end is not None:
                case.waivers.setdefault((body["version"], body.get("requirement")), []).append((start, end))
        self._remember(body["use_case"], text, stored)

    def _remember(self, use_case: str, text: str, stored: bool) -> None:
        """Note a body (its canonical JSON), to refuse it again; its text is held until the store has it."""
        self.seen.setdefault(use_case, set()).add(self.digest(text))
        if not stored:
            self.unstored.add(text)

    def check(self, body: dict, where: Location, text: str | None = None) -> str:
        """Raise E610 when this event may not be recorded now; else return its canonical JSON (for `learn`).

        `text` is the body's canonical JSON when the caller has it already.
        """
        kind, use_case, version = body["type"], body["use_case"], body["version"]
        if self.strict:
            self._authorised(body, where)
            text = None  # (the actor may now be written as the roster spells it)
        if kind == CHECKPOINT:
            self.check_checkpoint(body, where)
        elif "envelope" in body:
            self.check_signed(body, where)
        text = text if text is not None else canonical(body)
        if kind in self.ROW_ONLY:
            self.check_row(kind, use_case, version, text, where)
            return text
        case = self._case(use_case)
        if self._recorded(use_case, version, text):
            raise refuse("this exact event is already in the ledger", where=where, code="E612")
        if kind in (ROSTER, CHECKPOINT):
            return text
        if kind == ADOPTED:
            self._adopted(body, where)
            return text
        if kind in (ISSUED, REVOKED):
            self._token(body, where)
            return canonical(body)  # (the person may now be written as the roster spells the name)
        if kind == DECISION:  # (of a version the service was asked about, registered or not)
            from tiergate.ledger.decisions import body_problems as decision_problems

            problems = decision_problems(body, where)
            if problems:
                raise TiergateError(problems)
            return text
        if kind == "registered":
            if version in case.versions:
                raise refuse(f"version {version} of {use_case} is already registered", where=where, code="E612",
                             hint="register a new version number")
            return text
        self._registered(case, use_case, version, where)
        if kind == RECLASSIFIED:
            return text
        if version in case.retired:
            self._break(f"version {version} of {use_case} is retired", where)
        tier = self.tiers.get(case.tier)
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
        if kind == "signoff" and self.strict and body.get("decision") == "approve":
            self._not_author(body, case.authors.get(version), where)
        if kind == "waiver":
            self._waiver(body, tier, at, where)
        return text

    def check_signed(self, body: dict, where: Location) -> str:
        """E691-E693 unless the signed event's envelope verifies with the actor's key and states exactly this event
        about this version (ledger/signed.py); the key's id."""
        from tiergate.ledger.signed import check_signed

        return check_signed(body, self.roster, self._case(body["use_case"]).artifacts.get(body["version"]), where)

    def check_checkpoint(self, body: dict, where: Location) -> None:
        """E400, E691-E694 unless the checkpoint is signed by its actor's key and its head is event `count` of this
        ledger (ledger/checkpoints.py)."""
        from tiergate.ledger.checkpoints import check

        def head_at(count: int) -> str | None:
            found = self.store.before(count + 1) if self.store is not None else None
            return found[1] if found is not None and found[0] == count else None

        if self.preload and self.store is not None and head_at(body["count"]) is None:
            # (an import: the events it names may be in the same run, chained only when the run is written; the
            # head is checked once every run is, before the import commits: `deferred`)
            from tiergate.ledger.checkpoints import body_problems, signed_by

            problems = body_problems(body, where)
            if problems:
                raise TiergateError(problems)
            signed_by(body, self.roster, where)
            self.deferred.append(body)
            return
        check(body, self.roster, head_at, where)

    def check_row(self, kind: str, use_case: str, version: str, text: str, where: Location) -> None:
        """`check` of an event of a ROW_ONLY type, from its columns."""
        self.take_row(kind, use_case, version, text, where, learn=False)

    def take_row(self, kind: str, use_case: str, version: str, text: str, where: Location, learn: bool = True) -> None:
        """`check_row`, then `learn` of the event: how an import takes most events, in one call (so it calls
        nothing else for an event that passes)."""
        case = self.cases.get(use_case)
        if case is None:
            case = self._case(use_case)
        digest = self.digest(text)
        seen = self.seen[use_case]
        if (digest in seen or not self.preload) and self._recorded(use_case, version, text):
            raise refuse("this exact event is already in the ledger", where=where, code="E612")
        if version not in case.versions:
            self._registered(case, use_case, version, where)
        if version in case.retired and kind != "monitoring":  # (a retired model may still be watched)
            self._break(f"version {version} of {use_case} is retired", where)
        if learn:
            if kind == "retired":
                case.retired.add(version)
            seen.add(digest)
            self.unstored.add(text)

    @staticmethod
    def _registered(case: _UseCase, use_case: str, version: str, where: Location) -> None:
        if version not in case.versions:
            raise refuse(f"version {version} of {use_case} is not registered", where=where,
                         hint=f"register it first: tiergate register {use_case} {version} --answers FILE")

    def _holds(self, actor: str, role: str, at: datetime, where: Location) -> None:
        if self.roster is None:
            raise refuse("there is no roster, so nobody's roles can be checked", where=where, code="E611",
                         hint="store one with `tiergate roster import FILE`")
        if not self.roster.holds(actor, role, at):
            held = ", ".join(self.roster.roles_of(actor, at)) or "no role"
            self._break(f"{actor} does not hold role {role} (holds {held})", where,
                        "only a person holding the role may act in it", code="E611")

    @staticmethod
    def _not_author(body: dict, author: str | None, where: Location) -> None:
        """(strict) An approval by the person who registered the version is refused (E611): it would never count
        (decide/gates/signoff.py, separation of duties). A history imported keeps it, and replay reports it."""
        from tiergate.inputs.events import identity

        if author and identity(body["actor"]) == identity(author):
            raise refuse(f"{body['actor']} registered {body['use_case']} {body['version']}, so may not approve it: "
                         "nobody approves their own work (separation of duties)", where=where, code="E611",
                         hint=f"another person holding {body['role']} approves it")

    def _waiver(self, body: dict, tier, at: datetime, where: Location) -> None:
        rid = body["requirement"]
        req = tier.requirement(rid) if tier is not None else None
        if req is None:
            raise refuse(f"`{rid}` is no requirement of tier {tier.name if tier else '?'}", where=where,
                         hint=_waivable_hint(rid, tier))
        if not req.waivable_by:
            return self._break(f"{rid} is not waivable", where)
        if self.roster is None or not any(self.roster.holds(body["actor"], r, at) for r in req.waivable_by):
            return self._break(f"{body['actor']} may not waive {rid}: only {', '.join(req.waivable_by)} may", where,
                               code="E611")
        expires = parse_time(body["expires"])
        if expires <= at:
            return self._break(f"the waiver expires ({body['expires']}) before it is given", where)
        if req.waiver_max is not None and expires - at > timedelta(seconds=req.waiver_max):
            return self._break(f"the waiver runs {duration(expires - at)}; {rid} may be waived for at most "
                               f"{duration(timedelta(seconds=req.waiver_max))}", where,
                               f"let it end by {format_time(at + timedelta(seconds=req.waiver_max))}")
        if req.waiver_max is not None:
            from tiergate.decide.gates.waivers import span_start  # (only a waiver needs the gates' rules)

            start = span_start(self._waivers(body["use_case"]).get((body["version"], rid), ()), at)
            if expires - start > timedelta(seconds=req.waiver_max):
                self._break(f"with the waivers of {rid} before it, from {format_time(start)}, the requirement would "
                            f"be waived without a break for {duration(expires - start)}; it may be waived for at "
                            f"most {duration(timedelta(seconds=req.waiver_max))}", where,
                            f"let it end by {format_time(start + timedelta(seconds=req.waiver_max))}, or meet it")
        if self.strict:
            words = str(body.get("justification", "")).split()
            if len(" ".join(words)) < JUSTIFICATION_MIN or len(words) < 2:
                raise refuse(f"the justification {body.get('justification', '')!r} says too little: a waiver needs "
                             f"at least {JUSTIFICATION_MIN} characters and two words of why", where=where,
                             hint="say why the requirement cannot be met in time, and what stands in for it")

    def _adopted(self, body: dict, where: Location) -> None:
        """A `policy_adopted` event: well formed, each source matching its SHA-256 (E640), and each version it
        names held by it or by an event before it (E641)."""
        problems = body_problems(body, where)
        if problems:
            raise TiergateError(problems)
        missing = missing_source(body, self._held(), where)
        if missing is not None:
            raise TiergateError(missing)

    def _held(self) -> dict[str, str]:
        if self.held is None:
            self.held = dict(PolicyVersions.read(self.store).sources) if self.store is not None else {}
        return self.held

    def _adopt(self, body: dict) -> None:
        """A policy adopted: its sources are held from now on. In an imported history (not `strict`), the events
        after it are validated under it, as they were recorded (its questionnaire's source is stored with it)."""
        self._held().update(body.get("sources") or {})
        identity, questionnaire = body["policy"], body["questionnaire"]
        if self.strict or (identity["sha256"], questionnaire["sha256"]) == \
                (self.policy.sha256, self.policy.questionnaire_sha256):
            return
        from tiergate.ledger.policyversions import compiled

        self.policy = compiled(identity["sha256"], questionnaire["sha256"], self._held(), str(body.get("file", "")))
        self.tiers = {t.name: t for t in self.policy.tiers}

    def _token(self, body: dict, where: Location) -> None:
        """A token issued to a person the roster names, with an id not used before; or a token revoked that was
        issued and is not revoked yet."""
        from tiergate.ledger.tokens import body_problems as token_problems

        problems = token_problems(body, where)
        if problems:
            raise TiergateError(problems)
        known = self._token_ids()
        token_id = body["token_id"]
        if body["type"] == REVOKED:
            if token_id not in known:
                raise refuse(f"no token has the id {token_id}", where=where,
                             hint="tiergate token list shows the tokens and their ids")
            if known[token_id]:
                raise refuse(f"the token {token_id} is revoked already", where=where, code="E612")
            return
        if token_id in known:
            raise refuse(f"a token with the id {token_id} is issued already", where=where, code="E612")
        person = self.roster.person(body["person"]) if self.roster is not None else None
        if person is None:
            where_roster = f"the roster (event {self.roster_seq})" if self.roster is not None else "a roster"
            raise refuse(f"{body['person']} is not in {where_roster}: a token is issued to a person the roster names",
                         where=where, hint="add them to the roster first: tiergate roster import FILE")
        body["person"] = person  # (as the roster writes the name)

    def _token_ids(self) -> dict[str, bool]:
        if self.token_ids is None:
            self.token_ids = {}
            if self.store is not None:
                from tiergate.ledger.tokens import TokenBook

                for token in TokenBook(self.store).tokens.values():
                    self.token_ids[token.token_id] = token.revoked_at is not None
        return self.token_ids

    def _waivers(self, use_case: str) -> dict:
        """The waivers recorded for the use case's versions (read from the store on first need)."""
        case = self._case(use_case)
        if case.waivers is None:
            case.waivers = {}
            if self.store is not None:
                for row in self.store.rows(use_case, types=("waiver",)):
                    body = json.loads(row.body)
                    start, end = parse_time(body.get("at")), parse_time(body.get("expires"))
                    if start is not None and end is not None:
                        case.waivers.setdefault((body["version"], body.get("requirement")), []).append((start, end))
        return case.waivers

    def _authorised(self, body: dict, where: Location) -> None:
        """(strict: a recording command) What only the ledger decides: the policy the version is judged under, the
        time (not before the version's latest event, not ahead of the clock), and that the actor is in the roster."""
        kind, use_case, version = body["type"], body["use_case"], body["version"]
        at = parse_time(body["at"])
        if at is not None and at > now() + SKEW:
            raise refuse(f"the event is dated {body['at']}, later than now ({format_time(now())}): an event is "
                         "recorded when it happens", where=where, code="E631",
                         hint=f"leave out --at; it may be at most {duration(SKEW)} ahead of the clock")
        if kind == ADOPTED and at is not None:
            self._adopted_from_now(body, at, where)
        # (reclassify is how a version changes policy; a decision is logged whatever the version was classified under)
        if kind not in ("registered", ROSTER, RECLASSIFIED, ADOPTED, DECISION, CHECKPOINT):
            case = self._case(use_case)
            expected = case.policies.get(version)
            if version in case.versions and expected and expected != self.policy.sha256:
                raise refuse(f"version {version} of {use_case} was classified under the policy with sha256 "
                             f"{expected[:12]}; the policy given ({self.policy.name} {self.policy.version}, sha256 "
                             f"{self.policy.sha256[:12]}) is another", where=where, code="E630",
                             hint="give the policy it was classified under, or decide it again under this one: "
                                  "tiergate reclassify --policy FILE")
        # (evidence and monitoring results keep the time they were measured, which a pipeline may report later, but
        # not from before the version's latest transition (above); a tier decided again takes effect when recorded)
        if at is not None and kind not in ("evidence", "monitoring", RECLASSIFIED):
            latest = self._latest_time(use_case, version, kind)
            if latest is not None and at < latest:
                raise refuse(f"the event is dated {body['at']}, before the latest event already recorded for "
                             f"{'the roster' if kind == ROSTER else f'{use_case} {version}'} ({format_time(latest)})",
                             where=where, code="E631",
                             hint="an event is recorded when it happens: leave out --at; a past history is brought "
                                  "in with `tiergate import`")
        if at is not None and kind in ("evidence", "monitoring"):
            decided = self._latest_decision(use_case, version)
            if decided is not None and at < decided:
                raise refuse(f"the {kind} result is dated {body['at']}, before the latest transition of {use_case} "
                             f"{version} ({format_time(decided)}): a result measured before a decision was taken "
                             "cannot change it afterwards", where=where, code="E631",
                             hint="record it with the time it is recorded (leave out --at); a past history is "
                                  "brought in with `tiergate import`")
        if self.roster is not None:
            person = self.roster.person(body["actor"])
            if person is None:
                raise refuse(f"{body['actor']} is not in the roster (event {self.roster_seq}), so may not act",
                             where=where, code="E611", hint="add them to the roster first: tiergate roster import FILE")
            body["actor"] = person  # recorded as the roster writes the name

    def _adopted_from_now(self, body: dict, at: datetime, where: Location) -> None:
        """(strict) A policy takes effect from when it is adopted: an adoption dated before the last event recorded
        (or the last adoption) would change which policy judges history already recorded (E631)."""
        if self.store is None:
            return
        latest, seq = None, None
        head = self.store.head()
        if head is not None:
            row = next(iter(self.store.chain(head[0], head[0])), None)
            latest, seq = (parse_time(row[1]), head[0]) if row is not None else (None, None)
        adoptions = PolicyVersions.read(self.store).adoptions
        if adoptions and (latest is None or adoptions[-1].at > latest):
            latest, seq = adoptions[-1].at, adoptions[-1].seq
        if latest is not None and at < latest:
            raise refuse(f"the policy would be adopted as of {body['at']}, before event {seq} "
                         f"({format_time(latest)}): a policy takes effect from when it is adopted, and may not change "
                         "which policy judged what is already recorded", where=where, code="E631",
                         hint="leave out --at: record it now, under the policy in force now")

    def _latest_decision(self, use_case: str, version: str) -> datetime | None:
        """When the version last moved (its latest transition or retirement): what replay judges, and what a result
        dated earlier would change after the fact."""
        return self._latest_of(use_case, version, ("transition", "retired"))

    def _latest_time(self, use_case: str, version: str, kind: str) -> datetime | None:
        """The latest time among the version's recorded events (the roster's, for a roster)."""
        if kind == ROSTER:
            return self._latest_of(NOBODY, NOBODY, (ROSTER,))
        return self._latest_of(use_case, version, EVENT_TYPES + (RECLASSIFIED,))

    def _latest_of(self, use_case: str, version: str, types: tuple[str, ...]) -> datetime | None:
        """The latest time among the version's recorded events of these types (None without a store, or none)."""
        if self.store is None:
            return None
        times = [parse_time(r.at) for r in self.store.latest_each(use_case, version, types)]
        return max((t for t in times if t is not None), default=None)


def _sha256(body: dict) -> str | None:
    identity = body.get("policy")
    return identity.get("sha256") if isinstance(identity, dict) else None


def _waivable_hint(rid: str, tier) -> str | None:
    """What to write instead of `rid`, the id of no requirement of `tier`: the closest id, else the ids it may waive."""
    if tier is None:
        return None
    ids = [r.id for r in tier.requirements]
    if closest(rid, ids):
        return did_you_mean(rid, ids)
    waivable = [r.id for r in tier.requirements if r.waivable_by]
    if not waivable:
        return f"no requirement of tier {tier.name} may be waived"
    return f"the requirements of tier {tier.name} that may be waived: " + ", ".join(f"`{w}`" for w in waivable)


def duration(span: timedelta) -> str:
    """A span as people say it, exact to the second: `14 days`, `14 days 1 second`, `2 hours 30 minutes`."""
    seconds = int(span.total_seconds())
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 seconds"


#: rosters read lately, by (ledger URL, seq and hash of the roster event): a roster of thousands of people is worth
#: parsing once
_ROSTERS = Kept()


def stored_roster(store: Store, row: Row) -> Roster:
    """The roster a stored roster event holds (kept while it is the same event: kept.py); one that cannot be read is
    E621, naming its seq. Not to be changed by the caller."""
    def make() -> Roster:
        try:
            return roster_from_body(read_row(row))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise unreadable(row.seq, f"it is not a roster ({exc})") from None
    return _ROSTERS.get((store.url, row.seq, row.hash), make)


class Ledger:
    """A ledger, opened from a path or a URL (store/base.py, open_store): `sqlite:///PATH`, `sqlite:PATH` or a
    plain path name a SQLite file."""

    def __init__(self, path: str | Path, create: bool = True, readonly: bool = False, group=None):
        scheme, where = split_url(path)
        #: the GroupCommit (groupcommit.py) this ledger's appends share a transaction through, with those of other
        #: threads of the process (a server's); None: each append is a transaction of its own
        self.group = group
        #: the ledger's file (None for a ledger that is not a file)
        self.path = (path if isinstance(path, Path) else Path(where)) if scheme == "sqlite" else None
        self.store: Store = open_store(path, create=create, readonly=readonly, build_index=rebuild)
        #: what another process opens the same ledger by (each worker of a parallel status or verify does)
        self.url = self.store.url

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- reading ------------------------------------------------------------------------------
    def head(self) -> str:
        """The hash of the last event (GENESIS for an empty ledger)."""
        return (self.store.head() or (0, GENESIS))[1]

    def count(self) -> int:
        """The number of events."""
        return self.store.span()[2]

    def bodies(self, use_case: str | None = None, version: str | None = None) -> Iterable[dict]:
        """The stored bodies in recorded order; one that cannot be read is E621, naming its seq."""
        for row in self.store.rows(use_case, version):
            yield read_row(row)

    def events(self, use_case: str | None = None, version: str | None = None) -> EventLog:
        """The lifecycle events (as Event objects) in time order, equal times in recorded order."""
        return event_log(row_event(r) for r in self.store.rows(use_case, version, types=EVENT_TYPES))

    def roster(self) -> Roster | None:
        """The stored roster in force (the latest); one that cannot be read is E621, naming its seq."""
        latest = self.store.latest(NOBODY, NOBODY, ROSTER)
        return stored_roster(self.store, latest) if latest is not None else None

    def registration(self, use_case: str, version: str | None = None) -> dict | None:
        """The latest registration of the use case (or version); one that cannot be read is E621, naming its seq."""
        latest = self.store.latest(use_case, version, "registered")
        return read_row(latest) if latest is not None else None

    def validator(self, policy: Policy, roster: Roster | None, preload: bool = False,
                  allow_violations: bool = False, strict: bool = False) -> Validator:
        return Validator(policy, roster, self.store, preload, allow_violations, strict)

    # --- writing ------------------------------------------------------------------------------
    def append_bodies(self, bodies: list[dict], policy: Policy, roster: Roster | None, where: Location,
                      decide=None, strict: bool = False, adopted: list[Row] | None = None) -> list[Row]:
        """Validate and append events as one atomic step (all or nothing).

        `decide(ledger, validator)` runs after the write lock is taken and before anything is written: it may raise
        to refuse the whole append (how `promote` decides and writes as one step), may add fields to the bodies,
        and may return more bodies to append after them (validated alike: how a decision is logged with it).
        `strict`: a recording command, where only what the ledger holds decides (Validator._authorised), which may
        write the actor as the roster spells it.

        `strict` also adopts the policy: when it is not the one in force at the first body's time, its adoption is
        recorded first, by the same person at the same time (policyversions.py), and its row added to `adopted`. Returns
        the rows of `bodies` (and of those `decide` added)."""
        given, bodies, inserted = list(bodies), [], []

        def check(ledger: Ledger) -> list[tuple]:
            """(under the write lock, reading through `ledger`) The rows to append, once every body is valid. It
            starts from the bodies given each time: a group commit may run it again (groupcommit.py)."""
            bodies[:], inserted[:] = given, []
            validator = ledger.validator(policy, roster, strict=strict)
            adoption = ledger.adoption(policy, bodies[0]["actor"], bodies[0]["at"]) \
                if strict and bodies[0]["type"] != ADOPTED else None
            if adoption is not None:
                bodies.insert(0, adoption)
                inserted.append(adoption)
            for body in bodies:
                validator.learn(body, validator.check(body, where))
            if decide is not None:
                for body in decide(ledger, validator) or ():
                    validator.learn(body, validator.check(body, where))
                    bodies.append(body)
            return [stored_row(b, canonical(b)) for b in bodies]

        written: list[Row] = []
        if self.group is not None:
            self.group.write(self, check, written)
        else:
            with self.store.writing(latest=READ_WHEN_WRITING):
                self.chain_rows([check(self)], written)
        if adopted is not None:
            adopted.extend(written[:len(inserted)])
        return written[len(inserted):]

    def adoption(self, policy: Policy, actor: str, at: str) -> dict | None:
        """The `policy_adopted` event to record before an event at `at` recorded under `policy`, when another
        policy (or none) is in force then; else None."""
        versions = PolicyVersions.read(self.store)
        current = versions.in_force(parse_time(at))
        if current is not None and (current.sha256, current.questionnaire_sha256) == \
                (policy.sha256, policy.questionnaire_sha256):
            return None
        return adoption_body(policy, actor, at, versions.sources)

    def policy_versions(self) -> PolicyVersions:
        """The policy versions the ledger holds (its adoptions and their sources)."""
        return PolicyVersions.read(self.store)

    def append_runs(self, runs: Iterable[list[tuple]]) -> tuple[int, str]:
        """Append runs of rows (as `stored_row` makes them) as one transaction, each run written before the next is
        read: (events appended, head). `runs` is read under the write lock, so it may validate against what the
        ledger holds; when it raises, nothing is written."""
        with self.store.writing(bulk=True):
            return self.chain_rows(runs, None)

    def chain_rows(self, runs: Iterable[list[tuple]], keep: list[Row] | None,
                   head: tuple[int, str] | None = None) -> tuple[int, str]:
        """(inside the write transaction) Chain the rows after the head (`head`: its seq and hash, when the caller
        knows them) and store them with their standing rows; the rows as stored are added to `keep`. (events
        appended, head)."""
        store = self.store
        first, previous = head or store.head() or (0, GENESIS)
        seq = first
        now = datetime.now(timezone.utc).isoformat()
        # the latest event of each shared slot, written when every run is in: a history in time order holds
        # the monitoring results of thousands of versions in each run, and most of them are replaced later
        latest: dict[tuple, tuple] = {}
        single = isinstance(runs, (list, tuple)) and len(runs) == 1  # (a recording: one call writes it all)
        for rows in runs:
            written, previous = chained(rows, seq, previous)
            standing = index_rows(rows, seq, latest)
            if single:
                standing, latest = standing + list(latest.values()), {}
            store.append(written, now, standing)
            seq += len(written)
            if keep is not None:
                keep.extend(Row(*r, now) for r in written)
        if latest:
            store.put_standing(latest.values())
        return seq - first, previous

    def reindex(self) -> int:
        """Build the standing index again from the events, as one transaction (what `audit verify` found wrong with
        it is then gone; the events are not touched). Returns its number of rows."""
        with self.store.writing():
            self.store.clear_standing()
            return rebuild(self.store)

    def verify(self, expected_head: str | None = None, checked_through: int = 0) -> Verification:
        """`audit verify` (verify.py)."""
        from tiergate.ledger.verify import verify

        return verify(self.store, expected_head, checked_through)


def now() -> datetime:
    return datetime.now(timezone.utc)


def validate_records(records: list[tuple[Any, int]], file: str) -> EventLog:
    """Lifecycle records -> events (schema, times); roster/reclassified records are passed over here."""
    lifecycle = [(r, line) for r, line in records if not (isinstance(r, dict) and r.get("type") in LEDGER_ONLY)]
    return events_from_records(lifecycle, file)
