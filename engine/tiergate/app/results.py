"""The result objects the application layer returns and the reports render (`tiergate.reports.render`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from tiergate.errors import Diagnostic


@dataclass(frozen=True)
class Classified:
    """Use cases classified from answers files: the results, the files that could not be, and how they were asked
    for (`single`: one file named on its own, reported in full)."""
    policy: Any
    results: Sequence
    errors: Sequence[Diagnostic] = ()
    single: bool = False

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if any(c.forbidden for c in self.results) else 0


@dataclass(frozen=True)
class Table:
    """A matrix (tiers x considerations, RACI, use cases x considerations) with its title and provenance."""
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence]
    meta: str
    json_data: Any = None


@dataclass(frozen=True)
class TierRequirements:
    """Every requirement of one tier, inheritance resolved, grouped by stage in the workflow's order."""
    policy: Any
    tier: Any
    groups: Sequence[tuple[str, list]]


@dataclass(frozen=True)
class WorkflowGraph:
    """A workflow with the gates of one tier (None: no gates drawn)."""
    policy: Any
    workflow: Any
    tier: Any


@dataclass(frozen=True)
class PolicyDoc:
    """A policy's documentation as blocks (`reports.policydoc.build`), with the page title."""
    title: str
    blocks: Sequence[tuple]


@dataclass(frozen=True)
class Status:
    """The registry: one row per model version, filtered, judged at one time under one policy."""
    policy: Any
    rows: Sequence


@dataclass(frozen=True)
class History:
    """A model's timeline in the ledger, oldest first."""
    use_case: str
    version: str | None
    entries: Sequence[dict]


@dataclass(frozen=True)
class PolicyLog:
    """The adoptions of policy versions a ledger holds (ledger/policyversions.py Adoption), oldest first, and the
    one in force now."""
    adoptions: Sequence
    in_force: Any = None


@dataclass(frozen=True)
class TokenList:
    """The access tokens a ledger has issued (ledger/tokens.py Token), oldest first: never the tokens themselves."""
    tokens: Sequence


@dataclass(frozen=True)
class Recorded:
    """An event written to the ledger: its sequence number, hash and body; and the adoption of the policy it was
    recorded under, when that policy was not in force (policyversions.py)."""
    seq: int
    hash: str
    body: dict
    adopted: Any = None


@dataclass(frozen=True)
class Promoted:
    """A transition written by `promote`, with the check that allowed it (and the policy's adoption, as Recorded)."""
    seq: int
    hash: str
    check: Any
    adopted: Any = None


@dataclass(frozen=True)
class Reclassified:
    """What `reclassify` decided: every use case decided again, and the policy it was decided under."""
    policy: Any
    decided: Sequence
    dry_run: bool = False
    adopted: Any = None  # the policy's adoption (Recorded), when it was not in force

    @property
    def changes(self) -> list:
        return [d for d in self.decided if d.changed]


@dataclass(frozen=True)
class Imported:
    """An events file imported whole: how many events, the new head, and the violations kept on purpose."""
    count: int
    head: str
    admitted: Sequence[Diagnostic] = field(default_factory=tuple)
