"""The ledger on PostgreSQL (`--ledger postgresql://…`), through the library.

The library tests of test_ledger.py that need no SQLite file run here again on a PostgreSQL ledger (their
`ledger` fixture is this module's). Then what only a server-backed ledger must show: the same events give the
same hash chain as in SQLite; `audit verify` and `status` on every core, whose forked workers open the ledger by
its URL on connections of their own and leave the parent's working; writers in several processes at once lose
nothing; a write cut off (an exception, a process killed mid-import) leaves nothing; and each way of giving a
wrong URL is an E600 that names the ledger without its password.

The server is the one at TIERGATE_TEST_POSTGRES (conftest.py): each test gets a new ledger in a schema of its
own in the session's database.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from datetime import datetime, timezone
import pytest

import tiergate.ledger.parallel as parallel
import tiergate.ledger.registry as registry
import tiergate.ledger.verify as verify
from conftest import ROOT, postgres_url_with
from tiergate.errors import TiergateError
from tiergate.inputs.events import _records
from tiergate.inputs.yamlsource import load_yaml
from tiergate.ledger.actions import record, roster_body
from tiergate.ledger.importing import import_records
from tiergate.ledger.service import Ledger
from tiergate.ledger.store.base import SCHEMA_VERSION, open_store

# the library tests of test_ledger.py, run again here on a PostgreSQL ledger
from test_ledger import (  # noqa: F401  (collected by pytest from this module)
    IMPORTABLE, ROSTER, answers, body, import_story, loan, state, test_a_duplicate_event_is_refused,
    test_a_refused_event_is_not_written, test_a_retired_version_takes_only_monitoring,
    test_a_roster_given_by_the_caller_is_used, test_a_schema_problem_is_refused_with_the_field,
    test_a_story_with_an_event_the_ledger_refuses_imports_nothing, test_a_version_is_registered_once,
    test_a_waiver_of_no_requirement_of_the_tier_says_what_may_be_waived,
    test_an_import_that_repeats_recorded_events_imports_nothing, test_an_import_without_answers_names_the_use_case,
    test_each_story_imports_whole, test_embedded_answers_are_validated, test_events_read_back_in_time_order,
    test_nobody_can_sign_without_a_roster, test_one_bad_event_imports_nothing_and_is_named,
    test_promote_refuses_a_stage_that_does_not_exist, test_promote_refuses_a_stage_that_is_not_next,
    test_promote_refuses_an_unregistered_version, test_promote_writes_the_transition_only_when_the_gate_is_met,
    test_recording_one_event_does_not_read_the_use_cases_history, test_register_refuses_answers_of_another_use_case,
    test_register_stores_tier_policy_and_answers, test_status_reports_a_version_it_cannot_judge_and_goes_on,
    test_the_stored_roster_is_the_latest_one,
)

STORIES = ROOT / "examples" / "events"


@pytest.fixture
def ledger(postgres_ledger_url):
    with Ledger(postgres_ledger_url) as opened:
        yield opened


def import_everything(led: Ledger, policy, roster) -> None:
    """The example roster stored, then every story the ledger takes whole."""
    record(led, policy, None, roster_body(load_yaml(ROSTER.read_bytes(), str(ROSTER)).data, "admin",
                                          "2026-01-01T00:00:00Z"))
    for name in IMPORTABLE:
        import_story(led, policy, None, name)


def stored(led: Ledger) -> list[tuple]:
    """Every event as stored, but for when it was written."""
    return [tuple(r[:9]) for r in led.store.rows()]


# --- the same chain as SQLite ------------------------------------------------------------------------------

def test_the_same_events_give_the_same_chain_as_in_sqlite(ledger, policy, roster, tmp_path):
    import_everything(ledger, policy, roster)
    with Ledger(tmp_path / "ledger.db") as lite:
        import_everything(lite, policy, roster)
        assert (ledger.head(), ledger.count()) == (lite.head(), lite.count())
        assert stored(ledger) == stored(lite)
        assert list(ledger.store.standing()) == list(lite.store.standing())
        assert ledger.store.use_cases() == lite.store.use_cases()
        assert list(ledger.store.chain()) == list(lite.store.chain())
    assert ledger.verify().ok


def test_text_beyond_ascii_and_key_order_are_kept_to_the_byte(ledger, policy, roster, tmp_path):
    """The body is stored as the text it is (never as jsonb, which would reorder its keys and respace it)."""
    import_everything(ledger, policy, roster)
    event = body("evidence", use_case="churn-dashboard", version="2026.2", at="2026-07-01T00:00:00Z",
                 kind="notes", metrics={"zeta": 1, "alpha": "Zoë’s 🚀 \u2028 'quoted' \"double\"", "mid": 2.50})
    record(ledger, policy, None, event)
    with Ledger(tmp_path / "ledger.db") as lite:
        import_everything(lite, policy, roster)
        record(lite, policy, None, event)
        assert ledger.head() == lite.head()
        assert ledger.store.latest("churn-dashboard", "2026.2", "evidence").body == \
            lite.store.latest("churn-dashboard", "2026.2", "evidence").body


def test_a_ledger_moves_between_backends_by_export_and_import(ledger, policy, roster, tmp_path, postgres_server):
    """Exported from PostgreSQL and imported into SQLite, and from there into a second PostgreSQL ledger: the same
    head all the way."""
    from tiergate.app.registry import export

    import_everything(ledger, policy, roster)
    text = export(ledger, "jsonl", None)
    path = tmp_path / "export.jsonl"
    path.write_text(text, encoding="utf-8")
    records = _records(path.read_bytes(), str(path))
    with Ledger(tmp_path / "copy.db") as lite:
        import_records(lite, policy, None, records, str(path), {})
        assert (lite.head(), lite.count()) == (ledger.head(), ledger.count())
        assert export(lite, "jsonl", None) == text
        again = tmp_path / "again.jsonl"
        again.write_text(export(lite, "jsonl", None), encoding="utf-8")
    with Ledger(postgres_server.fresh()) as other:
        import_records(other, policy, None, _records(again.read_bytes(), str(again)), str(again), {})
        assert (other.head(), other.count()) == (ledger.head(), ledger.count())
        assert stored(other) == stored(ledger)
        assert other.verify().ok


def test_reads_of_the_whole_ledger_come_in_pages_and_miss_nothing(ledger, policy, roster, monkeypatch):
    import tiergate.ledger.store.postgres as backend

    import_everything(ledger, policy, roster)
    store = ledger.store

    def everything():
        return (list(store.rows()), list(store.rows(types=("signoff",))), list(store.chain()),
                list(store.chain(5, 50)), list(store.standing()), list(store.standing("churn-dashboard", "loan-approval")))

    whole = everything()
    monkeypatch.setattr(backend, "PAGE", 7)
    assert everything() == whole
    assert [r.seq for r in whole[0]] == list(range(1, ledger.count() + 1))
    assert ledger.verify().ok


# --- audit verify and status, on every core --------------------------------------------------------------

def test_verify_finds_what_was_changed_behind_its_back(ledger, policy, roster):
    import_everything(ledger, policy, roster)
    assert ledger.verify().ok
    import psycopg

    with psycopg.connect(ledger.url, autocommit=True) as db:
        db.execute("UPDATE events SET body = body || ' ' WHERE seq = 7")
        broken = ledger.verify()
        assert (broken.problem, broken.seq) == ("event 7 was altered: its content does not match its hash", 7)
        db.execute("DELETE FROM events WHERE seq = 7")
        broken = ledger.verify()
        assert broken.seq == 7 and "event 7 is missing" in broken.problem


@pytest.mark.parametrize("workers", [1, 3])
def test_verify_on_every_core_agrees_with_one_pass(ledger, policy, roster, monkeypatch, workers):
    """The workers of a parallel verify are forked; each opens the ledger by its URL on a connection of its own,
    and the parent's connection goes on working after they are gone."""
    import_everything(ledger, policy, roster)
    monkeypatch.setattr(verify, "VERIFY_PARALLEL_FROM", 1 if workers > 1 else 10 ** 9)
    monkeypatch.setattr(parallel, "cores", lambda: workers)
    result = ledger.verify()
    assert result.ok and (result.count, result.head) == (ledger.count(), ledger.head())
    import psycopg

    with psycopg.connect(ledger.url, autocommit=True) as db:
        db.execute("UPDATE events SET hash = repeat('0', 64) WHERE seq = 40")
    broken = ledger.verify()
    assert broken.seq == 40 and not broken.ok
    # the parent's own connection still answers, and still writes
    assert ledger.store.head() is not None
    record(ledger, policy, None, body("evidence", use_case="churn-dashboard", version="2026.2",
                                      at="2026-07-01T00:00:00Z", kind="notes", metrics={}))


def _close_what_was_inherited(led: Ledger) -> None:
    led.close()  # the parent's store, inherited through the fork


def test_a_forked_process_closing_the_store_it_inherited_leaves_the_parent_connected(ledger, policy, roster):
    """A worker that closes (or lets go of) the connection it inherited must not end its parent's session: the
    store closes a connection only in the process that opened it."""
    import_everything(ledger, policy, roster)
    child = multiprocessing.get_context("fork").Process(target=_close_what_was_inherited, args=(ledger,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert ledger.count() > 0
    record(ledger, policy, None, body("evidence", use_case="churn-dashboard", version="2026.2",
                                      at="2026-07-01T00:00:00Z", kind="notes", metrics={}))


def test_status_on_every_core_agrees_with_one_process(ledger, policy, roster, monkeypatch):
    import_everything(ledger, policy, roster)
    at = datetime(2026, 6, 1, tzinfo=timezone.utc)
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    alone = registry.status(ledger, policy, None, at)
    monkeypatch.setattr(registry, "PARALLEL_FROM", 1)
    monkeypatch.setattr(parallel, "cores", lambda: 3)
    on_every_core = registry.status(ledger, policy, None, at)
    assert [r.to_dict() for r in on_every_core] == [r.to_dict() for r in alone]
    assert len(alone) >= len(IMPORTABLE)
    assert ledger.count() > 0 and ledger.store.head() is not None  # (the parent's connection still answers)


def test_status_agrees_with_sqlite(ledger, policy, roster, tmp_path):
    import_everything(ledger, policy, roster)
    at = datetime(2026, 6, 1, tzinfo=timezone.utc)
    with Ledger(tmp_path / "ledger.db") as lite:
        import_everything(lite, policy, roster)
        assert [r.to_dict() for r in registry.status(ledger, policy, None, at)] == \
            [r.to_dict() for r in registry.status(lite, policy, None, at)]


# --- several writers at once; writes cut off -----------------------------------------------------------

def _recorder(url: str, worker: int, count: int) -> None:
    from tiergate.language.load import load_policy

    policy = load_policy(ROOT / "policies" / "mlops-default.policy")
    with Ledger(url) as led:
        for n in range(count):
            record(led, policy, None, body("monitoring", use_case="churn-dashboard", version="2026.2",
                                           actor="paula", at=f"2026-07-01T{worker:02d}:{n // 60:02d}:{n % 60:02d}Z",
                                           kind="performance", metrics={"worker": worker, "n": n}))


def test_recorders_in_several_processes_lose_nothing(ledger, policy, roster):
    import_everything(ledger, policy, roster)
    before = ledger.count()
    context = multiprocessing.get_context("fork")
    processes, each = 4, 12
    workers = [context.Process(target=_recorder, args=(ledger.url, w, each)) for w in range(processes)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    assert ledger.count() == before + processes * each
    result = ledger.verify()
    assert result.ok, result.problem
    seen = sorted((json.loads(r.body)["metrics"]["worker"], json.loads(r.body)["metrics"]["n"])
                  for r in ledger.store.rows("churn-dashboard", types=("monitoring",))
                  if "worker" in json.loads(r.body)["metrics"])
    assert seen == [(w, n) for w in range(processes) for n in range(each)]


def test_a_write_that_fails_halfway_leaves_nothing(ledger, policy, roster):
    import_everything(ledger, policy, roster)
    before = state(ledger)

    def failing():
        yield from ([("2026-09-01T00:00:00Z", "evidence", "x", "1", "dana", '{"a":%d}' % n, None, 0.0)]
                    for n in range(3))
        raise RuntimeError("cut off")

    with pytest.raises(RuntimeError):
        ledger.append_runs(failing())
    assert state(ledger) == before
    assert list(ledger.store.rows("x")) == []


def _import_and_wait(url: str, ready) -> None:
    """Append many rows in one write, say so, then wait inside the write to be killed."""
    store = open_store(url)
    with store.writing(bulk=True):
        seq, previous = store.head()
        from tiergate.ledger.chain import chained

        rows = [("2026-09-01T00:00:00Z", "evidence", "x", "1", "dana", '{"n":%d}' % n, None, 0.0) for n in range(5000)]
        chain, _ = chained(rows, seq, previous)
        store.append(chain, "2026-09-01T00:00:00+00:00")
        store.put_standing([("x", "1", f"#{seq + 1}", 0.0, seq + 1)])
        ready.set()
        time.sleep(120)


def test_a_process_killed_in_the_middle_of_an_import_leaves_nothing_and_lets_go_of_the_lock(ledger, policy, roster):
    import_everything(ledger, policy, roster)
    before = state(ledger)
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_import_and_wait, args=(ledger.url, ready))
    child.start()
    try:
        assert ready.wait(60)
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
    finally:
        if child.is_alive():
            child.kill()
    assert state(ledger) == before
    assert list(ledger.store.rows("x")) == []
    # the server ended the dead writer's transaction, and its lock with it: the next write goes through
    row = record(ledger, policy, None, body("evidence", use_case="churn-dashboard", version="2026.2",
                                            at="2026-07-01T00:00:00Z", kind="notes", metrics={}))
    assert row.seq == before[1] + 1 and ledger.verify().ok


# --- what cannot be opened -------------------------------------------------------------------------------

def problem_of(url: str, **options):
    with pytest.raises(TiergateError) as caught:
        open_store(url, **options).close()
    [problem] = caught.value.diagnostics
    assert problem.code == "E600"
    return problem


def test_an_unreachable_server(postgres_server):
    problem = problem_of("postgresql://dana:s3cret@127.0.0.1:1/ledger")
    assert problem.message.startswith("cannot reach the PostgreSQL server")
    assert problem.location.file == "postgresql://dana@127.0.0.1:1/ledger"
    assert "s3cret" not in f"{problem.message} {problem.hint} {problem.location.file}"


def test_a_database_that_does_not_exist(postgres_server):
    url = postgres_url_with(postgres_server.url, database="no_such_ledger_db")
    problem = problem_of(url)
    assert problem.message.startswith("the server has no such database")
    assert "createdb" in problem.hint


def test_a_user_the_server_does_not_know(postgres_server):
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(postgres_server.url)
    url = urlunsplit(parts._replace(netloc=f"nobody_at_all:pw0rd@{parts.hostname}:{parts.port or 5432}"))
    problem = problem_of(url)
    assert problem.message.startswith("the server refused the connection"), problem.message
    assert "pw0rd" not in f"{problem.message} {problem.hint} {problem.location.file}"


@pytest.mark.parametrize("url", ["postgresql://127.0.0.1/ledger?nosuchoption=1",
                                 "postgresql://dana:s3cret@127.0.0.1/ledger?password=s3cret&nosuchoption=1"])
def test_a_url_libpq_cannot_read(url):
    problem = problem_of(url)
    assert problem.message.startswith("this is not a PostgreSQL URL tiergate can use")
    assert "s3cret" not in f"{problem.message} {problem.hint} {problem.location.file}"


def test_a_database_of_another_application_is_left_alone(postgres_ledger_url):
    import psycopg

    with psycopg.connect(postgres_ledger_url, autocommit=True) as db:
        db.execute("CREATE TABLE invoices (id int)")
        problem = problem_of(postgres_ledger_url)
        assert problem.message.startswith("this database is not a tiergate ledger")
        assert [r[0] for r in db.execute("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                         "c.relnamespace WHERE n.nspname = current_schema() AND relkind = 'r'")] == \
            ["invoices"]
        db.execute("CREATE TABLE meta (key text, value text)")
        db.execute("INSERT INTO meta VALUES ('application', 'billing')")
        assert problem_of(postgres_ledger_url).message == "this database is not a tiergate ledger"


def test_a_ledger_of_a_newer_layout_is_refused_and_left_alone(postgres_ledger_url):
    import psycopg

    open_store(postgres_ledger_url).close()
    with psycopg.connect(postgres_ledger_url, autocommit=True) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    for readonly in (False, True):
        problem = problem_of(postgres_ledger_url, readonly=readonly)
        assert problem.message == f"the ledger has schema version 99, newer than this tiergate knows ({SCHEMA_VERSION})"


def test_an_empty_database_is_no_ledger_to_read(postgres_ledger_url):
    problem = problem_of(postgres_ledger_url, create=False, readonly=True)
    assert problem.message == "no ledger in this database"


def test_a_ledger_opened_read_only_is_read_only_on_the_server_too(postgres_ledger_url):
    import psycopg

    open_store(postgres_ledger_url).close()
    reader = open_store(postgres_ledger_url, create=False, readonly=True)
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader.db.execute("INSERT INTO meta VALUES ('x', 'y')")
    finally:
        reader.close()


def test_the_server_checks_its_indexes_when_it_has_amcheck(ledger, policy, roster):
    import psycopg

    with psycopg.connect(ledger.url, autocommit=True) as db:
        try:
            db.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        except psycopg.Error as exc:
            pytest.skip(f"amcheck cannot be installed here ({exc})")
    import_everything(ledger, policy, roster)
    assert ledger.store.check_integrity() == []
    with ledger.store.snapshot():
        assert ledger.store.check_integrity() == []
        assert ledger.store.head() is not None  # (the checks left the transaction usable)
    assert ledger.verify().ok
    with Ledger(ledger.url, create=False, readonly=True) as reader:  # (as `audit verify` opens it)
        assert reader.verify().ok
    with psycopg.connect(ledger.url, autocommit=True) as db:  # an index that misses an event
        db.execute("UPDATE pg_index SET indisready = false WHERE indexrelid = 'events_by_version'::regclass")
        try:
            record(ledger, policy, None, body("evidence", use_case="churn-dashboard", version="2026.2",
                                              at="2026-07-01T00:00:00Z", kind="notes", metrics={}))
        finally:
            db.execute("UPDATE pg_index SET indisready = true WHERE indexrelid = 'events_by_version'::regclass")
    found = ledger.store.check_integrity()
    assert found and found[0][0] == ledger.count(), found
    result = ledger.verify()
    assert not result.ok and result.seq == ledger.count() and "the database finds itself damaged" in result.problem


def test_a_connection_lost_mid_command_is_an_e600_naming_the_ledger(ledger, policy, roster):
    import psycopg

    import_everything(ledger, policy, roster)
    pid = ledger.store.db.info.backend_pid
    with psycopg.connect(ledger.url, autocommit=True) as db:
        db.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(TiergateError) as caught:
        ledger.count()
    [problem] = caught.value.diagnostics
    assert problem.code == "E600" and "lost" in problem.message and problem.location.file == ledger.url
