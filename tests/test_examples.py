"""The example use cases: each one's tier under the default pack, and the rule that decides it.

Each row pins the tier, the line of the deciding rule in policies/mlops-default.policy, its `because`
and the answers it rested on. A change to the classify rules that moves an example shows up here
with the example's name, so the change is made on purpose (and the example's comment updated).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tiergate import load_policy
from tiergate.decide.classify import classify
from tiergate.inputs.answers import find_answer_files, load_answers

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "use-cases"

LIVE = ("Results are served live to customers or to many colleagues, so an outage or a wrong answer is felt "
        "straight away")
IMPACT = "A wrong result would have a noticeable legal, financial, personal or reputational impact"
PII = "It processes personal data, which brings privacy and data-protection duties"
REGULAR = "It runs regularly or as a live service, so people rely on it being available and repeatable"
RELIGION = ("It uses especially sensitive characteristics of people, directly or through a close stand-in, so "
            "results must be checked for unfair treatment of groups")

#: file -> (tier, deciding rule line or None for the floor, because, answers the deciding rule rested on)
EXPECTED = {
    "adhoc-analysis.yaml": ("ad_hoc", None, None, None),
    "card-fraud-scoring.yaml": ("critical", 35, LIVE, {"availability": "realtime", "audience": "public"}),
    "churn-dashboard.yaml": ("scheduled", 45, REGULAR, {"availability": "scheduled"}),
    "ecommerce-recommender.yaml": ("critical", 35, LIVE, {"availability": "realtime", "audience": "public"}),
    "inflight-meal-counts.yaml": ("monitored", 42, PII, {"availability": "scheduled", "regulations.pii": True}),
    "loan-approval.yaml": ("critical", 35, LIVE, {"availability": "realtime", "audience": "public"}),
    "plane-fuelling.yaml": ("critical", 35, LIVE, {"availability": "realtime", "audience": "internal_many"}),
    "predictive-maintenance.yaml": ("monitored", 40, IMPACT,
                                    {"availability": "scheduled", "impact.financial": "medium"}),
}
FLOOR_LINE = 46  # `otherwise ad_hoc`


@pytest.fixture(scope="module")
def policy():
    return load_policy(ROOT / "policies" / "mlops-default.policy")


def test_every_example_is_pinned():
    on_disk = sorted(p.name for p in find_answer_files([EXAMPLES]))
    assert on_disk == sorted(EXPECTED)


def test_at_least_eight_examples_cover_every_tier(policy):
    assert len(EXPECTED) >= 8
    tiers = {tier for tier, *_ in EXPECTED.values()}
    assert tiers == set(policy.tier_names)
    for name in EXPECTED:
        assert classify(policy, load_answers(EXAMPLES / name, policy)).tier == EXPECTED[name][0]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_tier_and_deciding_rule(policy, name):
    tier, line, because, answers = EXPECTED[name]
    c = classify(policy, load_answers(EXAMPLES / name, policy))
    assert c.tier == tier
    assert not c.forbidden, f"{name} is forbidden in its own tier: {c.forbidden}"
    d = c.deciding
    if line is None:
        assert d is None and c.matched == ()
        assert policy.floor == tier and policy.floor_loc.line == FLOOR_LINE
        return
    assert (d.line, d.because, d.answers, d.tier) == (line, because, answers, tier)
    assert Path(d.file).resolve() == (ROOT / "policies" / "mlops-default.policy").resolve()
    # the deciding rule is the first rule of the winning tier, in policy order, and nothing higher held
    assert d == c.matched[0]
    assert all(m.line >= d.line for m in c.matched if m.tier == tier)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_comment_states_its_tier(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    stated = re.search(r"^# expected tier: (\w+)$", text, re.MULTILINE)
    assert stated, f"{name} has no `# expected tier:` comment"
    assert stated.group(1) == EXPECTED[name][0]


def test_inflight_meals_is_monitored_for_religion_too(policy):
    """Its comment says religion (through special meals) puts it in monitored: that rule holds as well."""
    c = classify(policy, load_answers(EXAMPLES / "inflight-meal-counts.yaml", policy))
    religion = [m for m in c.matched if m.because == RELIGION]
    assert [(m.tier, m.line, m.answers) for m in religion] == [
        ("monitored", 43, {"availability": "scheduled", "protected_attributes": ["religion"]})]
