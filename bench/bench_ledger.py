"""How fast the governance ledger is: import, status, audit verify, one-by-one appends, and memory.

Generates an events file (JSON Lines) of N events over N/100 use cases under the default pack:
a roster record first, then per use case a `registered` event with its answers embedded (four
answer templates, one per tier), the evidence, sign-offs and transitions each gate of its tier
asks for (signed by people holding the roles, never the author), then monitoring results and
reviews. Every event is one the ledger accepts.

Then, on a fresh ledger in a temporary folder:

* import the file through the library (`tiergate.ledger.importing.import_file`, what `tiergate import`
  runs), whole, in one transaction, prepared on every core. Target: at least 50,000 events/s. Beside each
  import, the *floor*: the least any import of the file does (read each line, write it as canonical JSON,
  chain its hash, insert the rows), as a plain loop in one process with no checks; the report gives the
  ratio of the two, which moves much less than either with what else the machine runs. Beside it too,
  the import's *serial part* alone: what its main process does with runs prepared beforehand (the most
  any number of cores could give). Then the same events imported in time order (the use cases
  interleaved, as a history exported from another system holds them).
* `status` through the library (every use case and version judged at a fixed time). Target: < 3 s.
* `audit verify` through the library (`Ledger.verify`). Target: at least 200,000 events/s. Beside each,
  its floor: each row's body and hashes read in order and its SHA-256 recomputed, in a plain loop in one
  process (no columns, no index, no JSON), and the ratio.
* with `--postgres [URL]`: beside each import into SQLite, the same import into a new PostgreSQL ledger (a
  database of its own on the server at URL, dropped afterwards; default $TIERGATE_TEST_POSTGRES, else
  postgresql://postgres@127.0.0.1:5432/postgres). Target: at least half SQLite's rate, run by run.
* 1,000 evidence events appended one by one through the library (`tiergate.ledger.actions.record`),
  each validated and committed on its own; reports events/s.
* peak RSS of `tiergate status` run in a child process (`RUSAGE_CHILDREN` of a wrapper process).

Import, status and verify run three times each (`--runs N`; each import into a new ledger): the report
gives the median and the range. Import and verify also report their CPU time per event (this process
and its workers), and the report the load average when the run began: on a shared machine the wall clock moves with what else runs,
the CPU time much less.

    python bench/bench_ledger.py --events 100000            # quick
    python bench/bench_ledger.py                            # 1,000,000 events over 10,000 use cases
    python bench/bench_ledger.py --events 100000 --profile  # cProfile of import, status and verify
    python bench/bench_ledger.py --events 100000 --phases   # import and status timed phase by phase
    python bench/bench_ledger.py --keep DIR                 # keep the events file and ledger in DIR
    python bench/bench_ledger.py --events 200000 --postgres # import into PostgreSQL too, against SQLite
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tiergate.language.load import load_policy
from tiergate.inputs.events import _records, format_time, load_roster
from tiergate.ledger.actions import record
from tiergate.ledger.importing import import_file
from tiergate.ledger.parallel import cores
from tiergate.ledger.registry import status
from tiergate.ledger.service import Ledger
from tiergate.language.gcpause import allow_pauses, paused_gc
from tiergate.inputs.yamlsource import load_yaml

IMPORT_TARGET = 50_000  # events/s
POSTGRES_TARGET = 0.5  # an import into PostgreSQL / the same import into SQLite
STATUS_TARGET_S = 3.0
VERIFY_TARGET = 200_000  # events/s
APPENDS = 1_000

POLICY = ROOT / "policies" / "mlops-default.policy"
ROSTER = ROOT / "examples" / "roster.yaml"
USE_CASES = ROOT / "examples" / "use-cases"
#: one answers template per tier of the default pack
TEMPLATES = ["adhoc-analysis", "churn-dashboard", "predictive-maintenance", "card-fraud-scoring"]
AUTHORS = ["dana", "sam"]
#: role -> people holding it in examples/roster.yaml (sign-offs take them in order)
SIGNERS = {"business_stakeholder": ["bea"], "risk_audit": ["rita", "raj"], "data_ops": ["otto"],
           "production": ["paula"], "data_scientist": ["dana", "sam"], "citizen_ds": ["sam"], "architect": ["ari"]}
PATH = ["ideation", "development", "preproduction", "deployment"]
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def metrics_for(kind: str) -> dict:
    """Metrics that satisfy every condition of the default pack (disparate_impact >= 0.8, psi < 0.2)."""
    return {"psi": 0.05, "disparate_impact": 0.9, "score": 0.87, "rows": 120_000, "kind_check": kind[:8]}


def generate(path: Path, events: int, use_cases: int, policy) -> int:
    """Write the events file; returns how many events it holds."""
    roster = load_yaml(ROSTER.read_bytes(), str(ROSTER)).data
    templates = [load_yaml((USE_CASES / f"{name}.yaml").read_bytes(), name).data for name in TEMPLATES]
    per_case = max(12, events // use_cases)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        def emit(body: dict) -> None:
            nonlocal written
            out.write(json.dumps(body, separators=(",", ":")) + "\n")
            written += 1

        emit({"at": format_time(START - timedelta(days=1)), "type": "roster", "use_case": "-", "version": "-",
              "actor": "admin", "people": roster["people"]})
        for n in range(use_cases):
            if written >= events:
                break
            budget = min(per_case, events - written)
            template = templates[n % len(templates)]
            use_case = f"uc-{n:06d}"
            answers = dict(template, use_case=use_case, title=f"Use case {n}", owner=f"team-{n % 50}")
            tier = policy.tier(_tier_of(policy, answers))
            author = AUTHORS[n % 2]
            clock = [START + timedelta(minutes=n)]

            def base(kind: str, actor: str) -> dict:
                clock[0] += timedelta(hours=1)
                return {"at": format_time(clock[0]), "type": kind, "use_case": use_case, "version": "1", "actor": actor}

            count = 0
            emit(dict(base("registered", author), answers=answers, artifact=f"s3://models/{use_case}/1/model.bin"))
            count += 1
            for stage in PATH:
                mode = None
                for req in tier.gate(stage):
                    if req.kind == "evidence":
                        body = dict(base("evidence", author), kind=req.subject, metrics=metrics_for(req.subject))
                        if req.for_names:
                            body["attributes"] = {a: {"disparate_impact": 0.9}
                                                  for a in answers["answers"].get("protected_attributes", [])}
                        emit(body)
                        count += 1
                    elif req.kind == "signoff":
                        for role in req.roles:
                            for person in SIGNERS[role][: req.count]:
                                emit(dict(base("signoff", person), role=role, gate=stage, decision="approve"))
                                count += 1
                    elif req.kind == "deployment":
                        mode = req.modes[0]
                body = dict(base("transition", author), to=stage)
                if stage == "deployment":
                    body["mode"] = mode or "full"
                emit(body)
                count += 1
            obligations = [r for r in tier.obligations()] or [None]
            i = 0
            while count < budget:
                req = obligations[i % len(obligations)]
                i += 1
                if req is None or req.kind == "monitoring":
                    kind = req.subject if req is not None else "infrastructure_alerts"
                    emit(dict(base("monitoring", "paula"), kind=kind, metrics={"psi": 0.04, "alerts": 0}))
                else:
                    role = req.roles[0]
                    emit(dict(base("review", SIGNERS[role][0]), role=role, decision="approve"))
                count += 1
    return written


_tiers: dict[str, str] = {}


def _tier_of(policy, answers: dict) -> str:
    from tiergate.decide.classify import classify

    key = json.dumps(answers["answers"], sort_keys=True)
    if key not in _tiers:
        _tiers[key] = classify(policy, answers).tier
    return _tiers[key]


def rss_of_status(ledger: Path, at: str) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of `python -m tiergate status` in a child of a fresh wrapper process."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "tiergate", "status", "--ledger",
                          str(ledger), "--at", at, "--format", "json"], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    seconds, rss, code = out.stdout.split()
    if code != "0":
        raise SystemExit(f"tiergate status exited {code}")
    return float(seconds), int(rss)


def profiled(label: str, enabled: bool, func, *args):
    if not enabled:
        return func(*args)
    profile = cProfile.Profile()
    result = profile.runcall(func, *args)
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    print(f"--- profile of {label} ---\n{text.getvalue()}")
    return result


def spread(values, spec: str = ",.0f") -> str:
    """`median of N runs, low–high; ` to put before what follows a median, or nothing for one run."""
    values = sorted(values)
    return f"median of {len(values)} runs, {values[0]:{spec}}–{values[-1]:{spec}}; " if len(values) > 1 else ""


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the import's and verify's workers): unlike the
    wall clock, it does not grow when other processes share the machine."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def floor(data: bytes, path: Path) -> tuple[float, float]:
    """The least any import of these events does, as a plain loop in one process: read each line (orjson), write
    it as canonical JSON (orjson, sorted keys), chain its SHA-256 and insert the rows into a table of the ledger's
    layout (its events table and index, in WAL mode, fully synchronous), in one transaction. No checks of any kind
    and no standing index. (events/s, CPU µs per event): what this machine gives, now, for the floor of the work."""
    import hashlib
    import sqlite3

    import orjson

    from tiergate.ledger.store.sqlite import MIGRATIONS

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    insert = "INSERT INTO events (seq, at, type, use_case, version, actor, body, prev_hash, hash, recorded_at) " \
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    t, cpu = time.perf_counter(), cpu_seconds()
    db.execute("BEGIN IMMEDIATE")
    previous, rows, now, count = "0" * 64, [], datetime.now(timezone.utc).isoformat(), 0
    for line in data.split(b"\n"):
        if not line:
            continue
        body = orjson.loads(line)
        text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
        digest = hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()
        count += 1
        rows.append((count, body["at"], body["type"], body["use_case"], body["version"], body["actor"], text, previous,
                     digest, now))
        previous = digest
        if len(rows) == 4_000:
            db.executemany(insert, rows)
            rows = []
    db.executemany(insert, rows)
    db.execute("COMMIT")
    db.close()
    return count / (time.perf_counter() - t), (cpu_seconds() - cpu) / count * 1e6


def postgres_import(admin_url: str, data: bytes, policy, file: str) -> tuple[float, float]:
    """The import of `data` into a new PostgreSQL ledger, in a database made for it on the server `admin_url` and
    dropped afterwards, through the library as `tiergate import --ledger postgresql://…` runs it. (events/s, CPU µs
    per event of this process and its workers; the server's own CPU is not counted)."""
    import psycopg

    from urllib.parse import urlsplit, urlunsplit

    name = f"tiergate_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" ENCODING UTF8 TEMPLATE template0')
        try:
            url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
            with Ledger(url) as ledger:
                t, cpu = time.perf_counter(), cpu_seconds()
                done = import_file(ledger, policy, None, data, file, {})
                return done.count / (time.perf_counter() - t), (cpu_seconds() - cpu) / done.count * 1e6
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def in_time_order(data: bytes) -> bytes:
    """The same events as a history exported from another system would hold them: in time order (equal times in
    the file's order), the use cases interleaved. (Every time the generator writes is UTC, so text order is time
    order.)"""
    import orjson

    lines = [line for line in data.split(b"\n") if line]
    times = [orjson.loads(line)["at"] for line in lines]
    return b"\n".join(lines[i] for i in sorted(range(len(lines)), key=times.__getitem__)) + b"\n"


def serial_part(data: bytes, path: Path, policy, file: str) -> float:
    """The import's serial part alone: what its main process does with each run the workers prepared (unpack it,
    validate each event against the policy and the ledger, chain, insert, and commit at the end), over runs
    prepared beforehand on every core (untimed). Events/s: the most the import could give on this machine with
    any number of cores, since the main process works through the runs one after another."""
    import marshal

    from tiergate.ledger import parallel
    from tiergate.ledger.importing import _prepare_run, _runs, _store

    with paused_gc():
        packed = list(parallel.streamed(_prepare_run, _runs(data), (data, file, policy, {}), cores()))
        with Ledger(path) as ledger:
            t = time.perf_counter()
            done = _store(ledger, policy, None, (marshal.loads(p) for p in packed), file, None)
            return done.count / (time.perf_counter() - t)


def verify_floor(path: Path) -> float:
    """The least any check of the chain does, as a plain loop in one process: read each row's body and hashes in
    order and recompute its SHA-256 (no columns, no index, no JSON). Events/s."""
    import hashlib
    import sqlite3

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    t, previous, count = time.perf_counter(), "0" * 64, 0
    for body, prev_hash, stored in db.execute("SELECT CAST(body AS BLOB), prev_hash, hash FROM events ORDER BY seq"):
        digest = hashlib.sha256(f"{previous}\n".encode())
        digest.update(body)
        if prev_hash != previous or digest.hexdigest() != stored:
            raise AssertionError("the chain is broken")
        previous, count = stored, count + 1
    db.close()
    return count / (time.perf_counter() - t)


def phases(events_file: Path, folder: Path, policy, at_text: str) -> None:
    """Where the time of an import and of a status goes, phase by phase, timed without a profiler."""
    from tiergate.errors import Location
    from tiergate.inputs.events import EVENT_TYPES, parse_time
    from tiergate.ledger.importing import check_records
    from tiergate.ledger.chain import canonical
    from tiergate.ledger.service import body_event, event_log, stored_row

    path = folder / "phases.db"
    for stale in folder.glob("phases.db*"):
        stale.unlink()
    timings: list[tuple[str, float]] = []

    def timed(label, func, *args):
        t = time.perf_counter()
        result = func(*args)
        timings.append((label, time.perf_counter() - t))
        return result

    with paused_gc(), Ledger(path) as ledger:
        records = timed("parse the JSON Lines (tiergate.inputs.events._records)", _records, events_file.read_bytes(),
                        str(events_file))
        checked = timed("schema and time checks (importing.check_records)", check_records, records, str(events_file))
        texts = timed("canonical JSON of every body (chain.canonical)", lambda: [canonical(b) for b, _, _ in checked])
        validator = ledger.validator(policy, None, preload=True)  # as an import does

        def validate():
            for (body, line, _), text in zip(checked, texts):
                validator.learn(body, validator.check(body, Location("x", line), text))

        timed("validation against policy, roster, ledger (Validator)", validate)
        rows = [stored_row(b, t, instant) for (b, _, instant), t in zip(checked, texts)]
        timed("chain hashes, INSERT and COMMIT (Ledger.append_runs)", ledger.append_runs, [rows])
        n = len(rows)
        records = checked = texts = rows = validator = None  # let the memory go
    total = sum(t for _, t in timings)
    print(f"\nimport, {n:,} events, phase by phase in one process ({total:.1f} s, {n / total:,.0f} events/s):")
    for label, seconds in timings:
        print(f"  {label:<56} {seconds:6.2f} s  {seconds / total:5.1%}  {seconds / n * 1e6:5.1f} us/event")

    import json as _json

    from tiergate.decide.check import check

    timings.clear()
    at = parse_time(at_text)
    with paused_gc(), Ledger(path, create=False, readonly=True) as ledger:
        people = ledger.roster()
        read = parse = build = judge = 0.0
        use_cases = 0
        t0 = time.perf_counter()
        for use_case, group in groupby(ledger.store.standing(), key=itemgetter(0)):
            if use_case == "-":  # (the roster)
                continue
            use_cases += 1
            stored = sorted((seq, body) for _, seq, body in group)
            t1 = time.perf_counter()
            parsed = [(seq, _json.loads(body)) for seq, body in stored]
            t2 = time.perf_counter()
            events = event_log(body_event(b, seq) for seq, b in parsed if b["type"] in EVENT_TYPES)
            t3 = time.perf_counter()
            for _, b in parsed:
                if b["type"] == "registered":
                    from tiergate.ledger.actions import answers_of

                    check(policy, answers_of(b), events, people, version=b["version"], at=at, replay=True,
                          to="monitoring")
            t4 = time.perf_counter()
            read, parse, build, judge = read + t1 - t0, parse + t2 - t1, build + t3 - t2, judge + t4 - t3
            t0 = time.perf_counter()
    total = read + parse + build + judge
    print(f"\nstatus, {use_cases:,} use cases, phase by phase ({total:.1f} s):")
    for label, seconds in (("read the standing rows (SQLite, one query)", read),
                           ("json.loads of every body", parse),
                           ("Event objects, sorted by time (service.body_event)", build),
                           ("tiergate.decide.check.check, one per version (replay + next gate)", judge)):
        print(f"  {label:<56} {seconds:6.2f} s  {seconds / total:5.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--use-cases", type=int, default=None, help="default: events / 100")
    parser.add_argument("--profile", action="store_true", help="print cProfile output of import, status, verify")
    parser.add_argument("--keep", type=Path, help="write the events file and the ledger here and keep them")
    parser.add_argument("--no-rss", action="store_true", help="skip the child-process status run")
    parser.add_argument("--phases", action="store_true", help="also time import and status phase by phase")
    parser.add_argument("--runs", type=int, default=3, help="runs of import, status and verify (medians reported)")
    parser.add_argument("--postgres", nargs="?", metavar="URL", help="also import into PostgreSQL, on the server at "
                        "URL (default $TIERGATE_TEST_POSTGRES, else postgresql://postgres@127.0.0.1:5432/postgres)",
                        const=os.environ.get("TIERGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    use_cases = args.use_cases or max(1, args.events // 100)
    allow_pauses()  # as the command line does: the library may pause the garbage collector for its bulk work

    policy = load_policy(POLICY)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="tiergate-bench-ledger-"))
    folder.mkdir(parents=True, exist_ok=True)
    events_file, ledger_file = folder / "events.jsonl", folder / "ledger.db"
    for stale in folder.glob("ledger.db*"):
        stale.unlink()
    results = []

    load = os.getloadavg()[0]  # what else the machine was doing: the figures move with it
    t = time.perf_counter()
    total = generate(events_file, args.events, use_cases, policy)
    print(f"generated {total:,} events over {use_cases:,} use cases in {time.perf_counter() - t:.1f} s "
          f"({events_file.stat().st_size / 1e6:.0f} MB)")

    # import: read the file and import it whole, through the library, as `tiergate import` does; each run
    # into a new ledger (the last one is kept for the rest)
    data = events_file.read_bytes()
    runs, floors, serials, on_postgres = [], [], [], []
    for _ in range(args.runs):
        for stale in folder.glob("ledger.db*"):
            stale.unlink()
        with Ledger(ledger_file) as ledger:
            t, cpu = time.perf_counter(), cpu_seconds()
            done = profiled("import", args.profile, import_file, ledger, policy, None, data, str(events_file), {})
            runs.append((done.count / (time.perf_counter() - t), (cpu_seconds() - cpu) / done.count * 1e6))
        # the floor and the serial part beside each import, under the same load
        floors.append(floor(data, folder / "floor.db"))
        serials.append(serial_part(data, folder / "serial.db", policy, str(events_file)))
        if args.postgres:
            on_postgres.append(postgres_import(args.postgres, data, policy, str(events_file)))
        for leftover in [*folder.glob("floor.db*"), *folder.glob("serial.db*")]:
            leftover.unlink()
    # the same events in time order, as a history exported elsewhere holds them: each run into a new ledger
    by_time, in_order = in_time_order(data), []
    data = None
    for _ in range(args.runs):
        for stale in folder.glob("by-time.db*"):
            stale.unlink()
        with Ledger(folder / "by-time.db") as ledger:
            t, cpu = time.perf_counter(), cpu_seconds()
            done = import_file(ledger, policy, None, by_time, str(events_file), {})
            in_order.append((done.count / (time.perf_counter() - t), (cpu_seconds() - cpu) / done.count * 1e6))
    for leftover in folder.glob("by-time.db*"):
        leftover.unlink()
    by_time = None
    rate, cpu = median(r for r, _ in runs), median(c for _, c in runs)
    results.append(("import", f"{rate:,.0f} events/s ({spread(r for r, _ in runs)}on {cores()} cores; CPU "
                    f"{cpu:.1f} µs per event)", rate >= IMPORT_TARGET, f">= {IMPORT_TARGET:,} events/s"))
    floor_rate = median(r for r, _ in floors)
    results.append(("floor: read, write, hash, insert", f"{floor_rate:,.0f} events/s ({spread(r for r, _ in floors)}"
                    f"one process, no checks; CPU {median(c for _, c in floors):.1f} µs per event); import / floor: "
                    f"median {median(r / f for (r, _), (f, _) in zip(runs, floors)):.2f}", None, ""))
    results.append(("its serial part alone", f"{median(serials):,.0f} events/s ({spread(serials)}the main process's "
                    f"work over runs prepared beforehand: the most any number of cores could give); import / "
                    f"serial part: median {median(r / p for (r, _), p in zip(runs, serials)):.2f}", None, ""))
    if on_postgres:
        ratios = [p / r for (p, _), (r, _) in zip(on_postgres, runs)]
        results.append(("import into PostgreSQL", f"{median(p for p, _ in on_postgres):,.0f} events/s "
                        f"({spread(p for p, _ in on_postgres)}CPU here {median(c for _, c in on_postgres):.1f} µs per "
                        f"event; the server's not counted); PostgreSQL / SQLite, run by run: "
                        f"{', '.join(f'{r:.2f}' for r in ratios)} (median {median(ratios):.2f})",
                        median(ratios) >= POSTGRES_TARGET, f">= {POSTGRES_TARGET} of SQLite's"))
    in_order_rate = median(r for r, _ in in_order)
    results.append(("import, events in time order", f"{in_order_rate:,.0f} events/s ({spread(r for r, _ in in_order)}"
                    f"the use cases interleaved; CPU {median(c for _, c in in_order):.1f} µs per event)",
                    in_order_rate >= IMPORT_TARGET, f">= {IMPORT_TARGET:,} events/s"))
    print(f"ledger file {ledger_file.stat().st_size / 1e6:.0f} MB")

    at_text = "2026-12-31T00:00:00Z"
    from tiergate.inputs.events import parse_time

    with Ledger(ledger_file, create=False, readonly=True) as ledger:
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            table = profiled("status", args.profile, status, ledger, policy, None, parse_time(at_text))
            times.append(time.perf_counter() - t)
        seconds = median(times)
        results.append(("status (library)", f"{seconds:.2f} s ({spread(times, '.2f')}{len(table):,} versions)",
                        seconds < STATUS_TARGET_S, f"< {STATUS_TARGET_S:g} s"))
        runs, floors = [], []
        for _ in range(args.runs):
            t, cpu = time.perf_counter(), cpu_seconds()
            verified = profiled("verify", args.profile, ledger.verify)
            assert verified.ok, verified.problem
            runs.append((verified.count / (time.perf_counter() - t), (cpu_seconds() - cpu) / verified.count * 1e6))
            floors.append(verify_floor(ledger_file))  # beside each verify, under the same load
        rate, cpu = median(r for r, _ in runs), median(c for _, c in runs)
        results.append(("audit verify", f"{rate:,.0f} events/s ({spread(r for r, _ in runs)}CPU {cpu:.1f} µs per "
                        "event)", rate >= VERIFY_TARGET, f">= {VERIFY_TARGET:,} events/s"))
        results.append(("floor: read and hash the chain", f"{median(floors):,.0f} events/s ({spread(floors)}one "
                        f"process); audit verify / floor: median {median(r / f for (r, _), f in zip(runs, floors)):.2f}",
                        None, ""))

    roster = load_roster(ROSTER)
    with Ledger(ledger_file) as ledger:
        t = time.perf_counter()
        for i in range(APPENDS):
            use_case = f"uc-{(i * 7919) % use_cases:06d}"
            record(ledger, policy, roster, {"at": format_time(START + timedelta(days=400, seconds=i)),
                                            "type": "evidence", "use_case": use_case, "version": "1",
                                            "actor": "dana", "kind": "metrics_record", "metrics": {"run": i}})
        seconds = time.perf_counter() - t
    results.append((f"{APPENDS:,} appends one by one", f"{APPENDS / seconds:,.0f} events/s ({seconds:.1f} s)", None,
                    ""))

    if not args.no_rss:
        seconds, rss = rss_of_status(ledger_file, at_text)
        results.append(("tiergate status (child process)", f"{seconds:.2f} s, peak RSS {rss / 1024:,.0f} MiB", None,
                        ""))

    if args.phases:
        phases(events_file, folder, policy, at_text)

    print(f"\n{total:,} events, {use_cases:,} use cases (load average at the start {load:.2f})")
    for name, figure, ok, target in results:
        verdict = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"  {name:<32} {figure}{verdict}{'  (target ' + target + ')' if target else ''}")
    if not args.keep:
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
