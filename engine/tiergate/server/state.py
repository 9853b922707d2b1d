"""What a server holds between requests: its settings, its policy, and the ledgers it keeps open (pool.py). Each
request takes one ledger from the pool for all of its work; several worker threads, and several servers, share the
ledger as its store allows."""
from __future__ import annotations

from datetime import datetime, timezone

from tiergate.server.pool import LedgerPool
from tiergate.server.settings import Settings


class ServerState:
    def __init__(self, settings: Settings):
        from tiergate.language.load import load_policy
        from tiergate.ledger.inforce import policy_in_force
        from tiergate.ledger.service import Ledger

        from tiergate.server.metrics import Metrics

        self.settings = settings
        self.metrics = Metrics()
        with Ledger(settings.ledger, create=True) as ledger:  # (made, or brought to the current layout, once)
            self.policy = load_policy(settings.policy) if settings.policy else policy_in_force(ledger)
        self.pool = LedgerPool(settings.ledger, settings.connections)
        #: the private key the server signs its checkpoints with (read once, at start: E690 stops the start)
        self.checkpoint_key = None
        if settings.checkpoint_key is not None:
            from tiergate.app.checkpoints import signer_of
            from tiergate.inputs.signingkeys import load_private_key

            self.checkpoint_key = load_private_key(settings.checkpoint_key)
            with self.ledger() as ledger:
                signer_of(ledger, self.checkpoint_key, datetime.now(timezone.utc))  # (E692: no one's key)

    def ledger(self):
        """The request's ledger, lent by the pool (the same one to every use within a request)."""
        return self.pool.ledger()

    def authenticate(self, token: str | None) -> str:
        """The person the request's token was issued to (app/tokens.py); Unauthenticated otherwise."""
        from tiergate.app.tokens import authenticate

        with self.ledger() as ledger:
            return authenticate(ledger, token, datetime.now(timezone.utc))

    def checkpoint(self) -> str | None:
        """Record a signed checkpoint when anything was recorded since the last one; what to log (None: nothing new).
        A broken ledger gets no checkpoint, and says so."""
        from tiergate.app.checkpoints import anything_new, make_with

        with self.ledger() as ledger:
            if not anything_new(ledger):
                return None
            made = make_with(ledger, self.checkpoint_key)
        if made.seq is None:
            return f"no checkpoint recorded: LEDGER BROKEN: {made.verification.problem}"
        return f"checkpoint recorded (#{made.seq}): {made.body['count']} events, head {made.body['head']}"

    def close(self) -> None:
        self.pool.close()
