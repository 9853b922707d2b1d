"""Canonical JSON and the hash chain that makes the ledger tamper-evident."""
from __future__ import annotations

import hashlib

from tiergate.jsoncodec import canonical

__all__ = ["GENESIS", "canonical", "link"]

GENESIS = "0" * 64


def link(previous: str, canonical_body: str) -> str:
    """The hash of an event: SHA-256 over the previous event's hash and this event's canonical JSON."""
    digest = hashlib.sha256(previous.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_body.encode("utf-8"))
    return digest.hexdigest()
