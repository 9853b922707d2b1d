"""The governance KPIs (docs/kpis.md) summed from what each version contributes (kpifacts.py): pure arithmetic."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from math import ceil
from statistics import median
from typing import Iterable, Mapping

from tiergate.language.policy import Policy
from tiergate.ledger.kpifacts import VersionFacts

#: the states of an obligation, in the order the KPIs list them
OBLIGATION_STATES = ("ok", "due", "overdue", "breach", "waived")
#: the kinds of violation a replay finds (decide/check.py Violation.kind)
VIOLATION_KINDS = ("gate", "transition")


@dataclass(frozen=True)
class Spread:
    """Durations in days: how many, their median and their 90th percentile (nearest rank); None when none."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


def spread(values: Iterable[float]) -> Spread:
    ordered = sorted(values)
    if not ordered:
        return Spread()
    return Spread(len(ordered), median(ordered), ordered[ceil(0.9 * len(ordered)) - 1])


def share(part: int, whole: int) -> float | None:
    """part / whole, None when whole is 0 (no share of nothing)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class SignoffWaits:
    """One role's sign-off requests: those answered in the window, and those still waiting at `at`."""

    answered: Spread = Spread()
    pending: Spread = Spread()


@dataclass(frozen=True)
class Promotions:
    """Promote decisions in the window (the decision log): how many, how many were blocked."""

    total: int = 0
    blocked: int = 0

    @property
    def blocked_share(self) -> float | None:
        return share(self.blocked, self.total)


@dataclass(frozen=True)
class WaiverCounts:
    granted: int = 0  # in the window
    active: int = 0  # at `at`
    expiring: int = 0  # active, and ending within 14 days of `at`


@dataclass(frozen=True)
class Reclassifications:
    changed: int = 0  # the tier changed
    confirmed: int = 0  # decided again under the policy version, the tier kept


@dataclass(frozen=True)
class Unreviewed:
    """A version in production whose review obligations are overdue or breached: (requirement id, status)."""

    use_case: str
    version: str
    tier: str
    stage: str
    reviews: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Summary:
    """Every KPI, each keyed by its dimensions in display order (docs/kpis.md defines each)."""

    tiers: tuple[str, ...]
    stages: tuple[str, ...]
    roles: tuple[str, ...]
    versions: int
    unjudged: tuple[tuple[str, str, str], ...]  # (use case, version, why) of versions that could not be judged
    tier_stage: Mapping[str, Mapping[str, int]]  # (a) tier -> stage -> versions
    to_production: Mapping[str, Spread]  # (b) tier -> days, and "all"
    signoff_waits: Mapping[str, SignoffWaits]  # (c) role ->
    promotions: Mapping[str, Promotions]  # (d) tier -> , and "all"
    violations: Mapping[str, Mapping[str, int]]  # (e) tier -> kind -> violations
    obligations: Mapping[str, Mapping[str, int]]  # (f) tier -> state -> obligations
    waivers: Mapping[str, WaiverCounts]  # (g) requirement ->
    reclassifications: Mapping[str, Reclassifications]  # (h) "policy version" ->
    in_production: int = 0
    unreviewed: tuple[Unreviewed, ...] = ()  # (i)

    @property
    def violation_count(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.violations.values())

    @property
    def obligation_states(self) -> dict[str, int]:
        """state -> obligations, over every tier."""
        return {s: sum(t.get(s, 0) for t in self.obligations.values()) for s in OBLIGATION_STATES}

    @property
    def overdue_share(self) -> float | None:
        """The share of obligations overdue at `at` (None when there are none)."""
        states = self.obligation_states
        return share(states["overdue"], sum(states.values()))


def summarise(policy: Policy, facts: list[VersionFacts], reclassified: list[tuple[str, bool]],
              decisions: list[tuple[str, str, str]]) -> Summary:
    """The KPIs from the facts of every version, the reclassifications and the promote decisions in the window."""
    judged = [f for f in facts if f.problem is None]
    tier_of = {(f.use_case, f.version): f.tier for f in facts}
    tiers = _ordered(policy.tier_names, [f.tier for f in facts])
    stages = _ordered([s for w in policy.workflows.values() for s in w.stages],
                      [f.stage for f in facts if f.stage not in ("retired", "?")]) + \
        tuple(s for s in ("retired", "?") if any(f.stage == s for f in facts))
    tier_stage = {t: {} for t in tiers}
    for f in facts:
        tier_stage[f.tier][f.stage] = tier_stage[f.tier].get(f.stage, 0) + 1
    days: dict[str, list[float]] = {t: [] for t in tiers}
    for f in judged:
        if f.to_production is not None:
            days[f.tier].append(f.to_production)
    to_production = {t: spread(v) for t, v in days.items()}
    to_production["all"] = spread(d for v in days.values() for d in v)
    roles = _ordered(policy.roles, [r for f in judged for r, _ in f.answered + f.pending])
    signoffs = {r: SignoffWaits(spread(d for f in judged for role, d in f.answered if role == r),
                                spread(d for f in judged for role, d in f.pending if role == r)) for r in roles}
    asked: dict[str, Counter] = {}
    for use_case, version, verdict in decisions:
        for key in (tier_of.get((use_case, version), "?"), "all"):
            asked.setdefault(key, Counter())[verdict == "blocked"] += 1
    promotions = {t: Promotions(asked[t][True] + asked[t][False], asked[t][True])
                  for t in [*tiers, "?", "all"] if t in asked}
    promotions["all"] = promotions.get("all", Promotions())
    violations = {t: {k: 0 for k in VIOLATION_KINDS} for t in tiers}
    obligations = {t: {s: 0 for s in OBLIGATION_STATES} for t in tiers}
    for f in judged:
        for kind in f.violations:
            violations[f.tier][kind] = violations[f.tier].get(kind, 0) + 1
        for _, _, state in f.obligations:
            obligations[f.tier][state] = obligations[f.tier].get(state, 0) + 1
    waivers: dict[str, list[int]] = {}
    for f in judged:
        for requirement, granted, active, expiring in f.waivers:
            counts = waivers.setdefault(requirement, [0, 0, 0])
            counts[0], counts[1], counts[2] = counts[0] + granted, counts[1] + active, counts[2] + expiring
    reclass: dict[str, list[int]] = {}
    for label, changed in reclassified:
        reclass.setdefault(label, [0, 0])[0 if changed else 1] += 1
    unreviewed = tuple(
        Unreviewed(f.use_case, f.version, f.tier, f.stage, late) for f in judged if f.in_production
        for late in [tuple((i, s) for i, kind, s in f.obligations if kind == "review" and s in ("overdue", "breach"))]
        if late)
    return Summary(
        tiers, stages, roles, len(facts), tuple((f.use_case, f.version, f.problem) for f in facts if f.problem),
        tier_stage, to_production, signoffs, promotions, violations, obligations,
        {r: WaiverCounts(*c) for r, c in sorted(waivers.items())},
        {p: Reclassifications(*c) for p, c in sorted(reclass.items())},
        sum(f.in_production for f in judged), unreviewed)


def _ordered(known: Iterable[str], seen: Iterable[str]) -> tuple[str, ...]:
    """`known` in its order (without repeats), then what else was `seen`, sorted."""
    out = list(dict.fromkeys(known))
    return tuple(out + sorted(set(seen) - set(out)))
