"""How fast `tiergate lint` starts, and how parse + compile scale with the size of a policy.

Part 1 times `tiergate lint policies/mlops-default.policy` as a subprocess (one warm-up run, then the
median of --runs runs) against `python -c "import yaml, jsonschema, lark, networkx, click"` (the
project's dependencies imported and nothing done), run interleaved in the same session, and prints
both medians and their ratio. Target: ratio <= 0.5. It then runs `python -X importtime -m tiergate
lint ...` and checks that lint imports neither networkx nor jsonschema.

Part 2 generates policies with 100, 1,000 and 10,000 classify rules plus requirements (about 150
bytes per rule; 10,000 rules is about 1.5 MB) and times parse + compile in-process (median of
--repeat runs), printing the time, MB/s and how the time grows from one size to the next (10x the
rules should cost about 10x the time). Target: under 5 s for 10,000 rules, roughly linear.

    python bench/bench_lint.py                       # both parts
    python bench/bench_lint.py --runs 20 --repeat 5
    python bench/bench_lint.py --skip-startup --profile   # part 2 only, with a cProfile of the largest size
    python bench/bench_lint.py --strict              # exit 1 when a target is missed

Timings are wall-clock; CPU time is printed beside the in-process ones because a busy machine
inflates wall time more than CPU time. The 1-minute load average is printed for the same reason.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PACK = "policies/mlops-default.policy"
IMPORTS = "import yaml, jsonschema, lark, networkx, click"
STARTUP_RATIO_TARGET = 0.5
SIZE_TARGET_S = 5.0  # parse + compile of the 10,000-rule policy
FORBIDDEN_IMPORTS = ("networkx", "jsonschema")


# --- part 1: start-up -----------------------------------------------------------------------------

def tiergate_command() -> list[str]:
    """The installed console script beside this Python (not a version-manager shim, which adds its own start-up)."""
    beside = Path(sys.executable).parent / "tiergate"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("tiergate")
    if found:
        return [found]
    return [sys.executable, "-m", "tiergate"]


def run_env() -> dict:
    """The environment for the timed processes, with byte-code caching on.

    An installed package has its .pyc files (pip compiles them at install time); with
    PYTHONDONTWRITEBYTECODE set, the warm-up run could not write them and every timed run would
    compile the engine's (and networkx's) sources again, which measures the compiler, not start-up.
    """
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "TIERGATE_DEBUG")}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=run_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}")
    return elapsed


def startup(runs: int) -> tuple[float, float, float]:
    lint_cmd = tiergate_command() + ["lint", DEFAULT_PACK]
    import_cmd = [sys.executable, "-c", IMPORTS]
    print("Part 1: start-up")
    print(f"  lint:     {' '.join(lint_cmd)}")
    print(f"  baseline: {sys.executable} -c \"{IMPORTS}\"")
    wall(lint_cmd)  # warm-up: byte-code and lark's grammar cache written, files in the page cache
    wall(import_cmd)
    lint_times, import_times = [], []
    for _ in range(runs):  # interleaved, so that a change in machine load hits both alike
        lint_times.append(wall(lint_cmd))
        import_times.append(wall(import_cmd))
    lint_median = statistics.median(lint_times)
    import_median = statistics.median(import_times)
    ratio = lint_median / import_median
    print(f"  runs: {runs} each after one warm-up; 1-min load average {os.getloadavg()[0]:.2f}; "
          f"byte-code caching on{' (PYTHONDONTWRITEBYTECODE ignored)' if 'PYTHONDONTWRITEBYTECODE' in os.environ else ''}")
    print(f"  tiergate lint median:   {lint_median * 1000:7.1f} ms  (min {min(lint_times) * 1000:.1f})")
    print(f"  dependencies import:    {import_median * 1000:7.1f} ms  (min {min(import_times) * 1000:.1f})")
    print(f"  ratio lint / imports:   {ratio:7.2f}   target <= {STARTUP_RATIO_TARGET}  "
          f"{'OK' if ratio <= STARTUP_RATIO_TARGET else 'MISSED'}")
    return lint_median, import_median, ratio


def imported_modules() -> tuple[list[str], list[tuple[int, str]]]:
    """Modules `python -X importtime -m tiergate lint` imports, and the largest by cumulative time (us)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "tiergate", "lint", DEFAULT_PACK], cwd=ROOT,
                          env=run_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"lint failed under -X importtime:\n{proc.stderr}")
    names, sizes = [], []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
        if not cumulative.isdigit():
            continue  # the header line
        names.append(name)
        sizes.append((int(cumulative), name))
    return names, sorted(sizes, reverse=True)


def check_imports() -> bool:
    names, sizes = imported_modules()
    top = {name.split(".")[0] for name in names}
    bad = [m for m in FORBIDDEN_IMPORTS if m in top]
    print(f"  python -X importtime -m tiergate lint: {len(names)} modules imported")
    for module in FORBIDDEN_IMPORTS:
        print(f"    {module:12s} {'IMPORTED (should not be)' if module in top else 'not imported: OK'}")
    print("    largest (cumulative): " + ", ".join(f"{n} {us / 1000:.0f} ms" for us, n in sizes[:6]))
    return not bad


# --- part 2: size ---------------------------------------------------------------------------------

KINDS = ("data_snapshot", "model_card", "bias_test", "load_test", "red_team", "lineage_review", "input_drift",
         "latency")
VALUES = {
    "availability": ("realtime", "scheduled", "ad_hoc"),
    "audience": ("public", "internal_many", "internal_few", "self"),
    "quality_decay": ("slow", "moderate", "fast"),
    "regulations.sector": ("finance", "insurance", "healthcare", "employment"),
}
LEVELS = ("low", "medium", "high")
IMPACTS = ("legal", "financial", "personal", "public_trust")


def generate_policy(rules: int, seed: int = 0) -> str:
    """A valid policy with `rules` classify rules and about rules/4 requirements (about 150 bytes per rule)."""
    rnd = random.Random(seed)
    out = [
        'policy "bench" version "1.0.0":',
        '  description: "Generated for bench/bench_lint.py"',
        "",
        "tiers t0 < t1 < t2 < t3",
        "",
        "roles owner, reviewer, auditor, ops",
        "",
        "workflow default:",
        "  design -> build -> test -> release -> operate",
        "  operate -> build",
        "",
        'consideration all "Every measure": ' + ", ".join(KINDS) + ", signoff, review",
        "",
        "classify:",
    ]
    for i in range(rules):
        path = rnd.choice(list(VALUES))
        value = rnd.choice(VALUES[path])
        impact = rnd.choice(IMPACTS)
        levels = ", ".join(f'"{v}"' for v in rnd.sample(LEVELS, 2))
        out.append(f'  t{rnd.randint(1, 3)} when {path} == "{value}" and (impact.{impact} in [{levels}] '
                   f'or regulations.pii) because "Generated rule {i}"')
    out.append("  otherwise t0")
    for tier in range(4):
        out += ["", f"tier t{tier}" + (f" extends t{tier - 1}" if tier else "") + ":"]
        out.append(f'  criticality: "level {tier}"')
        for j in range(rules // 16 + 1):
            stage = rnd.choice(("test", "release"))
            kind = rnd.randrange(3)
            if kind == 0:
                line = f"require evidence {rnd.choice(KINDS)} where score >= 0.{rnd.randint(1, 9)} before {stage}"
            elif kind == 1:
                line = f"require signoff from {rnd.choice(('reviewer', 'auditor'))} before {stage}"
            else:
                line = f"recommend monitoring {rnd.choice(KINDS)} where psi < 0.2 every 7d after release"
            out.append(f'  {line} as "t{tier}-r{j}"')
    return "\n".join(out) + "\n"


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of `repeat` calls (the previous result freed and garbage collected first)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), result


def sizes(counts: list[int], repeat: int, profile: bool) -> bool:
    import tiergate
    from tiergate.language.compiler import compile_module
    from tiergate.language.gcpause import allow_pauses
    from tiergate.language.parser import parse

    allow_pauses()  # as `tiergate lint` does: a command may pause the garbage collector while it reads a policy
    base = ROOT / "policies"
    tiergate.lint_source(generate_policy(10), "warm.policy", base)  # build the parser once, outside the timings
    print(f"\nPart 2: parse + compile in-process (median of {repeat}; 1-min load average {os.getloadavg()[0]:.2f})")
    print(f"  {'rules':>7} {'bytes':>10} {'B/rule':>6} {'parse s':>8} {'compile s':>9} {'total s':>8} "
          f"{'cpu s':>7} {'MB/s':>6} {'growth':>7}")
    previous = None
    ok = True
    largest = None
    for count in counts:
        text = generate_policy(count)
        check = tiergate.lint_source(text, "bench.policy", base)
        if check.diagnostics:
            raise SystemExit("the generated policy is not clean:\n" + "\n".join(d.headline() for d in check.diagnostics[:5]))
        del check
        # the whole first, while nothing else is alive; then each half on its own
        total_wall, total_cpu, _ = timed(lambda: tiergate.compile_policy(text, "bench.policy", base), repeat)
        parse_wall, _, module = timed(lambda: parse(text, "bench.policy"), repeat)
        compile_wall, _, _ = timed(lambda tree=module: compile_module(tree, base), repeat)
        module = None
        size = len(text.encode("utf-8"))
        growth = ""
        if previous is not None:
            factor = count / previous[0]
            growth = f"{total_wall / previous[1]:.1f}x/{factor:.0f}x"
        print(f"  {count:>7} {size:>10,} {size // count:>6} {parse_wall:>8.3f} {compile_wall:>9.3f} {total_wall:>8.3f} "
              f"{total_cpu:>7.3f} {size / 1e6 / total_wall:>6.2f} {growth:>7}")
        previous = (count, total_wall)
        largest = (count, text)
        if count >= 10_000 and total_wall > SIZE_TARGET_S:
            ok = False
    if counts and counts[-1] >= 10_000:
        print(f"  target: {counts[-1]:,} rules in < {SIZE_TARGET_S:.0f} s: {'OK' if ok else 'MISSED'}")
    if profile and largest is not None:
        count, text = largest
        print(f"\n  cProfile of parse + compile, {count:,} rules (cumulative time, top 25):")
        profiler = cProfile.Profile()
        profiler.enable()
        compile_module(parse(text, "bench.policy"), base)
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
        print("\n".join("    " + line for line in stream.getvalue().splitlines() if line.strip()))
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="subprocess runs of each command in part 1 (>= 10)")
    parser.add_argument("--repeat", type=int, default=3, help="in-process repeats per size in part 2")
    parser.add_argument("--sizes", default="100,1000,10000", help="rule counts for part 2, comma-separated")
    parser.add_argument("--skip-startup", action="store_true", help="run part 2 only")
    parser.add_argument("--skip-sizes", action="store_true", help="run part 1 only")
    parser.add_argument("--profile", action="store_true", help="cProfile parse + compile of the largest size")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.runs < 10:
        parser.error("--runs must be at least 10")
    ok = True
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs")
    if not args.skip_startup:
        _, _, ratio = startup(args.runs)
        ok &= ratio <= STARTUP_RATIO_TARGET
        ok &= check_imports()
    if not args.skip_sizes:
        ok &= sizes([int(s) for s in args.sizes.split(",") if s.strip()], args.repeat, args.profile)
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
