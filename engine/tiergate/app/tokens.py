"""Access tokens for the service: issue one to a person of the roster, revoke it, list them, and tell who a request
comes from (ledger/tokens.py). A token is shown once, when it is issued; the ledger keeps only its hash."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tiergate.app.results import Recorded
from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.language.policy import Policy
from tiergate.ledger.service import Ledger


@dataclass(frozen=True)
class Issued:
    """A token just issued: the token itself (shown this once), and the event that records it."""
    token: str
    recorded: Recorded


class Unauthenticated(Exception):
    """A request without a token the ledger knows as valid now. The reason is for the log, not for the caller:
    every such request is answered alike."""


def issue(ledger: Ledger, policy: Policy, person: str, *, actor: str, at: datetime | None = None,
          expires: timedelta | None = None) -> Issued:
    """Issue a token to `person`, who must be in the roster the ledger holds; valid until `expires` from now (for
    good when None, until revoked)."""
    from tiergate.app.recording import when
    from tiergate.inputs.events import format_time, parse_time
    from tiergate.ledger.actions import record
    from tiergate.ledger.tokens import issued_body, new_token

    if expires is not None and expires <= timedelta(0):
        raise TiergateError(Diagnostic("E311", "a token's lifetime must be longer than nothing", Location("--expires")))
    token, token_id, sha256 = new_token()
    start = when(at)
    until = format_time(parse_time(start) + expires) if expires is not None else None
    body = issued_body(person, token_id, sha256, actor, start, until)
    row = record(ledger, policy, None, body, Location("token create"), strict=True)
    return Issued(token, Recorded(row.seq, row.hash, body))


def revoke(ledger: Ledger, policy: Policy, token_id: str, *, actor: str, at: datetime | None = None) -> Recorded:
    """Withdraw a token by its id: from now on it authenticates nobody."""
    from tiergate.app.recording import when
    from tiergate.ledger.actions import record
    from tiergate.ledger.tokens import revoked_body

    body = revoked_body(token_id.strip().lower(), actor, when(at))
    row = record(ledger, policy, None, body, Location("token revoke"), strict=True)
    return Recorded(row.seq, row.hash, body)


def tokens(ledger: Ledger) -> list:
    """Every token the ledger has issued (never the tokens themselves, nor their hashes), oldest first."""
    from tiergate.ledger.tokens import TokenBook

    return sorted(TokenBook(ledger.store).tokens.values(), key=lambda t: (t.issued_at, t.token_id))


def authenticate(ledger: Ledger, token: str | None, at: datetime) -> str:
    """The person a request carrying `token` comes from; Unauthenticated when the token is missing, unknown,
    expired or revoked, or its person is no longer in the roster."""
    from tiergate.ledger.tokens import PREFIX, TokenBook

    if not token or not token.startswith(PREFIX):
        raise Unauthenticated("no token, or not a tiergate token")
    found = TokenBook.read(ledger.store).find(token)
    if found is None:
        raise Unauthenticated("an unknown token")
    if not found.valid_at(at):
        raise Unauthenticated(f"token {found.token_id} is expired or revoked")
    roster = ledger.roster()
    person = roster.person(found.person) if roster is not None else None
    if person is None:
        raise Unauthenticated(f"token {found.token_id}: {found.person} is no longer in the roster")
    return person
