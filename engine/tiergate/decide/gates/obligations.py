"""Obligations: what a version must keep doing once it has entered a stage (monitoring results, reviews), decided
by each kind's obligation evaluator (registry.GateKind.obligation) and the clock; and the gate requirements it
entered its stage under a waiver of, once the waiver has run out (a `breach` until they are met)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache, partial

from tiergate.decide.gates.base import BREACH, DUE, OK, OVERDUE, WAIVED, Context, Status
from tiergate.decide.gates.registry import REGISTRY
from tiergate.decide.gates.waivers import apply_waiver, find_waiver, is_waived
from tiergate.decide.workflow import VersionState
from tiergate.inputs.events import Event, format_time
from tiergate.language.policy import Requirement, Tier

DUE_WINDOW = 0.10  # an obligation is `due` in the last 10% of its period
#: The next result of an obligation whose period runs past the last time there is (9999-12-31) is due then.
LAST_TIME = datetime.max.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=256)
def _period(seconds: int) -> tuple[timedelta, timedelta]:
    """An obligation's period, and the last part of it in which the next result is due (keyed by the seconds)."""
    period = timedelta(seconds=min(seconds, _LONGEST))  # (a compiled policy's periods are at most 100 years)
    return period, period * DUE_WINDOW


_LONGEST = int((LAST_TIME - datetime.min.replace(tzinfo=timezone.utc)).total_seconds())


def schedule(tier: Tier) -> tuple[tuple[Requirement, timedelta, timedelta], ...]:
    """The tier's obligations, each with its period and the last part of it in which the next result is due."""
    return tuple((req, *_period(req.period)) for req in tier.obligations())


def evaluate_obligations(ctx: Context, state: VersionState, at: datetime) -> list[Status]:
    """Each obligation of the stages the version has entered, decided now; reasons are worded when first read."""
    out: list[Status] = []
    if (state.retired is not None and state.retired.at <= at) or not state.entered:
        return out
    kinds, entered_at, waivers = REGISTRY, state.entered, state.waivers
    for req, period, window in ctx.plan.obligations:
        entered = entered_at.get(req.stage)
        if entered is None or entered > at:
            continue
        status, _, last = kinds[req.kind].obligation(req, state, ctx, at, False)
        try:
            next_due = (last if last is not None and last > entered else entered) + period  # the clock starts at entry
        except OverflowError:
            next_due = LAST_TIME
        if status is None:
            status = OVERDUE if at > next_due else DUE if at >= next_due - window else OK
        waivable = (status == OVERDUE or status == BREACH) and req.id in waivers
        if waivable and is_waived(req, state, ctx, at):
            status = WAIVED
        out.append(Status(req, status, partial(_word_obligation, req, state, ctx, at, waivable, next_due),
                          last, next_due))
    if state.waivers:
        out.extend(waiver_breaches(ctx, state, at))
    return out


class WaiverBreach(Status):
    """A requirement of the gate of the stage the version is in, which it entered while a waiver of it counted:
    the waiver has run out and the requirement is still not met. A breach until it is met or the version leaves
    the stage (or a new waiver counts)."""

    __slots__ = ("waiver", "entered")

    def __init__(self, requirement: Requirement, reason, waiver: Event, entered: datetime):
        super().__init__(requirement, BREACH, reason)
        self.waiver = waiver  # the latest waiver that counted since the version entered the stage
        self.entered = entered  # when the version entered the stage

    def _key(self) -> tuple:
        return (*super()._key(), self.waiver, self.entered)

    def waiver_dict(self) -> dict:
        w = self.waiver
        return {"requirement": self.requirement.id, "event": w.location.place, "by": w.actor,
                "justification": w.data.get("justification", ""), "expires": w.data.get("expires"),
                "entered": format_time(self.entered)}

    def to_dict(self) -> dict:
        """An obligation's keys (`last` and `next_due` null: no result is due by a clock), then the waiver's."""
        out = super().to_dict()
        out.update({"last": None, "next_due": None,
                    "waiver": {k: v for k, v in self.waiver_dict().items() if k != "requirement"}})
        return out


def waiver_breaches(ctx: Context, state: VersionState, at: datetime) -> list[Status]:
    """The requirements of the gate of the stage the version is in that a waiver counted for when it entered the stage
    (its latest entry), that no waiver counts for now and that are not met now: each a WaiverBreach."""
    entry = state.last_transition
    if entry is None or entry.at > at or entry.data["to"] != state.stage or \
            (state.retired is not None and state.retired.at <= at):
        return []
    entered, mode, out = entry.at, entry.data.get("mode"), []
    for req, met in ctx.plan.gates.get(state.stage, ()):
        if req.id not in state.waivers or not is_waived(req, state, ctx, entered) or is_waived(req, state, ctx, at) \
                or met(state, mode, ctx):
            continue
        waiver = find_waiver(req, state, ctx, entered)[0]
        for later in state.waivers[req.id]:  # a renewal after the entry that counted when given, and ran out too
            if entered < later.at <= at and find_waiver(req, state, ctx, later.at)[0] is later:
                waiver = later
        out.append(WaiverBreach(req, partial(_word_breach, req, state, ctx, mode, waiver, entered), waiver, entered))
    return out


def _word_breach(req: Requirement, state: VersionState, ctx: Context, mode: str | None, waiver: Event,
                 entered: datetime) -> str:
    _, reason = REGISTRY[req.kind].evaluate(req, state, ctx, mode, True)
    justification = waiver.data.get("justification", "")
    return (f"entered {state.stage} at {format_time(entered)} under the waiver by {waiver.actor} "
            f"({waiver.location.place}: {justification}), which expired at {waiver.data.get('expires')}; "
            f"still unmet: {reason}")


def _word_obligation(req: Requirement, state: VersionState, ctx: Context, at: datetime, waivable: bool,
                     next_due: datetime) -> str:
    """The reason of an obligation's status (evaluate_obligations decided it)."""
    status, reason, last = REGISTRY[req.kind].obligation(req, state, ctx, at, True)
    if status is None:
        if at > next_due:
            reason = f"{reason}; the next was due {format_time(next_due)}"
        elif at >= next_due - _period(req.period)[1]:
            reason = f"{reason}; the next is due {format_time(next_due)}"
    if waivable:
        return apply_waiver(Status(req, status or OVERDUE, reason, last, next_due), state, ctx, at).reason
    return reason
