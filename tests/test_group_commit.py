"""Group commit (engine/tiergate/ledger/groupcommit.py): appends made at the same time by threads of one process share
one transaction, and each still gets its own rows or its own refusal. Tried on SQLite and PostgreSQL: a batch is
forced by holding the first append inside its validation until every other one waits behind it."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from contextlib import contextmanager

import pytest

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.inputs.events import format_time
from tiergate.language.load import load_policy
from tiergate.ledger.groupcommit import GroupCommit
from tiergate.ledger.service import Ledger

from test_ledger_cli import POLICY, ROSTER, USE_CASES, state, tiergate

AT = "2026-01-01T00:00:00Z"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    """A ledger holding the example roster and loan-approval 1.0 registered."""
    target = str(tmp_path / "ledger.db") if request.param == "sqlite" else request.getfixturevalue("postgres_ledger_url")
    assert tiergate("roster", "import", ROSTER, "--ledger", target, "--actor", "rita", "--at", AT).exit_code == 0
    done = tiergate("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml",
                    "--ledger", target, "--actor", "dana", "--policy", POLICY)
    assert done.exit_code == 0, done.stderr
    return target


def evidence(n: int, actor: str = "dana") -> dict:
    return {"at": f"2026-06-01T10:00:{n:02d}Z", "type": "evidence", "use_case": "loan-approval", "version": "1.0",
            "actor": actor, "kind": "automated_checks", "metrics": {"n": n}}


def signoff(actor: str, at: str) -> dict:
    return {"at": at, "type": "signoff", "use_case": "loan-approval", "version": "1.0",
            "actor": actor, "role": "risk_audit", "gate": "preproduction", "decision": "approve"}


class Batch:
    """Appends through ledgers that share one GroupCommit, each in a thread of its own. The first is held inside its
    validation until the others wait behind it, so they are written together in the next transaction."""

    def __init__(self, url: str, jobs: list[tuple[dict, object]]):
        self.group, self.policy = GroupCommit(), load_policy(POLICY)
        self.results: list = [None] * len(jobs)
        held, release = threading.Event(), threading.Event()

        def hold(ledger, validator):
            held.set()
            assert release.wait(30)

        def run(i: int, body: dict, decide) -> None:
            with Ledger(url, create=False, group=self.group) as ledger:
                try:
                    self.results[i] = ledger.append_bodies([body], self.policy, None, Location("test"),
                                                           strict=True, decide=decide)
                except BaseException as exc:  # noqa: BLE001 - the outcome is the test's to judge
                    self.results[i] = exc

        first = threading.Thread(target=run, args=(0, evidence(0), hold))
        first.start()
        assert held.wait(30)
        others = [threading.Thread(target=run, args=(i, body, decide)) for i, (body, decide) in enumerate(jobs[1:], 1)]
        for thread in others:
            thread.start()
        deadline = time.monotonic() + 30
        while self.group.waiting < len(others) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.group.waiting == len(others)
        release.set()
        for thread in [first, *others]:
            thread.join(30)


def test_appends_that_arrive_together_share_one_commit_and_each_is_written_once(url):
    _, count = state(url)
    batch = Batch(url, [(evidence(i), None) for i in range(12)])
    assert all(isinstance(r, list) and len(r) == 1 for r in batch.results), batch.results
    assert (batch.group.commits, batch.group.appends) == (2, 12)  # the held one alone, then the eleven together
    seqs = sorted(r[0].seq for r in batch.results)
    assert seqs == list(range(count + 1, count + 13))
    with Ledger(url, create=False) as ledger:
        stored = [b["metrics"]["n"] for b in ledger.bodies("loan-approval", "1.0") if b["type"] == "evidence"]
        assert sorted(stored) == list(range(12)) and ledger.verify().ok
        stored_rows = {r.seq: r.body for r in ledger.store.rows("loan-approval", "1.0")}
        assert all(stored_rows[r[0].seq] == r[0].body for r in batch.results)  # each its own row, as returned


def test_one_append_refused_leaves_the_others_of_its_transaction_written(url):
    """The waiting appends are written in the order they queued, which the threads decide: whatever it is, bea's
    sign-off (she holds no risk_audit role) is refused, exactly one of two appends of the same content is, and the
    others are written. (Both sign-offs are dated now, after the registration: one that is not a measurement may
    not be dated before the version's latest event, and an equal time is not before.)"""
    _, count = state(url)
    now = format_time(datetime.now(timezone.utc))
    jobs = [(evidence(0), None), (evidence(1), None), (signoff("bea", now), None), (evidence(2), None),
            (evidence(1), None), (signoff("rita", now), None)]
    batch = Batch(url, jobs)
    refused = batch.results[2]
    assert isinstance(refused, TiergateError) and refused.diagnostics[0].code == "E611", refused
    twins = [batch.results[1], batch.results[4]]  # the same content twice: the one queued second is a duplicate
    assert sorted(type(r).__name__ for r in twins) == ["TiergateError", "list"], twins
    duplicate = next(r for r in twins if isinstance(r, TiergateError))
    assert duplicate.diagnostics[0].code == "E612", duplicate
    written = [r for i, r in enumerate(batch.results) if i not in (1, 2, 4)]
    assert all(isinstance(r, list) for r in written), batch.results
    assert state(url)[1] == count + 4 and batch.group.commits == 2
    with Ledger(url, create=False) as ledger:
        signoffs = [b["actor"] for b in ledger.bodies("loan-approval", "1.0") if b["type"] == "signoff"]
        assert signoffs == ["rita"] and ledger.verify().ok


def test_a_failure_inside_one_append_fails_it_alone_and_the_others_are_written_again(url):
    _, count = state(url)

    def broken(ledger, validator):
        raise RuntimeError("a fault inside")

    jobs = [(evidence(0), None), (evidence(1), None), (evidence(2), broken), (evidence(3), None)]
    batch = Batch(url, jobs)
    assert isinstance(batch.results[2], RuntimeError)
    assert all(isinstance(r, list) for i, r in enumerate(batch.results) if i != 2), batch.results
    assert state(url)[1] == count + 3
    with Ledger(url, create=False) as ledger:
        stored = sorted(b["metrics"]["n"] for b in ledger.bodies("loan-approval", "1.0") if b["type"] == "evidence")
        assert stored == [0, 1, 3] and ledger.verify().ok


def test_a_commit_that_fails_is_every_waiting_appends_error_and_writes_nothing(url, monkeypatch):
    """The second transaction (the five appends that waited) fails as the store commits it, as a database that
    refuses a commit does: each of the five gets that error, and none of them is in the ledger."""
    _, count = state(url)
    commits = {"n": 0}
    real_init = Ledger.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        writing = self.store.writing

        @contextmanager
        def refusing(bulk=False, latest=()):
            with writing(bulk, latest):
                yield
                commits["n"] += 1
                if commits["n"] == 2:
                    raise TiergateError(Diagnostic("E600", "the database refused the commit", Location("<ledger>")))
        self.store.writing = refusing

    monkeypatch.setattr(Ledger, "__init__", init)
    batch = Batch(url, [(evidence(i), None) for i in range(6)])
    monkeypatch.setattr(Ledger, "__init__", real_init)
    assert isinstance(batch.results[0], list), batch.results  # (the held one, committed alone first)
    for failed in batch.results[1:]:
        assert isinstance(failed, TiergateError) and failed.diagnostics[0].message == "the database refused the commit"
    assert state(url)[1] == count + 1
    with Ledger(url, create=False) as ledger:
        assert [b["metrics"]["n"] for b in ledger.bodies("loan-approval", "1.0") if b["type"] == "evidence"] == [0]
