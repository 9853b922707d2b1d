"""`check`: may a model version enter a stage now, and did its history follow the policy (replay)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Sequence

from tiergate.decide.classify import Classification, classify
from tiergate.errors import WARNING, Diagnostic, Location, TiergateError, did_you_mean
from tiergate.inputs.events import Event, EventLog, Roster, format_time
from tiergate.decide.gates.base import Context, Status
from tiergate.decide.gates.evaluate import evaluate_gate
from tiergate.decide.gates.obligations import evaluate_obligations
from tiergate.decide.gates.plan import failing_statuses, plan_of
from tiergate.language.policy import Policy, Requirement, Workflow
from tiergate.inputs.answers import Answers
from tiergate.decide.eras import Era, EraJudge, Timeline, may_move
from tiergate.decide.workflow import APPLY, LatestMonitoring, VersionState


@dataclass(frozen=True)
class Violation:
    """A transition that broke the policy: its gate was not met, or it did not follow the workflow."""

    kind: str  # "gate" | "transition"
    version: str
    at: datetime
    from_stage: str
    to_stage: str
    mode: str | None
    file: str
    line: int
    message: str
    unmet: tuple[Status, ...] = ()
    #: the policy (name, version, sha256) and the roster (where it comes from) the transition was judged under:
    #: those in force at its time (decide/eras.py)
    policy: tuple[str, str, str] | None = None
    roster: str | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "version": self.version, "at": format_time(self.at), "from": self.from_stage,
                "to": self.to_stage, "mode": self.mode, "file": self.file, "line": self.line, "message": self.message,
                "unmet": [s.to_dict() for s in self.unmet],
                "policy": dict(zip(("name", "version", "sha256"), self.policy)) if self.policy else None,
                "roster": self.roster}


@dataclass(frozen=True)
class CheckResult:
    use_case: str
    version: str
    tier: str
    policy: Policy
    at: datetime
    stage: str
    target: str | None
    mode: str | None
    allowed: bool | None  # None when no target stage was asked about
    transition_ok: bool
    requirements: tuple[Status, ...]
    violations: tuple[Violation, ...]
    obligations: tuple[Status, ...]
    replay: bool
    warnings: tuple[Diagnostic, ...] = ()
    classification: Classification | None = field(default=None, compare=False, repr=False)
    #: the gate of the stage the version is in, judged again at `at` (does it still stand there?)
    standing: tuple[Status, ...] = ()

    @property
    def compliant(self) -> bool:
        """No violation in its history, no failing obligation, and the gate of its stage still met."""
        return not self.violations and not any(o.failing for o in self.obligations) \
            and not any(s.failing for s in self.standing)

    @property
    def failing(self) -> bool:
        return (self.allowed is False or bool(self.violations)
                or any(o.failing for o in self.obligations))

    def has_warnings(self) -> bool:
        return any(s.warning for s in self.requirements) or any(o.warning for o in self.obligations)

    def exit_code(self, fail_on_warn: bool = False) -> int:
        if self.failing:
            return 1
        return 1 if fail_on_warn and self.has_warnings() else 0

    def to_dict(self) -> dict:
        return {
            "use_case": self.use_case,
            "version": self.version,
            "tier": self.tier,
            "policy": self.policy.identity(),
            "at": format_time(self.at),
            "stage": self.stage,
            "target": self.target,
            "mode": self.mode,
            "allowed": self.allowed,
            "requirements": [s.to_dict() for s in self.requirements],
            "violations": [v.to_dict() for v in self.violations],
            "obligations": [o.to_dict() for o in self.obligations],
            "warnings": [d.to_dict() for d in self.warnings],
        }


def _spelled_as_in(roster: Roster, e: Event) -> Event:
    """The event with its actor as the roster spells the name, when the roster knows that person by another spelling
    (names are compared trimmed and case-folded): separation of duties and role checks then compare one identity."""
    name = roster.person(e.actor)
    return e if name is None or name == e.actor else replace(e, actor=name)


def check(policy: Policy, answers: Answers | dict, events: EventLog | list[Event], roster: Roster, *,
          version: str | None = None, to: str | None = None, mode: str | None = None,
          at: datetime | None = None, replay: bool = False,
          eras: Timeline | Sequence[Era] | None = None) -> CheckResult:
    """May `version` of the use case enter `to` at `at`? With replay, also every past transition is judged: under
    `policy` and `roster`, or, given `eras`, under the policy and the roster in force at its time (decide/eras.py).

    An event naming a stage the workflow does not have (recorded under another policy) is kept and reported once
    (W426); a version at such a stage is off its workflow (W427) and may move to any stage of it whose gate it
    meets (eras.may_move)."""
    classification = classify(policy, answers)
    tier = policy.tier(classification.tier)
    workflow = policy.workflow_of(tier)
    use_case = classification.use_case
    if isinstance(events, EventLog):
        log_events, warnings = events.events, events.warnings_for(use_case)
    else:
        log_events, warnings = events if isinstance(events, (list, tuple)) else tuple(events), []
    backwards = recorded_out_of_order(log_events, use_case)
    if backwards is not None:
        warnings = [*warnings, backwards]
    at = at or datetime.now(timezone.utc)
    ctx = Context(policy, plan_of(tier), roster, classification.forbidding, classification.values)
    stages, roles, people, ids = workflow.stage_set, policy.role_set, roster.people, policy.requirement_ids
    gates, edges, forbid_blocks = ctx.plan.blocking, workflow.edge_set, ctx.forbid_blocks
    errors: list[Diagnostic] = []
    unknown_people: set[str] = set()
    unknown_stages: set[str] = set()
    # the eras, walked forward as the transitions come in time order: `judge` is None while the present's policy
    # and roster are in force (judging with them needs nothing more), _LATER until the era's first transition
    timeline = (eras if isinstance(eras, Timeline) else Timeline(eras)) if replay and eras else None
    judges: dict[int, EraJudge] = {}
    judge, era_index, era_ends = None, 0, None
    if timeline is not None:
        judge, era_ends = _LATER, timeline.ends[0]
    states: dict[str, VersionState] = {}
    registered: list[str] = []  # versions registered by `at`, in order
    violations: list[Violation] = []
    # One pass over the use case's events: check each (unknown stages, unregistered versions, people and
    # roles the policy or roster does not know), and move each version's state along as of `at`. The
    # common event types come first and are applied here as workflow.APPLY would; an event is looked at
    # closely (_check_event) only when something is off.
    for e in log_events:
        if e.use_case != use_case:
            continue
        kind = e.type
        if kind == "monitoring" and e.version in states:  # the most common events: the latest of each kind is
            continue  # found when asked (below)
        if e.actor not in people:  # `Raj` or ` raj` for the roster's `raj`: one identity, spelled as the roster does
            e = _spelled_as_in(roster, e)
        state = states.get(e.version)
        if state is None:
            if kind != "registered":
                errors.append(Diagnostic("E420", f"{kind} event for version {e.version} of {use_case}, which is not "
                                         "registered before it", e.location,
                                         hint="record a `registered` event for the version first"))
                continue
            state = states[e.version] = VersionState(use_case, e.version, workflow.start)
        data = e.data
        if kind == "evidence":
            if e.at <= at:
                state.evidence[data["kind"]] = e
            continue
        if kind == "signoff":
            if data["gate"] not in stages or data["role"] not in roles or e.actor not in people:
                _check_event(e, kind, data, workflow, stages, roles, roster, unknown_people, unknown_stages, policy,
                             warnings)
            if e.at <= at:  # as workflow.APPLY would
                key, signoffs = (data["gate"], data["role"]), state.signoffs
                signoffs[key] = signoffs.get(key, ()) + (e,)
            continue
        if kind == "transition":
            to_stage = data["to"]
            if to_stage not in stages:
                _check_event(e, kind, data, workflow, stages, roles, roster, unknown_people, unknown_stages, policy,
                             warnings)
            if e.at <= at:
                if era_ends is not None and e.at >= era_ends:  # (a later era: the transitions come in time order)
                    era_index = timeline.index_at(e.at)
                    era_ends, judge = timeline.ends[era_index], _LATER
                if judge is _LATER:
                    judge = _judge_of(timeline.eras[era_index], policy, roster, answers, judges)
                if judge is not None:  # under the policy and the roster in force then
                    if not errors and to_stage in judge.workflow.stage_set:
                        gate = judge.gates.get(to_stage)
                        unmet = gate(state, data.get("mode"), judge.ctx, e.at) if gate is not None else ()
                        start = state.stage if state.last_transition is not None else judge.workflow.start
                        if unmet or judge.ctx.forbid_blocks or state.retired is not None or \
                                (start, to_stage) not in judge.workflow.edge_set:
                            _judge_in_era(judge, state, e, unmet, violations)
                elif replay and not errors and to_stage in stages:  # judged with what was known then; looked at
                    gate = gates.get(to_stage)  # closely when not passed
                    unmet = gate(state, data.get("mode"), ctx, e.at) if gate is not None else ()
                    if unmet or forbid_blocks or state.retired is not None or (state.stage, to_stage) not in edges:
                        _judge_transition(ctx, workflow, state, e, unmet, violations)
                state.stage = to_stage
                if to_stage not in state.entered:
                    state.entered[to_stage] = e.at
                state.last_transition = e
            continue
        if kind == "registered":
            if e.at <= at:
                registered.append(e.version)
        elif kind in _CHECKED:  # a waiver or a review
            role = data.get("role")
            if (role is not None and role not in roles) or e.actor not in people or \
                    (kind == "waiver" and data["requirement"] not in ids):
                _check_event(e, kind, data, workflow, stages, roles, roster, unknown_people, unknown_stages, policy,
                             warnings)
        if e.at <= at:
            APPLY[kind](state, e)
    if version is None:
        if not registered:
            errors.append(Diagnostic("E422", f"no version of {use_case} is registered (by {format_time(at)})",
                                     _where(log_events, use_case),
                                     hint="record a `registered` event, or check the use case id"))
        else:
            version = registered[-1]
    elif version not in registered:
        errors.append(Diagnostic("E422", f"version {version} of {use_case} is not registered (by {format_time(at)})",
                                 _where(log_events, use_case), hint=did_you_mean(version, registered, "versions")))
    if to is not None and to not in stages:
        errors.append(Diagnostic("E421", f"`{to}` is not a stage of workflow `{workflow.name}`", Location("--to"),
                                 hint=did_you_mean(to, workflow.stages, "stages")))
    if errors:
        raise TiergateError(errors)
    if not replay:
        violations = []
    state = states[version]
    state.monitoring = LatestMonitoring(log_events, use_case, version, at)
    requirements: tuple[Status, ...] = ()
    allowed = None
    transition_ok = True
    if state.stage not in stages:
        warnings = [*warnings, _off_workflow(state, workflow, log_events)]
    if to is not None:
        requirements = tuple(evaluate_gate(ctx, state, to, mode, at))
        transition_ok = may_move(workflow, state.stage, to) and state.retired is None
        allowed = transition_ok and not any(s.failing for s in requirements)
    obligations = tuple(evaluate_obligations(ctx, state, at))
    standing: tuple[Status, ...] = ()
    if state.last_transition is not None and state.stage in stages:
        stage_mode = state.last_transition.data.get("mode")
        standing = tuple(evaluate_gate(ctx, state, state.stage, stage_mode, at, explain=False))
        if any(s.failing for s in standing):
            standing = tuple(evaluate_gate(ctx, state, state.stage, stage_mode, at))
    return _result(use_case, version, tier.name, policy, at, state.stage, to, mode, allowed, transition_ok,
                   requirements, tuple(violations), obligations, replay, tuple(warnings), classification, standing)


def _result(use_case, version, tier, policy, at, stage, target, mode, allowed, transition_ok, requirements,
            violations, obligations, replay, warnings, classification, standing) -> CheckResult:
    """The same CheckResult as its constructor makes, with its fields set at once rather than one by one through
    the frozen dataclass's __setattr__ (a bulk replay makes one per use case)."""
    result = _new(CheckResult)
    _set(result, "__dict__", {
        "use_case": use_case, "version": version, "tier": tier, "policy": policy, "at": at, "stage": stage,
        "target": target, "mode": mode, "allowed": allowed, "transition_ok": transition_ok,
        "requirements": requirements, "violations": violations, "obligations": obligations, "replay": replay,
        "warnings": warnings, "classification": classification, "standing": standing})
    return result


def _violation(kind, version, at, from_stage, to_stage, mode, file, line, message, unmet, policy,
               roster) -> Violation:
    """Violation(...), made as `_result` makes a CheckResult (a replay finds thousands)."""
    violation = _new(Violation)
    _set(violation, "__dict__", {
        "kind": kind, "version": version, "at": at, "from_stage": from_stage, "to_stage": to_stage, "mode": mode,
        "file": file, "line": line, "message": message, "unmet": unmet, "policy": policy, "roster": roster})
    return violation


_new, _set = object.__new__, object.__setattr__


def _where(events, use_case: str) -> Location:
    """Where a problem with the whole use case is reported: the file of its first event."""
    first = next((e for e in events if e.use_case == use_case), None)
    return Location(first.file if first else "<events>")


_CHECKED = frozenset(("transition", "signoff", "waiver", "review"))  # the event types that name stages, roles or people


def recorded_out_of_order(events: Sequence[Event], use_case: str) -> Diagnostic | None:
    """A warning (W631) naming the first of a ledger's events of `use_case` dated before one recorded earlier (an
    imported history keeps its times; the recording commands refuse such a time), else None. The events are still
    judged in time order, as the history says it happened."""
    if not events or events[0].file != "ledger":
        return None
    latest = None
    for e in sorted((e for e in events if e.use_case == use_case and e.file == "ledger"), key=lambda e: e.seq):
        if latest is None or e.at >= latest.at:
            latest = e
            continue
        warning = Diagnostic("W631", f"event {e.seq} ({e.type} by {e.actor}) is dated {format_time(e.at)}, before "
                                     f"event {latest.seq} ({format_time(latest.at)}), which was recorded earlier: "
                                     f"the history of {use_case} was not recorded in time order",
                             e.location, WARNING, "an event dated before events recorded earlier may be backdated")
        return warning
    return None


def _check_event(e: Event, kind: str, data: dict, workflow, stages: frozenset, roles: frozenset, roster: Roster,
                 unknown_people: set, unknown_stages: set, policy: Policy, warnings: list) -> None:
    """Warnings about one event of a registered version: a stage, role, requirement or person the policy or the
    roster does not know (each stage and person once)."""
    if kind == "transition" or kind == "signoff":
        stage = data["to"] if kind == "transition" else data["gate"]
        if stage not in stages and stage not in unknown_stages:
            unknown_stages.add(stage)
            what = "a transition to" if kind == "transition" else "a sign-off for"
            warnings.append(Diagnostic(
                "W426", f"{what} stage `{stage}`, which workflow `{workflow.name}` does not have: kept as history "
                f"(recorded under another policy, or another tier), it counts for no gate of `{workflow.name}`",
                e.location, WARNING, hint=did_you_mean(stage, workflow.stages, "stages")))
    if kind in ("signoff", "waiver", "review"):
        role = data.get("role")
        if role is not None and role not in roles:
            warnings.append(Diagnostic("W423", f"role `{role}` is not a role of policy {policy.name}", e.location,
                                       WARNING, hint=did_you_mean(role, policy.roles, "roles")))
        if kind == "waiver" and data["requirement"] not in policy.requirement_ids:
            warnings.append(Diagnostic("W424", f"waiver for `{data['requirement']}`, which is no requirement id of "
                                       f"policy {policy.name}", e.location, WARNING,
                                       hint=did_you_mean(data["requirement"], sorted(policy.requirement_ids), "ids")))
        if not roster.knows(e.actor) and e.actor not in unknown_people:
            unknown_people.add(e.actor)
            warnings.append(Diagnostic("W425", f"{e.actor} is not in the roster, so their {kind} counts for nothing",
                                       e.location, WARNING, hint=f"add {e.actor} with their roles to {roster.file}"))


def _off_workflow(state: VersionState, workflow: Workflow, events: Sequence[Event]) -> Diagnostic:
    """W427: the version stands at a stage its workflow does not have (its policy, or its tier, changed)."""
    where = state.last_transition.location if state.last_transition is not None else _where(events, state.use_case)
    return Diagnostic("W427", f"version {state.version} of {state.use_case} is at stage `{state.stage}`, which "
                      f"workflow `{workflow.name}` does not have: it is off its workflow", where, WARNING,
                      hint=f"promote it to a stage of `{workflow.name}` ({', '.join(workflow.stages)}); the gate of "
                           "the stage it enters decides")


_LATER = object()  # (an era's judge, made at its first transition)


def _judge_of(era: Era, policy: Policy, roster: Roster, answers, judges: dict) -> EraJudge | None:
    """What judges a transition in `era`: None when it is the present's policy and roster (the plain path)."""
    if era.policy is policy and era.roster is roster:
        return None
    judge = judges.get(id(era))
    if judge is None:
        judge = judges[id(era)] = EraJudge(era, answers)
    return judge


def _judge_in_era(judge: EraJudge, state: VersionState, e: Event, unmet, out: list[Violation]) -> None:
    """Say what was wrong with transition `e`, judged under the policy and the roster in force at its time
    (`judge`'s era; `unmet`: its gate's requirements neither met nor waived then): along that policy's workflow
    for the use case, from its start when the version had not moved."""
    current = state.stage
    if state.last_transition is None:
        state.stage = judge.workflow.start
    _judge_transition(judge.ctx, judge.workflow, state, e, unmet, out)
    state.stage = current


def _judge_transition(ctx: Context, workflow: Workflow, state: VersionState, e: Event, unmet: list[Requirement],
                      out: list[Violation]) -> None:
    """Add to `out` what was wrong with transition `e`, judged with what was known then: `unmet` are the blocking
    requirements of its gate that were neither met nor waived (plan.unmet_requirements)."""
    data = e.data
    to, mode = data["to"], data.get("mode")
    under = ((ctx.policy.name, ctx.policy.version, ctx.policy.sha256), ctx.roster.file)
    if state.retired is not None:
        out.append(_violation("transition", state.version, e.at, state.stage, to, mode, e.file, e.line,
                              f"transition to {to} after the version was retired", (), *under))
    elif not may_move(workflow, state.stage, to):
        nexts = ", ".join(workflow.successors(state.stage)) or "none"
        message = f"{state.stage} -> {to} is not an edge of the workflow (from {state.stage}: {nexts})"
        out.append(_violation("transition", state.version, e.at, state.stage, to, mode, e.file, e.line, message, (),
                              *under))
    if unmet or ctx.forbid_blocks:
        statuses = failing_statuses(ctx, state, unmet, mode, e.at)
        ids = ", ".join([s.requirement.id for s in statuses])
        out.append(_violation("gate", state.version, e.at, state.stage, to, mode, e.file, e.line,
                              f"entered {to} while its gate was not met: {ids}", statuses, *under))
