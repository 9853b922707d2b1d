"""Reading the ledger: the registry (`status`), a model's timeline, export, reclassification, and the audit."""
from __future__ import annotations

from datetime import datetime

from tiergate.app.results import History, PolicyLog, Reclassified, Status
from tiergate.inputs.events import Roster
from tiergate.language.policy import Policy
from tiergate.ledger.service import Ledger


def status(ledger: Ledger, policy: Policy | None, roster: Roster | None, at: datetime | None = None, *,
           tier: str | None = None, stage: str | None = None, owner: str | None = None,
           attention: bool = False) -> Status:
    """Every model version, where it stands at `at` (default now), filtered by tier, stage, owner, attention.

    Under `policy`; when None, under the policy the ledger holds in force at `at` (the latest adopted, for now).
    A past `at` lies between the ledger's first event and now. Each version's past transitions are judged under the
    policy and the roster in force at their time."""
    from tiergate.app.recording import when
    from tiergate.inputs.events import parse_time
    from tiergate.ledger.inforce import bounded, in_force, policy_in_force
    from tiergate.ledger.registry import status as judge
    from tiergate.ledger.service import now

    if at is not None:
        bounded(ledger, at, now())
    if policy is None:
        policy = policy_in_force(ledger, at)
    forces = in_force(ledger, policy, at, roster)
    rows = judge(ledger, forces.policy, roster or forces.roster, parse_time(when(at)), eras=forces.for_replay())
    rows = [r for r in rows if (tier is None or r.tier == tier) and (stage is None or r.stage == stage)
            and (owner is None or r.owner == owner) and (not attention or r.attention)]
    return Status(forces.policy, rows)


def history(ledger: Ledger, use_case: str, version: str | None = None) -> History:
    """A model's timeline (no entries when the ledger holds no event for it)."""
    from tiergate.ledger.registry import history as timeline

    return History(use_case, version, timeline(ledger, use_case, version))


def policy_log(ledger: Ledger) -> PolicyLog:
    """Every adoption of a policy version the ledger holds, oldest first."""
    versions = ledger.policy_versions()
    return PolicyLog(tuple(versions.adoptions), versions.adoptions[-1] if versions.adoptions else None)


def policy_source(ledger: Ledger, sha256: str, *, questionnaire: bool = False) -> str:
    """The stored source of the policy version whose SHA-256 starts with `sha256` (its questionnaire schema's, with
    `questionnaire`), checked against its hash; E642 when no version, or several, match."""
    from tiergate.errors import Diagnostic, Location, TiergateError

    versions = ledger.policy_versions()
    adoption = versions.find(sha256)
    digest = adoption.questionnaire_sha256 if questionnaire else adoption.sha256
    if digest not in versions.sources:
        raise TiergateError(Diagnostic("E641", f"the ledger names sha256 {digest[:12]} (adoption #{adoption.seq}) but "
                                       "holds no source for it", Location("ledger", adoption.seq)))
    return versions.sources[digest]


def export(ledger: Ledger, fmt: str = "jsonl", use_case: str | None = None) -> str:
    """The ledger's events as JSON Lines or YAML (a full export re-imported into an empty ledger gives the same head)."""
    from tiergate.ledger.actions import export as dump

    return dump(ledger, fmt, use_case)


def reclassify(ledger: Ledger, policy: Policy, *, actor: str, at: datetime | None = None,
               dry_run: bool = False) -> Reclassified:
    """Classify every registered use case again under `policy`, recording what was decided again."""
    from tiergate.app.recording import _adoption, when
    from tiergate.ledger.actions import reclassify as decide

    adopted: list = []
    decided = decide(ledger, policy, actor, when(at), dry_run, strict=True, adopted=adopted)
    return Reclassified(policy, decided, dry_run, _adoption(adopted))


def verify(ledger: Ledger, expected_head: str | None = None):
    """The hash chain from the first event to the head, then the index `status` reads."""
    return ledger.verify(expected_head)


def reindex(ledger: Ledger) -> tuple[int, int]:
    """Build the index `status` reads again from the events: (index rows, events)."""
    return ledger.reindex(), ledger.count()
