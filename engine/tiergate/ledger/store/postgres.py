"""The PostgreSQL backend of the ledger: the tables of the SQLite one, in a database on a server that many
processes and machines share. It only stores; see base.py for what it is asked.

`writing()` is a transaction that first takes a transaction-level advisory lock of the ledger, so appends are
serialised across processes and servers, and what is read inside sees the head the write appends to. `snapshot()`
is a read-only REPEATABLE READ transaction. Bodies are stored as `text` exactly as given (never `jsonb`, which would
reorder their keys), so the same events give the same hash chain as in SQLite. Every text column sorts by bytes
(`COLLATE "C"`), as SQLite's do.

A URL may carry a password (`postgresql://USER:PASSWORD@HOST/DB`): it stays in `url` (what a forked worker opens
the ledger by) and is never shown; messages name the ledger by `shown_url`. Better still, keep it out of the URL
(PGPASSWORD or ~/.pgpass, which libpq reads).
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.ledger.store.base import (
    BUILD_INDEX,
    OWN_SLOT,
    SCHEMA_VERSION,
    BuildIndex,
    ChainedRow,
    Row,
    migrate,
    shown_url,
    time_of,
)

__all__ = ["PostgresStore", "open_url"]

APPLICATION = "tiergate-ledger"
#: the first key of the ledger's advisory lock (the second is a hash of the schema the tables are in, so that two
#: ledgers in one database do not wait for each other): "tg" in ASCII
LOCK_KEY = 0x7467
#: how long a write waits for another writer, and a new connection for the server (seconds), unless the URL says
LOCK_TIMEOUT_S = 60
CONNECT_TIMEOUT_S = 10
#: rows read per statement by the reads that may span the whole ledger (each is a page of an ordered key)
PAGE = 10_000
#: from how many rows an append goes by COPY rather than by one INSERT per row
COPY_FROM = 64

_COLUMNS = "seq, at, type, use_case, version, actor, body, prev_hash, hash, recorded_at"
#: how rows of the standing index are written: a row replaces the stored one of its slot unless that one is later
_UPSERT = ("ON CONFLICT (use_case, version, slot) DO UPDATE SET instant = excluded.instant, seq = excluded.seq "
           "WHERE excluded.instant >= standing.instant")
_UPSERT_STANDING = ("INSERT INTO standing (use_case, version, slot, instant, seq) SELECT * FROM "
                    f"unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::bigint[]) {_UPSERT}")
#: a recording's events (from arrays, one per column) and its standing rows, in one statement
_APPEND_INDEXED = (f"WITH appended AS (INSERT INTO events ({_COLUMNS}) SELECT * FROM unnest(%s::bigint[], "
                   + ", ".join("%s::text[]" for _ in range(9)) + ")) " + _UPSERT_STANDING)
#: many rows of the standing index go by COPY into a table of the session's own, then into the index in one
#: statement (twice as fast as the same rows from arrays)
_STAGING = ('CREATE TEMP TABLE IF NOT EXISTS standing_in (use_case TEXT COLLATE "C", version TEXT COLLATE "C", '
            'slot TEXT COLLATE "C", instant DOUBLE PRECISION, seq BIGINT) ON COMMIT DELETE ROWS')
#: the rows of the standing index for an event's own slot, joined with the event they name when it has one
_OWN_JOINED = ("FROM standing s LEFT JOIN events e ON e.seq = s.seq AND s.slot = '{own}' || e.seq AND "
               "e.use_case = s.use_case AND e.version = s.version AND e.type NOT IN ({shared}) "
               "WHERE substr(s.slot, 1, 1) = '{own}'")

_TEXT = 'TEXT COLLATE "C" NOT NULL'
#: migrations[n] brings a ledger from schema version n to n + 1: SQL statements, or BUILD_INDEX (the layout of
#: sqlite.py's MIGRATIONS, in PostgreSQL's types)
MIGRATIONS: list[list] = [
    [
        f"CREATE TABLE meta (key {_TEXT} PRIMARY KEY, value TEXT NOT NULL)",
        f"CREATE TABLE events (seq BIGINT PRIMARY KEY, at {_TEXT}, type {_TEXT}, use_case {_TEXT}, "
        f"version {_TEXT}, actor {_TEXT}, body {_TEXT}, prev_hash {_TEXT}, hash {_TEXT}, recorded_at {_TEXT})",
        "CREATE INDEX events_by_version ON events (use_case, version, seq)",
    ],
    [
        f"CREATE TABLE standing (use_case {_TEXT}, version {_TEXT}, slot {_TEXT}, instant DOUBLE PRECISION NOT NULL,"
        " seq BIGINT NOT NULL, PRIMARY KEY (use_case, version, slot))",
        BUILD_INDEX,
    ],
    [
        "CREATE INDEX events_by_time ON events (use_case, version, at)",
        "CREATE INDEX events_by_type ON events (use_case, type, version, seq)",
    ],
]
#: the indexes amcheck is asked about, when the database has it (check_integrity)
_INDEXES = ("events_pkey", "events_by_version", "events_by_time", "events_by_type", "standing_pkey")

try:
    import psycopg
    from psycopg import errors as pgerrors
    from psycopg.pq import TransactionStatus
except ImportError:  # pragma: no cover - the `server` extra brings it
    psycopg = None


def open_url(url: str, create: bool = True, readonly: bool = False,
             build_index: BuildIndex | None = None) -> PostgresStore:
    """The store of the database the URL names (`postgresql://` or `postgres://`; base.open_store)."""
    if psycopg is None:
        raise _problem(url, "PostgreSQL ledgers need the psycopg package, which is not installed",
                       hint="pip install 'tiergate[server]'")
    return PostgresStore(url, create=create, readonly=readonly, build_index=build_index)


def _problem(url: str, message: str, hint: str | None = None) -> TiergateError:
    return TiergateError(Diagnostic("E600", message, Location(shown_url(url)), hint=hint))


def _sql_list(values: Sequence[str]) -> str:
    """`values` as an SQL list of text literals."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


#: the statements a write transaction begins with, by the `latest` it reads with the lock (a few, made once)
_READS: dict[tuple, str] = {}


class PostgresStore:
    """A ledger in a PostgreSQL database (the tables of the schema first on the connection's search_path)."""

    def __init__(self, url: str, create: bool = True, readonly: bool = False, build_index: BuildIndex | None = None):
        self.url = url
        self.readonly = readonly
        self._pid = os.getpid()  # (a forked worker never closes its parent's connection: see close)
        self._tx: str | None = None  # None, "read" or "write"
        #: (in `writing`) what the transaction's first round trip read and no append has changed since: "head" ->
        #: (seq, hash) or None, (use case, version, type) -> the latest such Row or None
        self._known: dict | None = None
        self._bulk = False
        self.db = self._connect()
        try:
            version = self._identify(create and not readonly)
            if version < SCHEMA_VERSION:
                self._migrate(version, build_index)
            if readonly:
                self.db.execute("SET default_transaction_read_only = on")
        except psycopg.Error as exc:
            problem = self._translate(exc)
            self.db.close()
            raise problem from None
        except BaseException:
            self.db.close()
            raise

    def _connect(self):
        given = self._options()
        extra = {"autocommit": True}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = CONNECT_TIMEOUT_S
        if "application_name" not in given:
            extra["application_name"] = "tiergate"
        try:
            return psycopg.connect(self.url, **extra)
        except psycopg.Error as exc:
            raise self._unreachable(exc) from None

    def _options(self) -> dict:
        try:
            from psycopg.conninfo import conninfo_to_dict

            return conninfo_to_dict(self.url)
        except psycopg.Error as exc:
            raise _problem(self.url, f"this is not a PostgreSQL URL tiergate can use ({self._scrub(exc)})",
                           hint="write postgresql://USER@HOST:PORT/DATABASE (a password is better kept in "
                           "PGPASSWORD or ~/.pgpass than in the URL)") from None

    def _scrub(self, exc: BaseException) -> str:
        """The text of an error from the driver, without the URL's password should it quote it."""
        text = str(exc).strip()
        password = _password(self.url)
        if password:
            from urllib.parse import unquote

            for form in {password, unquote(password)}:
                text = text.replace(form, "***")
        return text

    def _unreachable(self, exc: BaseException) -> TiergateError:
        """What stopped a connection, worded for the person who gave the URL."""
        text = self._scrub(exc)
        first = text.splitlines()[0] if text else type(exc).__name__
        if re.search(r'database "[^"]*" does not exist', text):
            return _problem(self.url, f"the server has no such database ({first})",
                            hint="create it (createdb NAME, or CREATE DATABASE NAME), then record an event or "
                            "`tiergate import` to make the ledger in it; or check the name in the URL")
        if re.search(r"password authentication failed|no password supplied|authentication failed|"
                     r'role "[^"]*" does not exist|pg_hba\.conf', text):
            return _problem(self.url, f"the server refused the connection ({first})",
                            hint="check the user in the URL and its password (PGPASSWORD or ~/.pgpass), and that "
                            "the server lets this user connect to the database")
        if isinstance(exc, psycopg.ProgrammingError) or re.search(r"invalid [\w ]*(value|option|parameter)", text):
            # (libpq could not read the URL)
            return _problem(self.url, f"this is not a PostgreSQL URL tiergate can use ({first})",
                            hint="write postgresql://USER@HOST:PORT/DATABASE")
        return _problem(self.url, f"cannot reach the PostgreSQL server ({first})",
                        hint="check that the server is running and that the host and port in the URL are right")

    def _translate(self, exc: BaseException) -> TiergateError:
        text = self._scrub(exc)
        first = text.splitlines()[0] if text else type(exc).__name__
        writing = "; nothing was recorded" if self._tx == "write" else ""
        if isinstance(exc, psycopg.OperationalError) and self.db.closed:
            return _problem(self.url, f"the connection to the ledger's server was lost ({first}){writing}",
                            hint="check that the server is running and reachable, then run the command again")
        if isinstance(exc, pgerrors.InsufficientPrivilege):
            return _problem(self.url, f"the database refused the ledger's user ({first})",
                            hint="grant the user the rights it needs on the ledger's tables (SELECT, and INSERT, "
                            "UPDATE, DELETE to record), or use the user that made the ledger")
        if isinstance(exc, pgerrors.ReadOnlySqlTransaction):
            return _problem(self.url, f"the server takes no writes ({first}), so nothing can be recorded",
                            hint="point the URL at the primary server, not at a standby")
        if isinstance(exc, (pgerrors.DiskFull, pgerrors.OutOfMemory, pgerrors.InsufficientResources)):
            return _problem(self.url, f"the server could not write the ledger ({first}){writing}",
                            hint="free space on the server, then run the command again")
        if isinstance(exc, pgerrors.LockNotAvailable):
            return _problem(self.url, f"another writer held the ledger for more than {LOCK_TIMEOUT_S} seconds "
                            f"({first}){writing}", hint="wait until it is done (an import?), then run "
                            "the command again")
        if isinstance(exc, pgerrors.UndefinedTable):
            return _problem(self.url, f"this database is not a readable tiergate ledger ({first})",
                            hint="check the URL (its database, and its search_path); if it is the ledger, its tables "
                            "were changed outside tiergate: restore it from a backup")
        return _problem(self.url, f"ledger error: {first}")

    # --- opening: what the database holds, and its layout ------------------------------------------------
    def _tables(self) -> set[str]:
        return {r[0] for r in self.db.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')")}

    def _identify(self, create: bool) -> int:
        """The ledger's schema version (0 for a database without one); refuses a database that is no ledger."""
        # a plan for the values of each statement: a ledger grows from nothing, and a plan made once for all values
        # while it was small (a scan of the whole table) would be kept until its statistics are next gathered
        self.db.execute("SET plan_cache_mode = force_custom_plan")
        encoding = self.db.execute("SHOW server_encoding").fetchone()[0]
        if encoding.upper() not in ("UTF8", "UTF-8"):
            raise _problem(self.url, f"the database's encoding is {encoding}, and a ledger keeps text of every "
                           "language", hint="make the ledger in a database encoded in UTF8 "
                           "(createdb --encoding UTF8 --template template0 NAME)")
        if self.db.execute("SELECT current_schema()").fetchone()[0] is None:
            raise _problem(self.url, "the connection has no schema to keep the ledger's tables in (its search_path "
                           "names none that exists)", hint="create the schema, or fix search_path in the URL")
        tables = self._tables()
        hint = "check the URL (its database, and its search_path); the database was left unchanged"
        if not tables:
            if not create:
                raise _problem(self.url, "no ledger in this database", hint="record an event (or `tiergate import`) "
                               "to create one, or check the URL given to --ledger / TIERGATE_LEDGER")
            return 0
        if "meta" not in tables:
            raise _problem(self.url, "this database is not a tiergate ledger (it holds other tables and no `meta` "
                           "table)", hint=hint + "; give the ledger a database of its own (or a schema of its own: "
                           "?options=-csearch_path%3DNAME)")
        try:
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        except psycopg.Error:  # another application's `meta` table
            raise _problem(self.url, "this database is not a tiergate ledger", hint=hint) from None
        if meta.get("application") != APPLICATION:
            raise _problem(self.url, "this database is not a tiergate ledger", hint=hint)
        try:
            version = int(meta.get("schema_version", "0"))
        except ValueError:
            raise _problem(self.url, f"the ledger's schema version {meta.get('schema_version')!r} is not a number",
                           hint="the ledger's tables were changed outside tiergate") from None
        if version > SCHEMA_VERSION:
            raise _problem(self.url, f"the ledger has schema version {version}, newer than this tiergate knows "
                           f"({SCHEMA_VERSION})", hint="upgrade tiergate to read it; it was left unchanged")
        return version

    def _migrate(self, version: int, build_index: BuildIndex | None) -> None:
        """Bring the ledger to SCHEMA_VERSION under the write lock (another process may be doing the same: the
        version is read again once the lock is held). A ledger opened read-only is upgraded too, where its user may
        write."""
        db = self.db
        self._tx = "write"
        try:
            self._begin_locked()
            current = version
            if "meta" in self._tables():
                current = int(dict(db.execute("SELECT key, value FROM meta").fetchall()).get("schema_version", "0"))
            migrate(self, MIGRATIONS, current, db.execute, build_index, self.url)
            if current < SCHEMA_VERSION:
                for key, value in (("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION))):
                    db.execute("INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET "
                               "value = excluded.value", (key, value))
            db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        finally:
            self._tx = None

    def _begin_locked(self, latest: Sequence[tuple[str, str, str]] | None = None) -> None:
        """Begin a transaction and take the ledger's write lock for the rest of it (waiting at most LOCK_TIMEOUT_S);
        unless `latest` is None, then read the head and the latest event of each (use case, version, type) of
        `latest`: one round trip to the server. What was read is kept (`_known`) until an append changes it."""
        from psycopg import sql

        lock = (f"BEGIN; SET LOCAL lock_timeout = '{LOCK_TIMEOUT_S}s'; "
                f"SELECT pg_advisory_xact_lock({LOCK_KEY}, hashtext(current_schema()))")
        if latest is None:  # (a migration: the tables may not be there yet)
            self.db.execute(lock)
            return
        latest = tuple(latest)
        reads = _READS.get(latest)
        if reads is None:
            reads = ["SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"]
            for use_case, version, type_ in latest:
                reads.append(sql.SQL("SELECT {} FROM events WHERE use_case = {} AND version = {} AND type = {} "
                                     "ORDER BY seq DESC LIMIT 1").format(sql.SQL(_COLUMNS), sql.Literal(use_case),
                                                                          sql.Literal(version), sql.Literal(type_))
                             .as_string(self.db))
            reads = _READS[latest] = lock + "; " + "; ".join(reads)
        cursor = self.db.execute(reads)
        answers = []
        while True:
            if cursor.description is not None:
                answers.append(cursor.fetchone())
            if not cursor.nextset():
                break
        head, found = answers[1], answers[2:]  # (after the lock's own answer)
        self._known = {"head": head, **{key: Row(*row) if row is not None else None
                                        for key, row in zip(latest, found)}}

    # --- the store itself ---------------------------------------------------------------------------------
    def schema_version(self) -> int:
        row = self._one("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(row[0])

    def close(self) -> None:
        if os.getpid() != self._pid:
            return  # a forked worker's copy of its parent's connection: closing it would end the parent's session
        self.db.close()

    def alive(self) -> bool:
        db = self.db
        if db.closed or db.broken or self._tx is not None \
                or db.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return False
        try:
            db.execute("")  # (a round trip: a connection the database cut while it sat idle fails here)
        except psycopg.Error:
            return False
        return True

    # --- the transactions ----------------------------------------------------------------------------
    @contextmanager
    def writing(self, bulk: bool = False, latest: Sequence[tuple[str, str, str]] = ()) -> Iterator[None]:
        if self._tx is not None:
            raise RuntimeError("the store is in a transaction already")
        if self.readonly:
            raise _problem(self.url, "the ledger was opened for reading only, so nothing can be recorded")
        try:
            self._tx = "write"
            self._begin_locked(latest)
        except psycopg.Error as exc:
            problem = self._translate(exc)
            self._rollback()
            self._tx = None
            raise problem from None
        self._bulk = bulk
        try:
            yield
            # a statement failed and the caller went on: COMMIT would quietly roll back, so say so
            if self.db.info.transaction_status == TransactionStatus.INERROR:
                raise _problem(self.url, "a write to the ledger failed, so nothing was recorded")
            self.db.execute("COMMIT")
        except psycopg.Error as exc:
            problem = self._translate(exc)
            self._rollback()
            raise problem from None
        except BaseException:
            self._rollback()
            raise
        finally:
            self._tx, self._bulk, self._known = None, False, None
        if bulk:  # many rows came in: let the planner know the tables' new sizes (no harm when it cannot)
            try:
                self.db.execute("ANALYZE events, standing")
            except psycopg.Error:
                pass

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        if self._tx is not None:
            raise RuntimeError("the store is in a transaction already")
        try:
            self.db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._tx = "read"
            self.db.execute("SELECT 1")  # (the snapshot is taken by the first statement: now, not at the first read)
        except psycopg.Error as exc:
            problem = self._translate(exc)
            self._rollback()
            self._tx = None
            raise problem from None
        try:
            yield
        finally:
            self._rollback()
            self._tx = None

    def _rollback(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except psycopg.Error:
            pass

    def _written(self) -> None:
        if self._tx != "write":
            raise RuntimeError("the store writes only inside writing()")

    # --- reading ---------------------------------------------------------------------------------------
    def _one(self, sql: str, args: Sequence = ()) -> tuple | None:
        try:
            return self.db.execute(sql, args).fetchone()
        except psycopg.Error as exc:
            raise self._translate(exc) from None

    def _all(self, sql: str, args: Sequence = ()) -> list[tuple]:
        try:
            return self.db.execute(sql, args).fetchall()
        except psycopg.Error as exc:
            raise self._translate(exc) from None

    def _paged(self, sql: str, where: list[str], args: list, key: Sequence[str]) -> Iterator[tuple]:
        """The rows of `sql` with the conditions `where`, ordered by the columns `key` (which come last in each row,
        and together name one row), read PAGE rows per statement. A statement of its own per page, so that the
        caller may run other statements between rows; outside a transaction, pages of events appended meanwhile may
        follow (the ledger only grows at its end)."""
        order = ", ".join(key)
        after: tuple | None = None
        width = len(key)
        while True:
            conditions = list(where)
            page_args = list(args)
            if after is not None:
                conditions.append(f"({order}) > ({', '.join('%s' for _ in key)})")
                page_args.extend(after)
            statement = sql + (" WHERE " + " AND ".join(conditions) if conditions else "") + \
                f" ORDER BY {order} LIMIT {PAGE}"
            rows = self._all(statement, page_args)
            yield from rows
            if len(rows) < PAGE:
                return
            after = tuple(rows[-1][-width:])

    # --- events ------------------------------------------------------------------------------------------
    def head(self) -> tuple[int, str] | None:
        if self._known is not None:
            return self._known["head"]
        return self._one("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")

    def _learn_written(self, rows: Sequence[ChainedRow]) -> None:
        """(in `writing`) The head is now the last row appended; what was known of the latest events of the rows'
        (use case, version, type) is forgotten."""
        if self._known is not None and rows:
            self._known["head"] = (rows[-1][0], rows[-1][8])
            for row in rows:
                self._known.pop((row[3], row[4], row[2]), None)

    def append(self, rows: Sequence[ChainedRow], recorded_at: str, standing: Iterable[tuple] = ()) -> None:
        self._written()
        kept = _one_per_slot(standing)
        if kept and not self._bulk and len(rows) < COPY_FROM and len(kept) < COPY_FROM:
            # (a recording: the events and their standing rows in one statement, one round trip to the server)
            columns = [list(c) for c in zip(*((*row, recorded_at) for row in rows))]
            try:
                self.db.execute(_APPEND_INDEXED, columns + [list(c) for c in zip(*kept.values())])
            except psycopg.Error as exc:
                raise self._translate(exc) from None
            self._learn_written(rows)
            return
        self._append(rows, recorded_at)
        self._learn_written(rows)
        self.put_standing(kept.values())

    def _append(self, rows: Sequence[ChainedRow], recorded_at: str) -> None:
        try:
            with self.db.cursor() as cursor:
                if self._bulk or len(rows) >= COPY_FROM:
                    with cursor.copy(f"COPY events ({_COLUMNS}) FROM STDIN") as copy:
                        write = copy.write_row
                        for row in rows:
                            write((*row, recorded_at))
                else:
                    cursor.executemany(f"INSERT INTO events ({_COLUMNS}) VALUES "
                                       "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                                       [(*row, recorded_at) for row in rows])
        except psycopg.Error as exc:
            raise self._translate(exc) from None

    def span(self) -> tuple[int, int, int]:
        low, high, count = self._one("SELECT MIN(seq), MAX(seq), COUNT(*) FROM events")
        return low or 0, high or 0, count

    def before(self, seq: int) -> tuple[int, str] | None:
        return self._one("SELECT seq, hash FROM events WHERE seq < %s ORDER BY seq DESC LIMIT 1", (seq,))

    def chain(self, first: int | None = None, last: int | None = None) -> Iterator[tuple]:
        # (the body as its UTF-8 bytes, as the database holds it: what the hash was computed over)
        where, args = (["seq >= %s", "seq <= %s"], [first, last]) if first is not None else ([], [])
        for seq, at, type_, use_case, version, actor, body, prev_hash, hash_, _ in self._paged(
                "SELECT seq, at, type, use_case, version, actor, convert_to(body, 'UTF8'), prev_hash, hash, seq "
                "FROM events", where, args, ("seq",)):
            yield seq, at, type_, use_case, version, actor, body, prev_hash, hash_

    def mistyped(self, first: int | None = None, last: int | None = None) -> Iterator[tuple[int, str, str]]:
        return iter(())  # (every column is typed: a body cannot be stored as anything but text)

    def check_integrity(self) -> list[tuple[int | None, str]]:
        """amcheck's verdict on the ledger's indexes, each checked against its table (`bt_index_check` with
        `heapallindexed`: an event missing from the index by use case is found), when the database has the
        extension (CREATE EXTENSION amcheck); without it, nothing is checked and nothing is found. PostgreSQL
        checks each page's checksum as it reads it, where the cluster has checksums on."""
        schema = self._one("SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = "
                           "e.extnamespace WHERE e.extname = 'amcheck'")
        if schema is None:
            return []
        found: list[tuple[int | None, str]] = []
        inside = self._tx is not None
        for index in _INDEXES:
            try:
                if inside:
                    self.db.execute("SAVEPOINT tiergate_check")
                self.db.execute(f"SELECT {schema[0]}.bt_index_check(%s::regclass, true)", (index,))
                if inside:
                    self.db.execute("RELEASE SAVEPOINT tiergate_check")
            except psycopg.Error as exc:
                if inside:
                    self.db.execute("ROLLBACK TO SAVEPOINT tiergate_check")
                if exc.sqlstate is None or not exc.sqlstate.startswith("XX"):
                    continue  # (not a finding: amcheck may not be run by this user, say)
                text = self._scrub(exc)
                found.append((self._seq_named(text) if index == "events_by_version" else None, text))
        return found

    def _seq_named(self, text: str) -> int | None:
        """The seq of the event at the heap tuple amcheck names, if it names one."""
        where = re.search(r"heap tuple \((\d+),\s*(\d+)\)", text)
        if where is None:
            return None
        row = self._one("SELECT seq FROM events WHERE ctid = %s::tid", (f"({where.group(1)},{where.group(2)})",))
        return row[0] if row is not None else None

    def rows(self, use_case: str | None = None, version: str | None = None,
             types: Sequence[str] | None = None) -> Iterator[Row]:
        where, args = self._where(use_case, version, types)
        if use_case is not None:  # (a use case's events: one statement, by its index)
            sql = f"SELECT {_COLUMNS} FROM events" + (" WHERE " + " AND ".join(where) if where else "")
            for r in self._all(sql + " ORDER BY seq", args):
                yield Row(*r)
            return
        for r in self._paged(f"SELECT {_COLUMNS}, seq FROM events", where, args, ("seq",)):
            yield Row(*r[:10])

    def latest(self, use_case: str, version: str | None, type_: str) -> Row | None:
        if self._known is not None and (use_case, version, type_) in self._known:
            return self._known[(use_case, version, type_)]
        where, args = self._where(use_case, version, (type_,))
        row = self._one(f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT 1", args)
        return Row(*row) if row is not None else None

    def latest_each(self, use_case: str, version: str, types: Sequence[str]) -> list[Row]:
        if not types:
            return []
        one = f"(SELECT {_COLUMNS} FROM events WHERE use_case = %s AND version = %s AND type = %s ORDER BY seq DESC " \
              "LIMIT 1)"
        args = [a for t in types for a in (use_case, version, t)]
        return [Row(*r) for r in self._all(" UNION ALL ".join(one for _ in types), args)]

    @staticmethod
    def _where(use_case: str | None, version: str | None, types: Sequence[str] | None) -> tuple[list[str], list]:
        where, args = [], []
        if use_case is not None:
            where.append("use_case = %s")
            args.append(use_case)
        if version is not None:
            where.append("version = %s")
            args.append(version)
        if types:
            where.append(f"type IN ({', '.join('%s' for _ in types)})")
            args.extend(types)
        return where, args

    def contains(self, use_case: str, version: str, body: str) -> bool:
        return self._one("SELECT 1 FROM events WHERE use_case = %s AND version = %s AND at = %s AND body = %s LIMIT 1",
                         (use_case, version, time_of(body), body)) is not None

    # --- the standing index ------------------------------------------------------------------------------
    def put_standing(self, rows: Iterable[tuple]) -> None:
        self._written()
        kept = _one_per_slot(rows)
        if not kept:
            return
        try:
            if len(kept) < COPY_FROM:
                self.db.execute(_UPSERT_STANDING, [list(column) for column in zip(*kept.values())])
                return
            self.db.execute(_STAGING)
            with self.db.cursor() as cursor:
                with cursor.copy("COPY standing_in FROM STDIN") as copy:
                    write = copy.write_row
                    for row in kept.values():
                        write(row)
                cursor.execute(f"INSERT INTO standing SELECT * FROM standing_in {_UPSERT}")
                cursor.execute("TRUNCATE standing_in")
        except psycopg.Error as exc:
            raise self._translate(exc) from None

    def clear_standing(self) -> None:
        self._written()
        try:
            self.db.execute("DELETE FROM standing")
        except psycopg.Error as exc:
            raise self._translate(exc) from None

    def standing(self, first: str | None = None, last: str | None = None) -> Iterator[tuple[str, int, str]]:
        where, args = (["s.use_case >= %s", "s.use_case <= %s"], [first, last]) if first is not None else ([], [])
        for use_case, seq, body, *_ in self._paged(
                "SELECT s.use_case, e.seq, e.body, s.use_case, s.version, s.slot FROM standing s "
                "JOIN events e ON e.seq = s.seq", where, args, ("s.use_case", "s.version", "s.slot")):
            yield use_case, seq, body

    def replaced_after(self, instant: float, first: str | None = None, last: str | None = None) -> set[str]:
        where, args = [f"substr(slot, 1, 1) <> '{OWN_SLOT}'", "instant > %s"], [instant]
        if first is not None:
            where += ["use_case >= %s", "use_case <= %s"]
            args += [first, last]
        return {r[0] for r in self._all(f"SELECT DISTINCT use_case FROM standing WHERE {' AND '.join(where)}", args)}

    def use_cases(self) -> list[str]:
        return [r[0] for r in self._all("SELECT DISTINCT use_case FROM standing ORDER BY use_case")]

    def shared_slots(self) -> Iterator[tuple]:
        return iter(self._all("SELECT use_case, version, slot, instant, seq FROM standing WHERE "
                              f"substr(slot, 1, 1) <> '{OWN_SLOT}'"))

    def own_slots(self, shared_types: Sequence[str]) -> tuple[int, int]:
        joined = _OWN_JOINED.format(own=OWN_SLOT, shared=_sql_list(shared_types))
        return tuple(self._one(f"SELECT COUNT(e.seq), COUNT(*) {joined}"))

    def own_slot_strays(self, shared_types: Sequence[str]) -> tuple[int | None, int | None]:
        shared = _sql_list(shared_types)
        missing = self._one(
            f"SELECT MIN(e.seq) FROM events e WHERE e.type NOT IN ({shared}) AND NOT EXISTS (SELECT 1 FROM standing s "
            f"WHERE s.use_case = e.use_case AND s.version = e.version AND s.slot = '{OWN_SLOT}' || e.seq)")[0]
        stray = self._one(f"SELECT MIN(s.seq) {_OWN_JOINED.format(own=OWN_SLOT, shared=shared)} AND e.seq IS NULL")[0]
        return missing, stray


def _one_per_slot(rows: Iterable[tuple]) -> dict[tuple, tuple]:
    """Rows of the standing index, one per slot as writing them one after another would leave it (a row replaces
    the one before it unless that one is later): one statement may not update a row twice."""
    kept: dict[tuple, tuple] = {}
    for row in rows:
        key = (row[0], row[1], row[2])
        known = kept.get(key)
        if known is None or row[3] >= known[3]:
            kept[key] = row
    return kept


def _password(url: str) -> str | None:
    """The password written in a URL (in its user part, or as a `password` parameter), as written."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    userinfo = parts.netloc.rpartition("@")[0]
    if ":" in userinfo:
        return userinfo.split(":", 1)[1] or None
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "password":
            return value or None
    return None
