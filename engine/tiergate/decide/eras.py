"""Judging a history under the policy and the roster in force at each moment of it.

A policy is revised every few months and the roster whenever people change roles; a model's history spans
both. An `Era` is a stretch of time judged under one policy version and one roster: from its `since` to the
next era's. A replay judges each past transition under the era of its time (and says which in each violation),
while the gate asked about now is judged under the policy and the roster given to `check`.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from tiergate.inputs.events import Roster
from tiergate.language.policy import Policy, Workflow


@dataclass(frozen=True, eq=False)
class Era:
    """From `since` (None: from the start of the history) to the next era, `policy` and `roster` were in force."""

    since: datetime | None
    policy: Policy
    roster: Roster


class Timeline:
    """Eras in time order; `at(t)` is the era in force at `t` (the first one before any starts). Made once and
    passed to every check of a replay (`check(eras=timeline)`)."""

    def __init__(self, eras: Sequence[Era]):
        if not eras:
            raise ValueError("a timeline has at least one era")
        ordered = sorted(eras, key=lambda e: (e.since is not None, e.since or datetime.min))
        self.eras = tuple(ordered)
        self._starts = [e.since for e in ordered if e.since is not None]
        self._first_dated = len(ordered) - len(self._starts)
        #: when each era ends (the next one's start; None for the last)
        self.ends = tuple([e.since for e in ordered[1:]] + [None])

    def index_at(self, when: datetime) -> int:
        return max(0, bisect_right(self._starts, when) - 1 + self._first_dated)

    def at(self, when: datetime) -> Era:
        return self.eras[self.index_at(when)]

    def __len__(self) -> int:
        return len(self.eras)


def may_move(workflow: Workflow, stage: str, to: str) -> bool:
    """Whether a version at `stage` may move to `to` along `workflow`: an edge of it, or, for a version *off its
    workflow* (at a stage its workflow does not have, after its policy changed), any stage of the workflow (the
    gate of the stage it enters decides)."""
    return (stage, to) in workflow.edge_set or (stage not in workflow.stage_set and to in workflow.stage_set)


class EraJudge:
    """What judging one use case's transitions under one era needs: its tier under the era's policy, that tier's
    workflow, plan and gates. Made once per use case and era."""

    __slots__ = ("era", "classification", "workflow", "ctx", "gates")

    def __init__(self, era: Era, answers):
        from tiergate.decide.classify import classify
        from tiergate.decide.gates.base import Context
        from tiergate.decide.gates.plan import plan_of

        self.era = era
        self.classification = classify(era.policy, answers)
        tier = era.policy.tier(self.classification.tier)
        self.workflow = era.policy.workflow_of(tier)
        self.ctx = Context(era.policy, plan_of(tier), era.roster, self.classification.forbidding,
                           self.classification.values)
        self.gates = self.ctx.plan.blocking
