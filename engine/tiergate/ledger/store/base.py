"""What the ledger needs from storage: the `Store` protocol, its row types, and `open_store(url)` choosing a backend.

A backend only stores. Everything the ledger derives is computed above it and handed down ready to write: the
hash chain (engine/tiergate/ledger/chain.py), canonical JSON, and the rows of the standing index
(engine/tiergate/ledger/standing.py). So a second backend implements this protocol and nothing else, and passes
tests/test_store_protocol.py.

The ledger holds two kinds of row:

* an event (`Row`): its number in the chain (`seq`, from 1, without gaps), the columns a query selects by,
  its canonical JSON (`body`), the chain hashes, and when the store wrote it (`recorded_at`, not hashed);
* a row of the standing index (`StandingRow`): per use case, version and *slot*, the event that holds it. A
  slot starting with `#` is an event's own (`#` and its seq); any other is shared by the events that replace
  one another in it, and a row written to a shared slot replaces the stored one only when it is not earlier
  (`instant`, seconds since the epoch, at least the stored one's).
"""
from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Protocol, Sequence

from tiergate.errors import Diagnostic, Location, TiergateError

#: the layout of the ledger's data, whatever holds it: 1, the events; 2, and the standing index
SCHEMA_VERSION = 3
#: how the slot of an event that replaces no other begins (then its seq)
OWN_SLOT = "#"


class Row(NamedTuple):
    """One stored event. A tuple, so that it goes to the database as it is (no copying)."""

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


#: an event as `Store.append` takes it: a Row without `recorded_at` (one time, given beside the rows)
ChainedRow = tuple  # (seq, at, type, use_case, version, actor, body, prev_hash, hash)


class StandingRow(NamedTuple):
    """A row of the standing index: the event (`seq`) that holds a slot of a version."""

    use_case: str
    version: str
    slot: str
    instant: float
    seq: int


class Store(Protocol):
    """Storage of ledger rows. Appends are atomic and serialised across processes; reads see committed rows.

    Methods marked *(writing)* are called only inside `writing()`; any other may be called inside or outside a
    transaction. A backend raises TiergateError (code E600, naming the ledger) for what the user can act on: a
    missing, foreign, newer, read-only or full ledger.
    """

    #: what another process opens this same ledger by (`open_store(store.url)`): how workers reach it
    url: str
    readonly: bool

    # --- the transactions ----------------------------------------------------------------------------
    def writing(self, bulk: bool = False, latest: Sequence[tuple[str, str, str]] = ()) -> AbstractContextManager[None]:
        """Take the write lock (waiting for other writers), then commit on leaving: all that was written inside,
        or on an exception nothing. What is read inside is the ledger as the lock found it, with what was written
        inside. `bulk`: a hint that many rows follow (an import). `latest`: (use case, version, type) whose `latest`
        the caller will read inside, which a store may read with the lock (PostgreSQL: in the same round trip) and
        answer from until an append writes such an event. A store opened read-only refuses (TiergateError)."""

    def snapshot(self) -> AbstractContextManager[None]:
        """A read transaction: everything read inside is the ledger at one moment, whatever is appended meanwhile."""

    # --- events ------------------------------------------------------------------------------------------
    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last event; None for an empty ledger."""

    def append(self, rows: Sequence[ChainedRow], recorded_at: str, standing: Iterable[tuple] = ()) -> None:
        """(writing) Store events already chained, numbered on from the head, each with `recorded_at`, and the rows of
        the standing index they bring (as `put_standing` writes them: a backend may write both in one statement)."""

    def span(self) -> tuple[int, int, int]:
        """(lowest seq, highest seq, number of events); (0, 0, 0) for an empty ledger. (Of one moment inside
        `snapshot()` or `writing()`.)"""

    def before(self, seq: int) -> tuple[int, str] | None:
        """(seq, hash) of the last event before `seq`; None when there is none."""

    def chain(self, first: int | None = None, last: int | None = None) -> Iterator[tuple]:
        """(seq, at, type, use_case, version, actor, body, prev_hash, hash) of the events in seq order, from `first`
        to `last` (all when not given), the body as the stored bytes: what `audit verify` hashes. A body that is not
        stored as text comes as None (`mistyped` says what it is)."""

    def rows(self, use_case: str | None = None, version: str | None = None,
             types: Sequence[str] | None = None) -> Iterator[Row]:
        """The events of a use case (and version), of these types, in seq order; all when not given."""

    def latest(self, use_case: str, version: str | None, type_: str) -> Row | None:
        """The last event of this type of the use case (and version, when given)."""

    def latest_each(self, use_case: str, version: str, types: Sequence[str]) -> list[Row]:
        """The last event of the version of each of these types that it has, in one statement (what `latest` gives
        for each type, without the types it has none of; in no particular order)."""

    def contains(self, use_case: str, version: str, body: str) -> bool:
        """Whether an event of this version with exactly this canonical body is stored. (An event's `at` column is
        its body's `at`, so a backend need look only among the events of that time: `time_of`.)"""

    def mistyped(self, first: int | None = None, last: int | None = None) -> Iterator[tuple[int, str, str]]:
        """(seq, column, what is stored) of each value of the events from `first` to `last` (all when not given)
        that is not of its column's kind (seq an integer, every other column text), in seq order. A backend whose
        columns cannot hold another kind gives none."""

    def check_integrity(self) -> list[tuple[int | None, str]]:
        """What the database itself finds wrong with the file (its pages, its own indexes agreeing with its tables:
        an event its selection by use case would miss): (the seq a problem names, or None; the problem). Empty when
        it finds nothing. Reads the whole ledger."""

    # --- the standing index ------------------------------------------------------------------------------
    def put_standing(self, rows: Iterable[tuple]) -> None:
        """(writing) Write StandingRow-shaped tuples: a row replaces the stored one of its slot unless that one is
        later (see the module's docstring)."""

    def clear_standing(self) -> None:
        """(writing) Remove every row of the standing index (to build it again)."""

    def standing(self, first: str | None = None, last: str | None = None) -> Iterator[tuple[str, int, str]]:
        """(use_case, seq, body) of the events the index names, a use case's together and the use cases in order
        (in no particular order within one), for the use cases from `first` to `last` (all when not given)."""

    def replaced_after(self, instant: float, first: str | None = None, last: str | None = None) -> set[str]:
        """The use cases (from `first` to `last`) with a shared slot held by an event later than `instant`."""

    def use_cases(self) -> list[str]:
        """Every use case in the standing index, in order."""

    def shared_slots(self) -> Iterator[tuple]:
        """The rows of the shared slots (StandingRow-shaped tuples), in no particular order."""

    def own_slots(self, shared_types: Sequence[str]) -> tuple[int, int]:
        """(rows of own slots that name an event of theirs, all rows of own slots): an event of a type not in
        `shared_types` is named by the row (its use case, version, `#` and its seq, and its seq)."""

    def own_slot_strays(self, shared_types: Sequence[str]) -> tuple[int | None, int | None]:
        """(the first event of a type not in `shared_types` that no row names, the first row of an own slot that
        names no such event): where `own_slots` found the counts wrong."""

    # --- the store itself --------------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The layout version of the open ledger (SCHEMA_VERSION once it is open)."""

    def close(self) -> None:
        """Let go of the ledger (a second close does nothing)."""

    def alive(self) -> bool:
        """Whether the store can be used as it is: open, in no transaction, and its connection answering (a server
        asks before it lends a store it kept open to another request; False, and it opens another)."""


def time_of(body: str) -> str:
    """The `at` of an event's canonical body text, as its `at` column holds it ("" when it has none: then no stored
    event has this body, since every stored event's `at` column is its body's)."""
    import json

    try:
        at = json.loads(body).get("at")
    except (ValueError, AttributeError):
        return ""
    return at if isinstance(at, str) else ""


#: how a store asks for the standing index to be built from the events, when a migration adds it: the function
#: reads the events and writes the rows through the store it is given, inside the migration's transaction
BuildIndex = Callable[[Store], object]

#: URL schemes, and the module of the backend that stores them (its `open_url`)
SCHEMES = {"sqlite": "tiergate.ledger.store.sqlite", "postgresql": "tiergate.ledger.store.postgres",
           "postgres": "tiergate.ledger.store.postgres"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(//)?")


def split_url(target: str | Path) -> tuple[str, str]:
    """(scheme, the rest) of a ledger's URL; ("sqlite", path) for a plain path.

    `sqlite:///relative/path`, `sqlite:////absolute/path` (as SQLAlchemy and MLflow write them) and
    `sqlite:path` name a file; so does any text without a scheme of two letters or more (a `:` elsewhere in a
    file name, or a Windows drive, is part of the path). Text of the form `name://...` with another scheme is
    refused.
    """
    if isinstance(target, Path):
        return "sqlite", str(target)
    text = str(target)
    match = _SCHEME.match(text)
    if match is None:
        return "sqlite", text
    scheme = match.group(1).lower()
    if scheme not in SCHEMES and not match.group(2):
        return "sqlite", text  # `notes:2026.db`: a file name with a colon
    if scheme == "sqlite":
        rest = text[match.end():]
        if match.group(2):  # sqlite://HOST/PATH: the host must be empty
            if not rest.startswith("/"):
                raise _url_problem(text, "a sqlite URL names a file: write sqlite:///relative/path or "
                                   "sqlite:////absolute/path")
            rest = rest[1:]
        if not rest:
            raise _url_problem(text, "the sqlite URL names no file")
        return "sqlite", rest
    return scheme, text


def open_store(target: str | Path, create: bool = True, readonly: bool = False,
               build_index: BuildIndex | None = None) -> Store:
    """The ledger at `target`, a URL or a plain path (a SQLite file), opened by the backend of its scheme.

    `create`: make the ledger when there is none (else TiergateError). `readonly`: never write to it (a ledger of an
    older layout is still upgraded, through a connection of its own, where it may be written). `build_index`: what
    a migration that adds the standing index calls to fill it from the events (engine/tiergate/ledger/standing.py).
    """
    scheme, rest = split_url(target)
    module = SCHEMES.get(scheme)
    if module is None:
        raise _url_problem(str(target), f"`{scheme}://` is not a kind of ledger tiergate knows: it knows sqlite "
                           "(sqlite:///PATH, sqlite:PATH or a plain path) and postgresql "
                           "(postgresql://USER@HOST:PORT/DATABASE)",
                           hint="give the ledger's file (a path, sqlite:///PATH or sqlite:PATH) or its PostgreSQL "
                           "database (postgresql://USER@HOST/DATABASE)")
    from importlib import import_module

    return import_module(module).open_url(rest, create=create, readonly=readonly, build_index=build_index)


def shown_url(target: str) -> str:
    """A ledger's URL as messages name it: without the password it may carry (`scheme://USER:PASSWORD@HOST/...`, or
    a `password=` parameter). A plain path is shown as it is."""
    text = str(target)
    match = _SCHEME.match(text)
    if match is None or not match.group(2):
        return text
    start = match.end()
    end = min((i for i in (text.find(c, start) for c in "/?#") if i >= 0), default=len(text))
    userinfo, at, hosts = text[start:end].rpartition("@")
    if at and ":" in userinfo:
        text = text[:start] + userinfo.split(":", 1)[0] + "@" + hosts + text[end:]
    return re.sub(r"([?&])password=[^&#]*&?", lambda m: m.group(1), text).rstrip("?&")


#: in a backend's MIGRATIONS: build the standing index from the events (with the opening's `build_index`)
BUILD_INDEX = object()


def migrate(store: Store, migrations: Sequence[Sequence], current: int, execute: Callable[[str], object],
            build_index: BuildIndex | None, where: str) -> None:
    """Bring a store from layout `current` to SCHEMA_VERSION, inside the transaction its caller holds: `migrations[n]`
    (from layout n to n + 1) is SQL statements, run by `execute`, or BUILD_INDEX, run by `build_index` (a new ledger
    has nothing to index; an opening without it cannot upgrade, E600 naming `where`). Every backend's migrations
    run through here."""
    for step in range(current, SCHEMA_VERSION):
        for statement in migrations[step]:
            if statement is not BUILD_INDEX:
                execute(statement)
            elif current == 0:
                continue  # a new ledger: no events to index
            elif build_index is None:
                raise _url_problem(where, f"the ledger needs an upgrade of its layout ({current} -> "
                                   f"{SCHEMA_VERSION}), which this opening cannot do",
                                   hint="open it once through tiergate's Ledger (any tiergate command)")
            else:
                build_index(store)


def _url_problem(target: str, message: str, hint: str | None = None) -> TiergateError:
    return TiergateError(Diagnostic("E600", message, Location(shown_url(target)), hint=hint))
