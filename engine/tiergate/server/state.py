"""What a server holds between requests: its settings and its policy. The ledger is opened for each request, on a
connection of its own (so that several worker threads, and several servers, share it as the store allows)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

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

    @contextmanager
    def ledger(self):
        from tiergate.ledger.service import Ledger

        ledger = Ledger(self.settings.ledger, create=False)
        try:
            yield ledger
        finally:
            ledger.close()

    def authenticate(self, token: str | None) -> str:
        """The person the request's token was issued to (app/tokens.py); Unauthenticated otherwise."""
        from tiergate.app.tokens import authenticate

        with self.ledger() as ledger:
            return authenticate(ledger, token, datetime.now(timezone.utc))
