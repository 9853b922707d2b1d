"""`status` reads only the events that decide where each version stands: it must judge exactly as the whole
history would, keep one row per replaced monitoring kind and reviewer, and old ledgers must migrate to it."""
from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from conftest import ROOT, STORY_USE_CASE
from tiergate.inputs.events import _records, format_time
from tiergate.ledger.actions import record
from tiergate.ledger import importing
from tiergate.ledger.importing import import_records
from tiergate.ledger.registry import _use_case_rows, status
from tiergate.ledger.service import Ledger
from tiergate.ledger.store.base import SCHEMA_VERSION
from tiergate.inputs.answers import load_answers

STORY = "fraud-promotion.yaml"
USE_CASE = STORY_USE_CASE[STORY]
VERSION = "2026.03"  # in deployment at the end of the story, with every obligation of a critical tier
AFTER_STORY = datetime(2026, 4, 24, tzinfo=timezone.utc)
KINDS = {"input_drift": "psi", "performance": "recall_at_0_5pct_fpr", "infrastructure_alerts": "alerts"}
REVIEWERS = {"data_scientist": ["dana", "sam"], "risk_audit": ["rita", "raj"]}


@pytest.fixture
def story_ledger(tmp_path, policy, roster):
    path = ROOT / "examples" / "events" / STORY
    with Ledger(tmp_path / "ledger.db") as led:
        import_records(led, policy, roster, _records(path.read_bytes(), str(path)), str(path),
                       {USE_CASE: load_answers(ROOT / "examples" / "use-cases" / f"{USE_CASE}.yaml", policy)})
        yield led


def result_body(rng: random.Random) -> tuple[dict, datetime]:
    """A monitoring result or a review of the story's version at a random time over two months after the story."""
    at = AFTER_STORY + timedelta(minutes=rng.randrange(60 * 24 * 60))
    base = {"at": format_time(at), "use_case": USE_CASE, "version": VERSION}
    if rng.random() < 0.7:
        kind = rng.choice(sorted(KINDS))
        return {**base, "type": "monitoring", "actor": "paula", "kind": kind,
                "metrics": {KINDS[kind]: round(rng.uniform(0.0, 0.4), 3)}}, at
    role = rng.choice(sorted(REVIEWERS))
    return {**base, "type": "review", "actor": rng.choice(REVIEWERS[role]), "role": role,
            "decision": rng.choice(["approve", "approve", "reject"])}, at


def add_results(led, policy, roster, rng: random.Random, count: int) -> list[datetime]:
    """`count` monitoring results and reviews at random times over two months, recorded out of time order."""
    times = []
    for _ in range(count):
        body, at = result_body(rng)
        times.append(at)
        record(led, policy, roster, body)
    return sorted(times)


def whole_history(led, policy, roster, at) -> list[dict]:
    """Status judged from every event of the use case: what the standing rows must give."""
    return [r.to_dict() for r in _use_case_rows(policy, roster, at, USE_CASE, [(r.seq, r.body) for r in led.store.rows(USE_CASE)])]


@pytest.mark.parametrize("seed", range(6))
def test_status_judges_as_the_whole_history_would(story_ledger, policy, roster, seed):
    rng = random.Random(seed)
    times = add_results(story_ledger, policy, roster, rng, 60)
    for at in (times[0] - timedelta(minutes=1), times[len(times) // 2], times[-1], times[-1] + timedelta(days=9),
               times[-1] + timedelta(days=400)):
        got = [r.to_dict() for r in status(story_ledger, policy, roster, at)]
        assert got == whole_history(story_ledger, policy, roster, at), at


def test_status_after_the_latest_result_reads_only_the_standing_events(story_ledger, policy, roster, monkeypatch):
    times = add_results(story_ledger, policy, roster, random.Random(7), 200)
    # a later event that replaces nothing (evidence) leaves nothing out that status at an earlier time needs
    record(story_ledger, policy, roster, {"at": format_time(times[-1] + timedelta(days=3)), "type": "evidence",
                                          "use_case": USE_CASE, "version": VERSION, "actor": "dana",
                                          "kind": "metrics_record", "metrics": {"auc": 0.9}})
    expected = whole_history(story_ledger, policy, roster, times[-1])
    read = []
    monkeypatch.setattr(story_ledger.store, "rows", lambda *args, **kwargs: read.append(args) or iter(()))
    assert [r.to_dict() for r in status(story_ledger, policy, roster, times[-1])] == expected
    assert read == []


def test_one_standing_row_per_monitoring_kind_and_reviewer(story_ledger, policy, roster):
    def standing(type_: str) -> int:
        return story_ledger.store.db.execute(
            "SELECT COUNT(*) FROM standing s JOIN events e ON e.seq = s.seq WHERE e.type = ? AND e.version = ?",
            (type_, VERSION)).fetchone()[0]

    add_results(story_ledger, policy, roster, random.Random(3), 300)
    assert standing("monitoring") == len(KINDS)
    assert standing("review") == sum(len(people) for people in REVIEWERS.values())
    kept = story_ledger.store.db.execute("SELECT COUNT(*) FROM events WHERE type NOT IN ('monitoring', 'review')"
                                         " AND use_case <> '-'").fetchone()[0]
    assert story_ledger.store.db.execute(
        "SELECT COUNT(*) FROM standing s JOIN events e ON e.seq = s.seq WHERE e.type NOT IN ('monitoring', 'review')"
    ).fetchone()[0] == kept


def test_the_latest_result_by_time_stands_even_when_recorded_first(story_ledger, policy, roster):
    late, early = AFTER_STORY + timedelta(days=10), AFTER_STORY + timedelta(days=5)
    base = {"type": "monitoring", "use_case": USE_CASE, "version": VERSION, "actor": "paula", "kind": "input_drift"}
    record(story_ledger, policy, roster, {**base, "at": format_time(late), "metrics": {"psi": 0.5}})  # a breach
    record(story_ledger, policy, roster, {**base, "at": format_time(early), "metrics": {"psi": 0.01}})
    row = status(story_ledger, policy, roster, late + timedelta(hours=1))[-1]
    assert ("monitoring:input_drift@deployment", "breach") in [(i, s) for i, s, _ in row.obligations]


def test_a_ledger_of_schema_1_is_migrated_and_judged_the_same(story_ledger, policy, roster, tmp_path):
    times = add_results(story_ledger, policy, roster, random.Random(11), 80)
    at = times[-1] + timedelta(days=1)
    before = [r.to_dict() for r in status(story_ledger, policy, roster, at)]
    head = story_ledger.head()
    path = story_ledger.path
    story_ledger.close()
    schema_1(path)
    with Ledger(path) as led:
        assert led.store.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == \
            str(SCHEMA_VERSION)
        assert [r.to_dict() for r in status(led, policy, roster, at)] == before
        assert led.verify().ok and led.head() == head


def schema_1(path) -> None:
    """Make a ledger look as the first layout left it: no standing table, no index of events by time."""
    db = sqlite3.connect(path)
    db.execute("DROP TABLE standing")
    db.execute("DROP INDEX events_by_time")
    db.execute("DROP INDEX events_by_type")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()


def test_a_command_that_only_reads_upgrades_a_ledger_of_schema_1(story_ledger, policy, roster):
    at = datetime(2026, 5, 1, tzinfo=timezone.utc)
    before = [r.to_dict() for r in status(story_ledger, policy, roster, at)]
    path = story_ledger.path
    story_ledger.close()
    schema_1(path)
    with Ledger(path, create=False, readonly=True) as led:
        assert [r.to_dict() for r in status(led, policy, roster, at)] == before
        assert led.verify().ok


def test_status_on_every_core_gives_the_same_rows_in_the_same_order(tmp_path, policy, roster, monkeypatch):
    import tiergate.ledger.parallel as parallel
    import tiergate.ledger.registry as registry

    with Ledger(tmp_path / "all.db") as led:
        for name, use_case in STORY_USE_CASE.items():
            path = ROOT / "examples" / "events" / name
            import_records(led, policy, roster, _records(path.read_bytes(), str(path)), str(path),
                           {use_case: load_answers(ROOT / "examples" / "use-cases" / f"{use_case}.yaml", policy)},
                           admitted=[])
        at = datetime(2026, 12, 1, tzinfo=timezone.utc)
        alone = [r.to_dict() for r in status(led, policy, roster, at)]
        monkeypatch.setattr(registry, "PARALLEL_FROM", 1)
        monkeypatch.setattr(parallel, "cores", lambda: 3)
        forked = []
        real = parallel.on_every_core
        monkeypatch.setattr(parallel, "on_every_core", lambda *args: forked.append(1) or real(*args))
        assert [r.to_dict() for r in status(led, policy, roster, at)] == alone
        assert forked and len({r["use_case"] for r in alone}) == len(STORY_USE_CASE)


def test_an_engine_error_comes_back_whole_from_a_worker_process():
    import pickle

    from tiergate.errors import Diagnostic, Location, TiergateError

    error = TiergateError([Diagnostic("E600", "the ledger cannot be read", Location("l.db", 3), hint="restore it")],
                          {"l.db": "text"})
    again = pickle.loads(pickle.dumps(error))
    assert (again.diagnostics, again.sources, str(again)) == (error.diagnostics, error.sources, str(error))


@pytest.mark.parametrize("run_lines", [1, 7, 4000])
def test_an_import_in_many_runs_indexes_the_latest_result_of_each_slot(story_ledger, policy, roster, monkeypatch,
                                                                       run_lines):
    """An import writes the standing rows of shared slots once all its runs are in: the latest result of each slot
    (by time, then by recording) must stand, wherever in the file and in whichever run it came."""
    monkeypatch.setattr(importing, "RUN_LINES", run_lines)
    rng = random.Random(run_lines)
    last = {"at": format_time(AFTER_STORY + timedelta(days=60)), "type": "monitoring", "use_case": USE_CASE,
            "version": VERSION, "actor": "paula", "kind": "input_drift", "metrics": {"psi": 0.1}}
    # the latest input_drift result twice, at the same time: the one recorded later stands
    bodies = [result_body(rng)[0] for _ in range(40)] + [last] + [result_body(rng)[0] for _ in range(40)] + \
        [dict(last, metrics={"psi": 0.2})]
    import_records(story_ledger, policy, roster, [(b, i + 1) for i, b in enumerate(bodies)], "results.jsonl", {})
    indexed = sorted(story_ledger.store.standing())
    assert story_ledger.verify().ok
    story_ledger.reindex()  # built again from the events, in one pass
    assert sorted(story_ledger.store.standing()) == indexed
    at = AFTER_STORY + timedelta(days=61)
    assert [r.to_dict() for r in status(story_ledger, policy, roster, at)] == \
        whole_history(story_ledger, policy, roster, at)
    drift = [body for _, _, body in story_ledger.store.standing()
             if '"input_drift"' in body and f'"version":"{VERSION}"' in body]
    assert len(drift) == 1 and '"psi":0.2' in drift[0]
