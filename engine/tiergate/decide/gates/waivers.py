"""Waivers: which waiver counts for a requirement at a time, why the others do not, and what one does to a status."""
from __future__ import annotations

from datetime import datetime, timedelta

from tiergate.decide.gates.base import WAIVED, Context, Status
from tiergate.decide.workflow import VersionState
from tiergate.inputs.events import Event, format_time, parse_time
from tiergate.language.policy import Requirement
from tiergate.language.requirements import KINDS


def span_start(spans, start: datetime) -> datetime:
    """When the continuous waived span that a waiver starting at `start` belongs to began. `spans`: the (start, end)
    of the earlier waivers that may count. A waiver that starts before or when another ends continues it, so a
    waiver renewed before it ends does not restart the clock of the policy's `up to`, which bounds the whole span.
    The recording check (ledger/service.py) and the judging below use this one rule."""
    moved = True
    while moved:
        moved = False
        for begin, end in spans:
            if begin < start <= end:
                start, moved = begin, True
    return start


def _too_long(req: Requirement, waivers: tuple[Event, ...], index: int, expires: datetime, may_waive):
    """None when the waiver keeps within `up to`; else when its span began (its own start, or an earlier waiver's)."""
    if req.waiver_max is None:
        return None
    start = waivers[index].at
    if index:
        earlier = [(w.at, parse_time(w.data.get("expires"))) for w in waivers[:index] if may_waive(w)]
        start = span_start([(b, e) for b, e in earlier if e is not None], start)
    return start if expires - start > timedelta(seconds=req.waiver_max) else None


def _signed_enough(req: Requirement, waiver: Event) -> bool:
    """A waiver of a `signed` requirement counts only when it is signed too: else an unsigned waiver in a risk
    officer's name would stand in for the signatures the policy asks for."""
    return not req.signed or "envelope" in waiver.data


def find_waiver(req: Requirement, state: VersionState, ctx: Context, at: datetime) -> tuple[Event | None, list[str]]:
    """The waiver that counts for `req` at `at`, and why each other waiver does not."""
    notes: list[str] = []
    waivers = state.waivers.get(req.id)
    if not waivers:
        return None, notes
    def may_waive(w: Event) -> bool:
        return _signed_enough(req, w) and any(ctx.roster.holds(w.actor, role, w.at) for role in req.waivable_by)

    for index in range(len(waivers) - 1, -1, -1):
        w = waivers[index]
        if w.at > at:
            continue
        expires = parse_time(w.data.get("expires"))
        by = f"the waiver by {w.actor} ({w.location.place})"
        if not req.waivable_by:
            notes.append(f"{by} does not count: {req.id} is not waivable")
        elif not _signed_enough(req, w):
            notes.append(f"{by} does not count: it is not signed ({req.id} requires signed "
                         f"{KINDS[req.kind].signs}, so a waiver of it must be signed too)")
        elif not may_waive(w):
            notes.append(f"{by} does not count: only {', '.join(req.waivable_by)} may waive {req.id}")
        elif expires is None or expires <= at:
            notes.append(f"{by} expired at {format_time(expires)}")
        elif (began := _too_long(req, waivers, index, expires, may_waive)) is not None:
            days = (expires - began).total_seconds() / 86400
            span = "it runs" if began == w.at else f"with the waivers it renews (from {format_time(began)}) it runs"
            notes.append(f"{by} does not count: {span} {days:g} days, longer than the "
                         f"{req.waiver_max / 86400:g} days the policy allows")
        else:
            return w, notes
    return None, notes


def is_waived(req: Requirement, state: VersionState, ctx: Context, at: datetime) -> bool:
    """Whether a waiver counts for `req` at `at`: find_waiver's outcome, without the notes."""
    waivers = state.waivers.get(req.id)
    if not waivers or not req.waivable_by:
        return False
    def may_waive(w: Event) -> bool:
        return _signed_enough(req, w) and any(ctx.holds(w.actor, role, w.at) for role in req.waivable_by)

    for index in range(len(waivers) - 1, -1, -1):
        w = waivers[index]
        if w.at > at or not may_waive(w):
            continue
        expires = parse_time(w.data.get("expires"))
        if expires is None or expires <= at:
            continue
        if _too_long(req, waivers, index, expires, may_waive) is None:
            return True
    return False


def apply_waiver(status: Status, state: VersionState, ctx: Context, at: datetime) -> Status:
    """`status` waived when a waiver counts for its requirement at `at`; else with why each waiver does not."""
    waiver, notes = find_waiver(status.requirement, state, ctx, at)
    if waiver is not None:
        reason = (f"waived by {waiver.actor} until {waiver.data['expires']} ({waiver.location.place}): "
                  f"{waiver.data.get('justification', '')}; otherwise: {status.reason}")
        return Status(status.requirement, WAIVED, reason, status.last, status.next_due)
    if notes:
        return Status(status.requirement, status.status, status.reason + "; " + "; ".join(notes), status.last,
                      status.next_due)
    return status
