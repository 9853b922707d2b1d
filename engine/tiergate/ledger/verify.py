"""`audit verify`: the hash chain from the first event to the head, the kind of every stored value, the database's
own check of itself, then the index `status` reads.

The chain makes the events tamper-evident. The standing index (engine/ledger/standing.py) is derived from
them, and `status` reads it instead of the events: a row taken out of it, or pointed at an older result,
would hide an event from `status` while the chain stays intact. So verify also rebuilds what the index
must hold from the events it has just checked, and compares. A value stored as another kind than its column's
(a body as a BLOB) is named at its seq, and what only the database can see (its pages, its own indexes against
its tables: an event taken out of its index by use case is missed by every command that selects a use case's
events) comes from `Store.check_integrity`. A signed event (a body with "envelope") is checked as recording
checked it: its envelope against the keys the roster in force then (the latest roster event before it) gave the
actor, its statement against the event and its version (ledger/signed.py); an unsigned body costs one substring
test.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from operator import itemgetter

from tiergate.errors import TiergateError
from tiergate.ledger.chain import GENESIS, event_hash
from tiergate.ledger.standing import SHARED, instant_of, slot_of
from tiergate.ledger.store.base import Store, open_store

try:
    from orjson import loads as _read
except ImportError:  # pragma: no cover - orjson is a dependency
    _read = json.loads

#: the fields of a body that its row repeats in columns, in the order Store.chain gives them
_columns_of = itemgetter("at", "type", "use_case", "version", "actor")
#: events from which `audit verify` checks runs of them on every core
VERIFY_PARALLEL_FROM = 50_000
#: how a problem with the standing index (and not with the events) begins
INDEX_PROBLEM = "the events are intact, but the index `status` reads does not match them"


@dataclass(frozen=True)
class Verification:
    count: int
    head: str
    problem: str | None = None
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def only_the_index(self) -> bool:
        """Whether the events are intact and only the standing index is wrong (`audit reindex` mends it)."""
        return self.problem is not None and self.problem.startswith(INDEX_PROBLEM)


def verify(store: Store, expected_head: str | None = None, checked_through: int = 0) -> Verification:
    """Recompute the hash chain from the first event; the first event that breaks it is reported. Then check
    the standing index against the events.

    A large ledger is checked in runs of events on every core, each run from the stored hash of the event
    before it; the first run (in order) with a problem names it, as one pass from the start would. The
    index is read meanwhile, at the moment the events to check were counted (events appended during the
    check are left for the next one).

    `checked_through`: the signed events up to this seq are not checked again (a signed checkpoint the caller
    trusts says they were checked when it was made, and the chain shows them unchanged since: `audit verify
    --checkpoint`); every hash is.
    """
    with store.snapshot():
        return _verify(store, expected_head, checked_through)


def _verify(store: Store, expected_head: str | None, checked_through: int = 0) -> Verification:
    from tiergate.ledger import parallel

    low, high, total = store.span()
    workers = parallel.cores()
    index: list = []
    whole: dict = {}  # the checks of the whole table, run here while the workers check the chain

    def meanwhile() -> None:
        index.append(_read_index(store))
        whole["typed"] = next(iter(store.mistyped()), None)
        whole["damage"] = store.check_integrity()
        whole["policies"] = _policy_problem(store)

    if workers > 1 and total >= VERIFY_PARALLEL_FROM:
        step = -(-(high - low + 1) // (workers * 2))
        runs = [(first, min(first + step - 1, high)) for first in range(low, high + 1, step)]
        runs = [(first, last, *((store.before(first) if i else None) or (0, GENESIS)))
                for i, (first, last) in enumerate(runs)]
        parts = parallel.on_every_core(_verify_run, runs, (store.url, expected_head, checked_through), workers,
                                       meanwhile=meanwhile)
    else:
        parts = [_verify_rows(store, None, None, 0, GENESIS, expected_head, checked_through)]
    count, published_at, own_slots, latest = 0, None, 0, {}
    if "typed" not in whole:
        meanwhile()
    typed = whole["typed"]  # (seq, column, what is stored) of the first value of a wrong kind
    for run_count, previous, last_seq, problem, problem_seq, published, run_own, run_latest in parts:
        count += run_count
        if published_at is None:
            published_at = published
        if problem is not None and (typed is None or problem_seq < typed[0]):
            return Verification(count, previous, problem, problem_seq)
        if typed is not None and (problem is not None or typed[0] <= last_seq):
            return _mistyped(store, low, *typed)
        own_slots += run_own
        for slot, (at, seq) in run_latest.items():  # runs in order: a later run's result wins a tie
            known = latest.get(slot)
            if known is None or _not_before(at, known[0]):
                latest[slot] = (at, seq)
    if expected_head is not None and expected_head != previous:
        if published_at is not None:
            added = last_seq - published_at
            return Verification(count, previous, f"the ledger moved on: the published head {expected_head} is "
                                f"event {published_at}, and {added} event{'s were' if added != 1 else ' was'} "
                                f"added since (head now {previous})", None)
        return Verification(count, previous, f"the head is {previous}, not the published {expected_head}, which is "
                            "no event of this ledger: the ledger was rewritten", None)
    if typed is not None:  # (a value past the events counted: appended since they were)
        return _mistyped(store, low, *typed)
    damage = whole["damage"]
    if damage:
        seq, what = min(damage, key=lambda d: (d[0] is None, d[0] or 0))
        more = f" (and {len(damage) - 1} more)" if len(damage) > 1 else ""
        return Verification(count, previous, f"the database finds itself damaged: {what}{more}"
                            + (f"; event {seq} is hidden from the commands that read a use case's events"
                               if seq is not None else ""), seq)
    if whole["policies"] is not None:
        problem, seq = whole["policies"]
        return Verification(count, previous, problem, seq)
    problem, seq = _standing_problem(store, index[0] if index else _read_index(store), own_slots, latest)
    if problem is not None:
        return Verification(count, previous, f"{INDEX_PROBLEM}: {problem}", seq)
    return Verification(count, previous)


def _policy_problem(store: Store) -> tuple[str, int] | None:
    """(problem, seq) of the first policy adoption whose stored source does not match its SHA-256 (E640), or that
    names a version whose source neither it nor an adoption before it carries (E641); None when every one is whole.
    (The chain shows the events were not changed since they were chained; this shows the sources are what the
    adoptions say they are, whoever chained them.)"""
    from tiergate.errors import Location
    from tiergate.ledger.policyversions import ADOPTED, NOBODY, body_problems, missing_source

    held: set[str] = set()
    for row in store.rows(NOBODY, NOBODY, types=(ADOPTED,)):
        try:
            body = json.loads(row.body)
        except (TypeError, ValueError):
            return f"event {row.seq} was altered: it is not JSON", row.seq
        where = Location("ledger", row.seq)
        found = body_problems(body, where) if isinstance(body, dict) else None
        if found is None:
            return f"event {row.seq} was altered: it is not an event", row.seq
        missing = missing_source(body, held, where) if not found else None
        if found or missing is not None:
            diagnostic = found[0] if found else missing
            return f"policy adoption {row.seq}: {diagnostic.message} ({diagnostic.code})", row.seq
        held.update(body.get("sources") or {})
    return None


def _mistyped(store: Store, low: int, seq: int, column: str, kind: str) -> Verification:
    """The problem of a value stored as another kind than its column's, after the events before it (intact)."""
    before = store.before(seq)
    count = seq - low if before is not None else 0
    wanted = "an integer" if column == "seq" else "text"
    return Verification(count, before[1] if before is not None else GENESIS,
                        f"event {seq} was altered: its {column} is stored as {kind}, not {wanted}", seq)


def _verify_run(run: tuple[int, int, int, str], url: str, expected_head: str | None, checked_through: int) -> tuple:
    first, last, last_seq, previous = run
    store = open_store(url, create=False, readonly=True)  # a connection of its own, never the parent's
    try:
        return _verify_rows(store, first, last, last_seq, previous, expected_head, checked_through)
    finally:
        store.close()


def _verify_rows(store: Store, first: int | None, last: int | None, last_seq: int, previous: str,
                 expected_head: str | None, checked_through: int = 0) -> tuple:
    """Check the rows from `first` to `last` (all when None), the row before them being (`last_seq`,
    `previous`): (rows read, last good hash, last good seq, problem, the seq it names, seq whose hash is
    `expected_head`, events with a standing slot of their own, {use_case NUL version NUL slot: (at, seq)} of
    the latest event in each shared slot)."""
    count, published_at, own_slots, latest = 0, None, 0, {}
    problem, named, signatures = None, None, None
    try:
        for seq, at, type_, use_case, version, actor, body, prev_hash, stored_hash in store.chain(first, last):
            count += 1
            if seq != last_seq + 1:
                problem, named = (f"event {last_seq + 1} is missing (found {seq} next): an event was deleted or the "
                                  "order was changed"), last_seq + 1
                break
            if prev_hash != previous:
                problem, named = (f"event {seq} does not follow event {seq - 1}: an event before it was deleted, "
                                  "inserted or reordered"), seq
                break
            if body is None:  # (stored as another kind than text: `mistyped` names it)
                problem, named = f"event {seq} was altered: its body is not stored as text", seq
                break
            if type(body) is not bytes or event_hash(previous, body) != stored_hash:  # (over the stored bytes)
                problem, named = f"event {seq} was altered: its content does not match its hash", seq
                break
            try:
                fields = _read(body)
            except (ValueError, RecursionError):  # (orjson.JSONDecodeError; UnicodeDecodeError; json without orjson)
                fields = _fields(body)
            try:
                columns = _columns_of(fields)
            except (KeyError, TypeError):  # (a field missing, or a body that is no object: None, a list, a number)
                columns = None
            if columns != (at, type_, use_case, version, actor):
                problem, named = f"event {seq} was altered: its columns do not match its content", seq
                break
            if b'"envelope":' in body and "envelope" in fields and seq > checked_through:  # (signed: checked too)
                if signatures is None:
                    from tiergate.ledger.signed import StoredSignatures

                    signatures = StoredSignatures(store)
                signed_problem = signatures.problem(seq, fields)
                if signed_problem is not None:
                    problem, named = signed_problem, seq
                    break
            previous, last_seq = stored_hash, seq
            if stored_hash == expected_head:
                published_at = seq
            if type_ not in SHARED:
                own_slots += 1
                continue
            shared = f"{use_case}\0{version}\0{slot_of(fields)}"
            # the latest by time, then by recording (standing.index_rows); two UTC times written alike (the
            # usual case) compare as text
            known = latest.get(shared)
            if known is None:
                latest[shared] = (at, seq)
            else:
                was = known[0]
                if (at >= was) if len(at) == len(was) and at[-1] == was[-1] == "Z" and at[10] == was[10] == "T" \
                        else _not_before(at, was):
                    latest[shared] = (at, seq)
    except TiergateError as exc:  # a row that cannot even be read (e.g. text that is not UTF-8)
        problem, named = f"event {last_seq + 1} cannot be read: {exc.diagnostics[0].message}", last_seq + 1
    if problem is not None:  # (the last good hash and seq; nothing of the index)
        return count, previous, last_seq, problem, named, published_at, 0, {}
    return count, previous, last_seq, None, None, published_at, own_slots, latest


def _fields(body: bytes) -> dict | None:
    """A stored body's fields as json reads them, where orjson would not (see engine/jsoncodec.py); None when it is
    no JSON. (The columns compared with them are text, which orjson reads as json does.)"""
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


def _not_before(at: str, other: str) -> bool:
    """Whether the time `at` is not before `other` (RFC 3339 texts). Two UTC times written alike compare as text;
    any others are read."""
    if len(at) == len(other) and at[-1] == other[-1] == "Z" and at[10] == other[10] == "T":
        return at >= other
    return instant_of({"at": at}) >= instant_of({"at": other})


def _slot_name(key: str) -> str:
    use_case, version, slot = key.split("\0", 2)
    return f"{use_case} {version}, {slot}"


def _read_index(store: Store) -> tuple[tuple[int, int], dict[str, tuple[float, int]]]:
    """The standing index as the check needs it: ((rows of own slots that name their event, rows of own slots),
    {use_case NUL version NUL slot: (instant, seq)} of the shared slots)."""
    return store.own_slots(SHARED), {f"{u}\0{v}\0{slot}": (instant, seq)
                                     for u, v, slot, instant, seq in store.shared_slots()}


def _standing_problem(store: Store, index: tuple, own_slots: int, latest: dict) -> tuple[str | None, int | None]:
    """What is wrong with the standing index (`index`: _read_index), given what the events say it must hold:
    (problem, seq) or (None, None)."""
    recorded, shared = index
    for key, (at, seq) in latest.items():
        found = shared.pop(key, None)
        where = _slot_name(key)
        if found is None:
            return f"{where}: the row for event {seq} is missing", seq
        if found[1] != seq:
            return f"{where}: it points at event {found[1]}, where the latest is event {seq}", seq
        if found[0] != instant_of({"at": at}):
            return f"{where}: the time of event {seq} was changed", seq
    if shared:
        key, (_, seq) = min(shared.items(), key=lambda item: item[1][1])
        return f"{_slot_name(key)}: a row for event {seq}, which no event calls for", seq
    matching, rows = recorded
    if rows != own_slots or matching != own_slots:
        missing, stray = store.own_slot_strays(SHARED)
        if missing is not None:
            return f"event {missing} has no row", missing
        return f"a row for event {stray}, which no event calls for", stray
    return None, None
