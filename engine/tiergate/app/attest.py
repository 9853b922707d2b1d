"""Offline bundles of a version's signed approvals (ledger/bundle.py): export one, verify one with no ledger."""
from __future__ import annotations

from dataclasses import dataclass

from tiergate.ledger.bundle import Verdict
from tiergate.ledger.service import Ledger


@dataclass(frozen=True)
class Exported:
    """`attest export`: the bundle's file text, and what it holds."""

    text: str
    first: int  # the seq of its first event
    last: int  # the seq of its last (the checkpoint's head)
    own: int  # events of the version among them (the rest: other models' events recorded meanwhile)
    checkpoint: dict


def export_bundle(ledger: Ledger, use_case: str, version: str) -> Exported:
    """The bundle of a version (E696 when none can be made)."""
    from tiergate.ledger.bundle import export, file_text

    with ledger.store.snapshot():  # (one moment of the ledger, whatever is appended meanwhile)
        bundle, own = export(ledger.store, use_case, version)
    return Exported(file_text(bundle), bundle["first"], bundle["first"] + len(bundle["events"]) - 1, own,
                    bundle["checkpoint"])


def verify_bundle(path: str, trusted_roster: str | None = None) -> Verdict:
    """Check the bundle at `path` (E695 when it is no bundle; E001 when it cannot be read); `trusted_roster`: a roster
    file whose keys the signatures must be made with."""
    from tiergate.fileio import read_source
    from tiergate.inputs.events import load_roster
    from tiergate.ledger.bundle import BUNDLE_LIMIT, parse, verify

    trusted = load_roster(trusted_roster) if trusted_roster is not None else None
    data = read_source(path, BUNDLE_LIMIT, what="a bundle", code="E695", subject="the bundle")
    return verify(data, parse(data, path), trusted, trusted_roster)
