"""Reading the ledger: the registry (`status`), a model's timeline, export, reclassification, and the audit."""
from __future__ import annotations

from datetime import datetime

from tiergate.app.results import History, Reclassified, Status
from tiergate.inputs.events import Roster
from tiergate.language.policy import Policy
from tiergate.ledger.service import Ledger


def status(ledger: Ledger, policy: Policy, roster: Roster | None, at: datetime | None = None, *,
           tier: str | None = None, stage: str | None = None, owner: str | None = None,
           attention: bool = False) -> Status:
    """Every model version, where it stands at `at` (default now), filtered by tier, stage, owner, attention."""
    from tiergate.app.recording import when
    from tiergate.inputs.events import parse_time
    from tiergate.ledger.registry import status as judge

    rows = judge(ledger, policy, roster, parse_time(when(at)))
    rows = [r for r in rows if (tier is None or r.tier == tier) and (stage is None or r.stage == stage)
            and (owner is None or r.owner == owner) and (not attention or r.attention)]
    return Status(policy, rows)


def history(ledger: Ledger, use_case: str, version: str | None = None) -> History:
    """A model's timeline (no entries when the ledger holds no event for it)."""
    from tiergate.ledger.registry import history as timeline

    return History(use_case, version, timeline(ledger, use_case, version))


def export(ledger: Ledger, fmt: str = "jsonl", use_case: str | None = None) -> str:
    """The ledger's events as JSON Lines or YAML (a full export re-imported into an empty ledger gives the same head)."""
    from tiergate.ledger.actions import export as dump

    return dump(ledger, fmt, use_case)


def reclassify(ledger: Ledger, policy: Policy, *, actor: str, at: datetime | None = None,
               dry_run: bool = False) -> Reclassified:
    """Classify every registered use case again under `policy`, recording what was decided again."""
    from tiergate.app.recording import when
    from tiergate.ledger.actions import reclassify as decide

    return Reclassified(policy, decide(ledger, policy, actor, when(at), dry_run, strict=True), dry_run)


def verify(ledger: Ledger, expected_head: str | None = None):
    """The hash chain from the first event to the head, then the index `status` reads."""
    return ledger.verify(expected_head)


def reindex(ledger: Ledger) -> tuple[int, int]:
    """Build the index `status` reads again from the events: (index rows, events)."""
    return ledger.reindex(), ledger.count()
