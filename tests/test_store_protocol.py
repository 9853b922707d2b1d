"""The ledger's storage protocol (engine/tiergate/ledger/store/base.py), tested through `open_store` and the
protocol's methods alone: what every backend must do, run on each of them (SQLite and PostgreSQL).

A backend is in BACKENDS with a function that gives the URL of a new, empty ledger (or skips when the backend
cannot be reached: the PostgreSQL server at TIERGATE_TEST_POSTGRES, conftest.py; under CI=true it fails instead).
Nothing here knows SQL; the backends' own faults (a foreign file or database, read-only media, a full disk, old
layouts, an unreachable server) are tested in test_ledger_faults.py, test_ledger_standing.py and
test_ledger_postgres.py.
"""
from __future__ import annotations

import json
import multiprocessing
import random
from pathlib import Path

import pytest

from tiergate.errors import TiergateError
from tiergate.ledger.chain import GENESIS, canonical, chained
from tiergate.ledger.store.base import SCHEMA_VERSION, Row, open_store, split_url

RECORDED_AT = "2026-03-01T09:30:00.000001+00:00"


def sqlite_url(request, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def postgresql_url(request, tmp_path: Path) -> str:
    return request.getfixturevalue("postgres_ledger_url")


#: backend name -> the URL of a new, empty ledger (given the test's request and a fresh temporary folder)
BACKENDS = {"sqlite": sqlite_url, "postgresql": postgresql_url}


@pytest.fixture(params=sorted(BACKENDS))
def url(request, tmp_path) -> str:
    return BACKENDS[request.param](request, tmp_path)


@pytest.fixture
def store(url):
    opened = open_store(url)
    yield opened
    opened.close()


def event(n: int, use_case: str = "uc", version: str = "1", type_: str = "evidence", actor: str = "dana") -> dict:
    return {"at": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z", "type": type_, "use_case": use_case,
            "version": version, "actor": actor, "n": n}


def rows_of(bodies: list[dict]) -> list[tuple]:
    """Rows as the ledger hands them to chain.chained: (at, type, use_case, version, actor, body, slot, instant)."""
    return [(b["at"], b["type"], b["use_case"], b["version"], b["actor"], canonical(b), None, 0.0) for b in bodies]


def append(store, bodies: list[dict]) -> list[tuple]:
    """Chain `bodies` after the head and append them, as one write: the rows appended."""
    with store.writing():
        seq, previous = store.head() or (0, GENESIS)
        chain, _ = chained(rows_of(bodies), seq, previous)
        store.append(chain, RECORDED_AT)
    return chain


# --- events ------------------------------------------------------------------------------------------------

def test_a_new_ledger_is_empty_and_of_the_current_layout(store):
    assert store.head() is None
    assert store.span() == (0, 0, 0)
    assert list(store.rows()) == [] and list(store.chain()) == []
    assert store.before(1) is None
    assert store.use_cases() == [] and list(store.standing()) == []
    assert store.schema_version() == SCHEMA_VERSION
    assert store.readonly is False


def test_appended_rows_read_back_as_they_were_given(store):
    chain = append(store, [event(n) for n in range(5)])
    assert store.head() == (5, chain[-1][8])
    assert store.span() == (1, 5, 5)
    rows = list(store.rows())
    assert rows == [Row(*r, RECORDED_AT) for r in chain]
    assert all(type(r) is Row for r in rows)
    assert [(r[0], *r[1:6], r[6], r[7], r[8]) for r in store.chain()] == \
        [(*r[:6], r[6].encode(), r[7], r[8]) for r in chain]
    assert all(type(r[6]) is bytes for r in store.chain())


def test_text_beyond_ascii_is_kept_exactly(store):
    body = {**event(1), "note": "Zoë’s model, 🚀, \u2028 and a quote ' \""}
    [row] = append(store, [body])
    [read] = store.rows()
    assert read.body == row[6] == canonical(body)
    assert next(store.chain())[6] == canonical(body).encode("utf-8")
    assert store.contains("uc", "1", canonical(body))


def test_values_are_of_their_kinds_and_the_database_finds_no_damage(store):
    assert list(store.mistyped()) == [] and store.check_integrity() == []
    chain = append(store, [event(n) for n in range(5)])
    assert list(store.mistyped()) == [] and list(store.mistyped(2, 4)) == []
    assert store.check_integrity() == []
    assert [r[6] for r in store.chain()] == [r[6].encode() for r in chain]  # (text bodies come as their bytes)


def test_the_head_moves_with_each_write(store):
    assert store.head() is None
    first = append(store, [event(0)])
    assert store.head() == (1, first[0][8])
    second = append(store, [event(1), event(2)])
    assert store.head() == (3, second[-1][8])
    assert second[0][7] == first[0][8]  # (chained after the head the store gave)


def test_reads_inside_a_write_see_what_it_wrote(store):
    append(store, [event(0)])
    with store.writing():
        seq, previous = store.head()
        chain, _ = chained(rows_of([event(1, use_case="other")]), seq, previous)
        store.append(chain, RECORDED_AT)
        assert store.head() == (2, chain[0][8])
        assert store.contains("other", "1", chain[0][6])
        assert [r.seq for r in store.rows("other")] == [2]


def test_what_a_write_reads_with_its_lock_follows_what_it_writes(store):
    """`writing(latest=...)`: the latest events named (and the head) may be read with the lock; whatever the store
    does, inside the write they are the ones the write has appended since, and another write sees them too."""
    wanted = (("-", "-", "roster"), ("uc", "1", "evidence"))
    append(store, [event(0, "-", "-", "roster"), event(1)])
    with store.writing(latest=wanted):
        assert [store.latest(*key).seq for key in wanted] == [1, 2]
        assert store.latest("uc", "1", "signoff") is None
        seq, previous = store.head()
        chain, _ = chained(rows_of([event(2, "-", "-", "roster"), event(3, "other")]), seq, previous)
        store.append(chain, RECORDED_AT)
        assert store.head() == (4, chain[-1][8])
        assert store.latest("-", "-", "roster").seq == 3 and store.latest("uc", "1", "evidence").seq == 2
        chain, _ = chained(rows_of([event(4)]), *store.head())
        store.append(chain, RECORDED_AT)
        assert store.latest("uc", "1", "evidence").seq == 5 and store.head() == (5, chain[0][8])
    with store.writing(latest=wanted):
        assert [store.latest(*key).seq for key in wanted] == [3, 5] and store.head()[0] == 5
    with pytest.raises(RuntimeError):
        with store.writing(latest=wanted):
            chain, _ = chained(rows_of([event(5, "-", "-", "roster")]), *store.head())
            store.append(chain, RECORDED_AT)
            raise RuntimeError("nothing of this write is kept")
    with store.writing(latest=wanted):
        assert store.latest("-", "-", "roster").seq == 3 and store.head()[0] == 5


def test_selecting_by_use_case_version_and_type(store):
    bodies = [event(0, "a", "1", "registered"), event(1, "a", "1"), event(2, "a", "2", "registered"),
              event(3, "b", "1", "registered"), event(4, "a", "1", "retired"), event(5, "a", "2")]
    append(store, bodies)
    assert [r.seq for r in store.rows("a")] == [1, 2, 3, 5, 6]
    assert [r.seq for r in store.rows("a", "1")] == [1, 2, 5]
    assert [r.seq for r in store.rows("a", types=("registered", "retired"))] == [1, 3, 5]
    assert [r.seq for r in store.rows(types=("registered",))] == [1, 3, 4]
    assert [r.seq for r in store.rows("nobody")] == []
    assert store.latest("a", None, "registered").seq == 3
    assert store.latest("a", "1", "registered").seq == 1
    assert store.latest("a", "1", "transition") is None
    assert store.contains("a", "2", canonical(bodies[5]))
    assert not store.contains("a", "1", canonical(bodies[5]))  # the same body, another version
    assert not store.contains("a", "2", canonical(bodies[5])[:-1])


def test_whether_a_body_is_stored_agrees_with_reading_every_event(store):
    """`contains` looks only among the events of the body's time (the events_by_time index): it answers as a scan
    of the version's events does, for bodies stored, bodies that share a time with stored ones, bodies of another
    version or time, and texts that are no event at all."""
    rng = random.Random(7)
    stored = [{**event(rng.randrange(6), rng.choice("ab"), rng.choice("12")), "n": rng.randrange(4)}
              for _ in range(60)]
    append(store, stored)
    asked = [canonical(b) for b in stored] + [
        canonical({**event(rng.randrange(8), rng.choice("ab"), rng.choice("12")), "n": rng.randrange(6)})
        for _ in range(60)] + ["", "[]", "{}", '{"at": 5}', canonical(stored[0])[:-1]]
    for use_case in "abc":
        for version in "123":
            plain = {r.body for r in store.rows(use_case, version)}
            for text in asked:
                assert store.contains(use_case, version, text) == (text in plain), (use_case, version, text)


def test_the_latest_of_each_type_in_one_statement_is_the_latest_of_each(store):
    rng = random.Random(3)
    types = ("evidence", "signoff", "transition", "retired", "registered")
    append(store, [event(n, "a", rng.choice("12"), rng.choice(types[:3])) for n in range(40)])
    for version in "123":
        for asked in (types, types[1:2], (), ("nothing",), types[::-1]):
            each = sorted(store.latest_each("a", version, asked), key=lambda r: r.seq)
            plain = sorted((r for r in (store.latest("a", version, t) for t in asked) if r is not None),
                           key=lambda r: r.seq)
            assert each == plain, (version, asked)


def test_ranges_by_sequence(store):
    chain = append(store, [event(n) for n in range(4)]) + append(store, [event(n) for n in range(4, 10)])
    assert store.span() == (1, 10, 10)
    assert [r[0] for r in store.chain(3, 7)] == [3, 4, 5, 6, 7]
    assert [r[0] for r in store.chain(9, 20)] == [9, 10]
    assert list(store.chain(11, 20)) == []
    assert store.before(1) is None
    assert store.before(4) == (3, chain[2][8])
    assert store.before(100) == (10, chain[9][8])


# --- atomicity -----------------------------------------------------------------------------------------------

def test_a_failing_write_leaves_nothing(store):
    append(store, [event(0)])
    with pytest.raises(ValueError):
        with store.writing():
            seq, previous = store.head()
            chain, _ = chained(rows_of([event(n) for n in range(1, 50)]), seq, previous)
            store.append(chain, RECORDED_AT)
            store.put_standing([("uc", "1", f"#{seq + 1}", 0.0, seq + 1), ("uc", "1", "monitoring:x", 5.0, seq + 2)])
            raise ValueError("refused after writing")
    assert store.span() == (1, 1, 1)
    assert list(store.standing()) == [] and list(store.shared_slots()) == []
    append(store, [event(1)])  # the lock was let go
    assert store.span() == (1, 2, 2)


def test_a_batch_the_store_refuses_leaves_nothing_of_it(store):
    """A row numbered as one already stored is refused (how two writers could never interleave), and the rows
    before it in the same write go too."""
    first = append(store, [event(0), event(1)])
    with pytest.raises(TiergateError):
        with store.writing():
            store.append([(3, *first[0][1:])], RECORDED_AT)
            store.append([(2, *first[1][1:])], RECORDED_AT)
    assert store.span() == (1, 2, 2)
    assert [r.seq for r in store.rows()] == [1, 2]


def test_writes_happen_only_inside_writing(store):
    chain, _ = chained(rows_of([event(0)]), 0, GENESIS)
    with pytest.raises(RuntimeError):
        store.append(chain, RECORDED_AT)
    with pytest.raises(RuntimeError):
        store.put_standing([("uc", "1", "#1", 0.0, 1)])
    with pytest.raises(RuntimeError):
        store.clear_standing()
    assert store.span() == (0, 0, 0)


def test_a_store_opened_for_reading_refuses_to_write(url):
    open_store(url).close()
    reader = open_store(url, create=False, readonly=True)
    try:
        assert reader.readonly
        with pytest.raises(TiergateError):
            with reader.writing():
                pass
        assert reader.span() == (0, 0, 0)
    finally:
        reader.close()


# --- the standing index --------------------------------------------------------------------------------------

def test_the_standing_index(store):
    bodies = [event(0, "b", "1", "registered"), event(1, "a", "1", "registered"),
              event(2, "a", "1", "monitoring"), event(3, "a", "1", "monitoring"), event(4, "-", "-", "roster")]
    append(store, bodies)
    with store.writing():
        store.put_standing([("b", "1", "#1", 0.0, 1), ("a", "1", "#2", 0.0, 2), ("a", "1", "monitoring:x", 30.0, 3),
                            ("-", "-", "roster", 10.0, 5)])
    assert store.use_cases() == ["-", "a", "b"]
    assert sorted(store.standing()) == [("-", 5, store.latest("-", "-", "roster").body),
                                        ("a", 2, store.latest("a", "1", "registered").body),
                                        ("a", 3, next(store.rows("a", types=("monitoring",))).body),
                                        ("b", 1, store.latest("b", "1", "registered").body)]
    assert [u for u, _, _ in store.standing()] == ["-", "a", "a", "b"]  # a use case's rows together, in order
    assert [u for u, _, _ in store.standing("b", "b")] == ["b"]
    assert sorted(tuple(r) for r in store.shared_slots()) == [("-", "-", "roster", 10.0, 5),
                                                              ("a", "1", "monitoring:x", 30.0, 3)]
    assert store.replaced_after(29.0) == {"a"}
    assert store.replaced_after(30.0) == set()
    assert store.replaced_after(5.0, "b", "z") == set()
    assert store.own_slots(("monitoring", "review", "roster")) == (2, 2)
    assert store.own_slot_strays(("monitoring", "review", "roster")) == (None, None)


def test_a_shared_slot_keeps_the_latest_by_time(store):
    append(store, [event(n, type_="monitoring") for n in range(4)])
    with store.writing():
        store.put_standing([("uc", "1", "monitoring:x", 20.0, 1)])
    with store.writing():
        store.put_standing([("uc", "1", "monitoring:x", 10.0, 2)])  # earlier: the stored one stands
    assert [tuple(r) for r in store.shared_slots()] == [("uc", "1", "monitoring:x", 20.0, 1)]
    with store.writing():
        store.put_standing([("uc", "1", "monitoring:x", 20.0, 3)])  # as late: the one recorded later stands
    assert [tuple(r) for r in store.shared_slots()] == [("uc", "1", "monitoring:x", 20.0, 3)]
    with store.writing():
        store.put_standing(iter([("uc", "1", "monitoring:x", 25.0, 4), ("uc", "1", "monitoring:x", 21.0, 2)]))
    assert [tuple(r) for r in store.shared_slots()] == [("uc", "1", "monitoring:x", 25.0, 4)]


@pytest.mark.parametrize("bulk", [False, True])
def test_events_and_their_standing_rows_in_one_call_are_stored_as_in_two(store, bulk):
    """`append(rows, at, standing)` (how a recording writes: in one statement where the backend can) leaves what
    `append` and then `put_standing` leave, the rules of a shared slot included."""
    append(store, [event(n, type_="monitoring") for n in range(3)])
    with store.writing():
        store.put_standing([("uc", "1", "monitoring:x", 20.0, 1)])
    with store.writing(bulk=bulk):
        seq, previous = store.head()
        chain, _ = chained(rows_of([event(n, type_="monitoring") for n in range(3, 6)]), seq, previous)
        store.append(chain, RECORDED_AT, [("uc", "1", "#4", 0.0, 4), ("uc", "1", "monitoring:x", 10.0, 5),
                                          ("uc", "1", "monitoring:x", 30.0, 6), ("uc", "1", "monitoring:x", 25.0, 5)])
    assert [r.seq for r in store.rows("uc", "1")] == [1, 2, 3, 4, 5, 6]
    assert [tuple(r) for r in store.shared_slots()] == [("uc", "1", "monitoring:x", 30.0, 6)]
    assert sorted(seq for _, seq, _ in store.standing()) == [4, 6]
    with store.writing(bulk=bulk):  # an earlier result in one call does not replace the later one stored
        seq, previous = store.head()
        chain, _ = chained(rows_of([event(7, type_="monitoring")]), seq, previous)
        store.append(chain, RECORDED_AT, [("uc", "1", "monitoring:x", 29.0, 7)])
    assert [tuple(r) for r in store.shared_slots()] == [("uc", "1", "monitoring:x", 30.0, 6)]


def test_many_rows_in_one_write_keep_the_rules_of_a_few(store):
    """An import writes thousands of rows at a time (a backend may write them another way): the same rules hold."""
    with store.writing(bulk=True):
        chain, _ = chained(rows_of([event(n, type_="monitoring") for n in range(300)]), 0, GENESIS)
        store.append(chain, RECORDED_AT)
        store.put_standing([("uc", "1", f"#{n}", 0.0, n) for n in range(1, 201)] +
                           [("uc", "1", "monitoring:x", float(n % 7), n) for n in range(201, 301)])
    assert list(store.rows()) == [Row(*r, RECORDED_AT) for r in chain]
    assert [tuple(r) for r in store.shared_slots()] == [("uc", "1", "monitoring:x", 6.0, 300)]  # the last of the latest
    with store.writing(bulk=True):
        store.put_standing([("uc", "1", "monitoring:x", 5.0, 1)] * 100 +
                           [("uc", "1", f"#{n}", 0.0, n) for n in range(1, 101)])
    assert [tuple(r) for r in store.shared_slots()] == [("uc", "1", "monitoring:x", 6.0, 300)]  # earlier: not replaced
    assert sorted(seq for _, seq, _ in store.standing()) == [*range(1, 201), 300]
    assert store.own_slots(("monitoring",)) == (0, 200)  # (events of a shared type, named by own slots)


def test_own_slots_that_do_not_match_their_events_are_found(store):
    append(store, [event(0), event(1), event(2, type_="monitoring")])
    shared = ("monitoring", "review", "roster")
    with store.writing():
        store.put_standing([("uc", "1", "#1", 0.0, 1), ("uc", "1", "#3", 0.0, 3)])  # event 2 has none; 3 is shared
    assert store.own_slots(shared) == (1, 2)
    assert store.own_slot_strays(shared) == (2, 3)
    with store.writing():
        store.clear_standing()
        store.put_standing([("uc", "1", "#1", 0.0, 1), ("uc", "1", "#2", 0.0, 2)])
    assert store.own_slots(shared) == (2, 2) and store.own_slot_strays(shared) == (None, None)


def test_the_index_can_be_built_again_in_one_write(store):
    append(store, [event(0), event(1)])
    with store.writing():
        store.put_standing([("uc", "1", "#1", 0.0, 1), ("uc", "1", "#9", 0.0, 9)])
    with store.writing():
        store.clear_standing()
        assert list(store.standing()) == []
        store.put_standing([("uc", "1", "#1", 0.0, 1), ("uc", "1", "#2", 0.0, 2)])
    assert sorted(seq for _, seq, _ in store.standing()) == [1, 2]


# --- several connections, several processes -----------------------------------------------------------------

def test_a_snapshot_reads_one_moment(url, store):
    append(store, [event(0)])
    other = open_store(url)
    try:
        with store.snapshot():
            assert store.head()[0] == 1
            append(other, [event(1)])
            assert store.head()[0] == 1 and store.span() == (1, 1, 1)
        assert store.head()[0] == 2
    finally:
        other.close()


def _writer(url: str, name: str, batches: int, size: int) -> None:
    store = open_store(url)  # a connection of its own, from the URL
    try:
        for b in range(batches):
            append(store, [event(b * size + n, use_case=name) for n in range(size)])
    finally:
        store.close()


def test_writers_in_several_processes_lose_nothing(url):
    open_store(url).close()
    processes, batches, size = 4, 15, 7
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    workers = [context.Process(target=_writer, args=(url, f"uc-{p}", batches, size)) for p in range(processes)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    store = open_store(url, create=False, readonly=True)
    try:
        total = processes * batches * size
        assert store.span() == (1, total, total)
        previous = GENESIS
        for seq, *_, body, prev_hash, digest in store.chain():
            assert prev_hash == previous  # each write chained after the head it found under the lock
            previous = digest
        for p in range(processes):
            assert sorted(json.loads(r.body)["n"] for r in store.rows(f"uc-{p}")) == list(range(batches * size))
    finally:
        store.close()


def test_reopening_finds_everything_as_it_was(url):
    store = open_store(url)
    chain = append(store, [event(n) for n in range(3)])
    with store.writing():
        store.put_standing([("uc", "1", "#1", 0.0, 1)])
    rows, standing = list(store.rows()), list(store.standing())
    store.close()
    store.close()  # (a second close does nothing)
    for readonly in (False, True):
        again = open_store(url, create=False, readonly=readonly)
        try:
            assert list(again.rows()) == rows and list(again.standing()) == standing
            assert again.head() == (3, chain[-1][8])
            assert again.schema_version() == SCHEMA_VERSION
        finally:
            again.close()
    again = open_store(url)
    try:
        append(again, [event(3)])
        assert again.span() == (1, 4, 4)
    finally:
        again.close()


def test_the_url_of_a_store_opens_the_same_ledger(store):
    append(store, [event(0)])
    other = open_store(store.url, create=False, readonly=True)
    try:
        assert list(other.rows()) == list(store.rows())
    finally:
        other.close()


def test_a_ledger_that_is_not_there_is_not_made_without_create(url):
    with pytest.raises(TiergateError) as caught:
        open_store(url, create=False)
    assert caught.value.diagnostics[0].code == "E600"


# --- choosing the backend by URL ---------------------------------------------------------------------------------

@pytest.mark.parametrize("given, wanted", [
    ("ledger.db", ("sqlite", "ledger.db")),
    ("/var/lib/tiergate/ledger.db", ("sqlite", "/var/lib/tiergate/ledger.db")),
    ("sqlite:///ledger.db", ("sqlite", "ledger.db")),
    ("sqlite:////var/lib/ledger.db", ("sqlite", "/var/lib/ledger.db")),
    ("sqlite:ledger.db", ("sqlite", "ledger.db")),
    ("SQLite:/abs/ledger.db", ("sqlite", "/abs/ledger.db")),
    ("notes:2026.db", ("sqlite", "notes:2026.db")),
    (Path("sqlite:odd"), ("sqlite", "sqlite:odd")),
    ("postgresql://user@host/db", ("postgresql", "postgresql://user@host/db")),
])
def test_urls_and_paths(given, wanted):
    assert split_url(given) == wanted


def test_every_way_of_naming_a_sqlite_file_opens_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for target in ("plain.db", Path("path.db"), "sqlite:///three.db", f"sqlite:///{tmp_path}/absolute.db",
                   "sqlite:short.db"):
        store = open_store(target)
        store.close()
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["absolute.db", "path.db", "plain.db", "short.db",
                                                              "three.db"]


@pytest.mark.parametrize("target, message", [
    ("mysql://host/ledger", "`mysql://` is not a kind of ledger tiergate knows: it knows sqlite (sqlite:///PATH, "
                            "sqlite:PATH or a plain path) and postgresql (postgresql://USER@HOST:PORT/DATABASE)"),
    ("sqlite://host/ledger.db", "a sqlite URL names a file: write sqlite:///relative/path or sqlite:////absolute/path"),
    ("sqlite:", "the sqlite URL names no file"),
])
def test_what_cannot_be_opened_is_said(target, message):
    with pytest.raises(TiergateError) as caught:
        open_store(target)
    [problem] = caught.value.diagnostics
    assert (problem.code, problem.message, problem.location.file) == ("E600", message, target)


def test_a_password_in_a_url_is_never_shown():
    with pytest.raises(TiergateError) as caught:
        open_store("mysql://dana:s3cret@host/ledger?password=s3cret")
    [problem] = caught.value.diagnostics
    assert problem.location.file == "mysql://dana@host/ledger"
    assert "s3cret" not in f"{problem.message} {problem.hint}"
