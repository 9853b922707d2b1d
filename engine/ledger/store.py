"""Storage of ledger rows behind one small interface; SQLite here, in SQL a PostgreSQL backend can share."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol, Sequence

from ..errors import Diagnostic, Location, TiergateError
from .chain import GENESIS

SCHEMA_VERSION = 1
APPLICATION = "tiergate-ledger"

#: migrations[n] brings a ledger from schema version n to n + 1
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE events ("
        " seq INTEGER PRIMARY KEY,"
        " at TEXT NOT NULL, type TEXT NOT NULL, use_case TEXT NOT NULL, version TEXT NOT NULL,"
        " actor TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
        " recorded_at TEXT NOT NULL)",
        "CREATE INDEX events_by_version ON events (use_case, version, seq)",
        "CREATE INDEX events_by_type ON events (type, seq)",
    ],
]


@dataclass(frozen=True)
class Row:
    seq: int
    at: str
    type: str
    use_case: str
    version: str
    actor: str
    body: str  # canonical JSON of the whole event
    prev_hash: str
    hash: str
    recorded_at: str


class Store(Protocol):
    """What the ledger needs from storage. Appends are atomic and serialised across processes."""

    def head(self) -> tuple[int, str]: ...

    def append(self, rows: Sequence[tuple], check=None) -> list[Row]: ...

    def rows(self, use_case: str | None = None, version: str | None = None,
             types: Sequence[str] | None = None) -> Iterator[Row]: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def _problem(path: Path, message: str, hint: str | None = None) -> TiergateError:
    return TiergateError(Diagnostic("E600", message, Location(str(path)), hint=hint))


class SQLiteStore:
    """The embedded ledger: one SQLite file in WAL mode; writers take the write lock before reading the head."""

    def __init__(self, path: Path, create: bool = True, readonly: bool = False):
        self.path = path
        exists = path.exists()
        if not exists and (readonly or not create):
            raise _problem(path, "no ledger here", hint="record an event (or `tiergate import`) to create one, "
                           "or point --ledger / TIERGATE_LEDGER at the ledger file")
        if not exists:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _problem(path, f"cannot create the ledger's folder: {exc.strerror}") from None
        try:
            uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
            self.db = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 60000")
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = FULL")
            self._prepare(exists, readonly)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def _translate(self, exc: sqlite3.Error) -> TiergateError:
        text = str(exc)
        if "file is not a database" in text or "malformed" in text:
            return _problem(self.path, f"this file is not a readable tiergate ledger ({text})",
                            hint="check the path; a damaged ledger can be checked with `tiergate audit verify`")
        if "readonly" in text or "read-only" in text:
            return _problem(self.path, "the ledger is read-only, so nothing can be recorded", hint="check its permissions")
        if "disk" in text and ("full" in text or "I/O" in text):
            return _problem(self.path, f"the ledger could not be written ({text}); nothing was recorded")
        return _problem(self.path, f"ledger error: {text}")

    def _prepare(self, exists: bool, readonly: bool) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if exists and tables and "meta" not in tables:
            raise _problem(self.path, "this SQLite file is not a tiergate ledger (no `meta` table)")
        version = 0
        if "meta" in tables:
            meta = dict(self.db.execute("SELECT key, value FROM meta"))
            if meta.get("application") != APPLICATION:
                raise _problem(self.path, "this SQLite file is not a tiergate ledger")
            version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise _problem(self.path, f"the ledger has schema version {version}, newer than this tiergate knows "
                           f"({SCHEMA_VERSION})", hint="upgrade tiergate to read it; it was left unchanged")
        if version < SCHEMA_VERSION:
            if readonly:
                raise _problem(self.path, f"the ledger needs a schema upgrade ({version} -> {SCHEMA_VERSION})")
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            current = version
            if "meta" in {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}:
                current = int(dict(self.db.execute("SELECT key, value FROM meta")).get("schema_version", "0"))
            for step in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    self.db.execute(statement)
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('application', ?)", (APPLICATION,))
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                            (str(SCHEMA_VERSION),))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # --- reading ------------------------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        row = self.db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def rows(self, use_case=None, version=None, types=None) -> Iterator[Row]:
        sql, args = "SELECT seq, at, type, use_case, version, actor, body, prev_hash, hash, recorded_at FROM events", []
        where = []
        if use_case is not None:
            where.append("use_case = ?")
            args.append(use_case)
        if version is not None:
            where.append("version = ?")
            args.append(version)
        if types:
            where.append(f"type IN ({','.join('?' for _ in types)})")
            args.extend(types)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq"
        try:
            for r in self.db.execute(sql, args):
                yield Row(*r)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def use_cases(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT use_case FROM events ORDER BY use_case")]

    # --- writing ------------------------------------------------------------------------------
    def append(self, rows: Sequence[tuple], check=None) -> list[Row]:
        """Append rows atomically. Each row is (at, type, use_case, version, actor, canonical_body).

        `check(store)` runs inside the write transaction, after the lock is taken and before anything is
        written: it may raise to refuse the whole append (how `promote` decides and writes as one step).
        """
        from datetime import datetime, timezone

        from .chain import link

        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        try:
            if check is not None:
                check(self)
            seq, previous = self.head()
            now = datetime.now(timezone.utc).isoformat()
            written = []
            for at, type_, use_case, version, actor, body in rows:
                seq += 1
                digest = link(previous, body)
                written.append(Row(seq, at, type_, use_case, version, actor, body, previous, digest, now))
                previous = digest
            self.db.executemany("INSERT INTO events (seq, at, type, use_case, version, actor, body, prev_hash, hash,"
                                " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [(r.seq, r.at, r.type, r.use_case, r.version, r.actor, r.body, r.prev_hash, r.hash,
                                  r.recorded_at) for r in written])
            self.db.execute("COMMIT")
            return written
        except sqlite3.Error as exc:
            self._rollback()
            raise self._translate(exc) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def close(self) -> None:
        self.db.close()
