"""`require review by ROLE every PERIOD after STAGE`: periodic reviews by someone holding the role; the latest
one rejecting the version breaches the obligation."""
from __future__ import annotations

from datetime import datetime

from tiergate.decide.gates.base import BREACH, Context
from tiergate.decide.gates.registry import GateKind, register
from tiergate.decide.workflow import VersionState
from tiergate.inputs.events import format_time
from tiergate.language.policy import Requirement


def obligation(req: Requirement, state: VersionState, ctx: Context, at: datetime, explain: bool = True):
    valid = [e for e in state.reviews if e.at <= at and e.data.get("role") in req.roles
             and ctx.holds(e.actor, e.data["role"], e.at)]
    last = valid[-1] if valid else None
    if last is not None and last.data.get("decision") == "reject":
        if not explain:
            return BREACH, "", last.at
        return BREACH, (f"the latest review, by {last.actor} at {format_time(last.at)} ({last.location.place}), "
                        "rejected it"), last.at
    if not explain:
        return None, "", last.at if last else None
    return None, (f"latest review by {last.actor} {format_time(last.at)}" if last else "no review yet"), \
        (last.at if last else None)


register(GateKind("review", obligation=obligation))
