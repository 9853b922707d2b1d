"""Obligations: what a version must keep doing once it has entered a stage (monitoring results, reviews)."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache, partial

from tiergate.inputs.events import format_time
from tiergate.decide.gates.evaluate import (
    BREACH,
    DUE,
    OK,
    OVERDUE,
    WAIVED,
    Context,
    Status,
    _apply_waiver,
    _check_condition,
    is_waived,
    metrics_hold,
)
from tiergate.language.policy import Requirement, Tier
from tiergate.decide.workflow import VersionState

DUE_WINDOW = 0.10  # an obligation is `due` in the last 10% of its period


# --- evaluators, one per obligation kind ---------------------------------------------------------

def _obligation_monitoring(req: Requirement, state: VersionState, ctx: Context, at: datetime, explain: bool = True):
    last = state.monitoring.get(req.subject)
    if last is not None and last.at > at:
        last = None
    if last is None:
        return None, f"no {req.subject} result yet" if explain else "", None
    if req.condition is not None and not metrics_hold(req.condition.fn, last.data.get("metrics")):
        if not explain:
            return BREACH, "", last.at
        return BREACH, _check_condition(req.condition, last.data.get("metrics"), f"the latest {req.subject} result "
                                        f"(line {last.line}, {format_time(last.at)})"), last.at
    return None, f"latest {req.subject} result {format_time(last.at)}" if explain else "", last.at


def _obligation_review(req: Requirement, state: VersionState, ctx: Context, at: datetime, explain: bool = True):
    valid = [e for e in state.reviews if e.at <= at and e.data.get("role") in req.roles
             and ctx.holds(e.actor, e.data["role"], e.at)]
    last = valid[-1] if valid else None
    if last is not None and last.data.get("decision") == "reject":
        if not explain:
            return BREACH, "", last.at
        return BREACH, f"the latest review, by {last.actor} at {format_time(last.at)} (line {last.line}), rejected it", last.at
    if not explain:
        return None, "", last.at if last else None
    return None, (f"latest review by {last.actor} {format_time(last.at)}" if last else "no review yet"), \
        (last.at if last else None)


#: requirement kind -> evaluator, for obligations that hold once a version has entered a stage
#: (with explain=False they decide only, and leave the reason empty: it is worded when first read)
OBLIGATION_EVALUATORS = {
    "monitoring": _obligation_monitoring,
    "review": _obligation_review,
}


# --- obligations ------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _period(seconds: int) -> tuple[timedelta, timedelta]:
    """An obligation's period, and the last part of it in which the next result is due."""
    period = timedelta(seconds=seconds)
    return period, period * DUE_WINDOW


def schedule(tier: Tier) -> tuple[tuple[Requirement, timedelta, timedelta], ...]:
    """The tier's obligations, each with its period and the last part of it in which the next result is due."""
    return tuple((req, *_period(req.period)) for req in tier.obligations())


def evaluate_obligations(ctx: Context, state: VersionState, at: datetime) -> list[Status]:
    """Each obligation of the stages the version has entered, decided now; reasons are worded when first read."""
    out: list[Status] = []
    if (state.retired is not None and state.retired.at <= at) or not state.entered:
        return out
    evaluators, entered_at, waivers = OBLIGATION_EVALUATORS, state.entered, state.waivers
    for req, period, window in ctx.plan.obligations:
        entered = entered_at.get(req.stage)
        if entered is None or entered > at:
            continue
        status, _, last = evaluators[req.kind](req, state, ctx, at, False)
        next_due = (last if last is not None and last > entered else entered) + period  # the clock starts at entry
        if status is None:
            status = OVERDUE if at > next_due else DUE if at >= next_due - window else OK
        waivable = (status == OVERDUE or status == BREACH) and req.id in waivers
        if waivable and is_waived(req, state, ctx, at):
            status = WAIVED
        out.append(Status(req, status, partial(_word_obligation, req, state, ctx, at, waivable, next_due),
                          last, next_due))
    return out


def _word_obligation(req: Requirement, state: VersionState, ctx: Context, at: datetime, waivable: bool,
                     next_due: datetime) -> str:
    """The reason of an obligation's status (evaluate_obligations decided it)."""
    status, reason, last = OBLIGATION_EVALUATORS[req.kind](req, state, ctx, at, True)
    if status is None:
        if at > next_due:
            reason = f"{reason}; the next was due {format_time(next_due)}"
        elif at >= next_due - _period(req.period)[1]:
            reason = f"{reason}; the next is due {format_time(next_due)}"
    if waivable:
        return _apply_waiver(Status(req, status or OVERDUE, reason, last, next_due), state, ctx, at).reason
    return reason
