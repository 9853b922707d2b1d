"""Governance KPIs of a ledger at a time, optionally counting only what happened since another (docs/kpis.md)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tiergate.language.policy import Policy
from tiergate.ledger.kpis import Summary
from tiergate.ledger.service import Ledger


@dataclass(frozen=True)
class Kpis:
    """The KPIs (`summary`, ledger/kpis.py) of the versions registered by `at`, judged at `at` under `policy`;
    counts of what happened (decisions, sign-offs, violations, waivers granted, reclassifications, entries into
    production) are over `since` to `at` (the whole history when `since` is None)."""

    policy: Any
    at: datetime
    since: datetime | None
    summary: Summary


def kpis(ledger: Ledger, policy: Policy | None = None, at: datetime | None = None,
         since: datetime | None = None) -> Kpis:
    """The governance KPIs at `at` (default now), under `policy` (None: the one the ledger holds in force at `at`),
    each past transition judged under the policy and roster in force at its time, as `status` judges them. A past
    `at` lies between the ledger's first event and now (E632); `since` is not later than `at` (E632)."""
    from tiergate.app.recording import when
    from tiergate.errors import Diagnostic, Location, TiergateError
    from tiergate.inputs.events import Roster, format_time, parse_time
    from tiergate.ledger.inforce import bounded, in_force, policy_in_force
    from tiergate.ledger.kpifacts import Window, collect
    from tiergate.ledger.kpis import summarise
    from tiergate.ledger.service import now

    if at is not None:
        bounded(ledger, at, now())
    moment = parse_time(when(at))
    if since is not None and since > moment:
        raise TiergateError(Diagnostic("E632", f"--since {format_time(since)} is later than the time asked about "
                                       f"({format_time(moment)}): the window would hold nothing",
                                       Location("--since"), hint="give a --since before --at (or before now)"))
    if policy is None:
        policy = policy_in_force(ledger, at)
    forces = in_force(ledger, policy, at)
    people = forces.roster or ledger.roster() or Roster({}, "no roster")
    facts, reclassified, decisions = collect(ledger, forces.policy, people, Window(moment, since),
                                             forces.for_replay())
    return Kpis(forces.policy, moment, since, summarise(forces.policy, facts, reclassified, decisions))
