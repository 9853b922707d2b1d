"""The source of one gate's generated function as it is written: its lines, and the values its code names.

A requirement kind's `code` hook (registry.GateKind.code) writes into it; code.compile_gate turns it into a function.
"""
from __future__ import annotations

from typing import Callable


class GateSource:
    """The lines of one gate's function: a prelude of local names, the body, and the values the code names."""

    def __init__(self):
        self.prelude: list[str] = []
        self.lines: list[str] = []
        self.consts: dict[str, object] = {}
        self._shared: dict[object, str] = {}
        self._counts: dict[str, int] = {}

    def const(self, value: object, prefix: str) -> str:
        """A name for `value` in the generated code."""
        name = f"{prefix}{len(self.consts)}"
        self.consts[name] = value
        return name

    def needs(self, *lines: str) -> None:
        """Lines of the prelude (each written once, however many requirements need it)."""
        self.prelude.extend(line for line in lines if line not in self.prelude)

    def shared(self, key: object, prefix: str, write: Callable[[str], list[str]]) -> str:
        """The variable that the lines `write(name)` compute, written once per `key`: requirements of a gate that
        read the same thing (the approvals of one stage and role, say) share it."""
        name = self._shared.get(key)
        if name is None:
            count = self._counts.get(prefix, 0)
            self._counts[prefix] = count + 1
            name = self._shared[key] = f"{prefix}{count}"
            self.lines += write(name)
        return name
