"""`check`: may a model version enter a stage now, and did its history follow the policy (replay)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .classify import Classification, classify
from .errors import WARNING, Diagnostic, Location, TiergateError, did_you_mean
from .events import Event, EventLog, Roster, format_time
from .gates import BREACH, OVERDUE, UNMET, Context, Status, evaluate_gate, evaluate_obligations
from .policy import Policy
from .questionnaire import Answers
from .workflow import VersionState, graph_of


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

    def to_dict(self) -> dict:
        return {"kind": self.kind, "version": self.version, "at": format_time(self.at), "from": self.from_stage,
                "to": self.to_stage, "mode": self.mode, "file": self.file, "line": self.line, "message": self.message,
                "unmet": [s.to_dict() for s in self.unmet]}


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


def _event_problems(policy: Policy, workflow, events: list[Event]) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Errors (unknown stages, unregistered versions) and warnings (unknown roles or requirement ids)."""
    errors, warnings = [], []
    stages = set(workflow.stages)
    registered: set[str] = set()
    requirement_ids = {r.id for t in policy.tiers for r in t.requirements}
    for e in events:
        if e.type == "registered":
            registered.add(e.version)
            continue
        if e.version not in registered:
            errors.append(Diagnostic("E420", f"{e.type} event for version {e.version} of {e.use_case}, which is not "
                                     "registered before it", e.location,
                                     hint="record a `registered` event for the version first"))
        stage = e.data.get("to") if e.type == "transition" else e.data.get("gate") if e.type == "signoff" else None
        if stage is not None and stage not in stages:
            what = "transition to" if e.type == "transition" else "sign-off for"
            errors.append(Diagnostic("E421", f"{what} stage `{stage}`, which is not a stage of workflow "
                                     f"`{workflow.name}`", e.location,
                                     hint=did_you_mean(stage, workflow.stages, "stages")))
        role = e.data.get("role")
        if role is not None and role not in policy.roles:
            warnings.append(Diagnostic("W423", f"role `{role}` is not a role of policy {policy.name}", e.location,
                                       WARNING, hint=did_you_mean(role, policy.roles, "roles")))
        if e.type == "waiver" and e.data["requirement"] not in requirement_ids:
            warnings.append(Diagnostic("W424", f"waiver for `{e.data['requirement']}`, which is no requirement id of "
                                       f"policy {policy.name}", e.location, WARNING,
                                       hint=did_you_mean(e.data["requirement"], sorted(requirement_ids), "ids")))
    return errors, warnings


def _roster_warnings(roster: Roster, events: list[Event]) -> list[Diagnostic]:
    out, seen = [], set()
    for e in events:
        if e.type in ("signoff", "waiver", "review") and not roster.knows(e.actor) and e.actor not in seen:
            seen.add(e.actor)
            out.append(Diagnostic("W425", f"{e.actor} is not in the roster, so their {e.type} counts for nothing",
                                  e.location, WARNING, hint=f"add {e.actor} with their roles to {roster.file}"))
    return out


def check(policy: Policy, answers: Answers | dict, events: EventLog | list[Event], roster: Roster, *,
          version: str | None = None, to: str | None = None, mode: str | None = None,
          at: datetime | None = None, replay: bool = False) -> CheckResult:
    """May `version` of the use case enter `to` at `at`? With replay, also every past transition is judged."""
    classification = classify(policy, answers)
    tier = policy.tier(classification.tier)
    workflow = policy.workflow_of(tier)
    graph = graph_of(workflow)
    log = events if isinstance(events, EventLog) else EventLog(tuple(events))
    mine = [e for e in log.events if e.use_case == classification.use_case]
    warnings = log.warnings_for(classification.use_case)
    at = at or datetime.now(timezone.utc)
    errors, event_warnings = _event_problems(policy, workflow, mine)
    warnings += event_warnings + _roster_warnings(roster, mine)
    where = Location(mine[0].file if mine else "<events>")
    versions = [e.version for e in mine if e.type == "registered" and e.at <= at]
    if version is None:
        if not versions:
            errors.append(Diagnostic("E422", f"no version of {classification.use_case} is registered "
                                     f"(by {format_time(at)})", where,
                                     hint="record a `registered` event, or check the use case id"))
        else:
            version = versions[-1]
    elif version not in versions:
        errors.append(Diagnostic("E422", f"version {version} of {classification.use_case} is not registered "
                                 f"(by {format_time(at)})", where, hint=did_you_mean(version, versions, "versions")))
    if to is not None and to not in graph:
        errors.append(Diagnostic("E421", f"`{to}` is not a stage of workflow `{workflow.name}`", Location("--to"),
                                 hint=did_you_mean(to, workflow.stages, "stages")))
    if errors:
        raise TiergateError(errors)

    ctx = Context(policy, tier, roster, classification.forbidden, classification.answers.answers)
    states: dict[str, VersionState] = {}
    violations: list[Violation] = []
    for e in mine:
        if e.at > at or (not replay and e.version != version):
            continue
        state = states.get(e.version)
        if state is None:
            state = states[e.version] = VersionState(classification.use_case, e.version, workflow.start)
        if e.type == "transition" and replay:
            violations.extend(_judge_transition(ctx, graph, state, e))
        state.apply(e)
    state = states[version]
    requirements: tuple[Status, ...] = ()
    allowed = None
    transition_ok = True
    if to is not None:
        requirements = tuple(evaluate_gate(ctx, state, to, mode, at))
        transition_ok = graph.has_edge(state.stage, to) and state.retired is None
        allowed = transition_ok and not any(s.failing for s in requirements)
    obligations = tuple(evaluate_obligations(ctx, state, at))
    standing: tuple[Status, ...] = ()
    if state.last_transition is not None:
        standing = tuple(evaluate_gate(ctx, state, state.stage, state.last_transition.data.get("mode"), at))
    return CheckResult(classification.use_case, version, tier.name, policy, at, state.stage, to, mode, allowed,
                       transition_ok, requirements, tuple(violations), obligations, replay, tuple(warnings),
                       classification, standing)


def _judge_transition(ctx: Context, graph, state: VersionState, e: Event) -> list[Violation]:
    to, mode = e.data["to"], e.data.get("mode")
    out = []
    if state.retired is not None:
        out.append(Violation("transition", state.version, e.at, state.stage, to, mode, e.file, e.line,
                             f"transition to {to} after the version was retired"))
    elif not graph.has_edge(state.stage, to):
        nexts = ", ".join(graph.successors(state.stage)) or "none"
        out.append(Violation("transition", state.version, e.at, state.stage, to, mode, e.file, e.line,
                             f"{state.stage} -> {to} is not an edge of the workflow (from {state.stage}: {nexts})"))
    statuses = evaluate_gate(ctx, state, to, mode, e.at)
    unmet = tuple(s for s in statuses if s.failing)
    if unmet:
        ids = ", ".join(s.id for s in unmet)
        out.append(Violation("gate", state.version, e.at, state.stage, to, mode, e.file, e.line,
                             f"entered {to} while its gate was not met: {ids}", unmet))
    return out
