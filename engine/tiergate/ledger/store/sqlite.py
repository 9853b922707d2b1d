"""Storage of ledger rows behind one small interface; SQLite here, in SQL a PostgreSQL backend can share."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Protocol, Sequence
from urllib.parse import quote

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.ledger.chain import GENESIS

SCHEMA_VERSION = 2
APPLICATION = "tiergate-ledger"
#: the pages SQLite may hold in memory while an import writes (KiB; SQLite's default is 2 MiB): the pages of
#: the indexes stay there, rather than being dropped and read back again and again when the events of
#: thousands of use cases come interleaved, as in a history in time order (a tenth faster at 1M events)
BULK_CACHE_KIB = 65_536

_UPSERT_STANDING = (
    "INSERT INTO standing (use_case, version, slot, instant, seq) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (use_case, version, slot) DO UPDATE SET instant = excluded.instant, seq = excluded.seq "
    "WHERE excluded.instant >= standing.instant")


def _standing_rows(rows: Iterable[tuple[int, str, str, str | None, float]], latest: dict[tuple, tuple]) -> list[tuple]:
    """(use_case, version, slot, instant, seq) rows for the `standing` table from (seq, use_case, version, slot,
    instant) in recorded order: those of events with a slot of their own, returned, and in each shared slot only
    the latest event (by time, then by recording), kept in `latest` (by use case, version and slot) for the caller
    to write once all its rows are read."""
    out = []
    for seq, use_case, version, slot, instant in rows:
        if slot is None:
            out.append((use_case, version, f"#{seq}", instant, seq))
            continue
        key = (use_case, version, slot)
        known = latest.get(key)
        if known is None or instant >= known[3]:
            latest[key] = (use_case, version, slot, instant, seq)
    return out


def _fill_standing(db: sqlite3.Connection) -> None:
    """Schema 1 -> 2: index the events recorded so far (see engine/ledger/standing.py)."""
    import json

    from tiergate.ledger.standing import instant_of, slot_of

    def rows():
        for seq, use_case, version, text in db.execute("SELECT seq, use_case, version, body FROM events ORDER BY seq"):
            try:
                body = json.loads(text)
            except ValueError:  # a damaged row stays visible to `status`; `audit verify` reports it
                body = {}
            yield seq, use_case, version, slot_of(body), instant_of(body)

    latest: dict[tuple, tuple] = {}
    db.executemany(_UPSERT_STANDING, _standing_rows(rows(), latest))
    db.executemany(_UPSERT_STANDING, latest.values())


#: migrations[n] brings a ledger from schema version n to n + 1: SQL statements, or a function of the connection
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
        # the events that decide where each version stands now (engine/ledger/standing.py), kept on append
        "CREATE TABLE standing (use_case TEXT NOT NULL, version TEXT NOT NULL, slot TEXT NOT NULL,"
        " instant REAL NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (use_case, version, slot))",
        _fill_standing,
    ],
]


class Row(NamedTuple):
    """One stored event. A tuple, so that appends hand rows to SQLite as they are (no copying)."""

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
        self.readonly = readonly
        try:
            # quoted, so that a path holding `?`, `#` or `%` still names the file
            uri = f"file:{quote(str(path))}" + ("?mode=ro" if readonly else "")
            self.db = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)
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
                self.db = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None)
                version = self._identify(exists)
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = FULL")
            self._prepare(version, readonly)
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

    def _prepare(self, version: int, readonly: bool) -> None:
        if version >= SCHEMA_VERSION:
            return
        if not readonly:
            self._migrate(self.db, version)
            return
        if version == 0:  # an empty file: nothing to read, and nothing to upgrade
            raise _problem(self.path, f"the ledger needs a schema upgrade ({version} -> {SCHEMA_VERSION})")
        # a command that only reads a ledger of an older layout upgrades it when it may write the file
        writer = None
        try:
            writer = sqlite3.connect(f"file:{quote(str(self.path))}", uri=True, timeout=60.0, isolation_level=None)
            writer.execute("PRAGMA busy_timeout = 60000")
            self._migrate(writer, version)
        except sqlite3.Error as exc:
            raise _problem(self.path, f"the ledger needs an upgrade of its layout ({version} -> {SCHEMA_VERSION}) and "
                           f"cannot be written here ({exc})", hint="open it once where it can be written (any tiergate "
                           "command upgrades it there), or copy it somewhere writable") from None
        finally:
            if writer is not None:
                writer.close()

    def _migrate(self, db: sqlite3.Connection, version: int) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            current = version
            if "meta" in {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}:
                current = int(dict(db.execute("SELECT key, value FROM meta")).get("schema_version", "0"))
            for step in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    if callable(statement):
                        statement(db)
                    else:
                        db.execute(statement)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('application', ?)", (APPLICATION,))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
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

    def chain(self, first: int | None = None, last: int | None = None) -> Iterator[tuple]:
        """(seq, body as UTF-8 bytes, prev_hash, hash, at, type, use_case, version, actor) of every row in order
        (from seq `first` to `last` when given), for `audit verify`."""
        where, args = ("WHERE seq >= ? AND seq <= ? ", (first, last)) if first is not None else ("", ())
        try:
            self._map_into_memory()
            yield from self.db.execute("SELECT seq, CAST(body AS BLOB), prev_hash, hash, at, type, use_case, version, "
                                       f"actor FROM events {where}ORDER BY seq", args)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def standing_rows(self) -> tuple[tuple[int, int], dict[str, tuple[float, int]]]:
        """For `audit verify`: ((rows of the standing index for an event of their own that match such an event,
        all such rows), {use_case NUL version NUL slot: (instant, seq)} of the rows of shared slots)."""
        from tiergate.ledger.standing import SHARED_SQL as kinds

        try:
            own = self.db.execute(
                "SELECT COUNT(e.seq), COUNT(*) FROM standing s LEFT JOIN events e ON e.seq = s.seq AND "
                f"s.slot = '#' || e.seq AND e.use_case = s.use_case AND e.version = s.version AND e.type NOT IN "
                f"{kinds} WHERE substr(s.slot, 1, 1) = '#'").fetchone()
            shared = {f"{u}\0{v}\0{slot}": (instant, seq) for u, v, slot, instant, seq in self.db.execute(
                "SELECT use_case, version, slot, instant, seq FROM standing WHERE substr(slot, 1, 1) <> '#'")}
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None
        return tuple(own), shared

    def standing_strays(self) -> tuple[int | None, int | None]:
        """(the first event that needs a standing row of its own and has none, the first such row that matches no
        such event): where `standing_rows` found the counts wrong."""
        from tiergate.ledger.standing import SHARED_SQL as kinds

        try:
            missing = self.db.execute(
                f"SELECT MIN(e.seq) FROM events e WHERE e.type NOT IN {kinds} AND NOT EXISTS (SELECT 1 FROM "
                "standing s WHERE s.use_case = e.use_case AND s.version = e.version AND s.slot = '#' || e.seq)"
            ).fetchone()[0]
            stray = self.db.execute(
                "SELECT MIN(s.seq) FROM standing s LEFT JOIN events e ON e.seq = s.seq AND s.slot = '#' || e.seq "
                f"AND e.use_case = s.use_case AND e.version = s.version AND e.type NOT IN {kinds} "
                "WHERE substr(s.slot, 1, 1) = '#' AND e.seq IS NULL").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None
        return missing, stray

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: what is read inside it is the ledger at one moment, whatever is appended
        meanwhile."""
        try:
            self.db.execute("BEGIN")
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        try:
            yield
        finally:
            self._rollback()

    def seq_range(self) -> tuple[int, int, int]:
        """(lowest seq, highest seq, number of rows)."""
        try:
            low, high, count = self.db.execute("SELECT MIN(seq), MAX(seq), COUNT(*) FROM events").fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None
        return low or 0, high or 0, count

    def before(self, seq: int) -> tuple[int, str]:
        """(seq, hash) of the last row before `seq` (0 and the genesis hash when there is none)."""
        try:
            row = self.db.execute("SELECT seq, hash FROM events WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                                  (seq,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None
        return (row[0], row[1]) if row else (0, GENESIS)

    def bodies(self, use_case: str) -> list[tuple[int, str]]:
        """(seq, body) of a use case's rows in order: what reading its events needs, without the rest."""
        try:
            return self.db.execute("SELECT seq, body FROM events WHERE use_case = ? ORDER BY seq",
                                   (use_case,)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def milestones(self, use_case: str) -> list[tuple[str, str, str, str]]:
        """(type, use_case, version, body) of a use case's registrations, reclassifications and retirements."""
        try:
            return self.db.execute("SELECT type, use_case, version, body FROM events WHERE use_case = ? AND "
                                   "type IN ('registered', 'reclassified', 'retired') ORDER BY seq",
                                   (use_case,)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def has_body(self, use_case: str, version: str, body: str) -> bool:
        """Whether this exact event (canonical body) is stored already."""
        try:
            return self.db.execute("SELECT 1 FROM events WHERE use_case = ? AND version = ? AND body = ? LIMIT 1",
                                   (use_case, version, body)).fetchone() is not None
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def latest(self, use_case: str | None, version: str | None, type_: str) -> Row | None:
        """The last row of this type (for this use case and version, when given)."""
        sql, args = "SELECT seq, at, type, use_case, version, actor, body, prev_hash, hash, recorded_at FROM events " \
            "WHERE type = ?", [type_]
        if use_case is not None:
            sql += " AND use_case = ?"
            args.append(use_case)
        if version is not None:
            sql += " AND version = ?"
            args.append(version)
        try:
            row = self.db.execute(sql + " ORDER BY seq DESC LIMIT 1", args).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None
        return Row(*row) if row is not None else None

    def standing(self, first: str | None = None, last: str | None = None) -> Iterator[tuple[str, int, str]]:
        """(use_case, seq, body) of the events that decide where each version stands, a use case's rows together
        (in no particular order within it), for the use cases from `first` to `last` (all when not given);
        events of no use case (rosters) are left out."""
        sql, args = self._standing_range("SELECT s.use_case, e.seq, e.body FROM standing s JOIN events e "
                                         "ON e.seq = s.seq WHERE s.use_case <> '-'", first, last)
        try:
            self._map_into_memory()  # (the rows lie all over the file)
            yield from self.db.execute(sql + " ORDER BY s.use_case", args)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    def _map_into_memory(self) -> None:
        """Read the file mapped into memory, where each page read costs no system call (a SQLite setting; a build
        without memory mapping ignores it): for reading much of a large ledger."""
        self.db.execute("PRAGMA mmap_size = 1073741824")

    def replaced_after(self, instant: float, first: str | None = None, last: str | None = None) -> set[str]:
        """The use cases (from `first` to `last`) whose standing events include a result that replaced others and
        is later than `instant`: judged as of that time, they need their whole history."""
        sql, args = self._standing_range("SELECT DISTINCT use_case FROM standing s WHERE substr(slot, 1, 1) <> '#' "
                                         "AND instant > ?", first, last)
        try:
            return {r[0] for r in self.db.execute(sql, [instant, *args])}
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    @staticmethod
    def _standing_range(sql: str, first: str | None, last: str | None) -> tuple[str, list]:
        if first is None:
            return sql, []
        return sql + " AND s.use_case >= ? AND s.use_case <= ?", [first, last]

    def use_cases(self) -> list[str]:
        """Every use case with events, in order (`-`, of the events of no use case, among them when there are any)."""
        try:
            return [r[0] for r in self.db.execute("SELECT DISTINCT use_case FROM standing ORDER BY use_case")]
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from None

    # --- writing ------------------------------------------------------------------------------
    def append(self, rows: Sequence[tuple], check=None) -> list[Row]:
        """Append rows atomically. Each row is (at, type, use_case, version, actor, canonical_body, slot, instant),
        slot and instant as engine/ledger/standing.py gives them.

        `check(store)` runs inside the write transaction, after the lock is taken and before anything is
        written: it may raise to refuse the whole append (how `promote` decides and writes as one step).
        """
        written: list[Row] = []
        self._write([rows], check, written)
        return written

    def append_runs(self, runs: Iterable[Sequence[tuple]], check=None) -> tuple[int, str]:
        """Append runs of rows as `append` does, as one transaction, each run written before the next is read: (rows
        appended, head). `runs` is read inside the transaction, so it may validate against what the ledger holds;
        when it raises, nothing is written."""
        usual = self.db.execute("PRAGMA cache_size").fetchone()[0]
        self.db.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            return self._write(runs, check, None)
        finally:
            self.db.execute(f"PRAGMA cache_size = {usual}")

    def _write(self, runs: Iterable[Sequence[tuple]], check, keep: list[Row] | None) -> tuple[int, str]:
        from datetime import datetime, timezone
        from hashlib import sha256

        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        try:
            if check is not None:
                check(self)
            first, previous = self.head()
            seq = first
            now = datetime.now(timezone.utc).isoformat()
            # (the time of recording, the same for every row, is written into the statement: not bound per row)
            insert = "INSERT INTO events (seq, at, type, use_case, version, actor, body, prev_hash, hash, recorded_at) " \
                f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{now}')"
            # the latest event of each shared slot, written when every run is in: a history in time order holds
            # the monitoring results of thousands of versions in each run, and most of them are replaced later
            latest: dict[tuple, tuple] = {}
            for rows in runs:
                written, standing = [], []
                for at, type_, use_case, version, actor, body, slot, instant in rows:
                    seq += 1
                    # chain.link(previous, body), inlined: this line runs once per event of an import
                    digest = sha256(f"{previous}\n{body}".encode()).hexdigest()
                    written.append((seq, at, type_, use_case, version, actor, body, previous, digest))
                    standing.append((seq, use_case, version, slot, instant))
                    previous = digest
                self.db.executemany(insert, written)
                self.db.executemany(_UPSERT_STANDING, _standing_rows(standing, latest))
                if keep is not None:
                    keep.extend(Row(*r, now) for r in written)
            self.db.executemany(_UPSERT_STANDING, latest.values())
            self.db.execute("COMMIT")
            return seq - first, previous
        except sqlite3.Error as exc:
            self._rollback()
            raise self._translate(exc) from None
        except BaseException:
            self._rollback()
            raise

    def reindex(self) -> int:
        """Build the standing index again from the events, as one transaction (what `audit verify` found wrong
        with it is then gone; the events are not touched). Returns its number of rows."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("DELETE FROM standing")
                _fill_standing(self.db)
                rows = self.db.execute("SELECT COUNT(*) FROM standing").fetchone()[0]
                self.db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        return rows

    def _rollback(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def close(self) -> None:
        self.db.close()
