"""How fast the service answers, against baselines measured in the same run on loopback (`tiergate serve` in its own
process, uvicorn with one worker).

Part 1, a check: the median latency of `POST /v1/check` (which also writes its decision to the ledger) against
the in-process `check` of the same request plus the round trip of the authenticated no-op `GET /v1/policy`.
Target: at most 2x.

Part 2, recording: 16 concurrent clients recording evidence through `POST /v1/events`, events per second, against
the same clients calling `GET /v1/policy`, in alternating rounds (5; the median of the rounds' ratios). Target: at
least 0.5x; p50 and p99 latencies beside it, and how many events the server committed together. On SQLite, and
on PostgreSQL when the server at TIERGATE_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres)
answers.

    python bench/bench_service.py                      # 300 checks, 16 clients x 50 requests, both backends
    python bench/bench_service.py --checks 100 --per-client 20 --no-postgres
"""
from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "mlops-default.policy"
ROSTER = ROOT / "examples" / "roster.yaml"
ANSWERS = ROOT / "examples" / "use-cases" / "churn-dashboard.yaml"
CHECK_TARGET, RECORD_TARGET = 2.0, 0.5


def tiergate(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tiergate", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"tiergate {' '.join(args)}: {done.stderr}")
    return done.stdout


def prepare(ledger: str) -> str:
    """The example roster, churn-dashboard 1 registered, and a token for sam (data_scientist): the token."""
    tiergate("roster", "import", str(ROSTER), "--ledger", ledger, "--actor", "rita")
    tiergate("register", "churn-dashboard", "1", "--answers", str(ANSWERS), "--ledger", ledger, "--actor", "bea")
    return tiergate("token", "create", "sam", "--ledger", ledger, "--actor", "rita").strip()


def serve(ledger: str):
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "tiergate", "serve", "--port", str(port), "--ledger", ledger,
                             "--policy", str(POLICY)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def part1(ledger: str, url: str, token: str, checks: int) -> dict:
    import httpx

    from tiergate.app.checking import check
    from tiergate.language.load import load_policy

    policy = load_policy(POLICY)
    request = {"use_case": "churn-dashboard", "to": "ideation"}
    headers = {"Authorization": f"Bearer {token}"}
    served, inproc, noop = [], [], []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for _ in range(20):  # warm up both
            client.post("/v1/check", json=request)
            check(policy, ledger=ledger, use_case="churn-dashboard", to="ideation")
        for _ in range(checks):  # interleaved, so that each kind sees the same load
            served.append(timed(lambda: client.post("/v1/check", json=request).raise_for_status()))
            inproc.append(timed(lambda: check(policy, ledger=ledger, use_case="churn-dashboard", to="ideation")))
            noop.append(timed(lambda: client.get("/v1/policy").raise_for_status()))
    m = {k: statistics.median(v) for k, v in (("served", served), ("inproc", inproc), ("noop", noop))}
    m["ratio"] = m["served"] / (m["inproc"] + m["noop"])
    return m


def part2(url: str, token: str, clients: int, per_client: int, rounds: int) -> dict:
    """`rounds` rounds, each the no-op then the recording (so that both see the same load): the medians of the
    rates and of each round's ratio, the latencies of every recording."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}

    def run(work) -> tuple[float, list[float]]:
        def one(c: int) -> list[float]:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                return [timed(lambda i=i: work(client, c, i)) for i in range(per_client)]
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            latencies = [t for part in pool.map(one, range(clients)) for t in part]
        return clients * per_client / (time.perf_counter() - start), latencies

    def record(client, c, i):
        client.post("/v1/events", json={"type": "evidence", "use_case": "churn-dashboard", "version": "1",
                                        "kind": "automated_checks", "metrics": {"client": c, "i": i}}
                    ).raise_for_status()

    def noop(client, c, i):
        client.get("/v1/policy").raise_for_status()

    def counted() -> dict:
        text = httpx.get(f"{url}/metrics").text
        return {name: float(line.split()[1]) for line in text.splitlines() for name in ("commits", "appends")
                if line.startswith(f"tiergate_ledger_{name}_total ")}

    noop_rates, rates, ratios, latencies = [], [], [], []
    before = counted()
    for _ in range(rounds):
        noop_rate, _ = run(noop)
        rate, times = run(record)
        noop_rates.append(noop_rate)
        rates.append(rate)
        ratios.append(rate / noop_rate)
        latencies += times
    after = counted()
    latencies.sort()
    commits = after["commits"] - before["commits"]
    return {"rate": statistics.median(rates), "noop_rate": statistics.median(noop_rates),
            "ratio": statistics.median(ratios), "ratios": ratios,
            "p50": latencies[len(latencies) // 2], "p99": latencies[int(len(latencies) * 0.99) - 1],
            "per_commit": (after["appends"] - before["appends"]) / commits if commits else 0.0}


def postgres_ledger() -> tuple[str, object] | None:
    try:
        import psycopg
    except ImportError:
        return None
    admin_url = os.environ.get("TIERGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.Error:
        return None
    name = f"tiergate_bench_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}")), (admin, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    backends = [("SQLite", str(Path(tempfile.mkdtemp()) / "ledger.db"), None)]
    if not args.no_postgres:
        found = postgres_ledger()
        if found is not None:
            backends.append(("PostgreSQL", found[0], found[1]))
        else:
            print("PostgreSQL: not reachable, left out")
    for label, ledger, cleanup in backends:
        token = prepare(ledger)
        proc, url = serve(ledger)
        try:
            one = part1(ledger, url, token, args.checks)
            flag = "ok" if one["ratio"] <= CHECK_TARGET else "MISSED"
            print(f"{label}: POST /v1/check median {one['served'] * 1000:.1f} ms; in-process check "
                  f"{one['inproc'] * 1000:.1f} ms + GET /v1/policy {one['noop'] * 1000:.1f} ms; "
                  f"ratio {one['ratio']:.2f} (target <= {CHECK_TARGET}: {flag})")
            two = part2(url, token, args.clients, args.per_client, args.rounds)
            flag = "ok" if two["ratio"] >= RECORD_TARGET else "MISSED"
            print(f"{label}: {args.clients} clients recording {two['rate']:.0f} events/s (p50 {two['p50'] * 1000:.1f} "
                  f"ms, p99 {two['p99'] * 1000:.1f} ms); GET /v1/policy {two['noop_rate']:.0f}/s; median ratio "
                  f"{two['ratio']:.2f} (target >= {RECORD_TARGET}: {flag}; rounds "
                  f"{', '.join(f'{r:.2f}' for r in two['ratios'])}); {two['per_commit']:.1f} events per commit")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            if cleanup is not None:
                admin, name = cleanup
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
