"""`audit verify` on every core checks runs of events side by side: whatever was done to the ledger, it must
report exactly what one pass from the first event reports."""
from __future__ import annotations

import shutil
import sqlite3

import pytest

import engine.ledger.parallel as parallel
import engine.ledger.service as service
from conftest import ROOT, STORY_USE_CASE
from engine.events import _records
from engine.ledger.importing import import_records
from engine.ledger.service import Ledger
from engine.questionnaire import load_answers

RUNS = 3  # workers; verify makes two runs per worker, so the runs here hold about 25 events each


@pytest.fixture(scope="module")
def stories_ledger(tmp_path_factory, policy, roster):
    path = tmp_path_factory.mktemp("verify") / "ledger.db"
    with Ledger(path) as led:
        for name, use_case in STORY_USE_CASE.items():
            events = ROOT / "examples" / "events" / name
            import_records(led, policy, roster, _records(events.read_bytes(), str(events)), str(events),
                           {use_case: load_answers(ROOT / "examples" / "use-cases" / f"{use_case}.yaml", policy)},
                           admitted=[])
        count = led.store.count()
    return path, count


def both_ways(path, monkeypatch, expected_head=None):
    with Ledger(path, create=False) as led:
        monkeypatch.setattr(service, "VERIFY_PARALLEL_FROM", 10 ** 9)
        one_pass = led.verify(expected_head)
        monkeypatch.setattr(service, "VERIFY_PARALLEL_FROM", 1)
        monkeypatch.setattr(parallel, "cores", lambda: RUNS)
        in_runs = led.verify(expected_head)
    return one_pass, in_runs


def tampered(source, tmp_path, *statements) -> str:
    path = tmp_path / "copy.db"
    shutil.copy(source, path)
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(*statement) if isinstance(statement, tuple) else db.execute(statement)
    db.commit()
    db.close()
    return path


def positions(count: int) -> list[int]:
    step = -(-count // (RUNS * 2))
    edges = [1 + i * step for i in range(RUNS * 2)]
    return sorted({p for e in edges for p in (e - 1, e, e + 1) if 1 <= p <= count} | {count})


def test_an_intact_ledger(stories_ledger, monkeypatch):
    path, count = stories_ledger
    one_pass, in_runs = both_ways(path, monkeypatch)
    assert one_pass == in_runs and one_pass.ok and one_pass.count == count


@pytest.mark.parametrize("change", ["body", "column", "delete", "renumber", "swap", "prev_hash"])
def test_every_change_near_every_edge_of_a_run(stories_ledger, tmp_path, monkeypatch, change):
    path, count = stories_ledger
    for seq in positions(count):
        if change == "swap" and seq == count:
            continue
        statements = {
            "body": [("UPDATE events SET body = replace(body, '\"at\"', '\"At\"') WHERE seq = ?", (seq,))],
            "column": [("UPDATE events SET actor = 'mallory' WHERE seq = ?", (seq,))],
            "delete": [("DELETE FROM events WHERE seq = ?", (seq,))],
            "renumber": [("DELETE FROM events WHERE seq = ?", (seq,)),
                         ("UPDATE events SET seq = seq - 1 WHERE seq > ?", (seq,))],
            "swap": [("UPDATE events SET seq = -1 WHERE seq = ?", (seq,)),
                     ("UPDATE events SET seq = ? WHERE seq = ?", (seq, seq + 1)),
                     ("UPDATE events SET seq = ? WHERE seq = -1", (seq + 1,))],
            "prev_hash": [("UPDATE events SET prev_hash = hash WHERE seq = ?", (seq,))],
        }[change]
        copy = tampered(path, tmp_path, *statements)
        one_pass, in_runs = both_ways(copy, monkeypatch)
        assert one_pass == in_runs, (change, seq)
        # (the last event deleted shows only against a published head)
        assert not one_pass.ok or (change in ("delete", "renumber") and seq == count), (change, seq)


def test_published_heads(stories_ledger, tmp_path, monkeypatch):
    path, count = stories_ledger
    db = sqlite3.connect(path)
    hashes = [h for (h,) in db.execute("SELECT hash FROM events ORDER BY seq")]
    db.close()
    for head in (hashes[-1], hashes[count // 2], hashes[0], "0" * 63 + "1"):
        one_pass, in_runs = both_ways(path, monkeypatch, head)
        assert one_pass == in_runs
        assert one_pass.ok == (head == hashes[-1])
