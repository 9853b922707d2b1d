"""`require deployment in [MODE, ...] before STAGE`: the transition into the stage declares one of the modes."""
from __future__ import annotations

from tiergate.decide.gates.base import MET, UNMET, Context
from tiergate.decide.gates.registry import Decider, GateKind, register
from tiergate.decide.gates.source import GateSource
from tiergate.decide.workflow import VersionState
from tiergate.language.policy import Requirement


def evaluate(req: Requirement, state: VersionState, ctx: Context, mode: str | None,
             explain: bool = True) -> tuple[str, str]:
    if mode is not None and mode in req.modes:
        return MET, f"deployment mode {mode}" if explain else ""
    if not explain:
        return UNMET, ""
    allowed = ", ".join(req.modes)
    if mode is None:
        return UNMET, f"the transition declares no deployment mode; allowed: {allowed}"
    return UNMET, f"deployment mode {mode} is not allowed here; allowed: {allowed}"


def decide(req: Requirement) -> Decider:
    modes = frozenset(req.modes)
    return lambda state, mode, ctx: mode is not None and mode in modes


def code(req: Requirement, source: GateSource) -> str:
    return f"(mode is not None and mode in {source.const(frozenset(req.modes), 'M')})"


register(GateKind("deployment", evaluate=evaluate, decide=decide, code=code))
