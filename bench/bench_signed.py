"""What checking signatures costs `audit verify`: 100,000 events of which half are signed, against the same events
unsigned, in the same run.

bench_ledger.py's generator writes the events (a roster, then per use case its registration, evidence, sign-offs,
transitions, monitoring and reviews). Its roster gains public keys for three people (dana, rita and paula, one
Ed25519 key each), in both ledgers. The signed file is the same events with half of them signed: an event of a type
a person signs (evidence, signoff, monitoring, review), by one of those three, gets its DSSE envelope (its in-toto
statement signed with inputs/dsse.py, as `--sign` makes it) while fewer than half of the events so far are signed.
Each file is imported through the library into a ledger of its own (the import checks every signature), then
`audit verify` (`Ledger.verify`) runs on each, alternately, three times (`--runs N`). The report: the medians,
events/s, CPU time per event (this process and its
workers), signed / unsigned (target >= 0.3), and the 1-minute load average at the start and at the end.

A third ledger is the daily audit with a signed checkpoint (docs/signing.md): the signed events but the last 1%
(`--after`), a checkpoint signed by dana (`audit checkpoint`, which checks every signature first), then the last 1%;
`audit verify --checkpoint` (app/checkpoints.py `verify_against`: the checkpoint's signature, the whole chain, the
signatures after it) runs alternately with the other two.

    python bench/bench_signed.py                    # 100,000 events, half signed
    python bench/bench_signed.py --events 20000     # quick
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ledger import POLICY, cpu_seconds, generate, spread  # noqa: E402 (after the path)

from tiergate.inputs.dsse import public_key_of, sign_statement, statement_for  # noqa: E402
from tiergate.ledger.importing import import_file  # noqa: E402
from tiergate.ledger.service import Ledger  # noqa: E402
from tiergate.language.load import load_policy  # noqa: E402

TARGET = 0.3  # signed verify / unsigned verify, events/s
SIGNERS = ("dana", "rita", "paula")
SIGNABLE = ("evidence", "signoff", "monitoring", "review")


def private_keys() -> dict:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return {p: Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"bench key of {p}".encode()).digest())
            for p in SIGNERS}


def with_keys(lines: list[bytes], keys: dict) -> list[bytes]:
    """The events with the roster (the first line) giving each signer their public key."""
    roster = json.loads(lines[0])
    assert roster["type"] == "roster"
    roster["keys"] = {p: [{"id": public_key_of(k).id, "ed25519": public_key_of(k).ed25519}] for p, k in keys.items()}
    return [json.dumps(roster, separators=(",", ":")).encode()] + lines[1:]


def signed_half(lines: list[bytes], keys: dict) -> tuple[list[bytes], int]:
    """The same events, half of them signed by their actor's key (see the module's docstring); (lines, signed)."""
    out, signed = [], 0
    for i, line in enumerate(lines):
        body = json.loads(line)
        if body["type"] in SIGNABLE and body["actor"] in keys and signed < (i + 1) / 2:
            envelope = sign_statement(statement_for(body), keys[body["actor"]])
            line = json.dumps({**body, "envelope": envelope.as_dict()}, separators=(",", ":")).encode()
            signed += 1
        out.append(line)
    return out, signed


def checkpointed(folder: Path, signed: list[bytes], policy, keys: dict, after: float, ledgers: dict) -> Path:
    """The signed events but the last `after` share imported, a checkpoint by dana, then the rest: the ledger (in
    `ledgers["checkpoint"]`) and the checkpoint's file."""
    from tiergate.app.checkpoints import latest, make_with
    from tiergate.ledger.checkpoints import file_text

    cut = len(signed) - max(1, int(len(signed) * after))
    ledgers["checkpoint"] = folder / "checkpoint.db"
    kept = folder / "checkpoint.json"
    with Ledger(ledgers["checkpoint"]) as ledger:
        t = time.perf_counter()
        import_file(ledger, policy, None, b"\n".join(signed[:cut]) + b"\n", "before.jsonl", {})
        made = make_with(ledger, keys["dana"])
        assert made.seq is not None, made.verification.problem
        kept.write_text(file_text(latest(ledger)))
        import_file(ledger, policy, None, b"\n".join(signed[cut:]) + b"\n", "after.jsonl", {})
        print(f"checkpointed: {cut:,} events, a checkpoint, {len(signed) - cut:,} more, in "
              f"{time.perf_counter() - t:.1f} s")
    return kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--after", type=float, default=0.01, help="the share of events after the checkpoint")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    policy = load_policy(POLICY)
    keys = private_keys()
    with tempfile.TemporaryDirectory(prefix="tiergate-bench-signed-") as folder:
        folder = Path(folder)
        source = folder / "events.jsonl"
        generate(source, args.events, max(1, args.events // 100), policy)
        plain = with_keys([line for line in source.read_bytes().split(b"\n") if line], keys)
        t = time.perf_counter()
        signed, count = signed_half(plain, keys)
        print(f"{len(plain):,} events; {count:,} signed ({count / len(plain):.0%}) in {time.perf_counter() - t:.1f} s")
        ledgers = {}
        for name, lines in (("unsigned", plain), ("signed", signed)):
            data = b"\n".join(lines) + b"\n"
            ledgers[name] = folder / f"{name}.db"
            with Ledger(ledgers[name]) as ledger:
                t = time.perf_counter()
                done = import_file(ledger, policy, None, data, f"{name}.jsonl", {})
                print(f"imported {name}: {done.count:,} events in {time.perf_counter() - t:.1f} s "
                      f"({ledgers[name].stat().st_size / 1e6:.0f} MB)")
        kept = checkpointed(folder, signed, policy, keys, args.after, ledgers)
        rates: dict[str, list[float]] = {"unsigned": [], "signed": [], "checkpoint": []}
        cpu: dict[str, list[float]] = {name: [] for name in rates}  # µs per event, this process and its workers
        for _ in range(args.runs):  # alternately, so that all see the same load
            for name in rates:
                with Ledger(ledgers[name], create=False, readonly=True) as ledger:
                    t, used = time.perf_counter(), cpu_seconds()
                    if name == "checkpoint":
                        from tiergate.app.checkpoints import verify_against

                        against = verify_against(ledger, str(kept))
                        assert against.problem is None, against.problem
                        verified = against.verification
                    else:
                        verified = ledger.verify()
                    seconds = time.perf_counter() - t
                assert verified.ok, verified.problem
                rates[name].append(verified.count / seconds)
                cpu[name].append((cpu_seconds() - used) / verified.count * 1e6)
    ratios = [s / u for s, u in zip(rates["signed"], rates["unsigned"])]
    ratio = median(rates["signed"]) / median(rates["unsigned"])
    kept_ratios = [s / u for s, u in zip(rates["checkpoint"], rates["unsigned"])]
    kept_ratio = median(rates["checkpoint"]) / median(rates["unsigned"])
    print(f"\naudit verify of {len(plain):,} events (load average {load_start:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end; {os.cpu_count()} CPUs)")
    for name, values in rates.items():
        print(f"  {name:<9} {median(values):>10,.0f} events/s, {len(plain) / median(values):.2f} s "
              f"({spread(values)}runs {', '.join(f'{v:,.0f}' for v in values)}; CPU {median(cpu[name]):.1f} µs per "
              "event)")
    print(f"  CPU time, unsigned / signed: {median(cpu['unsigned']) / median(cpu['signed']):.2f}")
    print(f"  signed / unsigned: {ratio:.2f} (run by run {', '.join(f'{r:.2f}' for r in ratios)})  "
          f"{'ok' if ratio >= TARGET else 'MISSED'} (target >= {TARGET}; every signature checked)")
    print(f"  signed with a checkpoint {args.after:.0%} back / unsigned: {kept_ratio:.2f} (run by run "
          f"{', '.join(f'{r:.2f}' for r in kept_ratios)})  {'ok' if kept_ratio >= TARGET else 'MISSED'} "
          f"(target >= {TARGET}; signatures after the checkpoint checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
