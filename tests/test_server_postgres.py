"""More than one machine: two `tiergate serve` processes on different ports against one PostgreSQL ledger, clients
writing to both at once. Nothing is lost, the chain verifies, and what one server answered the other sees at once."""
from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import extra_module
from test_ledger_cli import ROOT, ROSTER, USE_CASES, tiergate
from test_server_client import free_port


def serve(ledger_url: str):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tiergate", "serve", "--port", str(port), "--ledger", ledger_url],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, f"http://127.0.0.1:{port}"


def wait_for(httpx, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become ready")


@pytest.fixture
def two_servers(postgres_ledger_url):
    httpx = extra_module("httpx")
    extra_module("uvicorn")
    url = postgres_ledger_url
    assert tiergate("roster", "import", ROSTER, "--ledger", url, "--actor", "rita",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    assert tiergate("register", "churn-dashboard", "1", "--answers", USE_CASES / "churn-dashboard.yaml",
                    "--ledger", url, "--actor", "bea", "--at", "2026-01-02T00:00:00Z").exit_code == 0
    tokens = {p: tiergate("token", "create", p, "--ledger", url, "--actor", "rita").stdout.strip()
              for p in ("dana", "sam")}
    servers = [serve(url), serve(url)]
    try:
        for _, address in servers:
            wait_for(httpx, address)
        yield httpx, url, [address for _, address in servers], tokens
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=30)


def test_two_servers_on_one_database_lose_nothing_and_agree(two_servers):
    httpx, url, addresses, tokens = two_servers
    before = int(tiergate("audit", "verify", "--ledger", url).stdout.split()[2])

    def record(i: int) -> int:
        address, person = addresses[i % 2], ("dana", "sam")[i % 2]
        answer = httpx.post(f"{address}/v1/events", timeout=60, headers={"Authorization": f"Bearer {tokens[person]}"},
                            json={"type": "evidence", "use_case": "churn-dashboard", "version": "1",
                                  "kind": "automated_checks", "metrics": {"run": i}})
        return answer.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(record, range(40)))
    assert statuses == [201] * 40
    verified = tiergate("audit", "verify", "--ledger", url)
    assert verified.exit_code == 0 and int(verified.stdout.split()[2]) == before + 40
    runs = sorted(e["metrics"]["run"] for e in map(__import__("json").loads,
                                                  tiergate("export", "--ledger", url).stdout.splitlines())
                  if e["type"] == "evidence")
    assert runs == list(range(40))
    # a promote answered by one server is seen by the other at once
    first, second = addresses
    dana = {"Authorization": f"Bearer {tokens['dana']}"}
    promoted = httpx.post(f"{first}/v1/promote", headers=dana, timeout=60,
                          json={"use_case": "churn-dashboard", "version": "1", "to": "ideation"})
    assert promoted.status_code == 200, promoted.text
    seen = httpx.get(f"{second}/v1/status", headers=dana, timeout=60).json()["versions"]
    assert [(r["use_case"], r["stage"]) for r in seen] == [("churn-dashboard", "ideation")]
    heads = {httpx.get(f"{address}/v1/audit/head", headers=dana, timeout=60).json()["head"] for address in addresses}
    assert len(heads) == 1
    decisions = httpx.get(f"{second}/v1/decisions", headers=dana, timeout=60).json()
    assert [d["decision_id"] for d in decisions] == [promoted.json()["decision_id"]]


def test_a_database_that_goes_away_mid_request_is_a_problem_and_the_server_serves_on(two_servers, postgres_server):
    """Every connection the servers hold is cut again and again while clients record: each answer is either the
    event recorded (201) or a problem (503, nothing written), never a 5xx without a problem or a half-written
    event; once the cutting stops, the servers answer as before and the chain verifies."""
    import threading

    import psycopg

    from conftest import POSTGRES_URL

    httpx, url, addresses, tokens = two_servers
    database = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    spared = postgres_server.db.info.backend_pid  # (the test session's own connection, which makes the schemas)
    stop = threading.Event()

    def cut():
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            while not stop.is_set():
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> %s", (database, spared))
                time.sleep(0.02)

    def record(i: int):
        answer = httpx.post(f"{addresses[i % 2]}/v1/events", timeout=60,
                            headers={"Authorization": f"Bearer {tokens['dana']}"},
                            json={"type": "evidence", "use_case": "churn-dashboard", "version": "1",
                                  "kind": "automated_checks", "metrics": {"cut": i}})
        return answer.status_code, answer.headers.get("content-type", "")

    cutter = threading.Thread(target=cut)
    cutter.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(record, range(40)))
    finally:
        stop.set()
        cutter.join()
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {201, 503} and 503 in statuses, statuses  # (the cutting did reach requests)
    assert all(kind.startswith("application/problem+json") for status, kind in answers if status != 201)
    recorded = sorted(e["metrics"]["cut"] for e in map(__import__("json").loads,
                                                      tiergate("export", "--ledger", url).stdout.splitlines())
                      if e["type"] == "evidence")
    assert recorded == sorted(i for i, (status, _) in enumerate(answers) if status == 201)  # none half-written
    assert tiergate("audit", "verify", "--ledger", url).exit_code == 0
    after = record(99)
    assert after[0] == 201
