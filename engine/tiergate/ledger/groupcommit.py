"""Group commit: the appends that threads of one process make at the same time share one transaction and one commit.

A server records for many people at once, and every append takes the ledger's write lock, reads what its validation
needs and commits (on SQLite and PostgreSQL alike, a flush to disk). Appends that arrive while another is being
written wait in a queue; the next thread to write takes every waiting append along and writes them in one
transaction, on its own connection, one after another: each is validated against the ledger as the appends before it
left it, exactly as if each had had a transaction of its own. Each thread gets back its own rows, or its own refusal.

What one append's refusal does to the others: nothing. A refusal is raised while the append is validated, before
any of its rows is written (Ledger.append_bodies), so the others go on. Any other failure while an append is
validated or written (the database went away, a fault inside) rolls the whole transaction back; the append that
failed gets its error and the others are written again in a new transaction. A commit that fails is every waiting
append's error: nothing of any of them was written.
"""
from __future__ import annotations

import copy
import threading
from typing import Callable

from tiergate.errors import TiergateError

#: the codes of a store's own failures (store/base.py): not a refusal of one append, but a transaction gone wrong
STORE_FAILURES = ("E600",)


class _Append:
    __slots__ = ("check", "rows", "error", "done", "woken")

    def __init__(self, check: Callable):
        self.check = check
        self.rows: list | None = None
        self.error: BaseException | None = None
        self.done = False
        #: set when the append is written (or refused), or when its thread is to write the next transaction
        self.woken = threading.Event()


class GroupCommit:
    def __init__(self):
        self._lock = threading.Lock()
        self._waiting: list[_Append] = []
        self._writing = False
        #: transactions committed and appends written through them (for the tests and /metrics)
        self.commits = 0
        self.appends = 0

    @property
    def waiting(self) -> int:
        """The appends queued behind the transaction being written."""
        with self._lock:
            return len(self._waiting)

    def write(self, ledger, check: Callable, keep: list) -> None:
        """Append what `check(ledger)` returns (rows, validated under the write lock; it raises to refuse), in a
        transaction shared with the appends waiting alongside; the rows as stored are added to `keep`.

        The thread that finds nobody writing writes every waiting append, its own among them; when it is done it
        wakes each of them, and hands the next transaction to the oldest append that arrived meanwhile (one thread
        woken per append, not every waiting thread at every commit)."""
        mine = _Append(check)
        with self._lock:
            self._waiting.append(mine)
            leading = not self._writing
            if leading:
                self._writing, batch, self._waiting = True, self._waiting, []
        if not leading:
            mine.woken.wait()
            if not mine.done:  # (handed the next transaction: everything waiting now, this one first)
                with self._lock:
                    batch, self._waiting = self._waiting, []
        if not mine.done:
            try:
                self._write_all(ledger, batch)
            finally:
                with self._lock:
                    if self._waiting:
                        self._waiting[0].woken.set()
                    else:
                        self._writing = False
                for append in batch:
                    append.woken.set()
        if mine.error is not None:
            raise mine.error
        keep.extend(mine.rows)

    def _write_all(self, ledger, batch: list[_Append]) -> None:
        pending = batch
        try:
            while pending:
                pending = self._transaction(ledger, pending)
        except BaseException as exc:  # noqa: BLE001 - (the transaction could not begin or commit: every append's)
            for append in pending:
                append.rows, append.error = None, exc
        finally:
            for append in batch:
                append.done = True

    def _transaction(self, ledger, pending: list[_Append]) -> list[_Append]:
        """Write the pending appends in one transaction: [] once it committed. When one of them failed otherwise
        than by a refusal, that one is finished with its error and the others are returned, to be tried again from
        the start (what was decided of them in the transaction rolled back is forgotten)."""
        failed: list[tuple[_Append, BaseException]] = []
        for append in pending:
            append.rows, append.error = None, None
        from tiergate.ledger.service import READ_WHEN_WRITING

        head = None  # (seq, hash) of the last event, once this transaction has written one
        view = copy.copy(ledger)  # (the ledger as the transaction sees it: _Shared)
        view.store = _Shared(ledger.store)
        try:
            with ledger.store.writing(latest=READ_WHEN_WRITING):
                for append in pending:
                    try:
                        rows = append.check(view)
                    except Exception as exc:  # noqa: BLE001 - a refusal is this append's answer alone
                        if not _refusal(exc):
                            failed.append((append, exc))
                            raise
                        append.error = exc
                        continue
                    append.rows = []
                    try:
                        view.chain_rows([rows], append.rows, head)
                    except BaseException as exc:
                        failed.append((append, exc))
                        raise
                    if append.rows:
                        head = append.rows[-1].seq, append.rows[-1].hash
        except BaseException:
            if not failed:
                raise  # (the transaction could not begin or commit: every pending append's error)
            culprit, exc = failed[0]
            culprit.rows, culprit.error, culprit.done = None, exc, True
            return [a for a in pending if a is not culprit]
        self.commits += 1
        self.appends += sum(1 for a in pending if a.error is None)
        return []


class _Shared:
    """The store as one group transaction sees it: what the appends' validations read of a use case (its
    registrations, latest transitions, the roster, the adoption in force) is read once and kept until an append of
    the transaction writes an event it would read. Nobody else writes while the transaction holds the write lock,
    so what is kept is what the store would answer."""

    def __init__(self, store):
        self._store = store
        #: (use case, version or None, types or None) -> what was read: a list of rows, or one row or None
        self._kept: dict[tuple, object] = {}

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def _read(self, key: tuple, method: str, read):
        if (method, key) not in self._kept:
            self._kept[(method, key)] = read()
        return self._kept[(method, key)]

    def latest(self, use_case: str, version: str | None, type_: str):
        return self._read((use_case, version, (type_,)), "latest",
                          lambda: self._store.latest(use_case, version, type_))

    def latest_each(self, use_case: str, version: str, types):
        return list(self._read((use_case, version, tuple(types)), "latest_each",
                               lambda: self._store.latest_each(use_case, version, types)))

    def rows(self, use_case: str | None = None, version: str | None = None, types=None):
        if use_case is None:  # (every use case's: not kept)
            return self._store.rows(use_case, version, types)
        return iter(self._read((use_case, version, tuple(types) if types else None), "rows",
                               lambda: list(self._store.rows(use_case, version, types))))

    def append(self, rows, recorded_at: str, standing=()) -> None:
        written = {(row[3], row[4], row[2]) for row in rows}  # (seq, at, type, use_case, version, ...)
        self._kept = {(method, key): value for (method, key), value in self._kept.items()
                      if not any(_reads(key, *w) for w in written)}
        self._store.append(rows, recorded_at, standing)


def _reads(key: tuple, use_case: str, version: str, type_: str) -> bool:
    """Whether what was read under `key` (use case, version or None, types or None) may change with an event."""
    kept_use_case, kept_version, kept_types = key
    return kept_use_case == use_case and kept_version in (None, version) and (kept_types is None or type_ in kept_types)


def _refusal(exc: BaseException) -> bool:
    """Whether an exception raised while an append was validated refuses that append alone (nothing of it written,
    the transaction sound): the ledger's refusals and a blocked promotion; not a store's failure."""
    from tiergate.ledger.actions import Blocked

    if isinstance(exc, TiergateError):
        return not any(d.code in STORE_FAILURES for d in exc.diagnostics)
    return isinstance(exc, Blocked)
