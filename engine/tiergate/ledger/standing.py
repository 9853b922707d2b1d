"""Which recorded events still decide where a version stands: what `status` reads instead of the whole history.

Every event counts, except monitoring results and reviews that a later one replaces: obligations look only at
the latest monitoring result of each kind and the latest review by each person in each role. A version
monitored hourly for a year has thousands of results, and `status` needs one of each kind. The store keeps,
per version, one row per *slot*: a replaceable event's slot names what it replaces (`monitoring:input_drift`),
every other event has a slot of its own.
"""
from __future__ import annotations

from typing import Any

from tiergate.inputs.events import parse_time


#: the types of event that share a slot with others of their kind (the rest have a slot each)
SHARED = ("monitoring", "review", "roster")
#: SHARED as an SQL list
SHARED_SQL = "(" + ", ".join(f"'{kind}'" for kind in SHARED) + ")"

def slot_of(body: dict[str, Any]) -> str | None:
    """The slot a later event of the same version takes over, or None for an event that always counts."""
    kind = body.get("type")
    if kind == "monitoring":
        return f"monitoring:{body.get('kind')}"
    if kind == "review":
        return f"review:{body.get('role')}:{body.get('actor')}"
    if kind == "roster":
        return "roster"
    return None


def instant_of(body: dict[str, Any]) -> float:
    """The event's time in seconds since the epoch: which of two events in one slot is the later."""
    at = parse_time(body.get("at"))
    return at.timestamp() if at is not None else 0.0
