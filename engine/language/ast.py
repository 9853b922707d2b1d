"""Typed syntax-tree nodes of the policy language; every node keeps its source location."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from ..errors import Location


@dataclass(frozen=True)
class Name:
    value: str
    loc: Location

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Literal:
    """A literal value. kind is one of string, number, duration, bool, list, name."""

    value: Any
    kind: str
    loc: Location
    text: str  # as written, for the formatter


# --- conditions -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]
    loc: Location

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Compare:
    path: Path
    op: str
    literal: Literal
    loc: Location
    depth: int = 1


@dataclass(frozen=True)
class Member:
    path: Path
    options: Literal  # a list literal
    loc: Location
    depth: int = 1


@dataclass(frozen=True)
class Contains:
    path: Path
    literal: Literal
    loc: Location
    depth: int = 1


@dataclass(frozen=True)
class Truthy:
    path: Path
    loc: Location
    depth: int = 1


@dataclass(frozen=True)
class Not:
    operand: "Condition"
    loc: Location
    depth: int = 1


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple["Condition", ...]
    loc: Location
    depth: int = 1


@dataclass(frozen=True)
class Group:
    """Parentheses as written (kept so the formatter can preserve them)."""

    inner: "Condition"
    loc: Location
    depth: int = 1


Condition = Union[Compare, Member, Contains, Truthy, Not, BoolOp, Group]


# --- statements -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    key: Name
    value: Literal
    loc: Location


@dataclass(frozen=True)
class PolicyDecl:
    name: Literal
    version: Literal
    settings: tuple[Setting, ...]
    loc: Location


@dataclass(frozen=True)
class TiersDecl:
    names: tuple[Name, ...]
    loc: Location


@dataclass(frozen=True)
class RolesDecl:
    names: tuple[Name, ...]
    loc: Location


@dataclass(frozen=True)
class WorkflowDecl:
    name: Name
    chains: tuple[tuple[Name, ...], ...]
    loc: Location


@dataclass(frozen=True)
class ConsiderationDecl:
    name: Name
    title: Literal
    kinds: tuple[Name, ...]
    loc: Location


@dataclass(frozen=True)
class Rule:
    tier: Name
    condition: Condition
    because: Literal | None
    loc: Location


@dataclass(frozen=True)
class Otherwise:
    tier: Name
    loc: Location


@dataclass(frozen=True)
class ClassifyDecl:
    lines: tuple[Rule | Otherwise, ...]
    loc: Location


@dataclass(frozen=True)
class Waivable:
    roles: tuple[Name, ...]
    up_to: Literal | None
    loc: Location


@dataclass(frozen=True)
class RequirementNode:
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


@dataclass(frozen=True)
class TierDecl:
    name: Name
    parent: Name | None
    settings: tuple[Setting, ...]
    requirements: tuple[RequirementNode, ...]
    loc: Location
    items: tuple[Any, ...] = ()  # settings and requirements in written order


@dataclass(frozen=True)
class RaciCell:
    role: Name
    letters: str
    loc: Location


@dataclass(frozen=True)
class RaciRow:
    task: Literal  # kind "name" or "string"
    cells: tuple[RaciCell, ...]
    loc: Location


@dataclass(frozen=True)
class RaciDecl:
    rows: tuple[RaciRow, ...]
    loc: Location


Statement = Union[PolicyDecl, TiersDecl, RolesDecl, WorkflowDecl, ConsiderationDecl, ClassifyDecl, TierDecl, RaciDecl]


@dataclass(frozen=True)
class Module:
    file: str
    source: str
    statements: tuple[Statement, ...] = field(default=())
