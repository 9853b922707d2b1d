"""Each gate compiled to one Python function, as classify compiles a policy's rules into one.

The function returns the blocking requirements of the gate that are neither met nor waived, in the gate's order.
Each requirement is written by its kind's `code` hook (registry.GateKind.code), or calls its decider when the hook
writes nothing. Approvals are counted once per (stage, role), however many requirements of the gate read them.
"""
from __future__ import annotations

from typing import Callable

from tiergate.decide.gates.registry import REGISTRY
from tiergate.decide.gates.source import GateSource
from tiergate.decide.gates.waivers import is_waived
from tiergate.language.policy import Requirement


def compile_gate(blocking: tuple[tuple[Requirement, Callable], ...], where: str = "") -> Callable:
    """One function (state, mode, ctx, at) -> the requirements of `blocking` (requirement, decider pairs) that
    are neither met nor waived, in order."""
    source = GateSource()
    for req, decide in blocking:
        write = REGISTRY[req.kind].code
        code = write(req, source) if write is not None else None
        if code is None:
            code = f"{source.const(decide, 'D')}(state, mode, ctx)"
        ref = source.const(req, "R")
        waived = f" and not is_waived({ref}, state, ctx, at)" if req.waivable_by else ""
        source.lines.append(f"    if not ({code}){waived}:")
        source.lines.append(f"        failing.append({ref})")
    text = "\n".join(["def gate(state, mode, ctx, at):", "    failing = []", *source.prelude, *source.lines,
                      "    return failing"])
    namespace = {"__builtins__": {"len": len}, "is_waived": is_waived, **source.consts}
    exec(compile(text, f"<gate {where}>", "exec"), namespace)  # noqa: S102 - generated from the policy
    gate = namespace["gate"]
    gate.source = text
    return gate
