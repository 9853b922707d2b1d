"""The hash chain that makes the ledger tamper-evident, over the events' canonical JSON.

An event's hash is the SHA-256, in lowercase hex, of the previous event's hash, a newline, and the event's
canonical JSON in UTF-8 (docs/ledger.md, "Tamper evidence"); the first event's previous hash is GENESIS.
`event_hash` is the one place that formula is written: appends, imports and `audit verify` all call it.
"""
from __future__ import annotations

from hashlib import sha256
from typing import Iterable

from tiergate.jsoncodec import canonical

__all__ = ["GENESIS", "canonical", "chained", "event_hash"]

GENESIS = "0" * 64


def event_hash(previous: str, body: bytes) -> str:
    """The hash of an event whose canonical JSON, in UTF-8, is `body`, after the event whose hash is `previous`."""
    return sha256(previous.encode() + b"\n" + body).hexdigest()


def chained(rows: Iterable[tuple], seq: int, previous: str) -> tuple[list[tuple], str]:
    """Number and chain rows (at, type, use_case, version, actor, canonical body, slot, instant), as
    service.stored_row makes them, after the event (`seq`, `previous`): ([(seq, at, type, use_case, version,
    actor, body, prev_hash, hash)] as Store.append takes them, the last hash)."""
    out = []
    append = out.append  # (this loop runs once per event of an import)
    for at, type_, use_case, version, actor, body, _, _ in rows:
        seq += 1
        digest = event_hash(previous, body.encode())
        append((seq, at, type_, use_case, version, actor, body, previous, digest))
        previous = digest
    return out, previous
