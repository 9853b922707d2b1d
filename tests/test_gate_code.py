"""Each gate's generated function (tiergate.decide.gates.code) against the evaluators, on generated states.

Replay decides a gate with one function generated per tier and stage. Here that function must list exactly the
blocking requirements that the explained evaluators (each kind's `evaluate` in the registry) leave unmet and
find_waiver does not waive, in the gate's order: on every gate of every shipped pack, with sign-offs by people who
hold the role, do not, hold it only for a period, or registered the version; rejections; evidence recorded or not,
with metrics that hold and do not; waivers valid, expired, too long and by the wrong person; every deployment mode.
"""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiergate import load_policy
from tiergate.inputs.events import Event, Holding, Roster, format_time
from tiergate.decide.gates.base import MET, UNMET, Context
from tiergate.decide.gates.code import compile_gate
from tiergate.decide.gates.plan import plan_of, unmet_requirements
from tiergate.decide.gates.registry import REGISTRY
from tiergate.decide.gates.waivers import find_waiver
from tiergate.decide.workflow import VersionState

ROOT = Path(__file__).resolve().parent.parent
PACKS = sorted((ROOT / "policies").glob("*.policy"))
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _reference(ctx: Context, state: VersionState, stage: str, mode, at: datetime) -> list:
    """The blocking requirements of the gate that fail, the plain way: each evaluator, then find_waiver."""
    out = []
    for req in ctx.tier.gate(stage):
        if not req.blocking:
            continue
        status, _ = REGISTRY[req.kind].evaluate(req, state, ctx, mode, True)
        if status == UNMET and find_waiver(req, state, ctx, at)[0] is None:
            out.append(req)
        else:
            assert status == MET or find_waiver(req, state, ctx, at)[0] is not None
    return out


def _roster(policy, rng: random.Random) -> Roster:
    """Six people holding some of the policy's roles; one of them holds one only for ten days."""
    people = {}
    for i in range(6):
        roles = rng.sample(policy.roles, k=min(len(policy.roles), rng.randint(0, 3)))
        people[f"p{i}"] = tuple(Holding(r) for r in roles)
    people["p5"] += (Holding(rng.choice(policy.roles), T0 + timedelta(days=3), T0 + timedelta(days=13)),)
    return Roster(people, "roster")


def _answers(policy, rng: random.Random) -> dict:
    """Answers naming some protected attributes (for `for` clauses); classification is not the point here."""
    return {"protected_attributes": rng.sample(["age", "gender", "region"], k=rng.randint(0, 3))}


def _metrics(rng: random.Random) -> dict:
    names = ["disparate_impact", "failed", "gap", "psi", "auc", "score", "passed", "late_reports", "retention_days",
             "bias_examined", "robustness_tested", "cybersecurity_tested", "accuracy", "coverage", "ks"]
    values = [0, 1, 0.05, 0.5, 0.79, 0.8, 0.95, 1.0, 200, True, False, "n/a"]
    return {name: rng.choice(values) for name in rng.sample(names, k=rng.randint(0, 6))}


def _actor(roster: Roster, roles, rng: random.Random) -> str:
    """Mostly someone who holds one of `roles` (at some time); else anyone, or someone not in the roster."""
    holders = [p for p, holdings in roster.people.items() if any(h.role in roles for h in holdings)]
    if holders and rng.random() < 0.7:
        return rng.choice(holders)
    return rng.choice([*roster.people, "stranger"])


def _state(policy, tier, stage: str, roster: Roster, rng: random.Random) -> VersionState:
    """A version with a random history of what the gate of `stage` asks for (and some noise)."""
    author = rng.choice(["p0", "p1", "p2"])
    state = VersionState("uc", "1", stage)
    state.registered = Event(T0, "registered", "uc", "1", author, {})
    when = T0
    gate = tier.gate(stage)
    for _ in range(rng.randint(0, 25)):
        when += timedelta(hours=rng.choice([1, 7, 30]))
        req = rng.choice(gate) if gate and rng.random() < 0.9 else None
        if req is None or req.kind == "deployment":
            continue
        if req.kind == "signoff" and (rng.random() < 0.7 or not req.waivable_by):
            role = rng.choice(req.roles if rng.random() < 0.9 else policy.roles)
            actor = author if rng.random() < 0.1 else _actor(roster, (role,), rng)
            decision = "reject" if rng.random() < 0.15 else "approve"
            e = Event(when, "signoff", "uc", "1", actor, {"role": role, "gate": req.stage, "decision": decision})
            state.signoffs.setdefault((req.stage, role), []).append(e)
        elif req.kind == "evidence" and (rng.random() < 0.6 or not req.waivable_by):
            actor = rng.choice(["p0", "p1", "p2"])
            data = {"kind": req.subject, "metrics": _metrics(rng)}
            if rng.random() < 0.6:
                names = rng.sample(["age", "gender", "region"], k=rng.randint(0, 3))
                data["attributes"] = {name: _metrics(rng) for name in names}
            state.evidence[req.subject] = Event(when, "evidence", "uc", "1", actor, data)
        else:
            actor = _actor(roster, req.waivable_by, rng)
            expires = when + timedelta(days=rng.choice([-1, 1, 5, 8, 15, 40]))
            e = Event(when, "waiver", "uc", "1", actor, {"requirement": req.id, "justification": "generated",
                                                         "expires": format_time(expires)})
            state.waivers.setdefault(req.id, []).append(e)
    return state


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.stem)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_every_gate_of_every_pack_lists_what_the_evaluators_leave_unmet(pack, seed):
    policy = _policy(pack)
    rng = random.Random(seed)
    roster = _roster(policy, rng)
    answers = _answers(policy, rng)
    for tier in policy.tiers:
        ctx = Context(policy, plan_of(tier), roster, (), answers)
        for stage in policy.workflow_of(tier).stages:  # a stage without a gate too
            state = _state(policy, tier, stage, roster, rng)
            at = state_end(state) + timedelta(hours=rng.choice([0, 1, 100, 1000]))
            for mode in (None, "shadow", "canary", "ab_test", "full", "blue_green"):
                found = unmet_requirements(ctx, state, stage, mode, at)
                assert found == _reference(ctx, state, stage, mode, at), (tier.name, stage, mode)


_policies: dict[Path, object] = {}


def _policy(path: Path):
    if path not in _policies:
        _policies[path] = load_policy(path)
    return _policies[path]


def state_end(state: VersionState) -> datetime:
    times = [e.at for es in state.signoffs.values() for e in es] + [e.at for e in state.evidence.values()]
    times += [e.at for ws in state.waivers.values() for e in ws]
    return max(times, default=T0)


def test_every_kind_of_gate_requirement_has_a_decider_and_code_or_none():
    coded = {name for name, hooks in REGISTRY.items() if hooks.code is not None}
    decided = {name for name, hooks in REGISTRY.items() if hooks.decide is not None}
    evaluated = {name for name, hooks in REGISTRY.items() if hooks.evaluate is not None}
    assert coded <= decided == evaluated


def test_a_kind_without_code_of_its_own_calls_its_decider():
    policy = _policy(ROOT / "policies" / "mlops-default.policy")
    tier = policy.tier("critical")
    blocking = tuple((req, REGISTRY[req.kind].decide(req)) for req in tier.gate("preproduction") if req.blocking)
    gate = compile_gate(blocking, "critical@preproduction")
    assert "D" in gate.source and "(state, mode, ctx)" in gate.source  # the bias test reads metrics per attribute
    assert gate.source.count("for e in signoffs.get(") == len({r.roles for r, _ in blocking if r.kind == "signoff"})


def test_approvals_are_counted_once_per_stage_and_role():
    """A gate that asks for a reviewer once and for two reviewers: one count serves both."""
    from conftest import SMALL_POLICY
    from tiergate import compile_policy

    text = SMALL_POLICY.replace("  require signoff from reviewer before release\n",
                                "  require signoff from reviewer before release\n"
                                '  require 2 signoffs from reviewer before release as "two-reviewers"\n')
    source = plan_of(compile_policy(text).tier("high")).blocking["release"].source
    assert source.count("'reviewer' in held") == 1
    [(one, two)] = re.findall(r"len\((\w+)\) >= 1\).*len\((\w+)\) >= 2\)", source, re.DOTALL)
    assert one == two  # one list of approvers, counted against both


def test_the_critical_tier_asks_for_its_risk_sign_offs_once():
    """The default pack's critical tier asks for two risk_audit sign-offs at deployment in place of the one it
    inherits: one requirement, counted once."""
    policy = _policy(ROOT / "policies" / "mlops-default.policy")
    gate = [r for r in policy.tier("critical").gate("deployment") if r.kind == "signoff" and "risk_audit" in r.roles]
    assert [(r.id, r.count) for r in gate] == [("signoff:risk_audit@deployment", 2)]
    source = plan_of(policy.tier("critical")).blocking["deployment"].source
    assert source.count("'risk_audit' in held") == 1
