"""How fast `check` replays lifecycle histories, against plain hand-written Python; and the CLI's start-up.

Part 1 generates lifecycle events for many use cases in-process (tiergate.inputs.events.Event objects, not YAML):
registrations, evidence with metrics and per-attribute metrics, sign-offs (some rejected, some by the author
or by people without the role), waivers (some by the wrong person, some too long), transitions along the
default workflow (some skipping preproduction, some after retirement, some looping back from monitoring),
monitoring results and reviews. Every use case is then replayed through the library,

    tiergate.decide.check.check(policy, answers_document, events_of_that_use_case, roster, replay=True, at=AT)

and through `by_hand`, the same judgement written as a plain loop over dicts and sets with the default
pack's gates and obligations typed in by hand (sign-offs with separation of duties and rejections, the
latest evidence with its threshold, waivers with who may grant them and for how long, transitions along
the workflow's edges; the latest monitoring result of each kind and the latest review, with their periods
and the drift threshold). Both must find the same violations and the same obligation statuses for every
use case. The library also classifies each use case; `by_hand` is given each use case's tier. Target: the
library at least half as fast.

Part 1b replays the same histories as a ledger does after two revisions of the policy: three versions of the pack
(the same rules, each its own compiled policy), in force from 1 January, 1 May and 1 September 2025, each past
transition judged under the version in force at its time (`check(..., eras=...)`, decide/eras.py). The versions
decide alike, so both must still find the same as `by_hand`; the target is the same.

Part 2 writes a 1,000-event JSON Lines log and times `tiergate check --to preproduction` on it against
`python -c "import yaml, jsonschema, lark, networkx, click"` (the libraries it stands on). Target: ≤ 1.2×.

    python bench/bench_check.py                  # 100k events (median of 7), 1M events (of 3), CLI x 10
    python bench/bench_check.py --no-million --cli-runs 20
    python bench/bench_check.py --profile        # where the library's replay time goes
    python bench/bench_check.py --eras-only      # part 1b alone, at 1M events
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tiergate.language.load import load_policy
from tiergate.decide.check import check
from tiergate.decide.classify import classify
from tiergate.inputs.events import Event, load_roster

POLICY = ROOT / "policies" / "mlops-default.policy"
ROSTER = ROOT / "examples" / "roster.yaml"
USE_CASES = ROOT / "examples" / "use-cases"
RATIO_TARGET = 0.5
CLI_TARGET = 1.2
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
AT = datetime(2032, 1, 1, tzinfo=timezone.utc)  # after every generated event
DAY = timedelta(days=1)

# --- the default pack, typed in by hand -----------------------------------------------------------

#: who holds which roles (examples/roster.yaml)
ROLES = {"dana": {"data_scientist"}, "sam": {"data_scientist", "citizen_ds"}, "rita": {"risk_audit"},
         "raj": {"risk_audit"}, "bea": {"business_stakeholder"}, "otto": {"data_ops"}, "paula": {"production"},
         "ari": {"architect"}}
HOLDERS = {"risk_audit": ["rita", "raj"], "business_stakeholder": ["bea"], "data_ops": ["otto"],
           "production": ["paula"], "data_scientist": ["dana", "sam"]}
EDGES = {("business_scoping", "ideation"), ("ideation", "development"), ("development", "preproduction"),
         ("preproduction", "deployment"), ("deployment", "monitoring"), ("monitoring", "development")}
WAIVE = (("risk_audit",), 14 * DAY)


# a requirement: (kind, id, subject, extra, waiver, stage); extra is a sign-off's count or an evidence condition


def E(subject, stage, where=None, waive=None):
    return ("evidence", f"evidence:{subject}@{stage}", subject, where, waive, stage)


def S(role, stage, count=1, rid=None):
    rid = rid or (f"signoff:{role}@{stage}" if count == 1 else f"signoff:{count}x{role}@{stage}")
    return ("signoff", rid, role, count, None, stage)


def D(stage, modes):
    return ("deployment", f"deployment@{stage}", frozenset(modes), None, None, stage)


AD_HOC = {"deployment": [E("metrics_record", "deployment")]}
SCHEDULED = {"deployment": AD_HOC["deployment"] + [
    E("environment_recreation", "deployment"), E("model_documentation", "deployment"),
    E("automated_checks", "deployment"), S("business_stakeholder", "deployment")]}
MONITORED = {
    "development": [E("pii_handling", "development")],
    "preproduction": [E("data_quality_check", "preproduction"), E("test_pipeline", "preproduction"),
                      E("bias_test", "preproduction", where="disparate_impact >= 0.8 for protected_attributes"),
                      E("explainability_report", "preproduction"), S("risk_audit", "preproduction")],
    "deployment": SCHEDULED["deployment"] + [S("risk_audit", "deployment"),
                                             D("deployment", ["shadow", "canary", "ab_test"])],
}
CRITICAL = {
    "development": MONITORED["development"] + [S("business_stakeholder", "development"),
                                               S("risk_audit", "development")],
    "preproduction": MONITORED["preproduction"] + [
        E("data_snapshot", "preproduction"), E("lineage_review", "preproduction", waive=WAIVE),
        E("hand_coded_verification", "preproduction"), S("data_ops", "preproduction")],
    # (two risk_audit sign-offs in place of the one monitored asks: the pack gives the requirement the same id)
    "deployment": [g for g in MONITORED["deployment"] if g[1] != "signoff:risk_audit@deployment"] + [
        E("change_log", "deployment"), E("red_team", "deployment", waive=WAIVE), E("load_test", "deployment"),
        S("risk_audit", "deployment", 2, rid="signoff:risk_audit@deployment"), S("production", "deployment")],
}
GATES = {"ad_hoc": AD_HOC, "scheduled": SCHEDULED, "monitored": MONITORED, "critical": CRITICAL}


# an obligation once a version has entered deployment: (kind, id, monitoring kind or reviewing role, period, psi
# limit of its result or None), in the policy's order


def M(kind, days, psi_below=None):
    return ("monitoring", f"monitoring:{kind}@deployment", kind, days * DAY, psi_below)


def R(role, weeks):
    return ("review", f"review:{role}@deployment", role, weeks * 7 * DAY, None)


OBLIGATIONS = {"ad_hoc": [], "scheduled": [M("infrastructure_alerts", 1)],
               "monitored": [M("infrastructure_alerts", 1), M("input_drift", 7, 0.2), R("data_scientist", 52)],
               "critical": [M("infrastructure_alerts", 1), M("input_drift", 7, 0.2), R("data_scientist", 52),
                            M("performance", 1), R("risk_audit", 26)]}
#: recommendations: the generator records them sometimes; they never block
RECOMMENDED = {"ad_hoc": {"deployment": ["automated_checks"]}, "scheduled": {"preproduction": ["data_quality_check"]}}
TIER = {"adhoc-analysis": "ad_hoc", "card-fraud-scoring": "critical", "churn-dashboard": "scheduled",
        "ecommerce-recommender": "critical", "inflight-meal-counts": "monitored", "loan-approval": "critical",
        "plane-fuelling": "critical", "predictive-maintenance": "monitored", "opaque-scoring": "critical"}


def forbidden_by_hand(tier: str, a: dict) -> bool:
    """The default pack's forbids: ad hoc results for the public or about people; unexplained decisions about people."""
    if a["availability"] == "ad_hoc" and (a["audience"] == "public" or a["decisions_about_people"] is True):
        return True
    return tier in ("monitored", "critical") and a["decisions_about_people"] is True and a["explainability"] == "none"


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _unmet(req, st: dict, mode, at: datetime, protected) -> bool:
    """True when the requirement blocks a transition at `at` (unmet and not waived)."""
    kind, rid, subject, extra, waive, stage = req
    if kind == "signoff":
        approvers: list[str] = []
        for s in st["signoffs"].get((stage, subject), ()):
            holds = subject in ROLES.get(s.actor, ())
            if s.data["decision"] == "reject":
                if holds:
                    approvers = []
                continue
            if s.actor != st["author"] and holds and s.actor not in approvers:
                approvers.append(s.actor)
        met = len(approvers) >= extra
    elif kind == "evidence":
        e = st["evidence"].get(subject)
        met = e is not None
        if met and extra is not None:  # disparate_impact >= 0.8 for each protected attribute
            attributes = e.data.get("attributes") or {}
            for name in protected:
                m = attributes.get(name)
                di = m.get("disparate_impact") if isinstance(m, dict) else None
                if not isinstance(di, (int, float)) or isinstance(di, bool) or not di >= 0.8:
                    met = False
                    break
    else:  # deployment
        met = mode in subject
    if met:
        return False
    if waive is not None:
        roles, longest = waive
        waivers = st["waivers"].get(rid, ())
        for i, w in enumerate(waivers):
            if w.at > at or not any(r in ROLES.get(w.actor, ()) for r in roles):
                continue
            expires = _parse(w.data["expires"])
            if expires <= at:
                continue
            # `up to` bounds the whole waived span: a waiver that starts before or when an earlier one (by someone
            # who may waive) ends continues it
            start, moved = w.at, True
            while moved:
                moved = False
                for x in waivers[:i]:
                    if any(r in ROLES.get(x.actor, ()) for r in roles) and x.at < start <= _parse(x.data["expires"]):
                        start, moved = x.at, True
            if expires - start <= longest:
                return False
    return True


def by_hand(events: list[Event], tier: str, forbidden: bool, protected: list, at: datetime) -> tuple:
    """What `check --replay` reports of one use case's history: its violations (transitions off the workflow, and
    gates not met), and the status of each obligation of its latest version."""
    gates = GATES[tier]
    states: dict[str, dict] = {}
    violations = 0
    latest = None
    for e in events:
        if e.at > at:
            continue
        st = states.get(e.version)
        if st is None:
            st = states[e.version] = {"stage": "business_scoping", "retired": False, "author": None,
                                      "signoffs": {}, "evidence": {}, "waivers": {}, "monitoring": {},
                                      "reviews": [], "deployed": None}
        t = e.type
        if t == "monitoring":
            st["monitoring"][e.data["kind"]] = e
        elif t == "transition":
            to = e.data["to"]
            if st["retired"] or (st["stage"], to) not in EDGES:
                violations += 1
            mode = e.data.get("mode")
            unmet = [req[1] for req in gates.get(to, ()) if _unmet(req, st, mode, e.at, protected)]
            if unmet or forbidden:
                violations += 1
            st["stage"] = to
            if to == "deployment" and st["deployed"] is None:
                st["deployed"] = e.at
        elif t == "evidence":
            st["evidence"][e.data["kind"]] = e
        elif t == "signoff":
            st["signoffs"].setdefault((e.data["gate"], e.data["role"]), []).append(e)
        elif t == "review":
            st["reviews"].append(e)
        elif t == "waiver":
            st["waivers"].setdefault(e.data["requirement"], []).append(e)
        elif t == "registered":
            st["author"] = e.actor
            latest = st
        elif t == "retired":
            st["retired"] = True
    return violations, _obligations(latest, OBLIGATIONS[tier], at)


def _obligations(st: dict, obligations: list, at: datetime) -> tuple:
    """(id, status) of each obligation of a version, as of `at` (none of the default pack's may be waived)."""
    if st is None or st["retired"] or st["deployed"] is None:
        return ()
    out = []
    for kind, rid, subject, period, psi_below in obligations:
        if kind == "monitoring":
            last = st["monitoring"].get(subject)
            breach = last is not None and psi_below is not None and not (
                isinstance(psi := last.data["metrics"].get("psi"), (int, float)) and psi < psi_below)
        else:
            last = None
            for review in st["reviews"]:
                if review.data["role"] == subject and subject in ROLES.get(review.actor, ()):
                    last = review
            breach = last is not None and last.data["decision"] == "reject"
        start = last.at if last is not None and last.at > st["deployed"] else st["deployed"]
        due = start + period
        status = "breach" if breach else "overdue" if at > due else "due" if at >= due - period * 0.1 else "ok"
        out.append((rid, status))
    return tuple(out)


# --- the generator --------------------------------------------------------------------------------

def templates() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(USE_CASES.glob("*.yaml")):
        out.append((path.stem, yaml.safe_load(path.read_text(encoding="utf-8"))))
    loan = dict(out[[n for n, _ in out].index("loan-approval")][1])
    # a use case whose tier forbids it: decisions about people nobody can explain
    out.append(("opaque-scoring", {**loan, "answers": {**loan["answers"], "explainability": "none"}}))
    return out


class Generator:
    """One use case's history: versions registered, moved through the workflow, monitored; padded to size."""

    def __init__(self, rng: random.Random, use_case: str, tier: str, protected: list, size: int):
        self.rng, self.use_case, self.tier, self.protected, self.size = rng, use_case, tier, protected, size
        self.t = START + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        self.out: list[Event] = []

    def add(self, type_: str, version: str, actor: str, **data) -> None:
        self.t += timedelta(minutes=self.rng.randint(1, 720))
        n = len(self.out)
        self.out.append(Event(self.t, type_, self.use_case, version, actor, data, "<bench>", n + 1, n))

    def when(self, days: float) -> str:
        return (self.t + timedelta(days=days)).isoformat().replace("+00:00", "Z")

    def signoff(self, version: str, author: str, role: str, stage: str, count: int) -> None:
        r = self.rng
        holders = HOLDERS[role]
        if r.random() < 0.05:  # a holder rejects first
            self.add("signoff", version, r.choice(holders), role=role, gate=stage, decision="reject",
                     comment="not yet")
            if r.random() < 0.4:
                return
        for signer in r.sample(holders, min(count, len(holders))):
            roll = r.random()
            if roll < 0.03:
                signer = author  # separation of duties: does not count
            elif roll < 0.06:
                signer = r.choice(["otto", "ari", "dana"])  # does not hold the role
            self.add("signoff", version, signer, role=role, gate=stage, decision="approve")
        if r.random() < 0.03:  # and a late rejection
            self.add("signoff", version, r.choice(holders), role=role, gate=stage, decision="reject")

    def evidence(self, version: str, author: str, subject: str, stage: str, where, waive) -> None:
        r = self.rng
        if waive is not None and r.random() < 0.2:
            actor = r.choice(["rita", "raj", "rita", "dana"])
            self.add("waiver", version, actor, requirement=f"evidence:{subject}@{stage}",
                     justification="scheduled for the next release", expires=self.when(r.choice([7, 10, 20])))
            return
        if r.random() < 0.02:
            return  # forgotten
        metrics = {"score": round(r.random(), 4), "passed": r.random() < 0.95, "tool": "ci"}
        data = {"kind": subject, "metrics": metrics, "uri": f"s3://evidence/{self.use_case}/{version}/{subject}"}
        if where is not None:
            data["attributes"] = {a: {"disparate_impact": round(r.uniform(0.7, 1.0), 3), "n": r.randint(50, 5000)}
                                  for a in self.protected if r.random() < 0.97}
        self.add("evidence", version, author, **data)

    def monitoring(self, version: str) -> None:
        r = self.rng
        kind = r.choice(["infrastructure_alerts", "input_drift", "performance", "input_drift"])
        metrics = {"infrastructure_alerts": {"alerts": r.randint(0, 3)},
                   "input_drift": {"psi": round(r.uniform(0.0, 0.3), 3)},
                   "performance": {"auc": round(r.uniform(0.7, 0.95), 3)}}[kind]
        if r.random() < 0.02:
            self.add("review", version, r.choice(["rita", "dana"]), role=r.choice(["risk_audit", "data_scientist"]),
                     decision="approve")
        else:
            self.add("monitoring", version, "paula", kind=kind, metrics=metrics)

    def enter(self, version: str, author: str, stage: str) -> None:
        r = self.rng
        for req in GATES[self.tier].get(stage, ()):
            kind, _, subject, extra, waive, _ = req
            if kind == "evidence":
                self.evidence(version, author, subject, stage, extra, waive)
            elif kind == "signoff":
                self.signoff(version, author, subject, stage, extra)
        for subject in RECOMMENDED.get(self.tier, {}).get(stage, ()):
            if r.random() < 0.5:
                self.evidence(version, author, subject, stage, None, None)
        data = {"to": stage}
        if stage == "deployment":
            data["mode"] = r.choices(["shadow", "canary", "ab_test", "full"], weights=[3, 3, 2, 1])[0]
        self.add("transition", version, author, **data)

    def build(self) -> list[Event]:
        r = self.rng
        versions = r.choice([1, 1, 2, 2, 3])
        for v in range(1, versions + 1):
            version, author = f"{v}.0", r.choice(["dana", "sam"])
            self.add("registered", version, author, artifact=f"s3://models/{self.use_case}/{v}.0",
                     **({"parent": f"{v - 1}.0"} if v > 1 else {}))
            path = ["ideation", "development", "preproduction", "deployment", "monitoring"]
            if r.random() < 0.05:
                path.remove("preproduction")  # skips a gate
            if r.random() < 0.1:
                path += ["development", "preproduction", "deployment", "monitoring"]  # back for a retrain
            for stage in path:
                self.enter(version, author, stage)
                if stage == "monitoring":
                    for _ in range(r.randint(0, 4)):
                        self.monitoring(version)
            if v < versions and r.random() < 0.5:
                self.add("retired", version, author)
                if r.random() < 0.05:
                    self.add("transition", version, author, to="monitoring")  # after retirement
        while len(self.out) < self.size:
            self.monitoring(f"{versions}.0")
        return self.out[: self.size]


def generate(n_use_cases: int, per_use_case: int, seed: int = 1):
    """[(answers document, tier, forbidden, protected, events)] for each use case; deterministic."""
    rng = random.Random(seed)
    bases = templates()
    out = []
    for i in range(n_use_cases):
        name, base = bases[i % len(bases)]
        use_case = f"{name}-{i:06d}"
        tier = TIER[name]
        answers = base["answers"]
        doc = {"use_case": use_case, "title": base.get("title", name), "owner": base.get("owner", ""),
               "answers": answers}
        protected = list(answers.get("protected_attributes") or [])
        events = Generator(rng, use_case, tier, protected, per_use_case).build()
        out.append((doc, tier, forbidden_by_hand(tier, answers), protected, events))
    return out


# --- part 1 ---------------------------------------------------------------------------------------

def time_library(policy, roster, cases, eras=None) -> tuple[float, float, list[int]]:
    """(CPU seconds, wall seconds, violations per use case)."""
    counts = []
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    for doc, _, _, _, events in cases:
        counts.append(check(policy, doc, events, roster, replay=True, at=AT, eras=eras))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu, wall, [(len(r.violations), tuple((o.requirement.id, o.status) for o in r.obligations)) for r in counts]


def time_by_hand(cases) -> tuple[float, float, list[int]]:
    counts = []
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    for _, tier, forbidden, protected, events in cases:
        counts.append(by_hand(events, tier, forbidden, protected, AT))
    return time.process_time() - cpu, time.perf_counter() - wall, counts


def compare(cases, lib_counts, hand_counts) -> None:
    if lib_counts != hand_counts:
        for (doc, *_), a, b in zip(cases, lib_counts, hand_counts):
            if a != b:
                raise SystemExit(f"MISMATCH: {doc['use_case']}: library {a}, by hand {b} (violations, obligations)")


def sanity(policy) -> None:
    """The hand-typed tiers and gates are the default pack's."""
    for name, doc in templates():
        c = classify(policy, doc)
        assert c.tier == TIER[name], (name, c.tier)
        assert bool(c.forbidden) == forbidden_by_hand(c.tier, doc["answers"]), name
    for tier, gates in GATES.items():
        for stage in ("business_scoping", "ideation", "development", "preproduction", "deployment", "monitoring"):
            typed = sorted(req[1] for req in gates.get(stage, ()))
            real = sorted(r.id for r in policy.tier(tier).gate(stage) if r.blocking)
            assert typed == real, (tier, stage, typed, real)
        typed = [(rid, period) for _, rid, _, period, _ in OBLIGATIONS[tier]]
        real = [(r.id, timedelta(seconds=r.period)) for r in policy.tier(tier).obligations()]
        assert typed == real and not any(r.waivable_by for r in policy.tier(tier).obligations()), (tier, typed, real)


def policy_versions(policy, roster) -> list:
    """Three eras of 2025: two earlier versions of the pack (its text with another version number, so another
    SHA-256 and another compiled policy) and `policy` itself, in force from 1 September."""
    from tiergate.decide.eras import Era, Timeline
    from tiergate.language.load import compile_policy

    text = POLICY.read_text(encoding="utf-8")
    assert f'version "{policy.version}"' in text
    earlier = [compile_policy(text.replace(f'version "{policy.version}"', f'version "0.{n}.0"'), str(POLICY))
               for n in (8, 9)]
    return Timeline([Era(None, earlier[0], roster), Era(datetime(2025, 5, 1, tzinfo=timezone.utc), earlier[1], roster),
                     Era(datetime(2025, 9, 1, tzinfo=timezone.utc), policy, roster)])


def part1(policy, roster, n_use_cases: int, per_use_case: int, runs: int, chunk: int = 1000, eras=None) -> dict:
    """Generate in chunks (to bound memory); time both on each chunk `runs` times, alternating, so that each run of
    the library has a run by hand beside it under the same load; add each run's times up over the chunks.

    CPU time of this process is the measure (the machine may be shared); wall-clock time is shown beside it. The
    ratio is the median of the runs' ratios.
    """
    totals = [[0.0, 0.0, 0.0, 0.0] for _ in range(runs)]  # per run: library cpu, wall; by hand cpu, wall
    events = violations = 0
    for first in range(0, n_use_cases, chunk):
        cases = generate(min(chunk, n_use_cases - first), per_use_case, seed=1 + first)
        for run in range(runs):
            lib_cpu, lib_wall, lib_counts = time_library(policy, roster, cases, eras)
            hand_cpu, hand_wall, hand_counts = time_by_hand(cases)
            compare(cases, lib_counts, hand_counts)
            for k, v in enumerate((lib_cpu, lib_wall, hand_cpu, hand_wall)):
                totals[run][k] += v
        events += sum(len(c[4]) for c in cases)
        violations += sum(c[0] for c in lib_counts)
        del cases
    lib_s, lib_wall, hand_s, hand_wall = (statistics.median(t[k] for t in totals) for k in range(4))
    return {"events": events, "use_cases": n_use_cases, "violations": violations, "runs": runs,
            "library_s": lib_s, "by_hand_s": hand_s, "library_wall": lib_wall, "by_hand_wall": hand_wall,
            "library_eps": events / lib_s, "by_hand_eps": events / hand_s,
            "ratio": statistics.median(t[2] / t[0] for t in totals),
            "wall_ratio": statistics.median(t[3] / t[1] for t in totals),
            "ratios": sorted(t[2] / t[0] for t in totals)}


def show1(r: dict) -> None:
    flag = "ok" if r["ratio"] >= RATIO_TARGET else "MISSED"
    print(f"{r['events']:>9,} events, {r['use_cases']:>6,} use cases, {r['violations']:,} violations (same in both); "
          f"{'median of ' + str(r['runs']) if r['runs'] > 1 else '1 run'}")
    print(f"    library  {r['library_s']:8.2f} s CPU  {r['library_eps']:>12,.0f} events/s   "
          f"(wall {r['library_wall']:.2f} s, {r['events'] / r['library_wall']:,.0f} events/s)")
    print(f"    by hand  {r['by_hand_s']:8.2f} s CPU  {r['by_hand_eps']:>12,.0f} events/s   "
          f"(wall {r['by_hand_wall']:.2f} s, {r['events'] / r['by_hand_wall']:,.0f} events/s)")
    print(f"    ratio    {r['ratio']:.2f} (target >= {RATIO_TARGET}: {flag}; wall-clock ratio {r['wall_ratio']:.2f})")
    if r["runs"] > 1:
        print(f"    the runs' ratios: {', '.join(f'{x:.2f}' for x in r['ratios'])}")


def profile(policy, roster, n_use_cases: int, per_use_case: int) -> None:
    """Where the library's replay time goes (cProfile), and the phases of one `tiergate check` run."""
    cases = generate(n_use_cases, per_use_case)
    profiler = cProfile.Profile()
    profiler.enable()
    time_library(policy, roster, cases)
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats("engine", 25)
        print(out.getvalue())
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        log.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in cli_log(random.Random(7), 1000)),
                       encoding="utf-8")
        print("phases of one check, each in a fresh interpreter (ms):")
        print("   libs  engine  policy answers  events  roster   check  render")
        for _ in range(5):
            done = subprocess.run([sys.executable, "-c", PHASES, str(POLICY), str(USE_CASES / "loan-approval.yaml"),
                                   str(log), str(ROSTER)], capture_output=True, text=True, cwd=ROOT, check=True)
            print(done.stdout.rstrip())
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import yaml, jsonschema, lark, networkx, click; "
                           "import tiergate.cli.check, tiergate.decide.check, tiergate.inputs.events, tiergate.reports.check"],
                          capture_output=True, text=True, cwd=ROOT)
    rows = [line.split("|") for line in done.stderr.splitlines() if "| " in line and "engine" in line]
    rows = sorted(((int(own), int(total), name.rstrip()) for own, total, name in
                   ((r[0].split(":")[1], r[1], r[2]) for r in rows)), reverse=True)
    print("engine modules by own import time (us):")
    for own, total, name in rows[:12]:
        print(f"    {own:>8} {total:>8} {name}")


#: one `tiergate check` in phases: argv = policy, answers, events, roster
PHASES = """
import sys, time
from datetime import datetime, timezone
t = [time.perf_counter()]
import yaml, jsonschema, lark, networkx, click
t.append(time.perf_counter())
import tiergate.cli.check, tiergate.decide.check, tiergate.inputs.events, tiergate.inputs.answers, tiergate.language.load, tiergate.reports.check
t.append(time.perf_counter())
policy = tiergate.language.load.load_policy(sys.argv[1]); t.append(time.perf_counter())
answers = tiergate.inputs.answers.load_answers(sys.argv[2], policy); t.append(time.perf_counter())
events = tiergate.inputs.events.load_events(sys.argv[3]); t.append(time.perf_counter())
roster = tiergate.inputs.events.load_roster(sys.argv[4]); t.append(time.perf_counter())
result = tiergate.decide.check.check(policy, answers, events, roster, to="preproduction",
                            at=datetime(2031, 1, 1, tzinfo=timezone.utc)); t.append(time.perf_counter())
tiergate.reports.check.as_text(result); t.append(time.perf_counter())
print(" ".join(f"{(b - a) * 1000:7.0f}" for a, b in zip(t, t[1:])))
"""


# --- part 2 ---------------------------------------------------------------------------------------

def cli_log(rng: random.Random, size: int) -> list[Event]:
    """loan-approval 1.0 in development, with CI recording evidence on every run, before asking for preproduction."""
    g = Generator(rng, "loan-approval", "critical", ["age"], size)
    g.add("registered", "1.0", "dana", artifact="s3://models/loan-approval/1.0")
    g.enter("1.0", "dana", "ideation")
    g.enter("1.0", "dana", "development")
    gate = GATES["critical"]["preproduction"]
    while len(g.out) < size:
        kind, _, subject, extra, waive, stage = rng.choice(gate)
        if kind == "evidence":
            g.evidence("1.0", "dana", subject, stage, extra, waive)
        else:
            g.signoff("1.0", "dana", subject, stage, extra)
    return g.out[:size]


def tiergate_command() -> list[str]:
    script = Path(sys.executable).parent / "tiergate"  # the installed entry point, not a shell shim
    if script.exists():
        return [str(script)]
    found = shutil.which("tiergate")
    return [found] if found else [sys.executable, "-m", "tiergate"]


def part2(runs: int) -> dict:
    lines = [json.dumps(e.to_dict()) for e in cli_log(random.Random(7), 1000)]
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        log.write_text("\n".join(lines) + "\n", encoding="utf-8")
        cli = tiergate_command() + ["check", "--policy", str(POLICY),
                                    "--answers", str(USE_CASES / "loan-approval.yaml"), "--events", str(log),
                                    "--roster", str(ROSTER), "--to", "preproduction", "--at", "2031-01-01T00:00:00Z"]
        imports = [sys.executable, "-c", "import yaml, jsonschema, lark, networkx, click"]
        first = subprocess.run(cli, capture_output=True, text=True)
        if first.returncode not in (0, 1):
            raise SystemExit(f"tiergate check failed ({first.returncode}):\n{first.stderr}")
        cli_times, import_times = [], []
        for _ in range(runs):  # interleaved, so that both see the same machine load
            for command, times in ((cli, cli_times), (imports, import_times)):
                start = time.perf_counter()
                subprocess.run(command, capture_output=True, check=command is imports)
                times.append(time.perf_counter() - start)
    cli_s, import_s = statistics.median(cli_times), statistics.median(import_times)
    return {"events": len(lines), "verdict": first.stdout.splitlines()[0], "runs": runs, "cli_s": cli_s,
            "import_s": import_s, "ratio": cli_s / import_s, "cli_min": min(cli_times), "import_min": min(import_times)}


def show2(r: dict) -> None:
    flag = "ok" if r["ratio"] <= CLI_TARGET else "MISSED"
    print(f"tiergate check --to preproduction on {r['events']:,} events (JSON Lines), median of {r['runs']}:")
    print(f"    {r['verdict']}")
    print(f"    tiergate check   {r['cli_s'] * 1000:7.0f} ms   (fastest {r['cli_min'] * 1000:.0f} ms)")
    print(f"    python -c import {r['import_s'] * 1000:7.0f} ms   (fastest {r['import_min'] * 1000:.0f} ms)")
    print(f"    ratio            {r['ratio']:.2f} (target <= {CLI_TARGET}: {flag})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--use-cases", type=int, default=10_000, help="use cases in the large run (default 10,000)")
    parser.add_argument("--per-use-case", type=int, default=100, help="events per use case (default 100)")
    parser.add_argument("--no-million", action="store_true", help="skip the large run")
    parser.add_argument("--small-runs", type=int, default=7, help="runs of the 100k-event replay (median)")
    parser.add_argument("--large-runs", type=int, default=3, help="runs of the 1M-event replay (median)")
    parser.add_argument("--cli-runs", type=int, default=10, help="runs of each command in part 2 (median)")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile the library on 20,000 events and stop")
    parser.add_argument("--eras-only", action="store_true", help="run part 1b (3 policy versions) alone")
    args = parser.parse_args()

    policy = load_policy(POLICY)
    roster = load_roster(ROSTER)
    sanity(policy)
    if args.profile:
        profile(policy, roster, 200, args.per_use_case)
        return
    if args.eras_only:
        print(f"part 1b: replay across 3 policy versions ({args.per_use_case} events per use case)")
        show1(part1(policy, roster, args.use_cases, args.per_use_case, args.large_runs,
                    eras=policy_versions(policy, roster)))
        return
    print(f"part 1: replay of generated histories ({args.per_use_case} events per use case)")
    small = part1(policy, roster, args.use_cases // 10, args.per_use_case, args.small_runs)
    show1(small)
    if not args.no_million:
        large = part1(policy, roster, args.use_cases, args.per_use_case, args.large_runs)
        show1(large)
        growth = large["library_s"] / small["library_s"]
        print(f"    {large['events'] / small['events']:.0f}x the events took {growth:.1f}x the library's time "
              f"({large['library_eps'] / small['library_eps']:.2f} of the small run's events/s)")
        print("part 1b: the same, across 3 policy versions, each transition judged under the one in force")
        show1(part1(policy, roster, args.use_cases, args.per_use_case, args.large_runs,
                    eras=policy_versions(policy, roster)))
    if not args.skip_cli:
        print("\npart 2: command-line start-up")
        show2(part2(args.cli_runs))


if __name__ == "__main__":
    main()
