"""Which recorded events still decide where a version stands: what `status` reads instead of the whole history.

Every event counts, except monitoring results and reviews that a later one replaces: obligations look only at
the latest monitoring result of each kind and the latest review by each person in each role. A version
monitored hourly for a year has thousands of results, and `status` needs one of each kind. The ledger keeps,
per version, one row per *slot* (store/base.py, StandingRow): a replaceable event's slot names what it replaces
(`monitoring:input_drift`), every other event has a slot of its own. The rows are computed here, above the
store, which only writes them.
"""
from __future__ import annotations

from typing import Any, Iterable

from tiergate.inputs.events import parse_time
from tiergate.jsoncodec import loads
from tiergate.ledger.store.base import OWN_SLOT, Store

#: the types of event that share a slot with others of their kind (the rest have a slot each)
SHARED = ("monitoring", "review", "roster", "decision")


def slot_of(body: dict[str, Any]) -> str | None:
    """The slot a later event of the same version takes over, or None for an event that always counts."""
    kind = body.get("type")
    if kind == "monitoring":
        return f"monitoring:{body.get('kind')}"
    if kind == "review":
        return f"review:{body.get('role')}:{body.get('actor')}"
    if kind == "roster":
        return "roster"
    if kind == "decision":  # (the decision log: status needs none of it, and keeps one row per version)
        return "decision"
    return None


def instant_of(body: dict[str, Any]) -> float:
    """The event's time in seconds since the epoch: which of two events in one slot is the later."""
    at = parse_time(body.get("at"))
    return at.timestamp() if at is not None else 0.0


def index_rows(rows: Iterable[tuple], seq: int, latest: dict[tuple, tuple]) -> list[tuple]:
    """The standing rows of events about to be stored after event `seq`, from rows (at, type, use_case, version,
    actor, body, slot, instant) as service.stored_row makes them: those of events with a slot of their own,
    returned, and in each shared slot only the latest event (by time, then by recording), kept in `latest` (by
    use case, version and slot) for the caller to write once all its rows are in (a later run may replace it)."""
    out, own = [], OWN_SLOT
    for _, _, use_case, version, _, _, slot, instant in rows:
        seq += 1
        if slot is None:
            out.append((use_case, version, f"{own}{seq}", instant, seq))
            continue
        key = (use_case, version, slot)
        known = latest.get(key)
        if known is None or instant >= known[3]:
            latest[key] = (use_case, version, slot, instant, seq)
    return out


def rebuild(store: Store) -> int:
    """Write the standing index of every stored event, into an index that is empty (inside `store.writing()`, or
    the migration that adds it). Returns its number of rows."""
    latest: dict[tuple, tuple] = {}
    own = 0

    def rows() -> Iterable[tuple]:
        nonlocal own
        for row in store.rows():
            try:
                body = loads(row.body)
            except (ValueError, RecursionError):  # a damaged row stays visible to `status`; `audit verify` reports it
                body = {}
            if not isinstance(body, dict):
                body = {}
            for standing in index_rows([(*row[1:7], slot_of(body), instant_of(body))], row.seq - 1, latest):
                own += 1
                yield standing

    store.put_standing(rows())
    store.put_standing(latest.values())
    return own + len(latest)
