"""The compiled, immutable Policy model that classification, gates and reports read."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Callable, Mapping, TypeVar

from tiergate.language.conditions import CompiledCondition, ConditionError
from tiergate.errors import Diagnostic, Location

T = TypeVar("T")


@dataclass(frozen=True)
class Requirement:
    id: str
    kind: str  # a key of requirements.KINDS
    severity: str  # "require" (blocking) or "recommend"
    text: str  # the canonical source line
    loc: Location
    tier: str  # the tier that declares it (a child tier inherits it unchanged)
    stage: str | None = None
    relation: str | None = None  # "before" or "after"
    roles: tuple[str, ...] = ()
    count: int = 1
    subject: str | None = None
    condition: CompiledCondition | None = None
    for_names: tuple[str, ...] = ()
    for_answers: tuple[str, ...] = ()  # `for` names that are list questions: the use case's answers stand for them
    modes: tuple[str, ...] = ()
    period: int | None = None  # seconds
    waivable_by: tuple[str, ...] = ()
    waiver_max: int | None = None  # seconds
    because: str | None = None
    covers: str = ""  # the measure kind that considerations list
    #: on the answers: the requirement holds only for the use cases that meet it (None: for every use case)
    when: CompiledCondition | None = None
    any_of: bool = False  # signoff: one approval from any one of `roles` meets it
    #: `require signed ...`: only signed events meet it (an event is signed iff `"envelope" in event.data`)
    signed: bool = False
    #: signoff `independent of ...`: a sign-off counts only from someone who held none of these roles when signing
    #: and signed the same version in none of them
    independent_of: tuple[str, ...] = ()
    #: evidence `recorded by ...`: the latest evidence counts only when its actor held one of these roles then
    recorded_by: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        return self.severity == "require"

    def applies(self, answers: Mapping[str, Any]) -> bool:
        """Whether the requirement holds for a use case with these answers. A `when` that cannot be decided (an answer
        it reads is missing) leaves it in force: a requirement is never dropped on a guess."""
        if self.when is None:
            return True
        try:
            return bool(self.when(answers))
        except ConditionError:
            return True


@dataclass(frozen=True)
class Dropped:
    """An inherited requirement or forbid that a tier leaves out (`drop "ID" because "REASON"`)."""

    requirement: Requirement  # as the tier it comes from states it
    because: str
    loc: Location  # the `drop` line
    tier: str  # the tier that drops it (a tier under it inherits the drop)

    @property
    def id(self) -> str:
        return self.requirement.id


@dataclass(frozen=True)
class Tier:
    name: str
    rank: int  # 0 = lowest
    loc: Location
    parent: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    requirements: tuple[Requirement, ...] = ()
    workflow: str = ""
    dropped: tuple[Dropped, ...] = ()  # inherited measures this tier (or a tier it extends) leaves out

    @cached_property
    def conditional(self) -> tuple[Requirement, ...]:
        """The requirements that hold only for some use cases (`when`)."""
        return tuple(r for r in self.requirements if r.when is not None)

    @property
    def forbids(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.kind == "forbid")

    def requirement(self, requirement_id: str) -> Requirement | None:
        for r in self.requirements:
            if r.id == requirement_id:
                return r
        return None

    def gate(self, stage: str) -> tuple[Requirement, ...]:
        """The requirements checked when a version enters `stage`."""
        return self._gates.get(stage, ())

    def obligations(self) -> tuple[Requirement, ...]:
        return self._obligations

    @cached_property
    def _gates(self) -> dict[str, tuple[Requirement, ...]]:
        gates: dict[str, list[Requirement]] = {}
        for r in self.requirements:
            if r.relation == "before":
                gates.setdefault(r.stage, []).append(r)
        return {stage: tuple(reqs) for stage, reqs in gates.items()}

    @cached_property
    def _obligations(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.relation == "after")


@dataclass(frozen=True)
class Workflow:
    name: str
    stages: tuple[str, ...]  # in order of first appearance
    edges: tuple[tuple[str, str], ...]
    start: str
    loc: Location

    def successors(self, stage: str) -> tuple[str, ...]:
        return tuple(b for a, b in self.edges if a == stage)

    @cached_property
    def edge_set(self) -> frozenset[tuple[str, str]]:
        """The edges, for a membership test per transition."""
        return frozenset(self.edges)

    @cached_property
    def stage_set(self) -> frozenset[str]:
        return frozenset(self.stages)


@dataclass(frozen=True)
class Consideration:
    id: str
    title: str
    kinds: tuple[str, ...]
    loc: Location


@dataclass(frozen=True)
class Rule:
    index: int
    tier: str
    condition: CompiledCondition
    because: str | None
    loc: Location


@dataclass(frozen=True)
class RaciRow:
    task: str
    cells: tuple[tuple[str, str], ...]  # (role, letters)
    loc: Location


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    description: str
    file: str
    sha256: str
    source: str = field(repr=False)
    tiers: tuple[Tier, ...]
    roles: tuple[str, ...]
    workflows: Mapping[str, Workflow]
    default_workflow: str
    considerations: tuple[Consideration, ...]
    rules: tuple[Rule, ...]
    floor: str
    floor_loc: Location
    raci: tuple[RaciRow, ...]
    questionnaire: Mapping[str, Any] = field(repr=False)
    questionnaire_file: str = ""
    #: the questionnaire schema's text, as read (what a ledger stores beside the policy's source)
    questionnaire_source: str = field(default="", repr=False)
    warnings: tuple[Diagnostic, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "artifacts", {})  # see compiled(); kept with the policy, gone with it

    def compiled(self, key: str, build: Callable[[Policy], T]) -> T:
        """An artifact compiled from this policy (the classifier's code, gate plans, validators), built on first
        need and kept with the policy: nothing is keyed by `id()`, and it is freed with the policy.

        Safe from several threads: two threads may both build it the first time, and one result is kept for good
        (`dict.setdefault` is atomic), so every caller sees a whole artifact. Hot paths may read
        `policy.artifacts[key]` directly and fall back to this method on KeyError.
        """
        try:
            return self.artifacts[key]
        except KeyError:
            return self.artifacts.setdefault(key, build(self))

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)

    @cached_property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles)

    @cached_property
    def requirement_ids(self) -> frozenset[str]:
        return frozenset(r.id for t in self.tiers for r in t.requirements)

    def tier(self, name: str) -> Tier:
        return self._tiers_by_name[name]  # (KeyError for a tier the policy does not have)

    @cached_property
    def _tiers_by_name(self) -> dict[str, Tier]:
        return {t.name: t for t in self.tiers}

    def workflow_of(self, tier: Tier | str) -> Workflow:
        if isinstance(tier, str):
            tier = self.tier(tier)
        return self.workflows[tier.workflow or self.default_workflow]

    @cached_property
    def questionnaire_sha256(self) -> str:
        """The SHA-256 of the questionnaire schema's text."""
        import hashlib

        return hashlib.sha256(self.questionnaire_source.encode("utf-8")).hexdigest()

    def identity(self) -> dict:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}
