"""A tier's gates compiled for deciding: each requirement kind's decider, and which requirements of a gate fail.

Replay decides every transition this way and words a reason only when someone reads it; the deciders decide
exactly as the evaluators of gates.py (tests/test_replay_reference.py holds the two in agreement).
"""
from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Callable

from tiergate.decide.gates.code import compile_gate
from tiergate.decide.gates.evaluate import (
    GATE_EVALUATORS,
    UNMET,
    Context,
    Status,
    _apply_waiver,
    forbid_status,
    metrics_hold,
)
from tiergate.decide.gates.obligations import schedule
from tiergate.language.policy import Requirement, Tier
from tiergate.decide.workflow import VersionState

Decider = Callable[[VersionState, "str | None", Context], bool]


# --- deciders: the evaluators' outcome without their reasons, compiled once per requirement -------

def _decide_signoff(req: Requirement) -> Decider:
    count = req.count
    keys = tuple(((req.stage, role), role) for role in req.roles)

    def met(state: VersionState, mode: str | None, ctx: Context) -> bool:
        author = state.author
        always, timed = ctx.always, ctx.timed
        for key, role in keys:
            approvers: list[str] = []
            for e in state.signoffs.get(key, ()):
                actor = e.actor
                held = always.get(actor)
                holds = (held is not None and role in held) or (actor in timed and ctx.roster.holds(actor, role, e.at))
                if e.data["decision"] == "reject":
                    if holds:
                        approvers = []
                elif holds and actor != author and actor not in approvers:
                    approvers.append(actor)
            if len(approvers) < count:
                return False
        return True

    return met


def _decide_evidence(req: Requirement) -> Decider:
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


def _decide_deployment(req: Requirement) -> Decider:
    modes = frozenset(req.modes)
    return lambda state, mode, ctx: mode is not None and mode in modes


#: requirement kind -> decider factory: from a requirement, a callable (state, mode, ctx) -> met?
#: that decides exactly as the kind's evaluator does (tests hold the two in agreement), without wording
#: a reason; replay decides every transition this way and explains only the requirements that failed
GATE_DECIDERS: dict[str, Callable[[Requirement], Decider]] = {
    "signoff": _decide_signoff,
    "evidence": _decide_evidence,
    "deployment": _decide_deployment,
}


# --- plans: a tier's gates, compiled once ---------------------------------------------------------

class TierPlan:
    """A tier's gates, compiled once: for each stage, every requirement with its decider, and one function that
    lists the blocking requirements neither met nor waived (gatecode.py); the statuses of its forbids; and its
    obligations with their periods."""

    __slots__ = ("tier", "gates", "blocking", "obligations", "_forbids")

    def __init__(self, tier: Tier):
        self.tier = tier
        self.gates: dict[str, tuple[tuple[Requirement, Decider], ...]] = {}
        self.blocking: dict[str, Callable[[VersionState, str | None, Context, datetime], list[Requirement]]] = {}
        for stage, requirements in tier._gates.items():
            decided = tuple((req, GATE_DECIDERS[req.kind](req)) for req in requirements)
            self.gates[stage] = decided
            self.blocking[stage] = compile_gate(tuple((req, met) for req, met in decided if req.blocking),
                                                f"{tier.name}@{stage}")
        self._forbids: dict[tuple, tuple[tuple[Status, ...], tuple[Status, ...]]] = {}
        self.obligations = schedule(tier)

    def forbid_statuses(self, forbidden: tuple) -> tuple[tuple[Status, ...], tuple[Status, ...]]:
        """The statuses of the triggered forbids (Matches or requirements), and those of them that fail: worded
        once per tier, for they read nothing but the forbid."""
        key = tuple((f.id, f.because) for f in forbidden)
        found = self._forbids.get(key)
        if found is None:
            statuses = tuple(forbid_status(self.tier, f) for f in forbidden)
            found = self._forbids[key] = (statuses, tuple(s for s in statuses if s.failing))
        return found


_plans: dict[int, TierPlan] = {}


def plan_of(tier: Tier) -> TierPlan:
    plan = _plans.get(id(tier))
    if plan is None or plan.tier is not tier:
        if len(_plans) >= 256:  # a long-lived process that compiles policy after policy
            _plans.clear()
        plan = _plans[id(tier)] = TierPlan(tier)
    return plan


# --- deciding a gate ----------------------------------------------------------------------------

def unmet_requirements(ctx: Context, state: VersionState, stage: str, mode: str | None,
                       at: datetime) -> list[Requirement]:
    """The blocking requirements for entering `stage` that are neither met nor waived, in the gate's order
    (forbids aside): what `evaluate_gate` finds failing, with nothing worded."""
    gate = ctx.plan.blocking.get(stage)
    return gate(state, mode, ctx, at) if gate is not None else []


def failing_statuses(ctx: Context, state: VersionState, unmet: list[Requirement], mode: str | None,
                     at: datetime) -> tuple[Status, ...]:
    """The failing statuses of a gate whose unmet requirements are `unmet`: the failing forbids, then each of
    them. Each reason is worded when first read, from a snapshot of the version's state now: a replay decides
    every transition, and words only the reasons someone reads."""
    if not unmet:
        return ctx.failing_forbids
    now = state.snapshot()
    return (*ctx.failing_forbids,
            *(Status(req, UNMET, partial(_word_failing, req, now, ctx, mode, at)) for req in unmet))


def _word_failing(req: Requirement, state: VersionState, ctx: Context, mode: str | None, at: datetime) -> str:
    status, reason = GATE_EVALUATORS[req.kind](req, state, ctx, mode, True)
    return _apply_waiver(Status(req, status, reason), state, ctx, at).reason
