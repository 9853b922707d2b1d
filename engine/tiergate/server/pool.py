"""The ledgers a server keeps open between requests: at most `size` at once, each lent to one request at a time.

Opening a ledger costs a connection (on PostgreSQL a new backend process, about as long as the request itself) and
a look at the ledger's layout, so a server opens each once and lends it to request after request. A ledger is
checked before it is lent again (`Store.alive`): one whose connection the database cut while it sat idle is closed
and another opened, so a database that restarted costs no request an error. A request takes one ledger for the whole
of its work, authentication included; an inner `ledger()` in the same thread gets the same one. The appends of
requests answered at the same time share a transaction (ledger/groupcommit.py).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.ledger.groupcommit import GroupCommit

#: how long a request waits for a ledger when all are lent, before it is answered 503 (E657)
WAIT_S = 30.0


class LedgerPool:
    def __init__(self, target: str, size: int):
        self.target, self.size = target, size
        self._idle: list = []  # (the most recently returned last: it is the likeliest to be alive)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._held = threading.local()
        #: ledgers opened over the pool's life (for /metrics and the tests: a pool that works opens few)
        self.opened = 0
        #: what the pool's ledgers append through: the appends of requests answered at once share a commit
        self.group = GroupCommit()

    @contextmanager
    def ledger(self) -> Iterator:
        held = getattr(self._held, "ledger", None)
        if held is not None:  # (an inner use within the same request)
            yield held
            return
        if not self._slots.acquire(timeout=WAIT_S):
            raise TiergateError(Diagnostic(
                "E657", f"every one of the server's {self.size} ledger connections was busy for {WAIT_S:g} seconds",
                Location("<server>"), hint="try again shortly; an operator may raise `tiergate serve --connections`"))
        ledger = None
        try:
            ledger = self._take()
            self._held.ledger = ledger
            try:
                yield ledger
            except TiergateError:
                raise  # (a refusal or a store's own problem: the store rolled back; `alive` judges it when next lent)
            except BaseException:
                ledger.close()  # (an internal failure: nothing is known of the connection's state)
                ledger = None
                raise
        finally:
            self._held.ledger = None
            if ledger is not None:
                with self._lock:
                    self._idle.append(ledger)
            self._slots.release()

    def _take(self):
        from tiergate.ledger.service import Ledger

        while True:
            with self._lock:
                ledger = self._idle.pop() if self._idle else None
            if ledger is None:
                ledger = Ledger(self.target, create=False, group=self.group)
                self.opened += 1
                return ledger
            if ledger.store.alive():
                return ledger
            ledger.close()

    def close(self) -> None:
        """Close the idle ledgers (when the server stops)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for ledger in idle:
            try:
                ledger.close()
            except Exception:  # noqa: BLE001 - a connection the database already cut closes with an error
                pass
