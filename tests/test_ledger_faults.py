"""The ledger under faults: concurrent writers, a writer killed mid-import, files that are not ledgers,
a newer schema, a read-only ledger, a full disk.

Each fault must give a clear error (the file named, what to do) and exit 2, and leave the ledger as it
was: `tiergate audit verify` still passes and the number of events is unchanged.

Two tests need root's powers: the read-only mount and the full disk use a small tmpfs mounted for the
test (skipped where mounting is not allowed). Because the tests run as root, who may write to a file
whatever its mode, the chmod 444 test runs tiergate without CAP_DAC_OVERRIDE (via setpriv), so that
the file's mode is what decides; it is skipped where setpriv is missing. The full disk is also
simulated in-process, where SQLite's insert raises "database or disk is full" inside the transaction.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tiergate.language.load import load_policy
from conftest import tiergate as run_cli
from tiergate.errors import TiergateError
from tiergate.inputs.events import _records
from tiergate.ledger.actions import record, register, roster_body
from tiergate.ledger.importing import import_records
from tiergate.ledger.service import Ledger
from tiergate.ledger.store.base import SCHEMA_VERSION
from tiergate.inputs.answers import load_answers
from tiergate.inputs.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parent.parent
USE_CASES = ROOT / "examples" / "use-cases"
ROSTER = ROOT / "examples" / "roster.yaml"
POLICY = ROOT / "policies" / "mlops-default.policy"
ENV = {"TIERGATE_LEDGER": None, "TIERGATE_POLICY": None, "TIERGATE_ROSTER": None, "TIERGATE_ACTOR": None}


def tiergate(*args):
    return run_cli(*args, env=ENV)


def run(*args, wrap: tuple = (), **options) -> subprocess.CompletedProcess:
    """tiergate in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERGATE_")}
    return subprocess.run([*wrap, sys.executable, "-m", "tiergate", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300, **options)


def verified(path: Path) -> int:
    """The number of events, after checking that the chain is intact."""
    result = tiergate("audit", "verify", "--ledger", path)
    assert result.exit_code == 0, result.stdout + result.stderr
    return int(result.stdout.split()[2])


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY)


def seeded(path: Path, policy) -> Path:
    """The example roster and churn-dashboard 1 (registered by bea), recorded under the policy as it adopts it."""
    with Ledger(path) as led:
        record(led, policy, None, roster_body(load_yaml(ROSTER.read_bytes(), str(ROSTER)).data, "admin",
                                              "2026-01-01T00:00:00Z"), strict=True)
        register(led, policy, None, "churn-dashboard", "1", load_answers(USE_CASES / "churn-dashboard.yaml", policy),
                 "bea", "2026-01-02T00:00:00Z")
    return path


@pytest.fixture
def ledger(tmp_path, policy) -> Path:
    return seeded(tmp_path / "ledger.db", policy)


def evidence_file(path: Path, count: int, use_case: str = "churn-dashboard", version: str = "1") -> Path:
    """`count` evidence events, one a second, as JSON Lines."""
    with path.open("w") as out:
        for i in range(count):
            out.write(json.dumps({"at": f"2026-02-{1 + i // 86400:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:"
                                        f"{i % 60:02d}Z", "type": "evidence", "use_case": use_case,
                                  "version": version, "actor": "sam", "kind": "metrics_record",
                                  "metrics": {"run": i, "auc": 0.8, "note": "x" * 120}}) + "\n")
    return path


# --- concurrent writers -------------------------------------------------------------------------------

WRITER = """
import sys
from tiergate.language.load import load_policy
from tiergate.ledger.actions import record
from tiergate.ledger.service import Ledger

path, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
policy = load_policy({policy!r})
with Ledger(path) as ledger:
    for i in range(count):
        record(ledger, policy, None, {{"at": f"2026-03-{{1 + worker:02d}}T00:{{i // 60:02d}}:{{i % 60:02d}}Z",
                                      "type": "evidence", "use_case": "churn-dashboard", "version": "1",
                                      "actor": "sam", "kind": "automated_checks",
                                      "metrics": {{"worker": worker, "run": i}}}})
"""


def test_eight_processes_recording_at_once_lose_nothing(ledger):
    script = WRITER.format(policy=str(POLICY))
    per_process = 25
    before = verified(ledger)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(ledger), str(worker), str(per_process)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for worker in range(8)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert verified(ledger) == before + 8 * per_process
    with Ledger(ledger, create=False, readonly=True) as led:
        seen = {(e.data["metrics"]["worker"], e.data["metrics"]["run"]) for e in led.events("churn-dashboard").events
                if e.type == "evidence"}
    assert seen == {(w, i) for w in range(8) for i in range(per_process)}


def test_eight_commands_at_once_lose_nothing(ledger):
    before = verified(ledger)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERGATE_")}
    procs = []
    for worker in range(8):
        for i in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "tiergate", "evidence", "churn-dashboard", "1", "automated_checks",
                 f"worker={worker}", f"run={i}", "--ledger", str(ledger), "--actor", "sam",
                 "--at", f"2026-03-{1 + worker:02d}T10:00:0{i}Z"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.startswith("recorded evidence #")
    assert verified(ledger) == before + 16
    numbers = sorted(int(line.split("#")[1].split()[0]) for line in tiergate(
        "history", "churn-dashboard", "--ledger", ledger).stdout.splitlines() if "evidence" in line)
    assert numbers == list(range(before + 1, before + 17))


def test_eight_processes_creating_one_ledger_at_once(tmp_path):
    """Each registers its own use case in a ledger none of them finds: one creates it, all write to it."""
    path = tmp_path / "new" / "ledger.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERGATE_")}
    names = sorted(p.stem for p in USE_CASES.glob("*.yaml"))
    assert len(names) == 8
    procs = [subprocess.Popen([sys.executable, "-m", "tiergate", "register", name, "1", "--answers",
                               str(USE_CASES / f"{name}.yaml"), "--ledger", str(path), "--actor", "dana",
                               "--at", "2026-01-01T00:00:00Z"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for name in names]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert verified(path) == 9  # and one adoption of the policy: decided under the write lock, so only once
    events = [json.loads(line) for line in tiergate("export", "--ledger", path).stdout.splitlines()]
    assert events[0]["type"] == "policy_adopted"
    assert [e["use_case"] for e in sorted(events[1:], key=lambda e: e["use_case"])] == names


# --- a writer killed in the middle of an import -----------------------------------------------------------

def still_running(argument: str, wait: float = 5.0) -> list[int]:
    """Processes (Linux: read from /proc) whose command line holds `argument`, once `wait` seconds have passed
    without all of them ending."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                if argument.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.parametrize("when", ["while writing", "while validating"])
def test_an_import_killed_midway_is_there_whole_or_not_at_all(ledger, tmp_path, when):
    big = evidence_file(tmp_path / "big.jsonl", 40_000)
    before = verified(ledger)
    head = tiergate("audit", "head", "--ledger", ledger).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERGATE_")}
    proc = subprocess.Popen([sys.executable, "-m", "tiergate", "import", str(big), "--ledger", str(ledger)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wal = Path(f"{ledger}-wal")
    deadline = time.monotonic() + 120
    if when == "while writing":  # SQLite spills the transaction into the -wal file as it grows
        while proc.poll() is None and time.monotonic() < deadline:
            if wal.exists() and wal.stat().st_size > 2_000_000:
                break
            time.sleep(0.005)
    else:
        time.sleep(0.8)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not still_running(str(big)), "the import's workers outlived it"
    after = verified(ledger)  # opens (recovering from the -wal file) and verifies
    assert after in (before, before + 40_000)
    if after == before:
        assert tiergate("audit", "head", "--ledger", ledger).stdout.strip() == head
    if when == "while writing" and killed:
        assert after == before, "killed before the commit: nothing of the import may be there"
    # and the ledger takes new events afterwards
    assert tiergate("evidence", "churn-dashboard", "1", "automated_checks", "after=1", "--ledger", ledger,
                    "--actor", "sam", "--at", "2026-04-01T00:00:00Z").exit_code == 0
    assert verified(ledger) == after + 1


# --- files that are not (usable) ledgers ----------------------------------------------------------------

def assert_refused(result, path: Path, message: str, hint: str):
    assert result.exit_code == 2, result.stdout + result.stderr
    assert f"{path}: error[E600]: {message}" in result.stderr
    assert f"hint: {hint}" in result.stderr
    assert "Traceback" not in result.stderr


COMMANDS = {
    "evidence": ("evidence", "churn-dashboard", "1", "automated_checks", "ok=1", "--actor", "sam"),
    "status": ("status",),
    "audit verify": ("audit", "verify"),
    "export": ("export",),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_file_of_random_bytes(tmp_path, command):
    path = tmp_path / "ledger.db"
    path.write_bytes(os.urandom(16384))
    before = path.read_bytes()
    result = tiergate(*COMMANDS[command], "--ledger", path)
    assert_refused(result, path, "this file is not a readable tiergate ledger (file is not a database)",
                   "check the --ledger path (or TIERGATE_LEDGER); if it is the ledger, it is damaged")
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("schema", ["CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
                                    "CREATE TABLE meta (name TEXT, size INTEGER)",
                                    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)"],
                         ids=["other tables", "other meta table", "meta of another application"])
def test_the_database_of_another_application_is_left_alone(tmp_path, command, schema):
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute(schema)
    if "key" in schema:
        db.execute("INSERT INTO meta VALUES ('application', 'someone-else')")
    db.commit()
    db.close()
    before = path.read_bytes()
    result = tiergate(*COMMANDS[command], "--ledger", path)
    assert result.exit_code == 2
    assert f"{path}: error[E600]: this SQLite file is not a tiergate ledger" in result.stderr
    assert "the file was left unchanged" in result.stderr
    assert path.read_bytes() == before  # not even switched to WAL mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_ledger_of_a_newer_schema(ledger, command):
    count = verified(ledger)
    db = sqlite3.connect(ledger)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    before = ledger.read_bytes()
    result = tiergate(*COMMANDS[command], "--ledger", ledger)
    assert_refused(result, ledger, f"the ledger has schema version 99, newer than this tiergate knows ({SCHEMA_VERSION})",
                   "upgrade tiergate to read it; it was left unchanged")
    assert ledger.read_bytes() == before
    db = sqlite3.connect(ledger)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    db.commit()
    db.close()
    assert verified(ledger) == count


def test_a_path_that_is_a_folder(tmp_path):
    result = tiergate(*COMMANDS["evidence"], "--ledger", tmp_path)
    assert result.exit_code == 2
    assert f"File '{tmp_path}' is a directory" in result.stderr


def test_a_path_with_uri_characters(tmp_path, policy):
    """SQLite opens ledgers by URI: `?`, `#` and `%` in a path must still name the file."""
    folder = tmp_path / "a?b#c%20d"
    folder.mkdir()
    path = seeded(folder / "ledger.db", policy)
    assert verified(path) == 3  # the adoption, the roster, the registration
    assert sorted(p.name for p in folder.iterdir())[0] == "ledger.db"


# --- a read-only ledger ----------------------------------------------------------------------------------

NO_DAC = ("setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search")


def without_root_powers() -> tuple:
    """A prefix that runs a command with the file modes in force (root bypasses them otherwise)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None or subprocess.run([*NO_DAC, "true"], capture_output=True).returncode != 0:
        pytest.skip("running as root, and setpriv cannot drop CAP_DAC_OVERRIDE here")
    return NO_DAC


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_ledger_file(ledger, what):
    wrap = without_root_powers()
    count = verified(ledger)
    before = ledger.read_bytes()
    target = ledger if what == "file" else ledger.parent
    if what == "folder":  # the last connection to close folds the -wal file in and removes it and the -shm
        db = sqlite3.connect(ledger)
        db.execute("SELECT COUNT(*) FROM events").fetchone()
        db.close()
        assert sorted(p.name for p in ledger.parent.iterdir()) == ["ledger.db"]
    mode = target.stat().st_mode
    target.chmod(0o444 if what == "file" else 0o555)
    try:
        result = run("evidence", "churn-dashboard", "1", "automated_checks", "ok=1", "--actor", "sam",
                     "--ledger", ledger, wrap=wrap)
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"{ledger}: error[E600]: the ledger is read-only, so nothing can be recorded" in result.stderr
        assert "hint: check the permissions of the file and of its folder" in result.stderr
        read = run("audit", "verify", "--ledger", ledger, wrap=wrap)  # reading still works
        assert read.returncode == 0, read.stderr
        assert read.stdout.startswith(f"ledger intact: {count} events")
        status = run("status", "--ledger", ledger, "--at", "2026-02-01T00:00:00Z", wrap=wrap)
        assert status.returncode == 0, status.stderr
    finally:
        target.chmod(mode)
    assert ledger.read_bytes() == before
    assert verified(ledger) == count


def test_a_read_only_ledger_of_an_older_layout_asks_for_the_upgrade(ledger):
    wrap = without_root_powers()
    db = sqlite3.connect(ledger)  # as the first layout left it
    db.execute("DROP TABLE standing")
    db.execute("DROP INDEX events_by_time")
    db.execute("DROP INDEX events_by_type")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    before = ledger.read_bytes()
    mode = ledger.stat().st_mode
    ledger.chmod(0o444)
    try:
        result = run("audit", "verify", "--ledger", ledger, wrap=wrap)
    finally:
        ledger.chmod(mode)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{ledger}: error[E600]: the ledger needs an upgrade of its layout (1 -> {SCHEMA_VERSION}) and cannot " \
        "be written here (attempt to write a readonly database)" in result.stderr
    assert "hint: open it once where it can be written (any tiergate command upgrades it there), or copy it " \
        "somewhere writable" in result.stderr
    assert "Traceback" not in result.stderr
    assert ledger.read_bytes() == before
    upgraded = run("audit", "verify", "--ledger", ledger)  # where it may be written, reading upgrades it
    assert upgraded.returncode == 0, upgraded.stderr


@pytest.fixture
def tmpfs(tmp_path):
    """mount(size) -> a folder on a tmpfs of that size (unmounted afterwards); skipped where not allowed."""
    mounted = []

    def mount(size: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_a_ledger_on_a_read_only_mount(tmpfs, ledger):
    point = tmpfs("4m")
    path = point / "ledger.db"
    shutil.copy(ledger, path)
    count = verified(path)
    done = subprocess.run(["mount", "-o", "remount,ro", str(point)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot remount read-only: {done.stderr.strip()}")
    before = path.read_bytes()
    result = run("evidence", "churn-dashboard", "1", "automated_checks", "ok=1", "--actor", "sam", "--ledger", path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{path}: error[E600]: the ledger is read-only, so nothing can be recorded" in result.stderr
    assert "its filesystem is not mounted read-only" in result.stderr
    assert "Traceback" not in result.stderr
    read = run("audit", "verify", "--ledger", path)  # an archived ledger on read-only media can still be audited
    assert (read.returncode, read.stdout.split()[:3]) == (0, ["ledger", "intact:", str(count)]), read.stderr
    assert run("status", "--ledger", path, "--at", "2026-02-01T00:00:00Z").returncode == 0
    assert run("export", "--ledger", path).stdout.count("\n") == count
    assert path.read_bytes() == before


# --- a full disk -----------------------------------------------------------------------------------------

def fill(folder: Path, leave: int) -> Path:
    """Fill the filesystem of `folder` but for about `leave` bytes."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    with filler.open("wb") as out:
        try:
            out.write(b"\0" * max(0, free - leave))
            out.flush()
        except OSError:
            pass
    return filler


@pytest.mark.parametrize("leave", [0, 48 * 1024], ids=["no byte free", "a little free"])
def test_a_full_disk(tmpfs, ledger, tmp_path, leave):
    point = tmpfs("3m")
    path = point / "ledger.db"
    shutil.copy(ledger, path)
    count = verified(path)
    head = tiergate("audit", "head", "--ledger", path).stdout.strip()
    big = evidence_file(tmp_path / "big.jsonl", 3_000)
    filler = fill(point, leave)
    result = run("import", big, "--ledger", path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{path}: error[E600]: the ledger could not be written (" in result.stderr
    assert any(reason in result.stderr for reason in ("database or disk is full", "disk I/O error"))
    assert "hint: free some space on its filesystem (or fix the disk) and run the command again" in result.stderr
    assert "Traceback" not in result.stderr
    audit = run("audit", "verify", "--ledger", path)  # readable while the disk is full
    assert audit.returncode == 0 and audit.stdout.split()[2] == str(count), audit.stdout + audit.stderr
    if not leave:  # with a little room, one small event still fits
        one = run("evidence", "churn-dashboard", "1", "automated_checks", "ok=1", "--actor", "sam", "--ledger", path)
        assert one.returncode == 2, one.stdout
    filler.unlink()
    assert verified(path) == count
    assert tiergate("audit", "head", "--ledger", path).stdout.strip() == head
    assert run("import", big, "--ledger", path).returncode == 0  # with room again, the same import goes in whole
    assert verified(path) == count + 3_000


class DiskFullConnection:
    """A sqlite3 connection whose inserts fail as on a full disk, after the write lock was taken."""

    def __init__(self, real: sqlite3.Connection):
        self.real = real

    def executemany(self, sql: str, rows):
        if sql.lstrip().upper().startswith("INSERT"):
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.executemany(sql, rows)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def disk_full(monkeypatch):
    import tiergate.ledger.store.sqlite as store

    connect = store.sqlite3.connect
    monkeypatch.setattr(store.sqlite3, "connect", lambda *a, **k: DiskFullConnection(connect(*a, **k)))


def test_a_full_disk_simulated_in_the_library(ledger, tmp_path, policy, disk_full):
    count = verified(ledger)
    big = evidence_file(tmp_path / "big.jsonl", 500)
    with Ledger(ledger) as led:
        with pytest.raises(TiergateError) as caught:
            import_records(led, policy, None, _records(big.read_bytes(), str(big)), str(big), {})
        [problem] = caught.value.diagnostics
        assert (problem.code, problem.location.file) == ("E600", str(ledger))
        assert problem.message == "the ledger could not be written (database or disk is full); nothing was recorded"
        assert led.count() == count
        # the connection is usable after the rollback: reading works, the lock is released
        assert led.verify().ok
    assert verified(ledger) == count


def test_a_full_disk_simulated_on_the_command_line(ledger, disk_full):
    count = verified(ledger)
    result = tiergate(*COMMANDS["evidence"], "--ledger", ledger, "--at", "2026-02-01T00:00:00Z")
    assert_refused(result, ledger, "the ledger could not be written (database or disk is full); nothing was recorded",
                   "free some space on its filesystem (or fix the disk) and run the command again")
    assert result.stderr.rstrip().endswith("tiergate: nothing was written")
    assert verified(ledger) == count
