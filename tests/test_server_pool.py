"""The ledgers a server keeps open (engine/tiergate/server/pool.py): requests share the connections they find open,
a connection the database cut while it sat idle is replaced before a request gets it, and a request that finds
every connection busy is told so (503, E657) instead of waiting for ever."""
from __future__ import annotations

import threading

import pytest

from conftest import extra_module
from test_ledger_cli import POLICY, ROSTER, tiergate
from test_server import bearer, problem, token_for


def metric(client, name: str) -> float:
    lines = [line for line in client.get("/metrics").text.splitlines() if line.startswith(name + " ")]
    assert len(lines) == 1, name
    return float(lines[0].split()[1])


def make_client(target: str, connections: int = 10):
    extra_module("httpx")
    testclient = extra_module("starlette.testclient")
    from tiergate.server import Settings, create_app

    return testclient.TestClient(create_app(Settings(target, str(POLICY), connections=connections)))


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path) -> str:
    url = str(tmp_path / "ledger.db") if request.param == "sqlite" else request.getfixturevalue("postgres_ledger_url")
    assert tiergate("roster", "import", ROSTER, "--ledger", url, "--actor", "rita",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    return url


def test_requests_share_the_connections_they_find_open(target):
    token = token_for(target, "dana")
    with make_client(target) as client:
        for _ in range(40):
            assert client.get("/v1/policy", headers=bearer(token)).status_code == 200
            assert client.get("/v1/status", headers=bearer(token)).status_code == 200
        # one request at a time: one connection, lent to all eighty (authentication and work share it)
        assert metric(client, "tiergate_ledger_connections_opened_total") == 1


def test_a_connection_the_database_cut_while_idle_is_replaced_before_a_request_gets_it(tmp_path, postgres_ledger_url,
                                                                                       postgres_server):
    import psycopg

    target = postgres_ledger_url
    assert tiergate("roster", "import", ROSTER, "--ledger", target, "--actor", "rita",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    token = token_for(target, "dana")
    with make_client(target) as client:
        assert client.get("/v1/policy", headers=bearer(token)).status_code == 200
        with psycopg.connect(target, autocommit=True) as admin:
            cut = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                                "'tiergate' AND datname = current_database() AND pid <> pg_backend_pid() AND "
                                "pid <> %s", (postgres_server.db.info.backend_pid,)).fetchall()
        assert cut, "the server held no connection to cut"
        for _ in range(3):  # every answer as before: the cut connection is never lent
            assert client.get("/v1/policy", headers=bearer(token)).status_code == 200
        assert metric(client, "tiergate_ledger_connections_opened_total") == 2


def test_a_request_that_finds_every_connection_busy_is_answered_503(tmp_path, monkeypatch):
    import tiergate.server.pool as pool

    target = str(tmp_path / "ledger.db")
    assert tiergate("roster", "import", ROSTER, "--ledger", target, "--actor", "rita",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    token = token_for(target, "dana")
    monkeypatch.setattr(pool, "WAIT_S", 0.2)
    with make_client(target, connections=1) as client:
        state = client.app.state.tiergate
        held, release = threading.Event(), threading.Event()

        def hold():
            with state.ledger():
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(30)
            body = problem(client.get("/v1/policy", headers=bearer(token)), 503, "E657")
            assert body["detail"] == "every one of the server's 1 ledger connections was busy for 0.2 seconds"
        finally:
            release.set()
            holder.join(30)
        assert client.get("/v1/policy", headers=bearer(token)).status_code == 200  # and serves on once one is free
