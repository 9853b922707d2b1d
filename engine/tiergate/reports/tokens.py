"""The access tokens a ledger has issued (`tiergate token list`): never the tokens, nor their hashes."""
from __future__ import annotations

import json

from tiergate.inputs.events import format_time
from tiergate.reports import escape


def as_text(listing) -> str:
    if not listing.tokens:
        return "no tokens issued\n"
    lines = []
    for t in listing.tokens:
        state = f"revoked {format_time(t.revoked_at)} by {t.revoked_by}" if t.revoked_at is not None else \
            (f"expires {format_time(t.expires)}" if t.expires is not None else "until revoked")
        lines.append(f"{t.token_id}  {t.person}  issued {format_time(t.issued_at)} by {t.issued_by}; {state}")
    return escape.lines(lines) + "\n"


def as_json(listing) -> str:
    return escape.json_text(json.dumps([t.to_dict() for t in listing.tokens], ensure_ascii=False, indent=2)) + "\n"
