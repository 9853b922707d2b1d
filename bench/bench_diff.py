"""How long `tiergate diff OLD NEW --use-cases DIR --format json` takes on 10,000 use cases.

Writes 10,000 answers files (random but valid answers to the shipped questionnaire, the same ones on
every run) into a temporary folder, then runs the command in a fresh process, as CI would, and prints
the wall-clock time against the 10 s target. OLD is the default pack and NEW its proposed 1.1.0
(tests/golden/authoring/mlops-default-1.1.policy), which moves some use cases up and some down.

    python bench/bench_diff.py                  # 10,000 use cases, 3 runs, the best counts
    python bench/bench_diff.py --count 2000 --runs 1
    python bench/bench_diff.py --profile        # also a cProfile of one run, in process

When the target is missed, the same work is timed step by step to show where the time goes.
Exit 0 when the best run meets the target, 1 when it misses.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OLD = ROOT / "policies" / "mlops-default.policy"
NEW = ROOT / "tests" / "golden" / "authoring" / "mlops-default-1.1.policy"
TARGET_SECONDS = 10.0

LEVELS = ["none", "low", "medium", "high"]
ATTRIBUTES = ["age", "gender", "ethnicity", "religion", "disability", "nationality", "marital_status",
              "sexual_orientation"]


def answers_text(rng: random.Random, index: int) -> str:
    """One answers file, written the way people write them (block YAML, a comment on top)."""
    regions = rng.sample(["eu", "uk", "us", "other"], rng.randint(1, 3))
    attributes = rng.sample(ATTRIBUTES, rng.choice([0, 0, 0, 1, 2]))
    return f"""\
# Generated use case {index} for bench/bench_diff.py.
use_case: use-case-{index:05d}
title: Generated use case {index}
owner: Team {index % 97}
answers:
  regulations:
    sector: {rng.choice(["none", "none", "finance", "insurance", "healthcare", "employment", "public_sector", "other"])}
    regions: [{", ".join(regions)}]
    pii: {str(rng.random() < 0.4).lower()}
  audience: {rng.choice(["public", "internal_many", "internal_few", "self"])}
  availability: {rng.choice(["realtime", "scheduled", "scheduled", "ad_hoc"])}
  impact:
    legal: {rng.choice(LEVELS)}
    financial: {rng.choice(LEVELS)}
    personal: {rng.choice(LEVELS)}
    public_trust: {rng.choice(LEVELS)}
  release_cadence: {rng.choice(["one_off", "quarterly", "monthly", "weekly", "daily", "continuous"])}
  model_lifetime: {rng.choice(["days", "months", "years"])}
  decision_impact_lifetime: {rng.choice(["instant", "days", "months", "years"])}
  quality_decay: {rng.choice(["slow", "moderate", "fast"])}
  explainability: {rng.choice(["none", "helpful", "required"])}
  decisions_about_people: {str(rng.random() < 0.3).lower()}
  protected_attributes: [{", ".join(attributes)}]
"""


def generate(folder: Path, count: int, seed: int = 20260301) -> None:
    rng = random.Random(seed)
    for i in range(count):
        (folder / f"use-case-{i:05d}.yaml").write_text(answers_text(rng, i), encoding="utf-8")


def command(folder: Path) -> list[str]:
    return [sys.executable, "-m", "tiergate", "diff", str(OLD), str(NEW), "--use-cases", str(folder), "--format", "json"]


def run_once(folder: Path) -> tuple[float, float, dict]:
    """Wall-clock and CPU seconds of one run in a fresh process, and its JSON report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command(folder), cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"tiergate diff exited {done.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, json.loads(done.stdout)


def phases(folder: Path) -> None:
    """The same work step by step in this process, in CPU seconds: where the time goes."""
    sys.path.insert(0, str(ROOT))
    from tiergate.language.load import load_policy
    from tiergate.fileio import read_source
    from tiergate.decide.classify import classify
    from tiergate.inputs.answers import _validator, find_answer_files, parse_answers, validate_document
    from tiergate.reports.policydiff import as_json
    from tiergate.authoring.policydiff import diff
    from tiergate.inputs.yamlsource import load_yaml

    def timed(label, work):
        start = time.process_time()
        value = work()
        rows.append((label, time.process_time() - start))
        return value

    rows: list[tuple[str, float]] = []
    old, new = timed("load both policies", lambda: (load_policy(OLD), load_policy(NEW)))
    files = timed("find the answers files", lambda: find_answer_files([folder]))
    data = timed("read them", lambda: [read_source(p) for p in files])
    docs = timed("parse the YAML, with line numbers", lambda: [load_yaml(d, str(p)) for d, p in zip(data, files)])
    timed("validate against the questionnaire (jsonschema)",
          lambda: [validate_document(d, new.questionnaire) for d in docs])
    timed("  of which: the validator's cache key (json.dumps of the whole schema, once per file)",
          lambda: [_validator(new.questionnaire) for _ in docs])
    answers = [parse_answers(d, str(p), new.questionnaire) for d, p in zip(data, files)]
    timed("classify under both policies", lambda: [(classify(old, a), classify(new, a)) for a in answers])
    result = timed("diff (classifies again)", lambda: diff(old, new, answers))
    timed("JSON report", lambda: as_json(result))
    print("where the time goes (CPU seconds, in process):")
    for label, seconds in rows:
        print(f"  {seconds:6.2f}  {label}")


def profile(folder: Path, top: int = 25) -> None:
    """The same diff in this process under cProfile: where the time goes."""
    import cProfile
    import io
    import pstats

    from tiergate.cli import main

    profiler = cProfile.Profile()
    sink = io.StringIO()
    stdout, sys.stdout = sys.stdout, sink
    try:
        profiler.enable()
        try:
            main.main(["diff", str(OLD), str(NEW), "--use-cases", str(folder), "--format", "json"],
                      standalone_mode=False)
        except SystemExit:
            pass
        profiler.disable()
    finally:
        sys.stdout = stdout
    stats = pstats.Stats(profiler)
    print(f"\nwhere the time goes (cumulative, top {top}):")
    stats.sort_stats("cumulative").print_stats(top)
    print(f"own time (top {top}):")
    stats.sort_stats("tottime").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="how many use cases (default 10000)")
    parser.add_argument("--runs", type=int, default=3, help="how many timed runs; the best counts (default 3)")
    parser.add_argument("--profile", action="store_true", help="also profile one run in process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tiergate-bench-diff-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        generate(folder, args.count)
        print(f"wrote {args.count} answers files in {time.perf_counter() - start:.1f} s")
        runs = [run_once(folder) for _ in range(args.runs)]
        summary = runs[-1][2]["summary"]
        assert summary["use_cases"] == args.count, summary
        best = min(wall for wall, _, _ in runs)
        best_cpu = min(cpu for _, cpu, _ in runs)
        print(f"tiergate diff --use-cases ({args.count} use cases) --format json: "
              + ", ".join(f"{wall:.2f} s ({cpu:.2f} s CPU)" for wall, cpu, _ in runs)
              + f"; best {best:.2f} s ({args.count / best:,.0f} use cases/s); target < {TARGET_SECONDS:g} s: "
              + ("met" if best < TARGET_SECONDS else "MISSED"))
        print(f"  {summary['tier_changes']} change tier ({summary['up']} up, {summary['down']} down), "
              f"{summary['requirement_changes']} get different requirements")
        if best >= TARGET_SECONDS and best_cpu < TARGET_SECONDS:
            print(f"  the CPU time ({best_cpu:.2f} s) is within the target: this machine is busy (load average "
                  f"{os.getloadavg()[0]:.1f})")
        if best >= TARGET_SECONDS:
            phases(folder)
        if args.profile:
            profile(folder)
        return 0 if best < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
