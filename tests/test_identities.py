"""Names are one identity however they are spelled (trimmed, case-folded), in an events file as in the ledger:
separation of duties cannot be dodged by signing as `raj` a version registered as `Raj`."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

import tiergate
from tiergate.decide.gates.base import MET, UNMET
from tiergate.inputs.events import parse_events

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "examples" / "use-cases" / "predictive-maintenance.yaml"
ROSTER = ROOT / "examples" / "roster.yaml"
AT = datetime(2026, 9, 20, tzinfo=timezone.utc)


def _history(author: str, signer: str) -> str:
    return f"""
- {{at: 2026-09-01T09:00:00Z, type: registered, use_case: predictive-maintenance, version: "3.1", actor: "{author}"}}
- {{at: 2026-09-01T10:00:00Z, type: transition, use_case: predictive-maintenance, version: "3.1", actor: dana, to: ideation}}
- {{at: 2026-09-01T11:00:00Z, type: evidence, use_case: predictive-maintenance, version: "3.1", actor: dana, kind: pii_handling, metrics: {{personal_fields: 0}}}}
- {{at: 2026-09-01T12:00:00Z, type: transition, use_case: predictive-maintenance, version: "3.1", actor: dana, to: development}}
- {{at: 2026-09-15T10:00:00Z, type: signoff, use_case: predictive-maintenance, version: "3.1", actor: "{signer}", gate: preproduction, role: risk_audit, decision: approve}}
"""


def _signoff_status(author: str, signer: str):
    policy = tiergate.load_policy()
    events = parse_events(_history(author, signer), "h.yaml")
    result = tiergate.check(policy, ANSWERS, events, ROSTER, version="3.1", to="preproduction", at=AT)
    [status] = [s for s in result.requirements if s.id == "signoff:risk_audit@preproduction"]
    return status


@pytest.mark.parametrize("author, signer", [("Raj", "raj"), ("raj", " RAJ "), ("RAJ", "raj")])
def test_the_author_signing_under_another_spelling_does_not_count(author, signer):
    status = _signoff_status(author, signer)
    assert status.status == UNMET and "separation of duties" in status.reason, status


@pytest.mark.parametrize("signer", ["raj", "Raj", " raj"])
def test_a_holder_of_the_role_counts_however_the_name_is_spelled(signer):
    status = _signoff_status("dana", signer)
    assert status.status == MET and status.reason == "approved by risk_audit: raj", status


@pytest.mark.parametrize("author, signer", [("Raj", "raj"), ("dana", " RAJ ")])
def test_the_fast_path_decides_as_the_worded_one(author, signer):
    """Replay decides gates without wording them: it must agree with the reasons."""
    policy = tiergate.load_policy()
    events = parse_events(_history(author, signer) + """
- {at: 2026-09-16T08:00:00Z, type: transition, use_case: predictive-maintenance, version: "3.1", actor: otto, to: preproduction}
""", "h.yaml")
    worded = _signoff_status(author, signer).status
    result = tiergate.check(policy, ANSWERS, events, ROSTER, at=AT, replay=True)
    flagged = any("preproduction" in str(v.to_dict()) and "risk_audit" in str(v.to_dict()) for v in result.violations)
    assert flagged == (worded == UNMET), (worded, [v.to_dict() for v in result.violations])
