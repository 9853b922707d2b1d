"""`require evidence KIND [where CONDITION] [for NAME, ...] before STAGE`: the latest evidence of the kind is
recorded and, with a condition, its metrics (each named attribute's, with `for`) satisfy it. `require signed
evidence ...`: the latest evidence of the kind must be signed (an unsigned one after a signed one does not count).
`recorded by ROLE`: the latest evidence of the kind counts only when the person who recorded it (the event's actor)
held one of the roles at the time of the evidence (the roster then)."""
from __future__ import annotations

from tiergate.decide.gates.base import MET, UNMET, Context, condition_holds, condition_problem, describe_values, \
    for_attributes, metrics_hold
from tiergate.decide.gates.registry import Decider, GateKind, register
from tiergate.decide.gates.source import GateSource
from tiergate.decide.workflow import VersionState
from tiergate.inputs.events import format_time
from tiergate.language.policy import Requirement


def evaluate(req: Requirement, state: VersionState, ctx: Context, mode: str | None,
             explain: bool = True) -> tuple[str, str]:
    e = state.evidence.get(req.subject)
    if e is None:
        return UNMET, f"no {req.subject} evidence recorded for version {state.version}" if explain else ""
    if req.signed and "envelope" not in e.data:
        return UNMET, (f"the latest {req.subject} evidence ({e.location.place}, {format_time(e.at)}) does not count: "
                       "it is not signed (the policy requires signed evidence)") if explain else ""
    if req.recorded_by and not any(ctx.holds(e.actor, role, e.at) for role in req.recorded_by):
        return UNMET, (f"{req.subject} evidence was recorded by {e.actor}, who does not hold "
                       f"{' or '.join(req.recorded_by)} (the latest {req.subject}, {e.location.place}, "
                       f"{format_time(e.at)}, does not count)") if explain else ""
    if req.condition is None:
        return MET, f"the latest {req.subject} ({e.location.place}, {format_time(e.at)}) is recorded" if explain else ""
    if req.for_names:
        attributes = e.data.get("attributes") or {}
        names = for_attributes(req, ctx.answers or {})
        checked = [(name, attributes.get(name)) for name in names]
    else:
        names = []
        checked = [(None, e.data.get("metrics"))]
    failed = [(name, metrics) for name, metrics in checked if not condition_holds(req.condition, metrics)]
    if not explain:
        return (UNMET if failed else MET), ""
    where = f"the latest {req.subject} ({e.location.place}, {format_time(e.at)})"
    if req.for_names and not names:
        return MET, f"{where} is recorded (the use case names no {', '.join(req.for_names)} to test)"
    if failed:
        problems = []
        for name, metrics in failed:
            if name is not None and metrics is None:
                problems.append(f"{where} has no metrics for {name}")
            else:
                problems.append(condition_problem(req.condition, metrics,
                                                  where if name is None else f"{where}, for {name}"))
        return UNMET, "; ".join(problems)
    if req.for_names:
        return MET, f"{where} satisfies `{req.condition.text}` for {', '.join(names)}"
    return MET, f"{where} satisfies `{req.condition.text}` ({describe_values(req.condition, e.data['metrics'])})"


def decide(req: Requirement) -> Decider:
    met = _decide(req)
    if not req.signed and not req.recorded_by:
        return met
    subject, signed, recorded_by = req.subject, req.signed, req.recorded_by

    def met_signed(state: VersionState, mode: str | None, ctx: Context) -> bool:
        e = state.evidence.get(subject)
        if e is None or (signed and "envelope" not in e.data):
            return False
        if recorded_by and not any(ctx.holds(e.actor, role, e.at) for role in recorded_by):
            return False
        return met(state, mode, ctx)

    return met_signed


def _decide(req: Requirement) -> Decider:
    subject, condition = req.subject, req.condition
    if condition is None:
        def recorded(state: VersionState, mode: str | None, ctx: Context) -> bool:
            return subject in state.evidence
        return recorded
    fn = condition.fn
    if req.for_names:
        def met(state: VersionState, mode: str | None, ctx: Context) -> bool:
            e = state.evidence.get(subject)
            if e is None:
                return False
            attributes = e.data.get("attributes") or {}
            return all(metrics_hold(fn, attributes.get(name)) for name in ctx.attributes(req))
        return met

    def met_plain(state: VersionState, mode: str | None, ctx: Context) -> bool:
        e = state.evidence.get(subject)
        return e is not None and metrics_hold(fn, e.data.get("metrics"))

    return met_plain


def code(req: Requirement, source: GateSource) -> str | None:
    if req.condition is not None or req.signed or req.recorded_by:
        return None  # the decider reads the metrics, each attribute's when there is a `for`
    source.needs("    evidence = state.evidence")
    return f"{req.subject!r} in evidence"


register(GateKind("evidence", evaluate=evaluate, decide=decide, code=code))
