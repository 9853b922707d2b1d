"""Requirement kinds as data: every kind of the language is registered for deciding with the hooks it needs, once;
and a tier's compiled plan lives on the tier, whatever the number of policies and threads."""
from __future__ import annotations

import copy
import dataclasses
import gc
import threading
import weakref
from pathlib import Path

import pytest

from tiergate.decide.gates.plan import TierPlan, plan_of
from tiergate.decide.gates.registry import NEEDS, REGISTRY, GateKind, register
from tiergate.language.load import compile_policy, load_policy
from tiergate.language.requirements import KINDS

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "mlops-default.policy"
HOOKS = ("evaluate", "decide", "code", "obligation", "forbidden")


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_of_the_language_is_registered_with_what_it_needs(name):
    hooks = REGISTRY[name]
    relation = KINDS[name].relation
    given = {hook for hook in HOOKS if getattr(hooks, hook) is not None}
    if relation == "before":
        assert given == {"evaluate", "decide", "code"}, name  # an evaluator, a decider, code
    elif relation == "after":
        assert given == {"obligation"}, name  # an obligation evaluator
    else:
        assert given == {"forbidden"}, name
    assert set(NEEDS[relation]) == given


def test_the_registry_holds_the_kinds_of_the_language_and_no_other():
    assert set(REGISTRY) == set(KINDS)
    assert all(hooks.name == name for name, hooks in REGISTRY.items())


def test_a_kind_registered_twice_is_refused():
    before = dict(REGISTRY)
    with pytest.raises(ValueError, match="`signoff` is registered already"):
        register(dataclasses.replace(REGISTRY["signoff"]))
    assert REGISTRY == before and REGISTRY["signoff"] is before["signoff"]


def test_a_kind_the_language_does_not_know_or_without_its_hooks_is_refused():
    before = dict(REGISTRY)
    with pytest.raises(ValueError, match="no requirement kind of the language"):
        register(GateKind("approval", evaluate=print, decide=print, code=print))
    REGISTRY.pop("review")
    try:
        with pytest.raises(ValueError, match="missing: obligation; not used: evaluate"):
            register(GateKind("review", evaluate=print))
        assert "review" not in REGISTRY
    finally:
        REGISTRY["review"] = before["review"]
    assert REGISTRY == before


# --- plans live on their tier ----------------------------------------------------------------------

def test_a_plan_is_compiled_once_and_kept_on_its_tier():
    policy = load_policy(POLICY)
    for tier in policy.tiers:
        plan = plan_of(tier)
        assert plan.tier is tier and plan_of(tier) is plan
        assert set(plan.blocking) == {r.stage for r in tier.requirements if r.relation == "before"}


def test_many_policies_never_share_a_plan():
    """Tiers of policies compiled and dropped one after another (whose ids Python reuses) each get their own, and
    nothing keeps a dropped policy's tier (or its plan) alive."""
    text = POLICY.read_text(encoding="utf-8")
    for _ in range(6):
        policy = compile_policy(text, str(POLICY), POLICY.parent)
        tier = policy.tier("critical")
        plan = plan_of(tier)
        assert plan.tier is tier
        gone = weakref.ref(tier)
        del policy, tier, plan
        gc.collect()
        assert gone() is None
    copied = copy.copy(load_policy(POLICY).tier("critical"))  # a copy carries its original's attributes
    assert plan_of(copied).tier is copied


def test_threads_that_ask_at_once_get_one_whole_plan():
    policy = compile_policy(POLICY.read_text(encoding="utf-8"), str(POLICY), POLICY.parent)
    tier = policy.tier("critical")
    start = threading.Barrier(8)
    found: list[TierPlan] = []

    def ask():
        start.wait()
        found.append(plan_of(tier))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and all(plan is found[0] for plan in found)
    assert found[0].tier is tier and set(found[0].blocking) == set(found[0].gates)
