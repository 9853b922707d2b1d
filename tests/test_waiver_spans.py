"""A policy's `up to` bounds the continuous span a requirement stays waived, however many waivers make it up:
two 10-day waivers, the second given before the first ends, do not make 20 days under `up to 14d` (judged from an
events file as from the ledger, and alike by the worded check and the fast replay)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

import tiergate
from tiergate.decide.gates.base import UNMET, WAIVED
from tiergate.inputs.events import parse_events

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "examples" / "use-cases" / "loan-approval.yaml"
ROSTER = ROOT / "examples" / "roster.yaml"
REQ = "evidence:red_team@deployment"  # waivable by risk_audit up to 14d in the default pack
WHY = "the red team is booked for the week after"


def _waiver(at: str, until: str) -> str:
    return (f'- {{at: {at}, type: waiver, use_case: loan-approval, version: "1.0", actor: rita, '
            f'requirement: "{REQ}", expires: {until}, justification: "{WHY}"}}\n')


def _status(waivers: str, at: datetime):
    history = ('- {at: 2026-01-01T09:00:00Z, type: registered, use_case: loan-approval, version: "1.0", actor: dana}\n'
               + waivers)
    result = tiergate.check(tiergate.load_policy(), ANSWERS, parse_events(history, "h.yaml"), ROSTER,
                            version="1.0", to="deployment", at=at)
    [status] = [s for s in result.requirements if s.id == REQ]
    return status


def test_one_waiver_within_up_to_counts():
    status = _status(_waiver("2026-01-06T09:00:00Z", "2026-01-16T09:00:00Z"), datetime(2026, 1, 10, tzinfo=timezone.utc))
    assert status.status == WAIVED, status


def test_a_waiver_renewed_before_it_ends_does_not_restart_the_clock():
    waivers = _waiver("2026-01-06T09:00:00Z", "2026-01-16T09:00:00Z") + _waiver("2026-01-15T09:00:00Z",
                                                                                 "2026-01-25T09:00:00Z")
    status = _status(waivers, datetime(2026, 1, 22, tzinfo=timezone.utc))
    assert status.status == UNMET, status
    assert "with the waivers it renews (from 2026-01-06T09:00:00Z) it runs 19 days, longer than the 14 days" \
        in status.reason, status.reason


def test_a_waiver_after_a_gap_starts_a_new_span():
    waivers = _waiver("2026-01-06T09:00:00Z", "2026-01-16T09:00:00Z") + _waiver("2026-01-18T09:00:00Z",
                                                                                 "2026-01-28T09:00:00Z")
    assert _status(waivers, datetime(2026, 1, 22, tzinfo=timezone.utc)).status == WAIVED


@pytest.mark.parametrize("gap_days, waived", [(-1, False), (2, True)])
def test_the_fast_path_agrees_with_the_worded_one(gap_days, waived):
    """The decider replay uses (is_waived) and the evaluator that words the reasons see the same span."""
    start2 = f"2026-01-{16 + gap_days:02d}T09:00:00Z"
    end2 = f"2026-01-{26 + gap_days:02d}T09:00:00Z"
    waivers = _waiver("2026-01-06T09:00:00Z", "2026-01-16T09:00:00Z") + _waiver(start2, end2)
    at = datetime(2026, 1, 23, tzinfo=timezone.utc)
    worded = _status(waivers, at).status
    assert (worded == WAIVED) == waived
    from tiergate.decide.gates.plan import plan_of
    from tiergate.decide.gates.waivers import is_waived

    policy = tiergate.load_policy()
    answers = tiergate.load_answers(ANSWERS, policy)
    tier = policy.tier(tiergate.classify(policy, answers).tier)
    req = next(r for r in tier.requirements if r.id == REQ)
    from tiergate.decide.gates.base import Context
    from tiergate.decide.workflow import VersionState

    state = VersionState("loan-approval", "1.0", policy.workflow_of(tier).start)
    state.waivers[REQ] = tuple(e for e in parse_events(
        '- {at: 2026-01-01T09:00:00Z, type: registered, use_case: loan-approval, version: "1.0", actor: dana}\n'
        + waivers, "h.yaml").events if e.type == "waiver")
    ctx = Context(policy, plan_of(tier), tiergate.load_roster(ROSTER))
    assert is_waived(req, state, ctx, at) == waived
