"""What each model version contributes to the KPIs (docs/kpis.md): one pass, each version judged as `status` does."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tiergate.decide.eras import Timeline
from tiergate.errors import TiergateError
from tiergate.inputs.events import Roster, parse_time
from tiergate.language.gcpause import paused_gc
from tiergate.language.policy import Policy, Workflow
from tiergate.ledger.actions import answers_of
from tiergate.ledger.integrity import read_row
from tiergate.ledger.registry import EXPIRY_WINDOW, PARALLEL_FROM, read_stored
from tiergate.ledger.service import NOBODY, Ledger, event_log

DAY = 86400.0  # seconds


@dataclass(frozen=True)
class VersionFacts:
    """One registered version at `at`: where it stands, and what it counts for in each KPI. Counts that take
    `since` (the window) hold only what happened in it; states (stage, obligations, pending sign-offs, active
    waivers) are those at `at`."""

    use_case: str
    version: str
    tier: str  # as `status` shows it: the latest registered or reclassified tier
    stage: str  # "retired" once retired; "?" when it cannot be judged
    problem: str | None = None  # why it could not be judged (then only tier and stage are known)
    in_production: bool = False
    to_production: float | None = None  # days from registration to its first entry into production, in the window
    violations: tuple[str, ...] = ()  # the kind of each violation found by replay, of transitions in the window
    obligations: tuple[tuple[str, str, str], ...] = ()  # (requirement id, kind, status) at `at`
    answered: tuple[tuple[str, float], ...] = ()  # (role, days the request waited) of sign-offs given in the window
    pending: tuple[tuple[str, float], ...] = ()  # (role, days waiting so far) of the next gate's missing sign-offs
    waivers: tuple[tuple[str, bool, bool, bool], ...] = ()  # (requirement, granted in window, active, expiring)


@dataclass(frozen=True)
class Window:
    """The time asked about (`at`) and the start of the window counts are taken over (`since`; None: all)."""

    at: datetime
    since: datetime | None = None

    def holds(self, when: datetime) -> bool:
        return when <= self.at and (self.since is None or when >= self.since)


def production_stages(policy: Policy) -> dict[str, frozenset[str]]:
    """Workflow name -> the stages a version is *in production* in: from the first stage that obligations start
    after (`... after STAGE`, in any tier on the workflow) on, in the workflow's order; without obligations, from
    the stage a `deployment` requirement gates; else the workflow's last stage."""
    return {name: shape.production for name, shape in _shapes(policy).workflows.items()}


@dataclass(frozen=True)
class _Workflow:
    production: frozenset[str]
    into: dict[str, frozenset[str]]  # stage -> the stages with an edge to it


@dataclass(frozen=True)
class _Shapes:
    """What the KPIs read of a policy, worked out once per policy (`policy.compiled`)."""

    workflows: dict[str, _Workflow]
    #: tier -> (the (gate, role) sign-offs it requires of every use case, those of requirements with a `when`)
    signoffs: dict[str, tuple[frozenset, tuple]]
    #: tier -> the (gate, role) sign-offs only a signed approval answers (`require signed signoff`)
    signed: dict[str, frozenset]


def _shapes(policy: Policy) -> _Shapes:
    return policy.compiled("kpis.shapes", _work_out)


def _work_out(policy: Policy) -> _Shapes:
    workflows = {}
    for name, workflow in policy.workflows.items():
        tiers = [t for t in policy.tiers if (t.workflow or policy.default_workflow) == name]
        starts = {r.stage for t in tiers for r in t.requirements if r.relation == "after"} or \
            {r.stage for t in tiers for r in t.requirements if r.kind == "deployment"} or {workflow.stages[-1]}
        first = min(workflow.stages.index(s) for s in starts if s in workflow.stage_set) \
            if starts & workflow.stage_set else len(workflow.stages) - 1
        into = {s: frozenset(a for a, b in workflow.edges if b == s) for s in workflow.stages}
        workflows[name] = _Workflow(frozenset(workflow.stages[first:]), into)
    signoffs = {}
    for tier in policy.tiers:
        required = [r for r in tier.requirements if r.kind == "signoff" and r.relation == "before"]
        signoffs[tier.name] = (frozenset((r.stage, role) for r in required if r.when is None for role in r.roles),
                               tuple((r, [(r.stage, role) for role in r.roles]) for r in required
                                     if r.when is not None))
    signed = {tier.name: frozenset((r.stage, role) for r in tier.requirements
                                   if r.kind == "signoff" and r.relation == "before" and r.signed for role in r.roles)
              for tier in policy.tiers}
    return _Shapes(workflows, signoffs, signed)


def collect(ledger: Ledger, policy: Policy, people: Roster, window: Window,
            eras: Timeline | None) -> tuple[list[VersionFacts], list[tuple[str, bool]], list[tuple[str, str, str]]]:
    """(the facts of every version registered by `at`, (policy label, tier changed) of each reclassification in
    the window, (use case, version, verdict) of each promote decision in the window)."""
    from tiergate.ledger import parallel

    with paused_gc():  # (where the process allows it: see service.py)
        workers = parallel.cores()
        use_cases = [u for u in ledger.store.use_cases() if u != NOBODY] if workers > 1 else []
        if len(use_cases) >= PARALLEL_FROM:
            decisions: list = []
            parts = parallel.on_every_core(_facts_range, parallel.ranges(use_cases, workers * 4),
                                           (ledger.url, policy, people, window, eras), workers,
                                           meanwhile=lambda: decisions.extend(promote_decisions(ledger, window)))
            return [f for part in parts for f in part[0]], [r for part in parts for r in part[1]], decisions
        facts, reclassified = _facts(ledger.store, policy, people, window, eras)
        return facts, reclassified, promote_decisions(ledger, window)


def promote_decisions(ledger: Ledger, window: Window) -> list[tuple[str, str, str]]:
    """(use case, version, verdict) of every promote the decision log holds in the window (ledger/decisions.py)."""
    from tiergate.ledger.decisions import DECISION

    out = []
    for row in ledger.store.rows(types=(DECISION,)):
        when = parse_time(row.at)
        if when is not None and window.holds(when):
            body = read_row(row)
            if body.get("operation") == "promote":
                out.append((row.use_case, row.version, body.get("verdict")))
    return out


def _facts_range(bounds: tuple[str, str], url: str, policy: Policy, people: Roster, window: Window,
                 eras: Timeline | None) -> tuple[list, list]:
    from tiergate.ledger.store.base import open_store

    store = open_store(url, create=False, readonly=True)  # a connection of its own, never the parent's
    try:
        with paused_gc():
            return _facts(store, policy, people, window, eras, *bounds)
    finally:
        store.close()


def _facts(store, policy: Policy, people: Roster, window: Window, eras: Timeline | None,
           first: str | None = None, last: str | None = None) -> tuple[list, list]:
    """As registry._judge reads the standing index: one use case at a time, its whole history where a result
    later than `at` replaced one that counts then."""
    from itertools import groupby
    from operator import itemgetter

    whole = store.replaced_after(window.at.timestamp(), first, last)
    facts: list[VersionFacts] = []
    reclassified: list[tuple[str, bool]] = []
    for use_case, group in groupby(store.standing(first, last), key=itemgetter(0)):
        if use_case == NOBODY:
            continue
        stored = [(r.seq, r.body) for r in store.rows(use_case)] if use_case in whole else \
            sorted((seq, body) for _, seq, body in group)
        _use_case(policy, people, window, use_case, stored, eras, facts, reclassified)
    return facts, reclassified


def _use_case(policy, people, window, use_case, stored, eras, facts: list, reclassified: list) -> None:
    read = read_stored(stored, window.at)  # (in recorded order, as status reads the tier)
    registrations, tier_now = read.registrations, read.tier
    for when, body in read.reclassifications:
        if window.holds(when):
            identity = body["policy"] if isinstance(body.get("policy"), dict) else {}
            reclassified.append((f"{identity.get('name', '?')} {identity.get('version', '?')}",
                                 body.get("from_tier") != body.get("to_tier")))
    log = event_log(read.events)
    for reg in registrations:
        answers = answers_of(reg)
        try:
            facts.append(_version(policy, people, window, use_case, reg, answers, log, tier_now, eras))
        except TiergateError as exc:  # one version that cannot be judged must not hide all the others
            facts.append(VersionFacts(use_case, reg["version"], tier_now or "?", "?",
                                      problem=exc.diagnostics[0].message))


def _version(policy, people, window, use_case, reg, answers, log, tier_now, eras) -> VersionFacts:
    """Judged as registry._row judges it: one replay that also judges the next gate, when it is the one foreseen."""
    from tiergate.decide.check import check
    from tiergate.decide.classify import classify

    at, version = window.at, reg["version"]
    mine = [e for e in log.events if e.version == version and e.at <= at]
    workflow = policy.workflow_of(classify(policy, answers).tier)
    guess = _next(workflow, next((e.data["to"] for e in reversed(mine) if e.type == "transition"), workflow.start))
    result = check(policy, answers, log, people, version=version, at=at, replay=True, to=guess, eras=eras)
    workflow = policy.workflow_of(result.tier)
    upcoming = _next(workflow, result.stage) if result.stage in workflow.stage_set else workflow.start
    gate = result if upcoming == guess else check(policy, answers, log, people, version=version, at=at,
                                                  to=upcoming)
    retired = any(e.type == "retired" for e in mine)
    shapes = _shapes(policy)
    production = shapes.workflows[workflow.name].production
    registered = parse_time(reg["at"])
    entry = next((e.at for e in mine if e.type == "transition" and e.data["to"] in production), None)
    pending = ()
    if upcoming is not None and not retired:
        since = next((e.at for e in reversed(mine) if e.type in ("transition", "registered")), registered)
        pending = tuple((role, (at - since).total_seconds() / DAY) for s in gate.requirements
                        if s.failing and s.requirement.kind == "signoff" for role in s.requirement.roles)
    return VersionFacts(
        use_case, version, tier_now or result.tier, "retired" if retired else result.stage,
        in_production=not retired and result.stage in production,
        to_production=(entry - registered).total_seconds() / DAY if entry and window.holds(entry) else None,
        violations=tuple(v.kind for v in result.violations if v.version == version and window.holds(v.at)),
        obligations=tuple((o.requirement.id, o.requirement.kind, o.status) for o in result.obligations),
        answered=_answered(shapes, result.tier, workflow, answers.answers, registered, mine, window),
        pending=pending, waivers=_waivers(mine, window))


def _next(workflow: Workflow, stage: str) -> str | None:
    successors = workflow.successors(stage)
    return successors[0] if successors else None


def _answered(shapes: _Shapes, tier: str, workflow: Workflow, values: dict, registered: datetime, mine: list,
              window: Window) -> tuple[tuple[str, float], ...]:
    """(role, days) for each sign-off request answered in the window: the first approving sign-off of each (gate,
    role) the tier requires, timed from the latest entry, before it, into a stage with an edge to that gate (the
    registration enters the workflow's start); 0 when it came before any such entry. Where the requirement is
    `signed`, only a signed approval answers the request."""
    always, conditional = shapes.signoffs[tier]
    signed = shapes.signed[tier]
    required = always.union(*(keys for r, keys in conditional if r.applies(values)))
    into = shapes.workflows[workflow.name].into
    entries = [(registered, workflow.start)] + [(e.at, e.data["to"]) for e in mine if e.type == "transition"]
    seen, out = set(), []
    for e in mine:
        if e.type != "signoff" or e.data["decision"] != "approve":
            continue
        key = (e.data["gate"], e.data["role"])
        if key not in required or key in seen or (key in signed and "envelope" not in e.data):
            continue
        seen.add(key)
        if window.holds(e.at):
            before = into.get(key[0], frozenset())
            opened = max((t for t, stage in entries if t <= e.at and stage in before), default=e.at)
            out.append((key[1], (e.at - opened).total_seconds() / DAY))
    return tuple(out)


def _waivers(mine: list, window: Window) -> tuple[tuple[str, bool, bool, bool], ...]:
    at, out = window.at, []
    for e in mine:
        if e.type == "waiver":
            expires = parse_time(e.data.get("expires"))
            active = expires is not None and at < expires
            out.append((e.data["requirement"], window.holds(e.at), active,
                        active and expires <= at + EXPIRY_WINDOW))
    return tuple(out)
