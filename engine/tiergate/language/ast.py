"""Typed syntax-tree nodes of the policy language; every node keeps its source location.

Nodes are NamedTuples: immutable, typed, and about ten times cheaper to define than frozen dataclasses,
which matters because every command that reads a policy imports this module.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Union

from tiergate.errors import Location


class Name(NamedTuple):
    value: str
    loc: Location

    def __str__(self) -> str:
        return self.value


class Literal(NamedTuple):
    """A literal value. kind is one of string, number, duration, bool, list, name."""

    value: Any
    kind: str
    loc: Location
    text: str  # as written, for the formatter


# --- conditions -----------------------------------------------------------------------------

class Path(NamedTuple):
    parts: tuple[str, ...]
    loc: Location

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


class Compare(NamedTuple):
    path: Path
    op: str
    literal: Literal
    loc: Location
    depth: int = 1


class Member(NamedTuple):
    path: Path
    options: Literal  # a list literal
    loc: Location
    depth: int = 1


class Contains(NamedTuple):
    path: Path
    literal: Literal
    loc: Location
    depth: int = 1


class Truthy(NamedTuple):
    path: Path
    loc: Location
    depth: int = 1


class Not(NamedTuple):
    operand: "Condition"
    loc: Location
    depth: int = 1


class BoolOp(NamedTuple):
    op: str  # "and" | "or"
    operands: tuple["Condition", ...]
    loc: Location
    depth: int = 1


class Group(NamedTuple):
    """Parentheses as written (kept so the formatter can preserve them)."""

    inner: "Condition"
    loc: Location
    depth: int = 1


Condition = Union[Compare, Member, Contains, Truthy, Not, BoolOp, Group]


# --- statements -----------------------------------------------------------------------------

class Setting(NamedTuple):
    key: Name
    value: Literal
    loc: Location


class PolicyDecl(NamedTuple):
    name: Literal
    version: Literal
    settings: tuple[Setting, ...]
    loc: Location


class TiersDecl(NamedTuple):
    names: tuple[Name, ...]
    loc: Location


class RolesDecl(NamedTuple):
    names: tuple[Name, ...]
    loc: Location


class WorkflowDecl(NamedTuple):
    name: Name
    chains: tuple[tuple[Name, ...], ...]
    loc: Location


class ConsiderationDecl(NamedTuple):
    name: Name
    title: Literal
    kinds: tuple[Name, ...]
    loc: Location


class Rule(NamedTuple):
    tier: Name
    condition: Condition
    because: Literal | None
    loc: Location


class Otherwise(NamedTuple):
    tier: Name
    loc: Location


class ClassifyDecl(NamedTuple):
    lines: tuple[Rule | Otherwise, ...]
    loc: Location


class Waivable(NamedTuple):
    roles: tuple[Name, ...]
    up_to: Literal | None
    loc: Location


class RequirementNode(NamedTuple):
    """One `require`/`recommend` line. Which fields are set depends on the kind (see requirements.py)."""

    severity: str  # "require" | "recommend"
    kind: str
    loc: Location
    stage: Name | None = None
    roles: tuple[Name, ...] = ()
    count: int = 1
    subject: Name | None = None  # evidence or monitoring kind
    where: Condition | None = None
    for_names: tuple[Name, ...] = ()
    modes: tuple[Name, ...] = ()
    period: Literal | None = None
    waivable: Waivable | None = None
    explicit_id: Literal | None = None
    because: Literal | None = None  # forbid only
    clause_order: tuple[str, ...] = ()  # "waivable"/"as", as written
    when: Condition | None = None  # on the answers: the requirement holds only for use cases that meet it
    any_of: bool = False  # signoff: one approval from any one of the roles (not one from each)
    signed: Name | None = None  # `require signed ...`: only signed events meet it (the word, for its place)
    #: signoff `independent of R1, R2`: a sign-off counts only from someone holding none of these roles (at its time)
    #: who signed the version in none of them
    independent_of: tuple[Name, ...] = ()
    recorded_by: tuple[Name, ...] = ()  # evidence `recorded by ROLE`: only evidence recorded by a holder counts


class Drop(NamedTuple):
    """`drop "ID" because "REASON"`: a tier leaves out a requirement or forbid it inherits."""

    target: Literal  # the id, a string
    because: Literal
    loc: Location


class TierDecl(NamedTuple):
    name: Name
    parent: Name | None
    settings: tuple[Setting, ...]
    requirements: tuple[RequirementNode, ...]
    loc: Location
    items: tuple[Any, ...] = ()  # settings, requirements and drops in written order
    drops: tuple[Drop, ...] = ()


class RaciCell(NamedTuple):
    role: Name
    letters: str
    loc: Location


class RaciRow(NamedTuple):
    task: Literal  # kind "name" or "string"
    cells: tuple[RaciCell, ...]
    loc: Location


class RaciDecl(NamedTuple):
    rows: tuple[RaciRow, ...]
    loc: Location


Statement = Union[PolicyDecl, TiersDecl, RolesDecl, WorkflowDecl, ConsiderationDecl, ClassifyDecl, TierDecl, RaciDecl]


class Module(NamedTuple):
    file: str
    source: str
    statements: tuple[Statement, ...] = ()
