"""Access tokens: who a request to the service comes from, decided by a credential and never by a claim in it.

A token is issued to one person of the roster by an operator (`tiergate token create PERSON`), printed once, and
never stored: the ledger keeps a `token_issued` event (who issued it, for whom, its public id, until when) with
the SHA-256 of the token, and a `token_revoked` event when it is withdrawn. Tokens are 256 random bits, so their
SHA-256 is as good as a slow hash and lets a request be looked up in one step; the stored hash is compared in
constant time. Like rosters and policy adoptions, token events belong to no model (use case and version `-`).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tiergate.errors import Diagnostic, Location
from tiergate.inputs.events import format_time, parse_time
from tiergate.ledger.kept import Kept

if TYPE_CHECKING:
    from tiergate.ledger.store.base import Store

ISSUED, REVOKED = "token_issued", "token_revoked"
NOBODY = "-"
#: what every token starts with (so that a leaked one is recognised by secret scanners and people alike)
PREFIX = "tg_"
_TOKEN_ID = re.compile(r"^[0-9a-f]{12}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def new_token() -> tuple[str, str, str]:
    """(token, its public id, its SHA-256): a fresh token of 256 random bits."""
    token = PREFIX + secrets.token_urlsafe(32)
    return token, secrets.token_hex(6), digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Token:
    """An issued token, as the ledger knows it (never the token itself)."""

    token_id: str
    person: str
    sha256: str
    issued_at: datetime
    issued_by: str
    expires: datetime | None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def valid_at(self, at: datetime) -> bool:
        return (self.revoked_at is None or at < self.revoked_at) and (self.expires is None or at < self.expires) \
            and self.issued_at <= at

    def to_dict(self) -> dict:
        """What may be shown of a token: never its hash."""
        return {"token_id": self.token_id, "person": self.person, "issued_at": format_time(self.issued_at),
                "issued_by": self.issued_by, "expires": format_time(self.expires),
                "revoked_at": format_time(self.revoked_at), "revoked_by": self.revoked_by}


def issued_body(person: str, token_id: str, sha256: str, actor: str, at: str, expires: str | None) -> dict:
    body = {"at": at, "type": ISSUED, "use_case": NOBODY, "version": NOBODY, "actor": actor, "person": person,
            "token_id": token_id, "token_sha256": sha256}
    if expires is not None:
        body["expires"] = expires
    return body


def revoked_body(token_id: str, actor: str, at: str) -> dict:
    return {"at": at, "type": REVOKED, "use_case": NOBODY, "version": NOBODY, "actor": actor, "token_id": token_id}


def body_problems(body: dict, where: Location) -> list[Diagnostic]:
    """What is wrong with the shape of a token event (E400)."""
    def bad(message: str) -> list[Diagnostic]:
        return [Diagnostic("E400", message, where)]

    if (body.get("use_case"), body.get("version")) != (NOBODY, NOBODY):
        return bad(f"a {body.get('type')} event belongs to no use case: its use_case and version are `{NOBODY}`")
    if not isinstance(body.get("token_id"), str) or not _TOKEN_ID.match(body["token_id"]):
        return bad("a token event names its token by `token_id`, 12 lowercase hexadecimal digits")
    if body.get("type") == ISSUED:
        if not isinstance(body.get("person"), str) or not body["person"].strip():
            return bad("a token_issued event names the `person` the token is for")
        if not isinstance(body.get("token_sha256"), str) or not _SHA256.match(body["token_sha256"]):
            return bad("a token_issued event holds the token's `token_sha256` (64 lowercase hexadecimal digits)")
        if "expires" in body and parse_time(body["expires"]) is None:
            return bad("`expires` of a token_issued event is an RFC 3339 time with an offset")
    return []


#: TokenBook.read's: by (ledger URL, seq and hash of the latest token_issued and token_revoked events)
_READ = Kept()


class TokenBook:
    """The tokens a ledger holds, read at once: look one up by the token a request carries."""

    @classmethod
    def read(cls, store: Store) -> TokenBook:
        """The tokens as `TokenBook(store)` reads them, kept while the ledger's latest token events are the same
        ones (by their seq and hash: token events are only ever appended, and a hash covers the whole chain up to
        it): a request costs one indexed read, not a read of every token event. Not to be changed by the
        caller."""
        latest = store.latest_each(NOBODY, NOBODY, (ISSUED, REVOKED))
        if not latest:
            return cls(store)
        return _READ.get((store.url, *sorted((row.seq, row.hash) for row in latest)), lambda: cls(store))

    def __init__(self, store: Store):
        from tiergate.ledger.integrity import read_row

        self.tokens: dict[str, Token] = {}
        self._by_hash: dict[str, str] = {}
        for row in store.rows(NOBODY, NOBODY, types=(ISSUED, REVOKED)):
            body = read_row(row)
            at = parse_time(body.get("at"))
            token_id = body.get("token_id")
            if body["type"] == ISSUED:
                self.tokens[token_id] = Token(token_id, body["person"], body["token_sha256"], at, body["actor"],
                                              parse_time(body.get("expires")))
                self._by_hash[body["token_sha256"]] = token_id
            elif token_id in self.tokens:
                known = self.tokens[token_id]
                self.tokens[token_id] = Token(known.token_id, known.person, known.sha256, known.issued_at,
                                              known.issued_by, known.expires, at, body["actor"])

    def find(self, token: str) -> Token | None:
        """The issued token that `token` is (whatever its state), or None. The stored hash is compared in constant
        time."""
        wanted = digest(token)
        token_id = self._by_hash.get(wanted)
        if token_id is None:
            return None
        found = self.tokens[token_id]
        return found if hmac.compare_digest(found.sha256, wanted) else None
