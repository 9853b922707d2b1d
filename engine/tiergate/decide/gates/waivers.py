"""Waivers: which waiver counts for a requirement at a time, why the others do not, and what one does to a status."""
from __future__ import annotations

from datetime import datetime, timedelta

from tiergate.decide.gates.base import WAIVED, Context, Status
from tiergate.decide.workflow import VersionState
from tiergate.inputs.events import Event, format_time, parse_time
from tiergate.language.policy import Requirement


def find_waiver(req: Requirement, state: VersionState, ctx: Context, at: datetime) -> tuple[Event | None, list[str]]:
    """The waiver that counts for `req` at `at`, and why each other waiver does not."""
    notes: list[str] = []
    waivers = state.waivers.get(req.id)
    if not waivers:
        return None, notes
    for w in reversed(waivers):
        if w.at > at:
            continue
        expires = parse_time(w.data.get("expires"))
        by = f"the waiver by {w.actor} (line {w.line})"
        if not req.waivable_by:
            notes.append(f"{by} does not count: {req.id} is not waivable")
        elif not any(ctx.roster.holds(w.actor, role, w.at) for role in req.waivable_by):
            notes.append(f"{by} does not count: only {', '.join(req.waivable_by)} may waive {req.id}")
        elif expires is None or expires <= at:
            notes.append(f"{by} expired at {format_time(expires)}")
        elif req.waiver_max is not None and expires - w.at > timedelta(seconds=req.waiver_max):
            days = (expires - w.at).total_seconds() / 86400
            notes.append(f"{by} does not count: it runs {days:g} days, longer than the "
                         f"{req.waiver_max / 86400:g} days the policy allows")
        else:
            return w, notes
    return None, notes


def is_waived(req: Requirement, state: VersionState, ctx: Context, at: datetime) -> bool:
    """Whether a waiver counts for `req` at `at`: find_waiver's outcome, without the notes."""
    waivers = state.waivers.get(req.id)
    if not waivers or not req.waivable_by:
        return False
    for w in reversed(waivers):
        if w.at > at or not any(ctx.holds(w.actor, role, w.at) for role in req.waivable_by):
            continue
        expires = parse_time(w.data.get("expires"))
        if expires is None or expires <= at:
            continue
        if req.waiver_max is None or expires - w.at <= timedelta(seconds=req.waiver_max):
            return True
    return False


def apply_waiver(status: Status, state: VersionState, ctx: Context, at: datetime) -> Status:
    """`status` waived when a waiver counts for its requirement at `at`; else with why each waiver does not."""
    waiver, notes = find_waiver(status.requirement, state, ctx, at)
    if waiver is not None:
        reason = (f"waived by {waiver.actor} until {waiver.data['expires']} (line {waiver.line}): "
                  f"{waiver.data.get('justification', '')}; otherwise: {status.reason}")
        return Status(status.requirement, WAIVED, reason, status.last, status.next_due)
    if notes:
        return Status(status.requirement, status.status, status.reason + "; " + "; ".join(notes), status.last,
                      status.next_due)
    return status
