"""`require review by ROLE every PERIOD after STAGE`: periodic reviews by someone holding the role; the latest
one rejecting the version breaches the obligation. `require signed review ...` counts signed reviews only."""
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
    unsigned = None
    if req.signed:  # only signed reviews count, approving or rejecting
        unsigned = next((e for e in reversed(valid) if "envelope" not in e.data), None)
        valid = [e for e in valid if "envelope" in e.data]
    last = valid[-1] if valid else None
    if last is not None and last.data.get("decision") == "reject":
        if not explain:
            return BREACH, "", last.at
        return BREACH, (f"the latest review, by {last.actor} at {format_time(last.at)} ({last.location.place}), "
                        "rejected it"), last.at
    if not explain:
        return None, "", last.at if last else None
    reason = f"latest review by {last.actor} {format_time(last.at)}" if last else "no review yet"
    if unsigned is not None and (last is None or unsigned.at > last.at):
        reason += (f"; {unsigned.actor}'s review at {format_time(unsigned.at)} ({unsigned.location.place}) does not "
                   "count: it is not signed (the policy requires signed reviews)")
    return None, reason, (last.at if last else None)


register(GateKind("review", obligation=obligation))
