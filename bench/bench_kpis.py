"""How fast the governance KPIs are, against `status` on the same ledger in the same run (target: kpis within 1.5x).

The ledger is bench_ledger.py's history (1,000,000 events over 10,000 use cases by default), imported once. Then
`status` and the KPIs (ledger/kpifacts.py and ledger/kpis.py, what app/kpis.py runs) alternate, each `--runs`
times, at the same time and under the same policy; the medians and their ratio are printed.

    python bench/bench_kpis.py                   # 1,000,000 events
    python bench/bench_kpis.py --events 100000 --keep /tmp/kpis   # keep the ledger for another run
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ledger import POLICY, START, generate  # noqa: E402

from tiergate.inputs.events import Roster  # noqa: E402
from tiergate.language.gcpause import allow_pauses  # noqa: E402
from tiergate.language.load import load_policy  # noqa: E402
from tiergate.ledger.importing import import_file  # noqa: E402
from tiergate.ledger.kpifacts import Window, collect  # noqa: E402
from tiergate.ledger.kpis import summarise  # noqa: E402
from tiergate.ledger.registry import status  # noqa: E402
from tiergate.ledger.service import Ledger  # noqa: E402

TARGET = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="the folder of the events file and the ledger (reused when there)")
    args = parser.parse_args()
    allow_pauses()  # as the command line does
    policy = load_policy(POLICY)
    folder = args.keep or Path("/tmp/tiergate-bench-kpis")
    folder.mkdir(parents=True, exist_ok=True)
    ledger_file = folder / f"ledger-{args.events}.db"
    if not ledger_file.exists():
        events_file = folder / f"events-{args.events}.jsonl"
        generate(events_file, args.events, max(1, args.events // 100), policy)
        with Ledger(ledger_file) as ledger:
            t = time.perf_counter()
            done = import_file(ledger, policy, None, events_file.read_bytes(), str(events_file), {})
            print(f"imported {done.count:,} events in {time.perf_counter() - t:.1f} s")
    at = START.replace(month=12, day=1)
    timings: dict[str, list[float]] = {"status": [], "kpis": []}
    with Ledger(ledger_file, create=False, readonly=True) as ledger:
        people = ledger.roster() or Roster({}, "no roster")
        for _ in range(args.runs):
            t = time.perf_counter()
            rows = status(ledger, policy, None, at)
            timings["status"].append(time.perf_counter() - t)
            t = time.perf_counter()
            summary = summarise(policy, *collect(ledger, policy, people, Window(at), None))
            timings["kpis"].append(time.perf_counter() - t)
    assert summary.versions == len(rows)
    ratio = median(timings["kpis"]) / median(timings["status"])
    print(f"{len(rows):,} versions; status {median(timings['status']):.2f} s, kpis {median(timings['kpis']):.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in timings['kpis'])}); kpis / status = {ratio:.2f} "
          f"(target <= {TARGET}: {'met' if ratio <= TARGET else 'missed'})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
