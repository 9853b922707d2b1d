"""Canonical JSON and the hash chain that makes the ledger tamper-evident."""
from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


#: made once: json.dumps with these options would build an encoder for every event. The C encoder is
#: called directly (what JSONEncoder.encode does, less a third of its time, which shows on an import)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
try:
    from _json import encode_basestring as _encode_text
    from _json import make_encoder as _make_encoder
except ImportError:  # a Python without the C accelerator
    _encode_chunks = None
else:
    # (markers, default, encoder, indent, key_separator, item_separator, sort_keys, skipkeys, allow_nan)
    # no circular-reference markers: bodies come from JSON or YAML (aliases refused), which cannot hold a cycle
    _encode_chunks = _make_encoder(None, _ENCODER.default, _encode_text, None, ":", ",", True, False, False)


def canonical(body: dict[str, Any]) -> str:
    """One text per event, whatever order its fields came in: sorted keys, no spaces, UTF-8.

    The same text as json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False).
    """
    if _encode_chunks is None or not isinstance(body, dict):
        return _ENCODER.encode(body)
    return "".join(_encode_chunks(body, 0))


def link(previous: str, canonical_body: str) -> str:
    """The hash of an event: SHA-256 over the previous event's hash and this event's canonical JSON."""
    digest = hashlib.sha256(previous.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_body.encode("utf-8"))
    return digest.hexdigest()
