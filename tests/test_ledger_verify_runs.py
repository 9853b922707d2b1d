"""`audit verify` on every core checks runs of events side by side: whatever was done to the ledger, it must
report exactly what one pass from the first event reports."""
from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

import tiergate.ledger.parallel as parallel
import tiergate.ledger.verify as verify
from conftest import ROOT, STORY_USE_CASE
from tiergate.inputs.events import _records
from tiergate.ledger.importing import import_records
from tiergate.ledger.service import Ledger
from tiergate.inputs.answers import load_answers

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
        count = led.count()
    return path, count


def both_ways(path, monkeypatch, expected_head=None):
    with Ledger(path, create=False) as led:
        monkeypatch.setattr(verify, "VERIFY_PARALLEL_FROM", 10 ** 9)
        one_pass = led.verify(expected_head)
        monkeypatch.setattr(verify, "VERIFY_PARALLEL_FROM", 1)
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
        assert not one_pass.ok, (change, seq)  # (the last event deleted too: its row in the index is left over)


@pytest.mark.parametrize("column", ["body", "hash", "prev_hash", "at", "recorded_at"])
def test_a_value_of_another_kind_is_named_at_its_seq(stories_ledger, tmp_path, monkeypatch, column):
    """(A text column of SQLite turns a number into text; a BLOB stays a BLOB, with the same bytes.)"""
    path, count = stories_ledger
    for seq in positions(count):
        copy = tampered(path, tmp_path, (f"UPDATE events SET {column} = CAST({column} AS BLOB) WHERE seq = ?", (seq,)))
        one_pass, in_runs = both_ways(copy, monkeypatch)
        assert one_pass == in_runs, (column, seq)
        wanted = f"event {seq} was altered: its {column} is stored as blob, not text"
        assert (one_pass.problem, one_pass.seq, one_pass.count) == (wanted, seq, seq - 1), (column, seq)


def test_an_event_missing_from_the_database_index_of_use_cases_is_found(stories_ledger, tmp_path, monkeypatch):
    path, count = stories_ledger
    seq = count // 2
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    db = sqlite3.connect(copy)
    row = db.execute("SELECT * FROM events WHERE seq = ?", (seq,)).fetchone()
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'events_by_version'").fetchone()[0]
    db.execute("DELETE FROM events WHERE seq = ?", (seq,))
    db.commit()
    for schema, statement in ((f"{sql} WHERE seq <> {seq}", None), (sql, None)):
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'events_by_version'", (schema,))
        db.commit()
        db.close()
        db = sqlite3.connect(copy)
        if schema != sql:
            db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            db.commit()
    db.close()
    one_pass, in_runs = both_ways(copy, monkeypatch)
    assert one_pass == in_runs and one_pass.seq == seq and one_pass.count == count
    assert one_pass.problem.startswith(f"the database finds itself damaged: row {seq} missing from index "
                                       "events_by_version") and not one_pass.only_the_index


def test_published_heads(stories_ledger, tmp_path, monkeypatch):
    path, count = stories_ledger
    db = sqlite3.connect(path)
    hashes = [h for (h,) in db.execute("SELECT hash FROM events ORDER BY seq")]
    db.close()
    for head in (hashes[-1], hashes[count // 2], hashes[0], "0" * 63 + "1"):
        one_pass, in_runs = both_ways(path, monkeypatch, head)
        assert one_pass == in_runs
        assert one_pass.ok == (head == hashes[-1])


# --- the standing index: what `status` reads must be what the events say ---------------------------

def _slots(path) -> tuple[list[tuple], dict[tuple, list[int]]]:
    """(use_case, version, slot, seq) of each own-slot row, and (use_case, version, slot) -> the seqs of the events of
    each shared slot, oldest first (the stories record them in time order)."""
    from tiergate.ledger.standing import slot_of

    db = sqlite3.connect(path)
    own = db.execute("SELECT use_case, version, slot, seq FROM standing WHERE substr(slot, 1, 1) = '#' "
                     "ORDER BY seq").fetchall()
    shared: dict[tuple, list[int]] = {}
    for seq, use_case, version, text in db.execute("SELECT seq, use_case, version, body FROM events ORDER BY seq"):
        slot = slot_of(json.loads(text))
        if slot is not None:
            shared.setdefault((use_case, version, slot), []).append(seq)
    db.close()
    return own, shared


def _index_damage(path) -> list[tuple[str, list, str, int]]:
    """(what, statements, the problem verify must report, the event it must name)."""
    own, shared = _slots(path)
    (uc, v, slot, seq), (uc2, _, slot2, seq2) = own[len(own) // 2], own[-1]
    key = next(k for k, seqs in shared.items() if len(seqs) >= 3 and k[2].startswith("monitoring:"))
    (suc, sv, sslot), seqs = key, shared[key]
    where = f"{suc} {sv}, {sslot}"
    return [
        ("own row deleted", [("DELETE FROM standing WHERE slot = ? AND use_case = ?", (slot, uc))],
         f"event {seq} has no row", seq),
        ("own row moved", [("UPDATE standing SET version = 'x' WHERE slot = ? AND use_case = ?", (slot2, uc2))],
         f"event {seq2} has no row", seq2),
        ("own row added", [("INSERT INTO standing VALUES (?, ?, '#99999', 0, 99999)", (uc, v))],
         "a row for event 99999, which no event calls for", 99999),
        ("shared row pointed back", [("UPDATE standing SET seq = ? WHERE use_case = ? AND version = ? AND slot = ?",
                                      (seqs[0], suc, sv, sslot))],
         f"{where}: it points at event {seqs[0]}, where the latest is event {seqs[-1]}", seqs[-1]),
        ("shared row deleted", [("DELETE FROM standing WHERE use_case = ? AND version = ? AND slot = ?",
                                 (suc, sv, sslot))], f"{where}: the row for event {seqs[-1]} is missing", seqs[-1]),
        ("shared row's time moved", [("UPDATE standing SET instant = instant - 1 WHERE use_case = ? AND version = ? "
                                      "AND slot = ?", (suc, sv, sslot))],
         f"{where}: the time of event {seqs[-1]} was changed", seqs[-1]),
        ("shared row added", [("INSERT INTO standing VALUES (?, ?, 'monitoring:made_up', 0, ?)", (suc, sv, seqs[0]))],
         f"{suc} {sv}, monitoring:made_up: a row for event {seqs[0]}, which no event calls for", seqs[0]),
    ]


def test_every_kind_of_damage_to_the_index_is_found_and_named(stories_ledger, tmp_path, monkeypatch):
    path, _ = stories_ledger
    for what, statements, problem, seq in _index_damage(path):
        copy = tampered(path, tmp_path, *statements)
        one_pass, in_runs = both_ways(copy, monkeypatch)
        assert one_pass == in_runs, what
        assert one_pass.problem == f"the events are intact, but the index `status` reads does not match them: " \
                                   f"{problem}", what
        assert one_pass.seq == seq, what


def test_the_latest_result_of_a_slot_is_found_across_runs(stories_ledger, tmp_path, monkeypatch):
    """Point each shared slot at each of its older events in turn: whichever runs they fall in, the latest wins."""
    path, count = stories_ledger
    _, shared = _slots(path)
    for (use_case, version, slot), seqs in shared.items():
        for older in seqs[:-1]:
            copy = tampered(path, tmp_path, ("UPDATE standing SET seq = ? WHERE use_case = ? AND version = ? AND "
                                             "slot = ?", (older, use_case, version, slot)))
            one_pass, in_runs = both_ways(copy, monkeypatch)
            assert one_pass == in_runs and one_pass.seq == seqs[-1], (slot, older)


@pytest.mark.parametrize("in_runs", [False, True], ids=["one pass", "in runs"])
def test_events_appended_while_verifying_are_left_for_the_next_check(stories_ledger, tmp_path, monkeypatch, policy,
                                                                    in_runs):
    """An append between the chain check and the reading of the index (another CI job recording) does not make
    the index look wrong: both are read as the ledger was when the check began."""
    from tiergate.ledger.actions import record

    path, count = stories_ledger
    copy = tampered(path, tmp_path)
    monkeypatch.setattr(verify, "VERIFY_PARALLEL_FROM", 1 if in_runs else 10 ** 9)
    monkeypatch.setattr(parallel, "cores", lambda: RUNS)
    read_index = verify._read_index

    def append_first(store):
        with Ledger(copy) as other:
            record(other, policy, None, {"at": "2026-12-01T00:00:00Z", "type": "monitoring", "use_case": "predictive-maintenance",
                                         "version": "3.0", "actor": "paula", "kind": "input_drift",
                                         "metrics": {"psi": 0.5}})
        return read_index(store)

    monkeypatch.setattr(verify, "_read_index", append_first)
    with Ledger(copy, create=False, readonly=True) as led:
        first = led.verify()
    assert first.ok and first.count == count
    monkeypatch.setattr(verify, "_read_index", read_index)
    with Ledger(copy, create=False, readonly=True) as led:
        second = led.verify()
    assert second.ok and second.count == count + 1
