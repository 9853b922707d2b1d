"""Canonical JSON and the hash chain that makes the ledger tamper-evident."""
from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


#: made once: json.dumps with these options would build an encoder for every event
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(body: dict[str, Any]) -> str:
    """One text per event, whatever order its fields came in: sorted keys, no spaces, UTF-8.

    The same text as json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False).
    """
    return _ENCODER.encode(body)


def link(previous: str, canonical_body: str) -> str:
    """The hash of an event: SHA-256 over the previous event's hash and this event's canonical JSON."""
    digest = hashlib.sha256(previous.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_body.encode("utf-8"))
    return digest.hexdigest()
