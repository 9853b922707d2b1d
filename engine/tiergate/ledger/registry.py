"""The registry view of the ledger: every use case and version, where it stands, and what needs attention."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tiergate.decide.eras import Timeline
from tiergate.errors import TiergateError
from tiergate.inputs.events import Roster, format_time, parse_time
from tiergate.language.gcpause import paused_gc
from tiergate.language.policy import Policy
from tiergate.ledger.actions import answers_of, classified_under_another
from tiergate.ledger.integrity import check_use_case, read_row, unreadable
from tiergate.ledger.service import NOBODY, RECLASSIFIED, Ledger, body_event, body_of, event_log

EXPIRY_WINDOW = timedelta(days=14)


@dataclass
class StatusRow:
    use_case: str
    version: str
    owner: str
    tier: str
    stage: str
    since: datetime | None
    next_stage: str | None
    unmet: list[str] = field(default_factory=list)
    obligations: list[tuple[str, str, datetime | None]] = field(default_factory=list)  # (id, status, next_due)
    expiring_waivers: list[tuple[str, str]] = field(default_factory=list)  # (requirement id, expires)
    classified_under: str = ""
    stale: bool = False
    retired: bool = False
    violations: int = 0
    problem: str | None = None  # why this version could not be judged under the current policy
    #: the workflow the version's stage is not a stage of (its policy, or its tier, changed); None when it is on it
    off_workflow: str | None = None
    #: the requirements of its stage's gate it entered under a waiver that has run out, still unmet: {requirement,
    #: event, by, justification, expires, entered} (each is also a `breach` among its obligations)
    waiver_breaches: list[dict] = field(default_factory=list)

    @property
    def attention(self) -> bool:
        return self.stale or self.violations > 0 or bool(self.expiring_waivers) or self.problem is not None or \
            self.off_workflow is not None or any(status != "ok" for _, status, _ in self.obligations)

    def to_dict(self) -> dict:
        return {"use_case": self.use_case, "version": self.version, "owner": self.owner, "tier": self.tier,
                "stage": self.stage, "since": format_time(self.since), "next_stage": self.next_stage,
                "unmet": self.unmet, "retired": self.retired, "violations": self.violations,
                "obligations": [{"id": i, "status": s, "next_due": format_time(d)} for i, s, d in self.obligations],
                "expiring_waivers": [{"requirement": r, "expires": e} for r, e in self.expiring_waivers],
                "classified_under": self.classified_under, "stale": self.stale, "problem": self.problem,
                "off_workflow": self.off_workflow, "waiver_breaches": self.waiver_breaches,
                "attention": self.attention}


def status(ledger: Ledger, policy: Policy, roster: Roster | None, at: datetime,
           eras: Timeline | None = None) -> list[StatusRow]:
    """One row per use case version registered by `at`, judged at `at` under `policy`; past transitions under the
    policy and roster of their era, given `eras` (decide/eras.py)."""
    with paused_gc():  # (where the process allows it: see service.py)
        return _status(ledger, policy, roster, at, eras)


def use_case_status(ledger: Ledger, policy: Policy, roster: Roster | None, at: datetime, use_case: str,
                    eras: Timeline | None = None) -> list[StatusRow]:
    """`status`'s rows of one use case (its versions), from its own events: what a page about one model reads."""
    people = roster or ledger.roster() or Roster({}, "no roster")
    stored = [(r.seq, r.body) for r in ledger.store.rows(use_case)]
    return _use_case_rows(policy, people, at, use_case, stored, eras)


def _status(ledger: Ledger, policy: Policy, roster: Roster | None, at: datetime,
            eras: Timeline | None) -> list[StatusRow]:
    from tiergate.ledger import parallel

    people = roster or ledger.roster() or Roster({}, "no roster")
    workers = parallel.cores()
    if workers > 1:
        use_cases = [u for u in ledger.store.use_cases() if u != NOBODY]
        if len(use_cases) >= PARALLEL_FROM:  # several ranges per process, for an even load
            parts = parallel.on_every_core(_judge_range, parallel.ranges(use_cases, workers * 4),
                                           (ledger.url, policy, people, at, eras), workers)
            return [row for part in parts for row in part]
    return _judge(ledger.store, policy, people, at, eras)


#: use cases from which status judges them on every core: below, starting the workers costs more than it saves
PARALLEL_FROM = 1_000


def _judge(store, policy: Policy, people: Roster, at: datetime, eras: Timeline | None,
           first: str | None = None, last: str | None = None) -> list[StatusRow]:
    from itertools import groupby
    from operator import itemgetter

    # judged as of a time before their latest results, these need the results those replaced
    whole = store.replaced_after(at.timestamp(), first, last)
    rows: list[StatusRow] = []
    # what decides where each version stands (standing.py), one use case at a time
    for use_case, group in groupby(store.standing(first, last), key=itemgetter(0)):
        if use_case == NOBODY:  # (the roster)
            continue
        stored = [(r.seq, r.body) for r in store.rows(use_case)] if use_case in whole else \
            sorted((seq, body) for _, seq, body in group)
        rows.extend(_use_case_rows(policy, people, at, use_case, stored, eras))
    return rows


def _judge_range(bounds: tuple[str, str], url: str, policy: Policy, people: Roster, at: datetime,
                 eras: Timeline | None) -> list[StatusRow]:
    from tiergate.ledger.store.base import open_store

    store = open_store(url, create=False, readonly=True)  # a connection of its own, never the parent's
    try:
        with paused_gc():
            return _judge(store, policy, people, at, eras, *bounds)
    finally:
        store.close()


@dataclass
class StoredUseCase:
    """A use case's stored events as `status` reads them at a time: its lifecycle events (every one), the
    registrations and reclassifications made by then (in recorded order), and the tier and the policy identity the
    latest of those left it with."""
    events: list = field(default_factory=list)
    registrations: list[dict] = field(default_factory=list)
    reclassifications: list[tuple[datetime, dict]] = field(default_factory=list)
    tier: str | None = None
    identity: dict = field(default_factory=dict)


def read_stored(stored: list[tuple[int, str]], at: datetime) -> StoredUseCase:
    """`stored` ((seq, body text) in recorded order) as status reads it at `at`; an event whose body or time cannot
    be read is E621."""
    from tiergate.inputs.events import EVENT_TYPES

    lifecycle, out = set(EVENT_TYPES), StoredUseCase()
    for seq, text in stored:
        body = body_of(text, seq)
        kind = body["type"]
        if kind in lifecycle:
            event = body_event(body, seq)
            if event.at is None:
                raise unreadable(seq, "its `at` is not a time")
            out.events.append(event)
            if kind == "registered" and event.at <= at:
                out.registrations.append(body)
                out.tier, out.identity = body.get("tier"), body.get("policy") or out.identity
        elif kind == RECLASSIFIED and (when := parse_time(body["at"])) is not None and when <= at:
            out.reclassifications.append((when, body))
            out.tier, out.identity = body.get("to_tier"), body.get("policy") or out.identity
    return out


def _use_case_rows(policy: Policy, people: Roster, at: datetime, use_case: str,
                   stored: list[tuple[int, str]], eras: Timeline | None = None) -> list[StatusRow]:
    read = read_stored(stored, at)
    registrations, tier_now, identity = read.registrations, read.tier, read.identity
    if not registrations:
        return []
    log = event_log(read.events)
    rows = []
    for reg in registrations:
        answers = answers_of(reg)
        try:
            rows.append(_row(policy, people, at, use_case, reg, answers, log, tier_now, identity, eras))
        except TiergateError as exc:  # one version that cannot be judged must not hide all the others
            rows.append(StatusRow(use_case, reg["version"], answers.owner, tier_now or "?", "?", None, None,
                                  classified_under=f"{identity.get('name', '?')} {identity.get('version', '?')}",
                                  problem=exc.diagnostics[0].message))
    return rows


def _row(policy, people, at, use_case, reg, answers, events, tier_now, identity, eras=None) -> StatusRow:
    """The status of one registered version (raises TiergateError when it cannot be judged)."""
    from tiergate.decide.check import check
    from tiergate.decide.classify import classify
    from tiergate.decide.gates.obligations import WaiverBreach

    mine = [e for e in events.events if e.version == reg["version"] and e.at <= at]
    # one check both replays the history and judges the next gate, when the next stage is
    # known beforehand: the stage after the latest transition (as VersionState moves)
    workflow = policy.workflow_of(classify(policy, answers).tier)
    stage = next((e.data["to"] for e in reversed(mine) if e.type == "transition"), workflow.start)
    guess = _next_stage(workflow, stage)
    result = check(policy, answers, events, people, version=reg["version"], at=at, replay=True, to=guess, eras=eras)
    workflow = policy.workflow_of(result.tier)
    off_workflow = workflow.name if result.stage not in workflow.stage_set else None
    # off its workflow, the version may enter any stage of it whose gate it meets: the start is named as the next
    next_stage = _next_stage(workflow, result.stage) if off_workflow is None else workflow.start
    gate = result
    if next_stage != guess:  # not as foreseen: judge the right gate
        gate = check(policy, answers, events, people, version=reg["version"], at=at, to=next_stage)
    unmet: list[str] = []
    if next_stage is not None:
        # the deployment mode is chosen when promoting: it is nothing to do beforehand
        unmet = [s.id for s in gate.requirements if s.failing and s.requirement.kind != "deployment"]
    state_retired = any(e.type == "retired" for e in mine)
    # a retired version stays retired (a later transition is a violation, not a move)
    since = next((e.at for e in mine if e.type == "retired"), None) if state_retired else \
        next((e.at for e in reversed(mine) if e.type in ("transition", "registered")), None)
    expiring = []
    for e in mine:
        if e.type == "waiver":
            expires = parse_time(e.data.get("expires"))
            if expires is not None and at < expires <= at + EXPIRY_WINDOW:
                expiring.append((e.data["requirement"], e.data["expires"]))
    return StatusRow(
        use_case, reg["version"], answers.owner, tier_now or result.tier,
        "retired" if state_retired else result.stage, since, None if state_retired else next_stage,
        [] if state_retired else unmet,
        [(o.id, o.status, o.next_due) for o in result.obligations], expiring,
        f"{identity.get('name', '?')} {identity.get('version', '?')}",
        stale=classified_under_another(identity, policy),
        retired=state_retired, violations=len([v for v in result.violations if v.version == reg["version"]]),
        off_workflow=None if state_retired else off_workflow,
        waiver_breaches=[o.waiver_dict() for o in result.obligations if isinstance(o, WaiverBreach)])


def _next_stage(workflow, stage: str) -> str | None:
    successors = [b for a, b in workflow.edges if a == stage]
    return successors[0] if successors else None


def history(ledger: Ledger, use_case: str, version: str | None = None) -> list[dict]:
    """The timeline of a use case (or one version): every recorded event with its chain position."""
    check_use_case(ledger.store, use_case)  # (a timeline that hides or alters an event is no timeline: E620)
    out = []
    for row in ledger.store.rows(use_case, version):
        body = read_row(row)
        out.append({"seq": row.seq, "hash": row.hash, "recorded_at": row.recorded_at, **body})
    return out
