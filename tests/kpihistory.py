"""A generated governance history for the KPI tests (test_kpis.py), and what each KPI must be, read off its events
by a plain loop that uses nothing of tiergate's: the rules of docs/kpis.md, one by one, for the policy below."""
from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from math import ceil

import yaml

from conftest import ROOT

POLICY = """\
policy "kpis" version "1.0.0":
  description: "A policy for the KPI tests: two tiers on one workflow"

tiers low < high

roles owner, reviewer, auditor

workflow default:
  build -> test -> production
  production -> build

consideration checks "Checks": unit_tests, load_test, signoff, latency, review

classify:
  high when availability == "realtime" because "Live"
  otherwise low

tier low:
  require signoff from reviewer before test
  require evidence unit_tests before production
  require monitoring latency where p99_ms < 500 every 7d after production

tier high extends low:
  require evidence load_test before production waivable by auditor up to 30d
  require signoff from auditor before production
  require review by auditor every 30d after production
"""
ROSTER = {"people": {"olive": ["owner"], "rex": ["reviewer"], "rita": ["reviewer"], "ada": ["auditor"],
                     "abe": ["auditor"]}}
HOLDERS = {"reviewer": ["rex", "rita"], "auditor": ["ada", "abe"]}
EDGES = {("build", "test"), ("test", "production"), ("production", "build")}
NEXT = {"build": "test", "test": "production", "production": "build"}
STAGES = ("build", "test", "production")
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
DAY = 86400


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def answers(use_case: str, realtime: bool) -> dict:
    name = "card-fraud-scoring" if realtime else "churn-dashboard"
    document = yaml.safe_load((ROOT / "examples" / "use-cases" / f"{name}.yaml").read_text())
    return {**document, "use_case": use_case}


# --- the generated history ----------------------------------------------------------------------------------------

def generate(seed: int, use_cases: int = 7) -> list[dict]:
    """Events of a random history, in time order, that the ledger imports whole."""
    rng = random.Random(seed)
    out: list[dict] = []

    def hexes(n: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(n))

    for u in range(use_cases):
        use_case, realtime = f"uc-{u}", rng.random() < 0.5
        latest = START
        for v in range(1, rng.randint(1, 3) + 1):
            t = START + timedelta(days=rng.uniform(1, 150))
            e = {"use_case": use_case, "version": str(v)}
            out.append({**e, "at": stamp(t), "type": "registered", "actor": "olive",
                        "answers": answers(use_case, realtime)})
            waived = False
            for _ in range(rng.randint(0, 16)):
                t += timedelta(seconds=rng.randint(3600, 12 * DAY))
                action = rng.choices(["transition", "signoff", "evidence", "monitoring", "review", "waiver",
                                      "decision", "retire"], [8, 6, 4, 4, 2, 1, 3, 0.4])[0]
                at = stamp(t)
                if action == "transition":
                    out.append({**e, "at": at, "type": "transition", "actor": "olive", "to": rng.choice(STAGES)})
                elif action == "signoff":
                    gate = rng.choice(["test", "production"])
                    role = ("reviewer" if gate == "test" else "auditor") if rng.random() < 0.85 else \
                        rng.choice(["reviewer", "auditor"])
                    out.append({**e, "at": at, "type": "signoff", "actor": rng.choice(HOLDERS[role]), "gate": gate,
                                "role": role, "decision": "approve" if rng.random() < 0.8 else "reject"})
                elif action == "evidence":
                    out.append({**e, "at": at, "type": "evidence", "actor": "olive",
                                "kind": rng.choice(["unit_tests", "load_test"]), "metrics": {"passed": 10}})
                elif action == "monitoring":
                    out.append({**e, "at": at, "type": "monitoring", "actor": "olive", "kind": "latency",
                                "metrics": {"p99_ms": rng.choice([120, 300, 700])}})
                elif action == "review":
                    out.append({**e, "at": at, "type": "review", "actor": rng.choice(HOLDERS["auditor"]),
                                "role": "auditor", "decision": "approve" if rng.random() < 0.8 else "reject"})
                elif action == "waiver" and realtime and not waived:
                    waived = True
                    out.append({**e, "at": at, "type": "waiver", "actor": rng.choice(HOLDERS["auditor"]),
                                "requirement": "evidence:load_test@production",
                                "justification": "The load test lab is booked until next month",
                                "expires": stamp(t + timedelta(seconds=rng.randint(DAY, 29 * DAY)))})
                elif action == "decision":
                    out.append({**e, "at": at, "type": "decision", "actor": "svc", "decision_id": hexes(32),
                                "operation": rng.choice(["promote", "promote", "check"]),
                                "verdict": rng.choice(["allowed", "blocked"]), "policy_sha256": hexes(64),
                                "input_sha256": hexes(64)})
                elif action == "retire":
                    out.append({**e, "at": at, "type": "retired", "actor": "olive"})
                    break
            latest = max(latest, t)
        for _ in range(rng.choice([0, 0, 1, 2])):  # after the use case's own events
            latest += timedelta(hours=rng.randint(1, 48))
            out.append({"use_case": use_case, "version": "1", "at": stamp(latest), "type": "reclassified",
                        "actor": "olive", "from_tier": rng.choice(["low", "high"]),
                        "to_tier": rng.choice(["low", "high"]),
                        "policy": {"name": "kpis", "version": rng.choice(["0.9.0", "1.1.0"]), "sha256": hexes(64)},
                        "because": "decided again"})
    out.sort(key=lambda r: r["at"])
    return out


# --- the plain loop -----------------------------------------------------------------------------------------------

def p90(values: list[float]) -> float | None:
    ordered = sorted(values)
    return ordered[ceil(0.9 * len(ordered)) - 1] if ordered else None


def spread(values: list[float]) -> tuple:
    return (len(values), statistics.median(values) if values else None, p90(values))


def expected(events: list[dict], at: datetime, since: datetime | None) -> dict:
    """Every KPI at `at`, counting from `since`, read off the events by the rules of docs/kpis.md."""
    def inside(t):
        return t <= at and (since is None or t >= since)

    tier_now, realtime, versions = {}, {}, defaultdict(list)
    reclassified = Counter()
    promotions = defaultdict(Counter)
    for r in events:
        t = when(r["at"])
        if t > at:
            continue
        if r["type"] == "registered":
            realtime[r["use_case"]] = r["answers"]["answers"]["availability"] == "realtime"
            tier_now[r["use_case"]] = "high" if realtime[r["use_case"]] else "low"
        elif r["type"] == "reclassified":
            tier_now[r["use_case"]] = r["to_tier"]
            if inside(t):
                reclassified[(f"kpis {r['policy']['version']}", r["from_tier"] != r["to_tier"])] += 1
        if r["type"] not in ("reclassified", "decision"):
            versions[(r["use_case"], r["version"])].append(r)
    want = {"tier_stage": Counter(), "production": defaultdict(list), "answered": defaultdict(list),
            "pending": defaultdict(list), "violations": Counter(), "obligations": Counter(), "waivers": {},
            "unreviewed": [], "in_production": 0, "reclassified": dict(reclassified)}
    for r in events:
        if r["type"] == "decision" and r["operation"] == "promote" and inside(when(r["at"])):
            for key in (tier_now[r["use_case"]], "all"):
                promotions[key][r["verdict"] == "blocked"] += 1
    want["promotions"] = {k: (c[True] + c[False], c[True]) for k, c in promotions.items()}
    for (use_case, version), mine in versions.items():
        tier, high = tier_now[use_case], realtime[use_case]
        registered = when(mine[0]["at"])
        stage, retired, entered, since_t = "build", False, None, registered
        entries = [(registered, "build")]
        signoffs, evidence, waivers, monitoring, reviews = [], set(), [], None, []

        def approved(gate, role, t):
            ok = False
            for s in signoffs:
                if (s["gate"], s["role"]) == (gate, role) and when(s["at"]) <= t:
                    ok = s["decision"] == "approve"  # a rejection by a holder clears the approvals before it
            return ok

        def met(gate, t):
            if gate == "test":
                return approved("test", "reviewer", t)
            if gate == "production":
                load = "load_test" in evidence or any(when(w["at"]) <= t < when(w["expires"]) for w in waivers)
                return "unit_tests" in evidence and (not high or (load and approved("production", "auditor", t)))
            return True

        first_approval = {}
        for r in mine:
            t = when(r["at"])
            kind = r["type"]
            if kind == "transition":
                if inside(t):
                    want["violations"][(tier, "transition")] += (stage, r["to"]) not in EDGES
                    want["violations"][(tier, "gate")] += not met(r["to"], t)
                stage, since_t = r["to"], t
                entries.append((t, stage))
                if stage == "production" and entered is None:
                    entered = t
            elif kind == "signoff":
                signoffs.append(r)
                key = (r["gate"], r["role"])
                required = key == ("test", "reviewer") or (high and key == ("production", "auditor"))
                if r["decision"] == "approve" and required and key not in first_approval:
                    first_approval[key] = t
                    if inside(t):
                        opened = max((e for e, s in entries if NEXT[s] == key[0] and e <= t), default=t)
                        want["answered"][key[1]].append((t - opened).total_seconds() / DAY)
            elif kind == "evidence":
                evidence.add(r["kind"])
            elif kind == "waiver":
                waivers.append(r)
                expires = when(r["expires"])
                counts = want["waivers"].setdefault(r["requirement"], [0, 0, 0])
                counts[0] += inside(t)
                counts[1] += at < expires
                counts[2] += at < expires <= at + timedelta(days=14)
            elif kind == "monitoring":
                monitoring = r
            elif kind == "review":
                reviews.append(r)
            elif kind == "retired":
                retired = True
        want["tier_stage"][(tier, "retired" if retired else stage)] += 1
        if entered is not None and inside(entered):
            want["production"][tier].append((entered - registered).total_seconds() / DAY)
        if not retired:
            gate = NEXT[stage]
            for role in (["reviewer"] if gate == "test" else ["auditor"] if gate == "production" and high else []):
                if not approved(gate, role, at):
                    want["pending"][role].append((at - since_t).total_seconds() / DAY)
        if retired or entered is None:
            continue
        latency = "overdue" if monitoring is None and at > entered + timedelta(days=7) else None
        if monitoring is not None and monitoring["metrics"]["p99_ms"] >= 500:
            latency = "breach"
        want["obligations"][(tier, latency or clock(monitoring, entered, 7, at))] += 1
        if high:
            last = reviews[-1] if reviews else None
            review = "breach" if last is not None and last["decision"] == "reject" else clock(last, entered, 30, at)
            want["obligations"][(tier, review)] += 1
            if stage == "production" and review in ("overdue", "breach"):
                want["unreviewed"].append((use_case, version))
        want["in_production"] += stage == "production"
    return want


def clock(last: dict | None, entered: datetime, days: int, at: datetime) -> str:
    """ok, due (the last tenth of the period) or overdue, counted from the last result after entry, else entry."""
    start = max(entered, when(last["at"])) if last is not None else entered
    due = start + timedelta(days=days)
    return "overdue" if at > due else "due" if at >= due - timedelta(days=days / 10) else "ok"
