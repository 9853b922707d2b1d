"""The registry of requirement kinds at gates: for each kind, how it is judged, decided and compiled.

Each kind's module (signoff.py, evidence.py, ...) registers its hooks together; the package imports every kind
module once (gates/__init__.py), so the registry is full before any of it is read. The language's side of a kind
(its name, id, line, relation) is language.requirements.KINDS; a kind is registered here with the hooks its
relation needs.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Callable

from tiergate.decide.gates.base import Context, Status
from tiergate.decide.gates.source import GateSource
from tiergate.decide.workflow import VersionState
from tiergate.language.policy import Requirement, Tier
from tiergate.language.requirements import KINDS

#: (requirement, state, ctx, mode, explain) -> (MET or UNMET, reason); with explain=False the reason is left empty
GateEvaluator = Callable[[Requirement, VersionState, Context, "str | None", bool], "tuple[str, str]"]
#: (state, mode, ctx) -> met? exactly as the kind's evaluator decides, with nothing worded
Decider = Callable[[VersionState, "str | None", Context], bool]
#: (requirement, source) -> a Python expression, true when the requirement is met; None calls the decider instead
GateCode = Callable[[Requirement, GateSource], "str | None"]
#: (requirement, state, ctx, at, explain) -> (BREACH or None for "decided by the clock", reason, latest result's time)
ObligationEvaluator = Callable[[Requirement, VersionState, Context, datetime, bool],
                               "tuple[str | None, str, datetime | None]"]
#: (tier, requirement, because) -> the status of a triggered forbid, at every gate
ForbidStatus = Callable[[Tier, Requirement, "str | None"], Status]


@dataclass(frozen=True, slots=True)
class GateKind:
    """One requirement kind's hooks. A gate kind (relation "before") has `evaluate`, `decide` and `code`; an
    obligation (relation "after") has `obligation`; a forbid (no relation) has `forbidden`."""

    name: str
    #: words a gate requirement's outcome (tiergate check --to, and the reasons of a replay's violations)
    evaluate: GateEvaluator | None = None
    #: from a requirement, once per tier: a Decider (replay decides every transition with it)
    decide: Callable[[Requirement], Decider] | None = None
    #: writes the requirement's test into the gate's generated function (code.compile_gate)
    code: GateCode | None = None
    #: decides and words an obligation's state once the version has entered the stage
    obligation: ObligationEvaluator | None = None
    #: words a triggered forbid
    forbidden: ForbidStatus | None = None


#: the hooks each relation of language.requirements.KINDS needs (and no others)
NEEDS = {"before": ("evaluate", "decide", "code"), "after": ("obligation",), None: ("forbidden",)}

#: requirement kind -> its hooks
REGISTRY: dict[str, GateKind] = {}


def register(kind: GateKind) -> GateKind:
    """Add a kind to the registry: once, for a kind the language knows, with the hooks its relation needs."""
    language = KINDS.get(kind.name)
    if language is None:
        raise ValueError(f"`{kind.name}` is no requirement kind of the language (language.requirements.KINDS)")
    if kind.name in REGISTRY:
        raise ValueError(f"requirement kind `{kind.name}` is registered already")
    needs = NEEDS[language.relation]
    hooks = [f.name for f in fields(kind) if f.name != "name"]
    missing = [hook for hook in needs if getattr(kind, hook) is None]
    extra = [hook for hook in hooks if hook not in needs and getattr(kind, hook) is not None]
    if missing or extra:
        relation = language.relation or "none"
        raise ValueError(f"requirement kind `{kind.name}` (relation {relation}) needs the hooks {', '.join(needs)}"
                         + (f"; missing: {', '.join(missing)}" if missing else "")
                         + (f"; not used: {', '.join(extra)}" if extra else ""))
    REGISTRY[kind.name] = kind
    return kind
