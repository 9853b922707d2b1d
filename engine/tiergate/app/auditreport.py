"""The auditor's report of one model version, and where the version stands on its workflow (`gate_states`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tiergate.decide.check import CheckResult, check as judge
from tiergate.decide.eras import Timeline
from tiergate.decide.gates.base import WAIVED, Status
from tiergate.errors import Diagnostic, Location, TiergateError, did_you_mean
from tiergate.inputs.events import Event, format_time
from tiergate.language.policy import Policy
from tiergate.ledger.service import Ledger


@dataclass(frozen=True)
class Proof:
    """One requirement of a gate as judged then, and the events it read (evidence, sign-offs, waivers)."""
    status: Status
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Passage:
    """One transition of the version and its gate, judged as of its time under the policy and the roster then in
    force; `allowed` None when it could not be judged (`problem` says why)."""
    event: Event
    from_stage: str
    policy: tuple[str, str, str]  # (name, version, sha256)
    roster: str
    allowed: bool | None
    proofs: tuple[Proof, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class PolicySpan:
    """A policy version in force for part of the version's life: from `since` (None: the start of the ledger) to
    `until` (None: still in force at the report's time). `seq` None: the ledger holds no adoption of it."""
    name: str
    version: str
    sha256: str
    since: datetime | None
    until: datetime | None
    actor: str | None = None
    seq: int | None = None


@dataclass(frozen=True)
class Waiver:
    """A waiver recorded for the version, and whether it is in force at the report's time."""
    event: Event
    in_force: bool


@dataclass(frozen=True)
class WorkflowView:
    """The version's workflow, its current stage (None once retired) and each stage's state, as
    reports.workflowsvg.workflow_svg draws them: passed, current, ready (its gate is met now), blocked, ahead."""
    workflow: str
    stages: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    current: str | None
    states: dict[str, str]


@dataclass(frozen=True)
class AuditReport:
    """Everything an auditor asks about one model version, judged as of `at`, made at `generated`."""
    use_case: str
    version: str
    title: str
    owner: str
    at: datetime
    generated: datetime
    ledger: str  # the ledger as named (without a password)
    head: str  # the ledger's head when the report was made
    count: int  # its number of events then
    policy: Policy  # what the present is judged under
    registration: Event
    classification: Any  # decide.classify.Classification of the registered answers under `policy`
    reclassifications: tuple[Event, ...]
    policies: tuple[PolicySpan, ...]
    passages: tuple[Passage, ...]
    waivers: tuple[Waiver, ...]
    check: CheckResult  # the present, with the replay of the whole history
    workflow: WorkflowView
    retired: Event | None
    events: tuple[dict, ...]  # the version's events up to `at`, with their seq and hash (ledger/registry.history)

    @property
    def violations(self) -> tuple:
        return tuple(v for v in self.check.violations if v.version == self.version)

    @property
    def compliant(self) -> bool:
        c = self.check
        return not self.violations and not any(o.failing for o in c.obligations) and \
            not any(s.failing for s in c.standing)

    def to_dict(self) -> dict:
        def event(e: Event) -> dict:
            return {"seq": e.seq, **e.to_dict()}
        return {
            "use_case": self.use_case, "version": self.version, "title": self.title, "owner": self.owner,
            "at": format_time(self.at), "generated": format_time(self.generated), "compliant": self.compliant,
            "ledger": {"name": self.ledger, "head": self.head, "events": self.count},
            "policy": self.policy.identity(), "registration": event(self.registration),
            "classification": self.classification.to_dict(),
            "reclassifications": [event(e) for e in self.reclassifications],
            "policies": [{"name": p.name, "version": p.version, "sha256": p.sha256, "since": format_time(p.since),
                          "until": format_time(p.until), "adopted_by": p.actor, "seq": p.seq} for p in self.policies],
            "gates": [{"transition": event(g.event), "from": g.from_stage, "policy": dict(zip(
                ("name", "version", "sha256"), g.policy)), "roster": g.roster, "allowed": g.allowed,
                "problem": g.problem, "requirements": [{**p.status.to_dict(), "events": [event(e) for e in p.events]}
                                                      for p in g.proofs]} for g in self.passages],
            "waivers": [{**event(w.event), "in_force": w.in_force} for w in self.waivers],
            "stage": self.check.stage, "retired": format_time(self.retired.at) if self.retired else None,
            "obligations": [o.to_dict() for o in self.check.obligations],
            "standing": [s.to_dict() for s in self.check.standing],
            "violations": [v.to_dict() for v in self.violations],
            "warnings": [w.to_dict() for w in self.check.warnings],
            "workflow": {"name": self.workflow.workflow, "stages": list(self.workflow.stages),
                         "edges": [list(e) for e in self.workflow.edges], "current": self.workflow.current,
                         "states": self.workflow.states},
            "events": list(self.events),
        }


@dataclass(frozen=True)
class _Judged:
    """What the report and gate_states share: the version's history read once, and the present judged."""
    policy: Policy
    roster: Any
    answers: Any
    events: Any  # the use case's EventLog
    mine: tuple[Event, ...]  # the version's events up to `at`
    at: datetime
    timeline: Timeline
    check: CheckResult


def _judged(ledger: Ledger, policy: Policy | None, use_case: str, version: str, at: datetime | None,
            clock: datetime | None = None) -> _Judged:
    """The history read and the present judged as of `at` (None: `clock`, else now)."""
    from tiergate.ledger.actions import answers_of
    from tiergate.ledger.inforce import bounded, in_force, policy_in_force
    from tiergate.ledger.integrity import check_use_case
    from tiergate.ledger.service import now
    from tiergate.ledger.store.base import shown_url

    where = Location(shown_url(str(ledger.url if ledger.path is None else ledger.path)))
    if ledger.registration(use_case) is None:
        raise TiergateError(Diagnostic("E422", f"{use_case} is not registered in the ledger", where,
                                       hint="check the use case id: `tiergate status` lists them"))
    if at is not None:
        bounded(ledger, at, now())
    at = at or clock or now()
    check_use_case(ledger.store, use_case)  # the events judged fit the hash chain (E620)
    events = ledger.events(use_case)
    registered = [e.version for e in events.events if e.type == "registered" and e.at <= at]
    registration = ledger.registration(use_case, version)
    if registration is None or version not in registered:
        by = "" if registration is None else f" by {format_time(at)}"
        raise TiergateError(Diagnostic("E422", f"version {version} of {use_case} is not registered in the ledger{by}",
                                       where, hint=did_you_mean(version, dict.fromkeys(registered), "versions")))
    if policy is None:
        policy = policy_in_force(ledger, at)
    forces = in_force(ledger, policy, at)
    if forces.roster is None:
        raise TiergateError(Diagnostic("E600", "the ledger holds no roster", where,
                                       hint="`tiergate roster import FILE` stores the roster the history is judged by"))
    answers = answers_of(registration)
    present = judge(forces.policy, answers, events, forces.roster, version=version, at=at, replay=True,
                    eras=forces.for_replay())
    mine = tuple(e for e in events.events if e.version == version and e.at <= at)
    return _Judged(forces.policy, forces.roster, answers, events, mine, at, Timeline(forces.eras), present)


def gate_states(ledger: Ledger, policy: Policy | None, use_case: str, version: str,
                at: datetime | None = None) -> WorkflowView:
    """Where `version` stands on its workflow at `at` (default now), for workflow_svg: the stages it has been in are
    passed; the one it is in is current; the stages it may enter next are ready or blocked by their gate now; the
    others are ahead. A retired version has no current stage and nothing ready. `policy` None: the one the ledger
    holds in force at `at`. Unknown use case or version: E422."""
    return _view(_judged(ledger, policy, use_case, version, at), version)


def _view(j: _Judged, version: str) -> WorkflowView:
    workflow = j.policy.workflow_of(j.check.tier)
    retired = any(e.type == "retired" for e in j.mine)
    stage = j.check.stage
    visited = {workflow.start} | {e.data["to"] for e in j.mine if e.type == "transition"}
    states = {s: "current" if s == stage and not retired else "passed" if s in visited else "ahead"
              for s in workflow.stages}
    if not retired:
        nexts = workflow.successors(stage) if stage in workflow.stage_set else workflow.stages
        for s in dict.fromkeys(nexts):
            if s != stage:
                gate = judge(j.policy, j.answers, j.events, j.roster, version=version, to=s, at=j.at)
                states[s] = "ready" if gate.allowed else "blocked"
    return WorkflowView(workflow.name, workflow.stages, workflow.edges, None if retired else stage, states)


def audit_report(ledger: Ledger, policy: Policy | None, use_case: str, version: str,
                 at: datetime | None = None) -> AuditReport:
    """The auditor's report of `version` of `use_case` as of `at` (default now; between the ledger's first event and
    now): its classification, the policy versions in force over its life, each gate it passed judged as of then
    with the evidence and sign-offs that met it, waivers, obligations, the replay's violations, and the ledger's
    head. `policy` None: the one the ledger holds in force at `at`. A version not registered by then is E422."""
    from tiergate.decide.classify import classify
    from tiergate.ledger.registry import history
    from tiergate.ledger.service import RECLASSIFIED, now
    from tiergate.ledger.store.base import shown_url

    generated = now()
    j = _judged(ledger, policy, use_case, version, at, generated)
    registration = [e for e in j.mine if e.type == "registered"][-1]
    retired = next((e for e in j.mine if e.type == "retired"), None)
    timeline = [e for e in history(ledger, use_case) if _at(e) <= j.at]
    reclassified = tuple(_event(e) for e in timeline if e["type"] == RECLASSIFIED)
    policies = _policies(ledger, j.policy, registration.at, retired.at if retired is not None else j.at)
    view = _view(j, version)
    head, count = ledger.head(), ledger.count()  # read last: the head covers every event the report read
    return AuditReport(
        use_case, version, j.answers.title, j.answers.owner, j.at, generated,
        shown_url(str(ledger.url if ledger.path is None else ledger.path)), head, count, j.policy,
        registration, classify(j.policy, j.answers), reclassified, policies, tuple(_passages(j, version)),
        tuple(Waiver(e, _expires(e) is not None and j.at < _expires(e)) for e in j.mine if e.type == "waiver"),
        j.check, view, retired, tuple(e for e in timeline if e["version"] == version))


def _at(entry: dict) -> datetime:
    from tiergate.inputs.events import parse_time

    return parse_time(entry["at"])


def _expires(e: Event) -> datetime | None:
    from tiergate.inputs.events import parse_time

    return parse_time(e.data.get("expires"))


def _event(entry: dict) -> Event:
    from tiergate.ledger.service import body_event

    body = {k: v for k, v in entry.items() if k not in ("seq", "hash", "recorded_at")}
    return body_event(body, entry["seq"])


def _policies(ledger: Ledger, policy: Policy, start: datetime, end: datetime) -> list[PolicySpan]:
    """The policy versions in force at some time from `start` to `end` (each adoption's span reaches to the next)."""
    adoptions = ledger.policy_versions().adoptions
    if not adoptions:
        return [PolicySpan(policy.name, policy.version, policy.sha256, None, None)]
    spans = []
    for i, a in enumerate(adoptions):
        since = a.at if i else None
        until = adoptions[i + 1].at if i + 1 < len(adoptions) else None
        if (since is None or since <= end) and (until is None or until > start):
            spans.append(PolicySpan(a.name, a.version, a.sha256, since, until, a.actor, a.seq))
    return spans


def _passages(j: _Judged, version: str):
    """Each transition of the version with its gate judged as the replay judged it: on the events before it, at its
    time, under the policy and the roster of its era."""
    from tiergate.decide.classify import classify

    log = j.events.events
    for i, e in enumerate(log):
        if e.version != version or e.type != "transition" or e.at > j.at:
            continue
        era = j.timeline.at(e.at)
        under = (era.policy.name, era.policy.version, era.policy.sha256)
        to, mode = e.data["to"], e.data.get("mode")
        workflow = era.policy.workflow_of(classify(era.policy, j.answers).tier)
        if to not in workflow.stage_set:
            yield Passage(e, "?", under, era.roster.file, None,
                          problem=f"{to} is not a stage of workflow {workflow.name} of the policy then in force")
            continue
        try:
            gate = judge(era.policy, j.answers, log[:i], era.roster, version=version, to=to, mode=mode, at=e.at)
        except TiergateError as exc:
            yield Passage(e, "?", under, era.roster.file, None, problem=exc.diagnostics[0].message)
            continue
        before = [x for x in log[:i] if x.version == version]
        yield Passage(e, gate.stage, under, era.roster.file, bool(gate.allowed),
                      tuple(Proof(s, _read(s, before)) for s in gate.requirements))


def _read(s: Status, before: list[Event]) -> tuple[Event, ...]:
    """The events a requirement's outcome rests on: the latest evidence of its kind, the sign-offs for its gate in
    its roles, and the waivers of it when it is waived."""
    req = s.requirement
    found: list[Event] = []
    if req.kind == "evidence":
        latest = [e for e in before if e.type == "evidence" and e.data.get("kind") == req.subject]
        found += latest[-1:]
    elif req.kind == "signoff":
        found += [e for e in before if e.type == "signoff" and e.data.get("gate") == req.stage
                  and e.data.get("role") in req.roles]
    if s.status == WAIVED:
        found += [e for e in before if e.type == "waiver" and e.data.get("requirement") == req.id]
    return tuple(found)
