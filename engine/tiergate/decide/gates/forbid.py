"""`forbid when CONDITION [because TEXT]`: a use case whose answers trigger it may not move anywhere; the forbid
is an unmet requirement of every gate. (Classification finds which forbids a use case triggers.)"""
from __future__ import annotations

from tiergate.decide.gates.base import UNMET, Status
from tiergate.decide.gates.registry import GateKind, register
from tiergate.language.policy import Requirement, Tier


def forbidden(tier: Tier, req: Requirement, because: str | None) -> Status:
    """The status of a triggered forbid, the same at every gate."""
    return Status(req, UNMET, f"forbidden in tier {tier.name}: {because or req.text}")


register(GateKind("forbid", forbidden=forbidden))
