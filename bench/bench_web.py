"""How fast the web registry's inventory page is, against `status --format json` on the same ledger in the same run.

Generates a ledger of N use cases (one version each, N x 100 events by default: bench_ledger.py's generator, imported
through the library), then alternately, `--runs` times:

* the baseline: what `tiergate status --format json` does in-process (app.registry.status, every version judged
  now, rendered as JSON);
* the page: `GET /` of the web registry with a signed-in session, through Starlette's in-process client (the
  session authenticated, the registry judged, filtered, sorted, counted, one page of 100 rows rendered).

Target: the page's median at most 2x the baseline's. Also the page filtered to versions needing attention and the
tenth page, which do the same work.

    python bench/bench_web.py                   # 10,000 use cases, 5 runs
    python bench/bench_web.py --use-cases 2000 --runs 3
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
TARGET = 2.0


def build(folder: Path, use_cases: int, policy) -> Path:
    from bench_ledger import generate

    from tiergate.ledger.importing import import_file
    from tiergate.ledger.service import Ledger

    events = folder / "events.jsonl"
    generate(events, use_cases * 100, use_cases, policy)
    ledger = folder / "ledger.db"
    with Ledger(ledger) as opened:
        import_file(opened, policy, None, events.read_bytes(), str(events), {})
    return ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--use-cases", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

    from tiergate.app.registry import status
    from tiergate.language.load import load_policy
    from tiergate.ledger.service import Ledger
    from tiergate.reports import render
    from tiergate.server import Settings, create_app

    print(f"load average at the start: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    policy = load_policy(ROOT / "policies" / "mlops-default.policy")
    folder = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    ledger = build(folder, args.use_cases, policy)
    print(f"ledger of {args.use_cases:,} use cases built in {time.perf_counter() - started:.0f} s")
    token = subprocess.run([sys.executable, "-m", "tiergate", "token", "create", "rita", "--ledger", str(ledger),
                            "--actor", "rita"], capture_output=True, text=True, check=True).stdout.strip()

    def baseline() -> float:
        start = time.perf_counter()
        with Ledger(ledger, create=False) as opened:
            render(status(opened, policy, None), "json")
        return time.perf_counter() - start

    last = f"GET /?page={max(1, min(10, args.use_cases // 100))}"
    timings: dict[str, list[float]] = {"status --format json": [], "GET /": [], "GET /?attention=1": [], last: []}
    with TestClient(create_app(Settings(str(ledger), str(ROOT / "policies" / "mlops-default.policy"))),
                    base_url="http://testserver") as client:
        form = client.get("/sign-in").text
        nonce = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        client.post("/sign-in", data={"csrf": nonce, "token": token})

        def page(query: str) -> float:
            start = time.perf_counter()
            response = client.get("/" + query)
            elapsed = time.perf_counter() - start
            assert response.status_code == 200 and "<tbody>" in response.text, re.sub(r"<[^>]+>", " ", response.text)[-600:]
            return elapsed

        for _ in range(args.runs):
            timings["status --format json"].append(baseline())
            timings["GET /"].append(page(""))
            timings["GET /?attention=1"].append(page("?attention=1"))
            timings[last].append(page(last[5:]))
    base = statistics.median(timings["status --format json"])
    for label, values in timings.items():
        median = statistics.median(values)
        ratio = median / base
        flag = "" if label.startswith("status") else f"; ratio {ratio:.2f} (target <= {TARGET}: " \
                                                     f"{'ok' if ratio <= TARGET else 'MISSED'})"
        print(f"{label}: median {median:.2f} s (runs {', '.join(f'{v:.2f}' for v in values)}){flag}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
