"""A ledger changed behind tiergate's back, in its SQLite file: the commands that decide refuse (exit 2, naming the
event), the commands that read say which event cannot be read instead of crashing, and `audit verify` finds it.

The ledger is built through the command line: the drift-breach story (predictive-maintenance 3.0, deployed, its
latest input_drift result a breach, event 23), and version 3.1 brought to the point where entering preproduction
lacks only the risk_audit sign-off. Each test then changes the file with the sqlite3 module, as someone holding it
could.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import tiergate as run_cli

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "examples" / "use-cases" / "predictive-maintenance.yaml"
ENV = {"TIERGATE_LEDGER": None, "TIERGATE_POLICY": None, "TIERGATE_ROSTER": None, "TIERGATE_ACTOR": None,
       "COLUMNS": "200"}
USE_CASE = "predictive-maintenance"
BREACH = 23  # the breached input_drift result of 3.0
JUDGED_AT = "2026-07-22T12:00:00Z"


def tiergate(*args):
    return run_cli(*args, env=ENV)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tamper") / "ledger.db"

    def ok(*args):
        result = tiergate(*args, "--ledger", path)
        assert result.exit_code == 0, result.stdout + result.stderr

    ok("roster", "import", ROOT / "examples" / "roster.yaml", "--actor", "admin", "--at", "2026-01-01T00:00:00Z")
    ok("import", ROOT / "examples" / "events" / "drift-breach.yaml", "--answers", ANSWERS)
    ok("register", USE_CASE, "3.1", "--answers", ANSWERS, "--actor", "dana", "--at", "2026-07-20T09:00:00Z")
    ok("promote", USE_CASE, "3.1", "--to", "ideation", "--actor", "dana", "--at", "2026-07-20T09:30:00Z")
    ok("evidence", USE_CASE, "3.1", "pii_handling", "personal_fields=0", "--actor", "dana", "--at", "2026-07-20T10:00:00Z")
    ok("promote", USE_CASE, "3.1", "--to", "development", "--actor", "dana", "--at", "2026-07-20T10:30:00Z")
    for n, kind in enumerate(("data_quality_check", "test_pipeline", "bias_test", "explainability_report")):
        ok("evidence", USE_CASE, "3.1", kind, "done=true", "--actor", "dana", "--at", f"2026-07-21T0{n}:00:00Z")
    return path


@pytest.fixture
def ledger(built, tmp_path) -> Path:
    copy = tmp_path / "ledger.db"
    shutil.copy(built, copy)
    assert not Path(f"{built}-wal").exists() or Path(f"{built}-wal").stat().st_size == 0
    return copy


def count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def head(path: Path) -> tuple[int, str]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()


# --- the four changes ---------------------------------------------------------------------------------------

def forge_signoff(path: Path) -> int:
    """A risk_audit sign-off for 3.1 appended at the end, chained to the head but with a garbage hash."""
    seq, previous = head(path)
    body = {"at": "2026-07-21T12:00:00Z", "type": "signoff", "use_case": USE_CASE, "version": "3.1", "actor": "raj",
            "gate": "preproduction", "role": "risk_audit", "decision": "approve"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (seq + 1, body["at"], "signoff", USE_CASE, "3.1", "raj", text, previous, "deadbeef" * 8,
                    "2026-07-21T12:00:01+00:00"))
        db.execute("INSERT INTO standing VALUES (?, ?, ?, ?, ?)", (USE_CASE, "3.1", f"#{seq + 1}", 0.0, seq + 1))
    return seq + 1


def body_as_blob(path: Path) -> int:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET body = CAST(body AS BLOB) WHERE seq = ?", (BREACH,))
    return BREACH


def hide_from_index(path: Path) -> int:
    """Take the breached drift result out of the database's indexes of the events (events_by_version, _by_time and
    _by_type; the table and every hash stay)."""
    indexes = ("events_by_version", "events_by_time", "events_by_type")
    db = sqlite3.connect(path)
    row = db.execute("SELECT * FROM events WHERE seq = ?", (BREACH,)).fetchone()
    sql = {name: db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0] for name in indexes}
    db.execute("DELETE FROM events WHERE seq = ?", (BREACH,))
    db.commit()
    db.execute("PRAGMA writable_schema = ON")
    for name in indexes:
        db.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (f"{sql[name]} WHERE seq <> {BREACH}", name))
    db.commit()
    db.close()
    db = sqlite3.connect(path)  # (the partial indexes, as the schema now says)
    db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    db.commit()
    db.execute("PRAGMA writable_schema = ON")
    for name in indexes:
        db.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (sql[name], name))
    db.commit()
    db.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM events WHERE use_case = ?", (USE_CASE,)).fetchone()[0] == \
            db.execute("SELECT COUNT(*) FROM events NOT INDEXED WHERE use_case = ?", (USE_CASE,)).fetchone()[0] - 1
    return BREACH


def soften_breach(path: Path) -> int:
    """The breach rewritten as a pass, with a hash that looks recomputed (of the body alone, not the chain)."""
    with sqlite3.connect(path) as db:
        text = db.execute("SELECT body FROM events WHERE seq = ?", (BREACH,)).fetchone()[0]
        text = text.replace('"psi":0.31', '"psi":0.05')
        db.execute("UPDATE events SET body = ?, hash = ? WHERE seq = ?",
                   (text, hashlib.sha256(text.encode()).hexdigest(), BREACH))
    return BREACH


TAMPERS = {"forged sign-off": forge_signoff, "body as BLOB": body_as_blob, "hidden from the index": hide_from_index,
           "softened breach": soften_breach}


def named(result, seq: int, code: str) -> None:
    """Exit 2 with the code and the event's number on standard error; no traceback."""
    assert result.exit_code == 2, result.stdout + result.stderr
    assert f"error[{code}]" in result.stderr and f"event {seq} " in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# --- what each command does -----------------------------------------------------------------------------------

def test_the_ledger_as_built_is_intact_and_decides(ledger):
    assert tiergate("audit", "verify", "--ledger", ledger).exit_code == 0
    assert tiergate("check", "--ledger", ledger, "--use-case", USE_CASE, "--version", "3.0", "--at", JUDGED_AT
                    ).exit_code == 1  # the breach
    blocked = tiergate("promote", USE_CASE, "3.1", "--to", "preproduction", "--ledger", ledger, "--actor", "otto",
                       "--at", "2026-07-22T08:00:00Z")
    assert blocked.exit_code == 1 and "signoff:risk_audit@preproduction" in blocked.stdout


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_promote_refuses_and_writes_nothing(ledger, tamper):
    seq = TAMPERS[tamper](ledger)
    before = count(ledger)
    version, to = ("3.1", "preproduction") if tamper == "forged sign-off" else ("3.0", "monitoring")
    result = tiergate("promote", USE_CASE, version, "--to", to, "--ledger", ledger, "--actor", "otto",
                      "--at", "2026-07-23T08:00:00Z")
    named(result, seq, "E621" if tamper == "body as BLOB" else "E620")
    assert "ALLOWED" not in result.stdout
    assert count(ledger) == before


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_check_from_the_ledger_refuses_naming_the_event(ledger, tamper):
    seq = TAMPERS[tamper](ledger)
    result = tiergate("check", "--ledger", ledger, "--use-case", USE_CASE, "--version", "3.0", "--at", JUDGED_AT)
    named(result, seq, "E621" if tamper == "body as BLOB" else "E620")


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_history_refuses_naming_the_event(ledger, tamper):
    seq = TAMPERS[tamper](ledger)
    result = tiergate("history", USE_CASE, "--ledger", ledger)
    named(result, seq, "E621" if tamper == "body as BLOB" else "E620")


@pytest.mark.parametrize("command", [("status", "--at", JUDGED_AT), ("export",), ("export", "--format", "yaml")])
def test_reading_a_body_stored_as_a_blob_names_it(ledger, command):
    body_as_blob(ledger)
    result = tiergate(*command, "--ledger", ledger)
    named(result, BREACH, "E621")
    assert "stored as blob, not text" in result.stderr


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_audit_verify_reports_the_event(ledger, tamper):
    seq = TAMPERS[tamper](ledger)
    result = tiergate("audit", "verify", "--ledger", ledger)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stdout.startswith("LEDGER BROKEN: ") and f"event {seq} " in result.stdout, result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_audit_verify_names_the_kind_a_value_is_stored_as(ledger):
    body_as_blob(ledger)
    result = tiergate("audit", "verify", "--ledger", ledger)
    assert result.stdout == f"LEDGER BROKEN: event {BREACH} was altered: its body is stored as blob, not text\n"
    assert f"checked {BREACH - 1} events" in result.stderr
