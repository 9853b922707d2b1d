"""`tiergate diff`: what a policy change does — to the policy, to each use case's tier, to deployed versions."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from tiergate.language.policy import Policy
from tiergate.language.requirements import KINDS


@dataclass(frozen=True)
class PolicyChanges:
    tiers_added: tuple[str, ...]
    tiers_removed: tuple[str, ...]
    rules_added: tuple[str, ...]  # canonical `tier when condition`
    rules_removed: tuple[str, ...]
    # tier -> ids
    requirements_added: dict[str, tuple[str, ...]]
    requirements_removed: dict[str, tuple[str, ...]]
    requirements_changed: dict[str, tuple[str, ...]]
    #: everything else, in words: reasons, attributes, workflows, roles, considerations, RACI
    other: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.tiers_added or self.tiers_removed or self.rules_added or self.rules_removed
                    or self.requirements_added or self.requirements_removed or self.requirements_changed
                    or self.other)

    def to_dict(self) -> dict:
        return {"tiers": {"added": list(self.tiers_added), "removed": list(self.tiers_removed)},
                "rules": {"added": list(self.rules_added), "removed": list(self.rules_removed)},
                "requirements": {"added": {k: list(v) for k, v in self.requirements_added.items()},
                                 "removed": {k: list(v) for k, v in self.requirements_removed.items()},
                                 "changed": {k: list(v) for k, v in self.requirements_changed.items()}},
                "other": list(self.other)}


def _rule_key(rule) -> str:
    return f"{rule.tier} when {rule.condition.text}"


def policy_changes(old: Policy, new: Policy) -> PolicyChanges:
    old_rules = [_rule_key(r) for r in old.rules]
    new_rules = [_rule_key(r) for r in new.rules]
    added, removed, changed = {}, {}, {}
    for tier in new.tiers:
        if tier.name not in old.tier_names:
            continue
        before = {r.id: r.text for r in old.tier(tier.name).requirements}
        after = {r.id: r.text for r in tier.requirements}
        if a := tuple(i for i in after if i not in before):
            added[tier.name] = a
        if d := tuple(i for i in before if i not in after):
            removed[tier.name] = d
        if c := tuple(i for i in after if i in before and before[i] != after[i]):
            changed[tier.name] = c
    return PolicyChanges(
        tuple(t for t in new.tier_names if t not in old.tier_names),
        tuple(t for t in old.tier_names if t not in new.tier_names),
        tuple(r for r in new_rules if r not in old_rules), tuple(r for r in old_rules if r not in new_rules),
        added, removed, changed, tuple(_other_changes(old, new)))


def _other_changes(old: Policy, new: Policy) -> list[str]:
    """What else changed, in words: the parts of a policy that are not tiers, rules or requirement ids."""
    out = []
    if old.tier_names != new.tier_names and set(old.tier_names) == set(new.tier_names):
        out.append(f"tier order: {' < '.join(old.tier_names)} -> {' < '.join(new.tier_names)}")
    old_because = {_rule_key(r): r.because for r in old.rules}
    for r in new.rules:
        key = _rule_key(r)
        if key in old_because and old_because[key] != r.because:
            out.append(f"reason of rule `{key}`: {old_because[key]!r} -> {r.because!r}")
    if old.floor != new.floor:
        out.append(f"otherwise: {old.floor} -> {new.floor}")
    for tier in new.tiers:
        if tier.name not in old.tier_names:
            continue
        before = old.tier(tier.name)
        for key in dict.fromkeys([*before.attributes, *tier.attributes]):
            a, b = before.attributes.get(key), tier.attributes.get(key)
            if a != b:
                out.append(f"tier {tier.name} attribute {key}: {a!r} -> {b!r}")
        if before.parent != tier.parent:
            out.append(f"tier {tier.name} extends: {before.parent} -> {tier.parent}")
        out.extend(_drop_changes(before, tier))
        out.extend(_signing_changes(before, tier))
        out.extend(_independence_changes(before, tier))
    for role in new.roles:
        if role not in old.roles:
            out.append(f"role added: {role}")
    for role in old.roles:
        if role not in new.roles:
            out.append(f"role removed: {role}")
    for name in dict.fromkeys([*old.workflows, *new.workflows]):
        a, b = old.workflows.get(name), new.workflows.get(name)
        if a is None or b is None:
            out.append(f"workflow {'added' if a is None else 'removed'}: {name}")
        elif set(a.edges) != set(b.edges):
            gained = ", ".join(f"{x} -> {y}" for x, y in b.edges if (x, y) not in a.edges)
            lost = ", ".join(f"{x} -> {y}" for x, y in a.edges if (x, y) not in b.edges)
            out.append(f"workflow {name}: " + "; ".join(p for p in (gained and f"edges added {gained}",
                                                                     lost and f"edges removed {lost}") if p))
    old_c = {c.id: c for c in old.considerations}
    new_c = {c.id: c for c in new.considerations}
    for cid in dict.fromkeys([*old_c, *new_c]):
        a, b = old_c.get(cid), new_c.get(cid)
        if a is None or b is None:
            out.append(f"consideration {'added' if a is None else 'removed'}: {cid}")
        elif (a.title, a.kinds) != (b.title, b.kinds):
            out.append(f"consideration {cid} changed")
    old_r = {row.task: row.cells for row in old.raci}
    new_r = {row.task: row.cells for row in new.raci}
    for task in dict.fromkeys([*old_r, *new_r]):
        if old_r.get(task) != new_r.get(task):
            out.append(f"RACI task {task!r} changed")
    return out


def _signing_changes(before, after) -> list[str]:
    """The requirements (same id) that start or stop asking for signed events: unsigned approvals, evidence or reviews
    that counted may count no more, which can block versions and break deployed ones."""
    was = {r.id: r.signed for r in before.requirements}
    out = []
    for r in after.requirements:
        if r.id in was and was[r.id] != r.signed:
            what = KINDS[r.kind].signs
            out.append(f"tier {after.name}: {r.id} now requires signed {what} (unsigned ones no longer count)"
                       if r.signed else f"tier {after.name}: {r.id} no longer requires signed {what}")
    return out


def _independence_changes(before, after) -> list[str]:
    """The requirements (same id) whose `independent of` or `recorded by` roles change: sign-offs or evidence that
    counted may count no more (or the other way round), which can block versions and break deployed ones."""
    was = {r.id: r for r in before.requirements}
    out = []
    for r in after.requirements:
        old = was.get(r.id)
        if old is None:
            continue
        for attribute, words in (("independent_of", "sign-offs independent of"),
                                 ("recorded_by", "evidence recorded by")):
            then, now = getattr(old, attribute), getattr(r, attribute)
            if then != now:
                out.append(f"tier {after.name}: {r.id} now requires {words} {', '.join(now)}" if now else
                           f"tier {after.name}: {r.id} no longer requires {words} {', '.join(then)}")
    return out


def _drop_changes(before, after) -> list[str]:
    """The measures a tier newly drops, no longer drops, or drops for another reason (its own drops, not those it
    inherits from a tier that drops them)."""
    old = {d.id: d for d in before.dropped if d.tier == before.name}
    new = {d.id: d for d in after.dropped if d.tier == after.name}
    out = []
    for rid, d in new.items():
        if rid not in old:
            out.append(f"tier {after.name} drops `{rid}` (from tier {d.requirement.tier}): {d.because}")
        elif old[rid].because != d.because:
            out.append(f"tier {after.name} drops `{rid}` for another reason: {old[rid].because!r} -> {d.because!r}")
    out.extend(f"tier {after.name} no longer drops `{rid}`" for rid in old if rid not in new)
    return out


@dataclass(frozen=True)
class UseCaseChange:
    use_case: str
    old_tier: str
    new_tier: str
    direction: str  # "up" | "down" | "same"
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.old_tier != self.new_tier or bool(self.added or self.removed)

    def to_dict(self) -> dict:
        return {"use_case": self.use_case, "old_tier": self.old_tier, "new_tier": self.new_tier,
                "direction": self.direction, "added": list(self.added), "removed": list(self.removed)}


@dataclass(frozen=True)
class VersionChange:
    use_case: str
    version: str
    stage: str
    before: str  # "compliant" | "non-compliant"
    after: str
    reasons: tuple[str, ...] = ()  # requirement ids failing after

    def to_dict(self) -> dict:
        return {"use_case": self.use_case, "version": self.version, "stage": self.stage, "before": self.before,
                "after": self.after, "reasons": list(self.reasons)}


@dataclass
class DiffResult:
    old: Policy
    new: Policy
    policy: PolicyChanges
    use_cases: list[UseCaseChange] = field(default_factory=list)
    versions: list[VersionChange] = field(default_factory=list)
    with_use_cases: bool = False

    @property
    def summary(self) -> dict:
        changed = [u for u in self.use_cases if u.old_tier != u.new_tier]
        worse = [v for v in self.versions if v.before == "compliant" and v.after != "compliant"]
        better = [v for v in self.versions if v.before != "compliant" and v.after == "compliant"]
        return {"use_cases": len(self.use_cases), "tier_changes": len(changed),
                "up": sum(1 for u in changed if u.direction == "up"),
                "down": sum(1 for u in changed if u.direction == "down"),
                "requirement_changes": sum(1 for u in self.use_cases if u.added or u.removed),
                "versions_non_compliant": len(worse), "versions_compliant": len(better),
                "policy_changed": not self.policy.empty}

    @property
    def changed(self) -> bool:
        return (not self.policy.empty or any(u.changed for u in self.use_cases)
                or any(v.before != v.after for v in self.versions))

    def headline(self) -> str:
        s = self.summary
        if not self.changed:
            return "the policies are the same"
        if not self.with_use_cases:
            return "the policy changed"
        n = s["tier_changes"]
        text = f"{plural(n, 'use case')} change{'s' if n == 1 else ''} tier"
        if n:
            text += f": {s['up']} up, {s['down']} down"
        k = s["requirement_changes"]
        text += f"; {k} get{'s' if k == 1 else ''} different requirements"
        if self.versions or s["versions_non_compliant"]:
            k = s["versions_non_compliant"]
            text += f"; {plural(k, 'deployed version')} become{'s' if k == 1 else ''} non-compliant"
            if s["versions_compliant"]:
                k = s["versions_compliant"]
                text += f", {k} become{'s' if k == 1 else ''} compliant"
        return text

    def to_dict(self) -> dict:
        return {"old": self.old.identity(), "new": self.new.identity(), "summary": self.summary,
                "policy": self.policy.to_dict(), "use_cases": [u.to_dict() for u in self.use_cases],
                "versions": [v.to_dict() for v in self.versions]}


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _direction(old: Policy, new: Policy, old_tier: str, new_tier: str) -> str:
    if old_tier == new_tier:
        return "same"
    if old_tier in new.tier_names:
        return "up" if new.tier(new_tier).rank > new.tier(old_tier).rank else "down"
    return "up" if new.tier(new_tier).rank / max(1, len(new.tiers) - 1) > \
        old.tier(old_tier).rank / max(1, len(old.tiers) - 1) else "down"


def diff(old: Policy, new: Policy, answers: Sequence | None = None, events=None, roster=None,
         at: datetime | None = None) -> DiffResult:
    """Compare two policies; with answers (and events), their impact on use cases and versions."""
    from tiergate.decide.classify import classify

    result = DiffResult(old, new, policy_changes(old, new), with_use_cases=answers is not None)
    by_case = {}
    for a in answers or ():
        before, after = classify(old, a), classify(new, a)
        old_ids = {r.id for r in before.requirements}
        new_ids = {r.id for r in after.requirements}
        result.use_cases.append(UseCaseChange(
            a.use_case, before.tier, after.tier, _direction(old, new, before.tier, after.tier),
            tuple(r.id for r in after.requirements if r.id not in old_ids),
            tuple(r.id for r in before.requirements if r.id not in new_ids)))
        by_case[a.use_case] = a
    if events is not None:
        result.versions = _versions(old, new, by_case, events, roster, at)
    return result


def _versions(old, new, by_case, events, roster, at) -> list[VersionChange]:
    from tiergate.decide.check import check
    from tiergate.inputs.events import EventLog

    grouped: dict[str, list] = {}
    for e in events.events:
        grouped.setdefault(e.use_case, []).append(e)
    out = []
    for use_case, mine in grouped.items():
        answers = by_case.get(use_case)
        if answers is None:
            continue
        log = EventLog(tuple(mine))
        for version in dict.fromkeys(e.version for e in mine if e.type == "registered"):
            before = check(old, answers, log, roster, version=version, at=at, replay=True)
            after = check(new, answers, log, roster, version=version, at=at, replay=True)
            if before.compliant == after.compliant:
                continue
            failing = tuple(dict.fromkeys(
                [s.id for s in after.standing if s.failing] + [o.id for o in after.obligations if o.failing]
                + [s.id for v in after.violations for s in v.unmet]))
            out.append(VersionChange(use_case, version, after.stage,
                                     "compliant" if before.compliant else "non-compliant",
                                     "compliant" if after.compliant else "non-compliant", failing))
    return out
