"""Each gate compiled to one Python function, as classify compiles a policy's rules into one.

The function returns the blocking requirements of the gate that are neither met nor waived, in the gate's order.
A requirement kind with code of its own (GATE_CODE) is written inline; any other calls its decider. Approvals
are counted once per (stage, role), however many requirements of the gate read them.
"""
from __future__ import annotations

from typing import Callable

from tiergate.decide.gates.evaluate import is_waived
from tiergate.language.policy import Requirement

_SIGNOFFS = ("    signoffs = state.signoffs", "    author = state.author", "    always = ctx.always",
             "    timed = ctx.timed", "    roster = ctx.roster")


class _Writer:
    """The lines of one gate's function, and the values its code names."""

    def __init__(self):
        self.prelude: list[str] = []
        self.lines: list[str] = []
        self.consts: dict[str, object] = {}
        self._approvers: dict[tuple[str, str], str] = {}

    def const(self, value: object, prefix: str) -> str:
        name = f"{prefix}{len(self.consts)}"
        self.consts[name] = value
        return name

    def needs(self, *lines: str) -> None:
        self.prelude.extend(line for line in lines if line not in self.prelude)

    def approvers(self, stage: str, role: str) -> str:
        """The variable holding who approved (stage, role) so far, as `gates._eval_signoff` counts them: people
        who held the role when they signed, not the version's author, since the latest rejection by a holder."""
        name = self._approvers.get((stage, role))
        if name is None:
            self.needs(*_SIGNOFFS)
            name = self._approvers[(stage, role)] = f"a{len(self._approvers)}"
            key = self.const((stage, role), "K")
            self.lines += [
                f"    {name} = []",
                f"    for e in signoffs.get({key}, ()):",
                "        actor = e.actor",
                "        held = always.get(actor)",
                f"        if not ((held is not None and {role!r} in held) or",
                f"                (actor in timed and roster.holds(actor, {role!r}, e.at))):",
                "            continue",
                "        if e.data['decision'] == 'reject':",
                f"            {name} = []",
                f"        elif actor != author and actor not in {name}:",
                f"            {name}.append(actor)",
            ]
        return name


def _signoff_code(req: Requirement, w: _Writer) -> str | None:
    return " and ".join(f"len({w.approvers(req.stage, role)}) >= {req.count}" for role in req.roles)


def _evidence_code(req: Requirement, w: _Writer) -> str | None:
    if req.condition is not None:
        return None  # the decider reads the metrics, each attribute's when there is a `for`
    w.needs("    evidence = state.evidence")
    return f"{req.subject!r} in evidence"


def _deployment_code(req: Requirement, w: _Writer) -> str | None:
    return f"(mode is not None and mode in {w.const(frozenset(req.modes), 'M')})"


#: requirement kind -> its code: from a requirement, a Python expression that is true when the requirement is
#: met, deciding exactly as the kind's decider (gateplan.GATE_DECIDERS) does; None (or a kind not named here)
#: calls the decider instead
GATE_CODE: dict[str, Callable[[Requirement, _Writer], str | None]] = {
    "signoff": _signoff_code,
    "evidence": _evidence_code,
    "deployment": _deployment_code,
}


def compile_gate(blocking: tuple[tuple[Requirement, Callable], ...], where: str = "") -> Callable:
    """One function (state, mode, ctx, at) -> the requirements of `blocking` (requirement, decider pairs) that
    are neither met nor waived, in order."""
    w = _Writer()
    for req, decide in blocking:
        code = GATE_CODE[req.kind](req, w) if req.kind in GATE_CODE else None
        if code is None:
            code = f"{w.const(decide, 'D')}(state, mode, ctx)"
        ref = w.const(req, "R")
        waived = f" and not is_waived({ref}, state, ctx, at)" if req.waivable_by else ""
        w.lines.append(f"    if not ({code}){waived}:")
        w.lines.append(f"        failing.append({ref})")
    source = "\n".join(["def gate(state, mode, ctx, at):", "    failing = []", *w.prelude, *w.lines,
                        "    return failing"])
    namespace = {"__builtins__": {"len": len}, "is_waived": is_waived, **w.consts}
    exec(compile(source, f"<gate {where}>", "exec"), namespace)  # noqa: S102 - generated from the policy
    gate = namespace["gate"]
    gate.source = source
    return gate
