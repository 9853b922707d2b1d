"""One model version as its page shows it: the answers and the classification with its reasons, where it stands, its
next gate's requirements, its workflow with each gate's state, and its timeline."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from tiergate.language.policy import Policy
from tiergate.ledger.service import Ledger


@dataclass(frozen=True)
class VersionView:
    use_case: str
    version: str
    policy: Policy
    #: where it stands (ledger.registry.StatusRow)
    row: Any
    #: the registration event's body (its answers, artifact, sha256, the policy it was classified under)
    registration: dict
    #: the classification of its answers under the policy, with the rules that decided it (app.results.Classified)
    classification: Any
    #: the check of its next gate (None: no gate ahead, or retired)
    next_gate: Any
    #: its workflow, its current stage and each stage's state, as reports.workflowsvg draws them
    #: (app.auditreport.WorkflowView)
    workflow: Any
    #: the timeline, oldest first (ledger.registry.history entries)
    timeline: Sequence[dict]


def version_view(ledger: Ledger, policy: Policy | None, use_case: str, version: str,
                 at: datetime | None = None) -> VersionView:
    """The page of `use_case` `version` at `at` (default now); E422 (404) when the ledger holds no registration of it."""
    from tiergate.app.auditreport import gate_states
    from tiergate.app.checking import check
    from tiergate.app.classifying import classify_document
    from tiergate.app.recording import when
    from tiergate.errors import Diagnostic, Location, TiergateError
    from tiergate.inputs.events import parse_time
    from tiergate.ledger.inforce import in_force, policy_in_force
    from tiergate.ledger.registry import history, use_case_status

    if policy is None:
        policy = policy_in_force(ledger, at)
    moment = parse_time(when(at))
    forces = in_force(ledger, policy, at, None)
    rows = [r for r in use_case_status(ledger, forces.policy, forces.roster, moment, use_case, forces.for_replay())
            if r.version == version]
    registration = ledger.registration(use_case, version)
    if not rows or registration is None:
        raise TiergateError(Diagnostic("E422", f"the ledger holds no registration of {use_case} {version}",
                                       Location("version"), hint="register it first: tiergate register"))
    row = rows[0]
    classification = classify_document(forces.policy, registration.get("answers") or {}) \
        if registration.get("answers") else None
    next_gate = None
    if row.next_stage and not row.retired and row.problem is None:
        next_gate = check(forces.policy, ledger=ledger.url, use_case=use_case, version=version, to=row.next_stage,
                          at=at)
    workflow = gate_states(ledger, forces.policy, use_case, version, at) if row.problem is None else None
    return VersionView(use_case, version, forces.policy, row, registration, classification, next_gate, workflow,
                       history(ledger, use_case, version))
