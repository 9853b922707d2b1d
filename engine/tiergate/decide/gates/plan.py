"""A tier's gates compiled for deciding: each requirement with its kind's decider, one generated function per gate,
the statuses of its forbids, and its obligations; and which requirements of a gate fail.

Replay decides every transition this way and words a reason only when someone reads it; the deciders decide
exactly as the evaluators do (tests/test_replay_reference.py holds the two in agreement).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Callable

from tiergate.decide.gates.base import UNMET, Context, Status
from tiergate.decide.gates.code import compile_gate
from tiergate.decide.gates.obligations import schedule
from tiergate.decide.gates.registry import REGISTRY, Decider
from tiergate.decide.gates.waivers import apply_waiver
from tiergate.decide.workflow import VersionState
from tiergate.language.policy import Requirement, Tier


class TierPlan:
    """A tier's gates, compiled once: for each stage, every requirement with its decider, and one function that
    lists the blocking requirements neither met nor waived (code.compile_gate); the statuses of its forbids; and
    its obligations with their periods."""

    __slots__ = ("tier", "gates", "blocking", "obligations", "_forbids", "_variants")

    def __init__(self, tier: Tier):
        self.tier = tier
        self._variants: dict[frozenset, TierPlan] = {}
        self.gates: dict[str, tuple[tuple[Requirement, Decider], ...]] = {}
        self.blocking: dict[str, Callable[[VersionState, str | None, Context, datetime], list[Requirement]]] = {}
        for stage in dict.fromkeys(req.stage for req in tier.requirements if req.relation == "before"):
            decided = tuple((req, REGISTRY[req.kind].decide(req)) for req in tier.gate(stage))
            self.gates[stage] = decided
            self.blocking[stage] = compile_gate(tuple((req, met) for req, met in decided if req.blocking),
                                                f"{tier.name}@{stage}")
        self._forbids: dict[tuple, tuple[tuple[Status, ...], tuple[Status, ...]]] = {}
        self.obligations = schedule(tier)

    def for_answers(self, answers: dict | None) -> "TierPlan":
        """The plan of the tier as it holds for a use case with these answers: without the requirements whose `when`
        the answers do not meet. Each combination of requirements left out is compiled once and kept with this plan."""
        conditional = self.tier.conditional
        if not conditional or answers is None:
            return self
        left_out = frozenset(req.id for req in conditional if not req.applies(answers))
        if not left_out:
            return self
        plan = self._variants.get(left_out)
        if plan is None:
            tier = replace(self.tier, requirements=tuple(r for r in self.tier.requirements if r.id not in left_out))
            plan = self._variants.setdefault(left_out, TierPlan(tier))
        return plan

    def forbid_statuses(self, forbidden: tuple) -> tuple[tuple[Status, ...], tuple[Status, ...]]:
        """The statuses of the triggered forbids (Matches or requirements), and those of them that fail: worded
        once per tier, for they read nothing but the forbid."""
        key = tuple((f.id, f.because) for f in forbidden)
        found = self._forbids.get(key)
        if found is None:
            statuses = tuple(self._forbid_status(f) for f in forbidden)
            # another thread may have worded the same: either is right, and the first stays
            found = self._forbids.setdefault(key, (statuses, tuple(s for s in statuses if s.failing)))
        return found

    def _forbid_status(self, forbid) -> Status:
        req = self.tier.requirement(forbid.id)
        return REGISTRY[req.kind].forbidden(self.tier, req, forbid.because)


#: where a tier keeps its plan: in its own __dict__, so the plan lives and dies with the policy that holds it
_PLAN = "_tiergate_plan"


def plan_of(tier: Tier) -> TierPlan:
    """The tier's plan, compiled on first need and kept on the tier. Safe with many threads: a plan is published
    only whole, and when two threads compile one at once, both use the one stored first."""
    held = vars(tier)
    plan = held.get(_PLAN)
    if plan is not None and plan.tier is tier:
        return plan
    built = TierPlan(tier)
    plan = held.setdefault(_PLAN, built)  # atomic: one plan wins
    if plan.tier is not tier:  # a copy of a tier carries its original's plan: replace it
        plan = held[_PLAN] = built
    return plan


# --- deciding a gate ----------------------------------------------------------------------------

def unmet_requirements(ctx: Context, state: VersionState, stage: str, mode: str | None,
                       at: datetime) -> list[Requirement]:
    """The blocking requirements for entering `stage` that are neither met nor waived, in the gate's order
    (forbids aside): what `evaluate.evaluate_gate` finds failing, with nothing worded."""
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
    status, reason = REGISTRY[req.kind].evaluate(req, state, ctx, mode, True)
    return apply_waiver(Status(req, status, reason), state, ctx, at).reason
