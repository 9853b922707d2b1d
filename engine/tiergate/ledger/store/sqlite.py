"""The SQLite backend of the ledger: one file in WAL mode. It only stores; see base.py for what it is asked."""
from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence
from urllib.parse import quote

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.ledger.store.base import (
    BUILD_INDEX,
    OWN_SLOT,
    SCHEMA_VERSION,
    BuildIndex,
    ChainedRow,
    Row,
    migrate,
    time_of,
)

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "open_url"]

APPLICATION = "tiergate-ledger"
#: the pages SQLite may hold in memory while an import writes (KiB; SQLite's default is 2 MiB): the pages of
#: the indexes stay there, rather than being dropped and read back again and again when the events of
#: thousands of use cases come interleaved, as in a history in time order (a tenth faster at 1M events)
BULK_CACHE_KIB = 65_536

_COLUMNS = "seq, at, type, use_case, version, actor, body, prev_hash, hash, recorded_at"
_UPSERT_STANDING = (
    "INSERT INTO standing (use_case, version, slot, instant, seq) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (use_case, version, slot) DO UPDATE SET instant = excluded.instant, seq = excluded.seq "
    "WHERE excluded.instant >= standing.instant")
#: the rows of the standing index for an event's own slot, joined with the event they name when it has one
_OWN_JOINED = ("FROM standing s LEFT JOIN events e ON e.seq = s.seq AND s.slot = '{own}' || e.seq AND "
               "e.use_case = s.use_case AND e.version = s.version AND e.type NOT IN ({shared}) "
               "WHERE substr(s.slot, 1, 1) = '{own}'")
#: migrations[n] brings a ledger from schema version n to n + 1: SQL statements, or BUILD_INDEX
MIGRATIONS: list[list] = [
    [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE events ("
        " seq INTEGER PRIMARY KEY,"
        " at TEXT NOT NULL, type TEXT NOT NULL, use_case TEXT NOT NULL, version TEXT NOT NULL,"
        " actor TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,"
        " recorded_at TEXT NOT NULL)",
        # the only index: a use case's (or version's) events. The chain needs none (it is read in seq
        # order), and an index of random hashes would make a large import three to four times slower.
        "CREATE INDEX events_by_version ON events (use_case, version, seq)",
    ],
    [
        # the events that decide where each version stands now (engine/tiergate/ledger/standing.py)
        "CREATE TABLE standing (use_case TEXT NOT NULL, version TEXT NOT NULL, slot TEXT NOT NULL,"
        " instant REAL NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (use_case, version, slot))",
        BUILD_INDEX,
    ],
    [
        # a version's events by time, and a use case's by type: whether an event is recorded already (`contains`)
        # is asked of the few events of its time, and a version's latest event of a type (`latest`: its latest
        # transition, a roster) is found at once, not among every event of the version
        "CREATE INDEX events_by_time ON events (use_case, version, at)",
        "CREATE INDEX events_by_type ON events (use_case, type, version, seq)",
    ],
]


def open_url(path: str, create: bool = True, readonly: bool = False,
             build_index: BuildIndex | None = None) -> SQLiteStore:
    """The store of the file `path` (what follows `sqlite:` in a ledger's URL; base.open_store)."""
    return SQLiteStore(Path(path), create=create, readonly=readonly, build_index=build_index)


def _problem(path: Path, message: str, hint: str | None = None) -> TiergateError:
    return TiergateError(Diagnostic("E600", message, Location(str(path)), hint=hint))


def _sql_list(values: Sequence[str]) -> str:
    """`values` as an SQL list of text literals."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


class SQLiteStore:
    """The embedded ledger: one SQLite file in WAL mode. `writing()` is SQLite's write lock (BEGIN IMMEDIATE), so a
    writer that reads the head inside it reads the head it will append to."""

    def __init__(self, path: Path, create: bool = True, readonly: bool = False, build_index: BuildIndex | None = None):
        self.path = path
        self._writing = False
        self._build_index = build_index
        exists = path.exists()
        if not exists and (readonly or not create):
            raise _problem(path, "no ledger here", hint="record an event (or `tiergate import`) to create one, "
                           "or point --ledger / TIERGATE_LEDGER at the ledger file")
        if not exists:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _problem(path, f"cannot create the ledger's folder: {exc.strerror}") from None
        self.readonly = readonly
        try:
            # quoted, so that a path holding `?`, `#` or `%` still names the file
            uri = f"file:{quote(str(path))}" + ("?mode=ro" if readonly else "")
            # (check_same_thread: a server lends the connection to one request, in one worker thread, at a time)
            self.db = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA busy_timeout = 60000")
            # what the file is must be known before anything is changed in it: switching another
            # application's database to WAL mode would rewrite its header
            try:
                version = self._identify(exists)
            except sqlite3.OperationalError as exc:
                if not (readonly and self._unchangeable(exc)):
                    raise
                # a ledger on read-only media (an archive, a read-only mount): SQLite cannot make the
                # -shm file that reading in WAL mode needs. With no -wal file, every committed event is
                # in the main file, and nobody can be writing to it: read it as unchangeable.
                self.db.close()
                self.db = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=False)
                version = self._identify(exists)
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = FULL")
            self._prepare(version, readonly, build_index)
        except sqlite3.DatabaseError as exc:
            if hasattr(self, "db"):
                self.db.close()
            raise self._translate(exc) from None
        except TiergateError:
            self.db.close()
            raise

    def _unchangeable(self, exc: sqlite3.OperationalError) -> bool:
        """Whether a read failed only because SQLite may not write beside the file, with no -wal to lose."""
        text = str(exc)
        if not any(reason in text for reason in ("readonly", "read-only", "unable to open", "disk I/O error")):
            return False
        wal = Path(f"{self.path}-wal")
        try:
            return not wal.exists() or wal.stat().st_size == 0
        except OSError:
            return False

    def _translate(self, exc: sqlite3.Error) -> TiergateError:
        text = str(exc)
        if "file is not a database" in text or "malformed" in text:
            return _problem(self.path, f"this file is not a readable tiergate ledger ({text})",
                            hint="check the --ledger path (or TIERGATE_LEDGER); if it is the ledger, it is damaged: "
                            "restore it from a backup, or import its last export into a new ledger")
        if any(reason in text for reason in ("readonly", "read-only", "disk I/O error")) and self.readonly:
            return _problem(self.path, f"the ledger cannot be read ({text})",
                            hint="SQLite needs to write a -shm file beside a ledger whose -wal file holds events: "
                            "copy the ledger with its -wal file somewhere writable, or open it once where it is "
                            "writable to fold the -wal file into it")
        if "readonly" in text or "read-only" in text:
            return _problem(self.path, "the ledger is read-only, so nothing can be recorded",
                            hint="check the permissions of the file and of its folder (SQLite writes -wal and -shm "
                            "files beside it), and that its filesystem is not mounted read-only")
        if "disk" in text and ("full" in text or "I/O" in text):
            return _problem(self.path, f"the ledger could not be written ({text}); nothing was recorded",
                            hint="free some space on its filesystem (or fix the disk) and run the command again")
        if "unable to open" in text:
            return _problem(self.path, f"the ledger cannot be opened ({text})",
                            hint="check that the path names a file and that its folder exists and is accessible")
        return _problem(self.path, f"ledger error: {text}")

    def _identify(self, exists: bool) -> int:
        """The file's ledger schema version (0 for a new, empty file); refuses a file that is no ledger."""
        hint = "check the --ledger path (or TIERGATE_LEDGER); the file was left unchanged"
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if exists and tables and "meta" not in tables:
            raise _problem(self.path, "this SQLite file is not a tiergate ledger (no `meta` table)", hint=hint)
        version = 0
        if "meta" in tables:
            try:
                meta = dict(self.db.execute("SELECT key, value FROM meta"))
            except sqlite3.OperationalError:  # another application's `meta` table
                raise _problem(self.path, "this SQLite file is not a tiergate ledger", hint=hint) from None
            if meta.get("application") != APPLICATION:
                raise _problem(self.path, "this SQLite file is not a tiergate ledger", hint=hint)
            try:
                version = int(meta.get("schema_version", "0"))
            except ValueError:
                raise _problem(self.path, f"the ledger's schema version {meta.get('schema_version')!r} is not a "
                               "number", hint="the file is damaged or was not written by tiergate") from None
        if version > SCHEMA_VERSION:
            raise _problem(self.path, f"the ledger has schema version {version}, newer than this tiergate knows "
                           f"({SCHEMA_VERSION})", hint="upgrade tiergate to read it; it was left unchanged")
        return version

    def _prepare(self, version: int, readonly: bool, build_index: BuildIndex | None) -> None:
        if version >= SCHEMA_VERSION:
            return
        if not readonly:
            self._migrate(version, build_index)
            return
        if version == 0:  # an empty file: nothing to read, and nothing to upgrade
            raise _problem(self.path, f"the ledger needs a schema upgrade ({version} -> {SCHEMA_VERSION})")
        # a command that only reads a ledger of an older layout upgrades it when it may write the file, through a
        # connection of its own
        reader, writer = self.db, None
        try:
            writer = sqlite3.connect(f"file:{quote(str(self.path))}", uri=True, timeout=60.0, isolation_level=None,
                                     check_same_thread=False)
            writer.execute("PRAGMA busy_timeout = 60000")
            self.db = writer
            self._migrate(version, build_index)
        except sqlite3.Error as exc:
            raise _problem(self.path, f"the ledger needs an upgrade of its layout ({version} -> {SCHEMA_VERSION}) and "
                           f"cannot be written here ({exc})", hint="open it once where it can be written (any tiergate "
                           "command upgrades it there), or copy it somewhere writable") from None
        finally:
            self.db = reader
            if writer is not None:
                writer.close()

    def _migrate(self, version: int, build_index: BuildIndex | None) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        self._writing = True
        try:
            current = version
            if "meta" in {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}:
                current = int(dict(db.execute("SELECT key, value FROM meta")).get("schema_version", "0"))
            migrate(self, MIGRATIONS, current, db.execute, build_index, str(self.path))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('application', ?)", (APPLICATION,))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            self._writing = False

    # --- the store itself ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """sqlite:/// and the path as it was given (relative or absolute)."""
        return f"sqlite:///{self.path}"

    def schema_version(self) -> int:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None
        return int(row[0])

    def close(self) -> None:
        self.db.close()

    def alive(self) -> bool:
        try:
            return not self._writing and not self.db.in_transaction
        except sqlite3.ProgrammingError:  # (closed)
            return False

    # --- the transactions ----------------------------------------------------------------------------
    @contextmanager
    def writing(self, bulk: bool = False, latest: Sequence[tuple[str, str, str]] = ()) -> Iterator[None]:
        if self._writing:
            raise RuntimeError("the store is writing already")
        if self.readonly:
            raise _problem(self.path, "the ledger was opened for reading only, so nothing can be recorded")
        usual = None
        try:
            self.db.execute("BEGIN IMMEDIATE")
            usual = self.db.execute("PRAGMA cache_size").fetchone()[0] if bulk else None
            if bulk:
                self.db.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        except sqlite3.Error as exc:
            self._rollback()
            raise self._translate(exc) from None
        self._writing = True
        try:
            yield
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise self._translate(exc) from None
        except BaseException:
            self._rollback()
            raise
        finally:
            self._writing = False
            if usual is not None:
                self.db.execute(f"PRAGMA cache_size = {usual}")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        try:
            self.db.execute("BEGIN")
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        try:
            yield
        finally:
            self._rollback()

    def _rollback(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def _written(self) -> None:
        if not self._writing:
            raise RuntimeError("the store writes only inside writing()")

    # --- events ------------------------------------------------------------------------------------------
    def head(self) -> tuple[int, str] | None:
        try:
            return self.db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def append(self, rows: Sequence[ChainedRow], recorded_at: str, standing: Iterable[tuple] = ()) -> None:
        self._written()
        # (the time of recording, the same for every row, is written into the statement: not bound per row)
        stamp = recorded_at.replace("'", "''")
        insert = f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{stamp}')"
        try:
            self.db.executemany(insert, rows)
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        self.put_standing(standing)

    def span(self) -> tuple[int, int, int]:
        # (three statements: each alone is answered from one end of a b-tree, where the three in one SELECT
        # read every row)
        try:
            low, high, count = (self.db.execute(f"SELECT {what} FROM events").fetchone()[0]
                                for what in ("MIN(seq)", "MAX(seq)", "COUNT(*)"))
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None
        return low or 0, high or 0, count

    def before(self, seq: int) -> tuple[int, str] | None:
        try:
            return self.db.execute("SELECT seq, hash FROM events WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                                   (seq,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def chain(self, first: int | None = None, last: int | None = None) -> Iterator[tuple]:
        where, args = ("WHERE seq >= ? AND seq <= ? ", (first, last)) if first is not None else ("", ())
        try:
            self._map_into_memory()
            yield from self.db.execute("SELECT seq, at, type, use_case, version, actor, CASE typeof(body) WHEN 'text' "
                                       "THEN CAST(body AS BLOB) END, prev_hash, "
                                       f"hash FROM events {where}ORDER BY seq", args)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def mistyped(self, first: int | None = None, last: int | None = None) -> Iterator[tuple[int, str, str]]:
        columns = [c.strip() for c in _COLUMNS.split(",")]
        kinds = ", ".join(f"typeof({c})" for c in columns)
        wrong = " OR ".join(f"typeof({c}) <> '{'integer' if c == 'seq' else 'text'}'" for c in columns)
        where, args = (f"seq >= ? AND seq <= ? AND ({wrong})", (first, last)) if first is not None else (wrong, ())
        try:
            for seq, *found in self.db.execute(f"SELECT seq, {kinds} FROM events WHERE {where} ORDER BY seq", args):
                for column, kind in zip(columns, found):
                    if kind != ("integer" if column == "seq" else "text"):
                        yield seq, column, kind
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def check_integrity(self) -> list[tuple[int | None, str]]:
        # integrity_check, not quick_check: only it compares each index with its table, and a row taken out of
        # events_by_version hides an event from every selection by use case
        try:
            found = [r[0] for r in self.db.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:
            return [(None, str(exc))]
        if found == ["ok"]:
            return []
        out = []
        for text in found:  # (a rowid of the events is its seq; the standing index's are nobody's business)
            named = re.search(r"\brow(?:id)? (\d+)\b.*\bevents_by_\w+\b", text)
            out.append((int(named.group(1)) if named else None, text))
        return out

    def rows(self, use_case: str | None = None, version: str | None = None,
             types: Sequence[str] | None = None) -> Iterator[Row]:
        sql, args = self._where(f"SELECT {_COLUMNS} FROM events", use_case, version, types)
        try:
            for r in self.db.execute(sql + " ORDER BY seq", args):
                yield Row(*r)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def latest(self, use_case: str, version: str | None, type_: str) -> Row | None:
        sql, args = self._where(f"SELECT {_COLUMNS} FROM events", use_case, version, (type_,))
        try:
            row = self.db.execute(sql + " ORDER BY seq DESC LIMIT 1", args).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None
        return Row(*row) if row is not None else None

    def latest_each(self, use_case: str, version: str, types: Sequence[str]) -> list[Row]:
        if not types:
            return []
        one = f"SELECT * FROM (SELECT {_COLUMNS} FROM events WHERE use_case = ? AND version = ? AND type = ? " \
              "ORDER BY seq DESC LIMIT 1)"
        args = [a for t in types for a in (use_case, version, t)]
        try:
            return [Row(*r) for r in self.db.execute(" UNION ALL ".join(one for _ in types), args)]
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    @staticmethod
    def _where(sql: str, use_case: str | None, version: str | None, types: Sequence[str] | None) -> tuple[str, list]:
        where, args = [], []
        if use_case is not None:
            where.append("use_case = ?")
            args.append(use_case)
        if version is not None:
            where.append("version = ?")
            args.append(version)
        if types:
            where.append(f"type IN ({','.join('?' for _ in types)})")
            args.extend(types)
        return (sql + " WHERE " + " AND ".join(where) if where else sql), args

    def contains(self, use_case: str, version: str, body: str) -> bool:
        try:
            return self.db.execute("SELECT 1 FROM events WHERE use_case = ? AND version = ? AND at = ? AND body = ? "
                                   "LIMIT 1", (use_case, version, time_of(body), body)).fetchone() is not None
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    # --- the standing index ------------------------------------------------------------------------------
    def put_standing(self, rows: Iterable[tuple]) -> None:
        self._written()
        try:
            self.db.executemany(_UPSERT_STANDING, rows)
        except sqlite3.Error as exc:
            raise self._translate(exc) from None

    def clear_standing(self) -> None:
        self._written()
        try:
            self.db.execute("DELETE FROM standing")
        except sqlite3.Error as exc:
            raise self._translate(exc) from None

    def standing(self, first: str | None = None, last: str | None = None) -> Iterator[tuple[str, int, str]]:
        sql, args = self._standing_range("SELECT s.use_case, e.seq, e.body FROM standing s JOIN events e ON e.seq = "
                                         "s.seq", [], first, last)
        try:
            self._map_into_memory()  # (the rows lie all over the file)
            yield from self.db.execute(sql + " ORDER BY s.use_case", args)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def replaced_after(self, instant: float, first: str | None = None, last: str | None = None) -> set[str]:
        sql, args = self._standing_range("SELECT DISTINCT use_case FROM standing s",
                                         [f"substr(slot, 1, 1) <> '{OWN_SLOT}'", "instant > ?"], first, last)
        try:
            return {r[0] for r in self.db.execute(sql, [instant, *args])}
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    @staticmethod
    def _standing_range(sql: str, where: list[str], first: str | None, last: str | None) -> tuple[str, list]:
        """`sql` with the conditions `where`, and the use cases from `first` to `last` when given."""
        if first is not None:
            where = [*where, "s.use_case >= ?", "s.use_case <= ?"]
        return (sql + " WHERE " + " AND ".join(where) if where else sql), ([first, last] if first is not None else [])

    def use_cases(self) -> list[str]:
        try:
            return [r[0] for r in self.db.execute("SELECT DISTINCT use_case FROM standing ORDER BY use_case")]
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def shared_slots(self) -> Iterator[tuple]:
        try:
            yield from self.db.execute("SELECT use_case, version, slot, instant, seq FROM standing WHERE "
                                       f"substr(slot, 1, 1) <> '{OWN_SLOT}'")
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def own_slots(self, shared_types: Sequence[str]) -> tuple[int, int]:
        joined = _OWN_JOINED.format(own=OWN_SLOT, shared=_sql_list(shared_types))
        try:
            return tuple(self.db.execute(f"SELECT COUNT(e.seq), COUNT(*) {joined}").fetchone())
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def own_slot_strays(self, shared_types: Sequence[str]) -> tuple[int | None, int | None]:
        shared = _sql_list(shared_types)
        try:
            missing = self.db.execute(
                f"SELECT MIN(e.seq) FROM events e WHERE e.type NOT IN ({shared}) AND NOT EXISTS (SELECT 1 FROM "
                f"standing s WHERE s.use_case = e.use_case AND s.version = e.version AND s.slot = '{OWN_SLOT}' || e.seq)"
            ).fetchone()[0]
            stray = self.db.execute(
                f"SELECT MIN(s.seq) {_OWN_JOINED.format(own=OWN_SLOT, shared=shared)} AND e.seq IS NULL").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None
        return missing, stray

    def _map_into_memory(self) -> None:
        """Read the file mapped into memory, where each page read costs no system call (a SQLite setting; a build
        without memory mapping ignores it): for reading much of a large ledger."""
        self.db.execute("PRAGMA mmap_size = 1073741824")
