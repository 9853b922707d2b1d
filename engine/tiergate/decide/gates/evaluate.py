"""A gate judged with reasons: each requirement by its kind's evaluator (registry.GateKind.evaluate), waivers
applied, and the forbids the use case triggers.

Replay decides gates without wording them (plan.py); obligations are evaluated in obligations.py.
"""
from __future__ import annotations

from datetime import datetime

from tiergate.decide.gates.base import UNMET, Context, Status
from tiergate.decide.gates.registry import REGISTRY
from tiergate.decide.gates.waivers import apply_waiver
from tiergate.decide.workflow import VersionState

def evaluate_gate(ctx: Context, state: VersionState, stage: str, mode: str | None, at: datetime,
                  explain: bool = True) -> list[Status]:
    """Every requirement for entering `stage`, plus any forbid the use case triggers.

    With explain=False the outcome is decided but reasons are left empty, and met requirements are left out.
    """
    out = list(ctx.forbids)
    if explain:
        for req in ctx.tier.gate(stage):
            status, reason = REGISTRY[req.kind].evaluate(req, state, ctx, mode, True)
            result = Status(req, status, reason)
            out.append(apply_waiver(result, state, ctx, at) if status == UNMET else result)
        return out
    for req, met in ctx.plan.gates.get(stage, ()):
        if not met(state, mode, ctx):
            out.append(apply_waiver(Status(req, UNMET, ""), state, ctx, at))
    return out
