"""`require monitoring KIND [where CONDITION] every PERIOD after STAGE`: results keep arriving, and the latest
satisfies the condition (else the obligation is breached)."""
from __future__ import annotations

from datetime import datetime

from tiergate.decide.gates.base import BREACH, Context, condition_problem, metrics_hold
from tiergate.decide.gates.registry import GateKind, register
from tiergate.decide.workflow import VersionState
from tiergate.inputs.events import format_time
from tiergate.language.policy import Requirement


def obligation(req: Requirement, state: VersionState, ctx: Context, at: datetime, explain: bool = True):
    last = state.monitoring.get(req.subject)
    if last is not None and last.at > at:
        last = None
    if last is None:
        return None, f"no {req.subject} result yet" if explain else "", None
    if req.condition is not None and not metrics_hold(req.condition.fn, last.data.get("metrics")):
        if not explain:
            return BREACH, "", last.at
        return BREACH, condition_problem(req.condition, last.data.get("metrics"), f"the latest {req.subject} result "
                                         f"({last.location.place}, {format_time(last.at)})"), last.at
    return None, f"latest {req.subject} result {format_time(last.at)}" if explain else "", last.at


register(GateKind("monitoring", obligation=obligation))
