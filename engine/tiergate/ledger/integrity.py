"""Integrity where decisions are made: the events a decision relies on are checked against the hash chain first,
and a stored event that cannot be read is named (its seq) instead of crashing whatever reads it.

`audit verify` (verify.py) checks the whole ledger; a decision cannot wait for that, but it need not trust the
database either. `check_use_case` checks, before `promote` or `check --ledger` decides, every event of the use
case and the stored roster: each row's hash recomputed from its body (chain.event_hash), its prev_hash equal to
the hash of the event before it by seq and its own hash equal to the prev_hash of the event after it, its
columns equal to its content, and every event the standing index names for the use case among those the store
gave. A version's events are few, so this costs a few queries by seq.
"""
from __future__ import annotations

from typing import Iterable

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.jsoncodec import loads
from tiergate.ledger.chain import GENESIS, event_hash
from tiergate.ledger.store.base import Row, Store

#: the use case and version of events that belong to no model (service.NOBODY: the roster)
_NOBODY = "-"
#: the fields every stored event has, which its row repeats in columns (in Row's order)
FIELDS = ("at", "type", "use_case", "version", "actor")
_HINT = ("the ledger was changed outside tiergate: `tiergate audit verify` checks all of it; restore it from a backup, "
         "or import its last export into a new ledger")


def broken(seq: int, why: str) -> TiergateError:
    """E620: an event the decision relies on does not fit the chain; nothing is decided."""
    return TiergateError(Diagnostic("E620", f"event {seq} of the ledger {why}; nothing was decided",
                                    Location("ledger", seq), hint=_HINT))


def unreadable(seq: int, why: str) -> TiergateError:
    """E621: a stored event cannot be read."""
    return TiergateError(Diagnostic("E621", f"event {seq} of the ledger cannot be read: {why}",
                                    Location("ledger", seq), hint=_HINT))


def kind_of(value: object) -> str:
    """What a stored value is, as a database names it."""
    if value is None:
        return "null"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "blob"
    return {str: "text", int: "integer", float: "real"}.get(type(value), type(value).__name__)


def read_body(text: object, seq: int) -> dict:
    """A stored body as a dict, or E621 naming `seq`: not text, not JSON, not an object, or without the fields
    every event has as text."""
    if type(text) is not str:
        raise unreadable(seq, f"its content is stored as {kind_of(text)}, not text")
    try:
        body = loads(text)
    except (ValueError, RecursionError):
        raise unreadable(seq, "its content is not JSON") from None
    if type(body) is not dict:
        raise unreadable(seq, "its content is not a JSON object")
    for name in FIELDS:
        if type(body.get(name)) is not str:
            raise unreadable(seq, f"its content has no `{name}` text")
    return body


def read_row(row: Row) -> dict:
    """A stored event's body (read_body), which must also agree with the row's columns (E621 naming its seq)."""
    body = read_body(row.body, row.seq)
    if (body["at"], body["type"], body["use_case"], body["version"], body["actor"]) != row[1:6]:
        raise unreadable(row.seq, "its columns do not match its content")
    return body


def check_use_case(store: Store, use_case: str) -> None:
    """Raise E620 (or E621) naming the first event of `use_case`, or the stored roster, that is unreadable or does
    not fit the hash chain; see the module's docstring."""
    rows = list(store.rows(use_case))
    roster = store.latest(_NOBODY, _NOBODY, "roster")
    if roster is not None:
        rows.append(roster)
    for row in rows:
        read_row(row)
    read = {row.seq for row in rows}
    # the standing index is reached by seq, not through the store's selection by use case: an event it names that
    # the selection misses was hidden from the decision
    for _, seq, _ in store.standing(use_case, use_case):
        if seq not in read:
            raise broken(seq, f"is missing from the events of {use_case} as the ledger gives them (the database's "
                         "own index of them was altered)")
    check_links(store, read)


def check_links(store: Store, seqs: Iterable[int]) -> None:
    """Raise E620 naming the first of these events whose hash is not that of its content after the event before it
    (by seq), or whose hash is not the prev_hash of the event after it."""
    seqs = sorted(set(seqs))
    got: dict[int, tuple] = {}
    for first, last in _runs(sorted({n for s in seqs for n in (s - 1, s, s + 1) if n >= 1})):
        for row in store.chain(first, last):
            got[row[0]] = row
    for seq in seqs:
        row = got.get(seq)
        if row is None:
            raise broken(seq, "is not in the hash chain")
        body, prev_hash, stored = row[6], row[7], row[8]
        before = got.get(seq - 1)
        if before is None:
            before = store.before(seq)
            if before is not None:
                raise broken(seq, f"does not follow event {before[0]}: event {seq - 1} was deleted")
        previous = before[-1] if before is not None else GENESIS
        if prev_hash != previous:
            raise broken(seq, f"does not follow event {seq - 1}: an event before it was deleted, inserted or reordered")
        if type(body) is not bytes:
            raise broken(seq, "was altered: its content is not stored as text")
        if type(stored) is not str or event_hash(previous, body) != stored:
            raise broken(seq, "was altered: its content does not match its hash")
        after = got.get(seq + 1)
        if after is not None and after[7] != stored:
            raise broken(seq + 1, f"does not follow event {seq}: one of the two was altered")


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted numbers as runs (first, last) of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs
