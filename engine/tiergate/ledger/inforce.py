"""What was in force when: the policy versions and the rosters a ledger holds, as the eras a replay judges under.

The policy in force at a time is the one adopted latest at or before it (policyversions.py); the roster in force
is the roster event recorded latest at or before it. Before the first of either, the first one applies: the
ledger knows of none earlier. So a roster imported later does not reach back: a role granted on 1 May does not
make a sign-off given in April count for a transition judged in April.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tiergate.decide.eras import Era, Timeline
from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.inputs.events import Roster, format_time, parse_time
from tiergate.language.policy import Policy
from tiergate.ledger.integrity import read_row, unreadable
from tiergate.ledger.policyversions import PolicyVersions, remember
from tiergate.ledger.service import NOBODY, ROSTER, Ledger, roster_from_body


@dataclass(frozen=True)
class StoredRoster:
    seq: int
    at: datetime
    roster: Roster


def stored_rosters(ledger: Ledger) -> list[StoredRoster]:
    """Every roster the ledger holds, in time order (equal times in recorded order), each named by its event."""
    out = []
    for row in ledger.store.rows(NOBODY, NOBODY, types=(ROSTER,)):
        try:
            roster = roster_from_body(read_row(row))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise unreadable(row.seq, f"it is not a roster ({exc})") from None
        at = parse_time(row.at)
        if at is None:
            raise unreadable(row.seq, "its `at` is not a time")
        out.append(StoredRoster(row.seq, at, Roster(roster.people, f"ledger event #{row.seq}")))
    out.sort(key=lambda r: (r.at, r.seq))
    return out


@dataclass(frozen=True)
class InForce:
    """The eras of a ledger's history, and the policy and roster in force at the time asked about."""

    eras: tuple[Era, ...]
    policy: Policy
    roster: Roster | None
    #: the adoption in force at the time asked about (None when the ledger holds no policy version)
    adopted: object | None = None

    @property
    def judged_alike(self) -> bool:
        """Whether every era is judged under the same policy and roster as the present (nothing to switch)."""
        return all(e.policy is self.policy and e.roster is self.roster for e in self.eras)

    def for_replay(self) -> Timeline | None:
        """What `check(eras=...)` takes: None when one policy and one roster judge the whole history."""
        return None if self.judged_alike else Timeline(self.eras)


def policy_in_force(ledger: Ledger, at: datetime | None = None) -> Policy:
    """The policy in force at `at` (default: the latest adopted), compiled from its stored source; the shipped
    default pack when the ledger has adopted none. What a command reading the ledger judges under when no policy
    is named."""
    versions = PolicyVersions.read(ledger.store)
    if not versions.adoptions:
        from tiergate.language.load import load_policy

        return load_policy()
    return versions.policy(versions.in_force(at) if at is not None else versions.adoptions[-1])


def in_force(ledger: Ledger, policy: Policy, at: datetime | None = None, roster: Roster | None = None) -> InForce:
    """The eras of the ledger's history, and the roster in force now, or at `at`; the present is judged under
    `policy` (the one named, else `policy_in_force`).

    Each version is compiled from its stored source once per process; `policy` itself stands for its own version.
    `roster`: what judges when the ledger holds no roster (a roster file given to `check`)."""
    remember(policy)
    versions = PolicyVersions.read(ledger.store)
    rosters = stored_rosters(ledger)
    times = sorted({a.at for a in versions.adoptions} | {r.at for r in rosters})

    def policy_at(t: datetime | None) -> Policy:
        adoption = versions.in_force(t) if t is not None else (versions.adoptions[0] if versions.adoptions else None)
        if adoption is None or (adoption.sha256, adoption.questionnaire_sha256) == \
                (policy.sha256, policy.questionnaire_sha256):
            return policy  # (the policy given stands for its own version, whatever file it was read from)
        return versions.policy(adoption)

    nobody = roster or Roster({}, "no roster")

    def roster_at(t: datetime | None) -> Roster:
        if not rosters:
            return nobody
        found = rosters[0]
        for r in rosters:
            if t is not None and r.at <= t:
                found = r
        return found.roster

    eras: list[Era] = []
    for t in [None, *times]:
        p, r = policy_at(t), roster_at(t)
        if eras and eras[-1].policy is p and eras[-1].roster is r:
            continue
        eras.append(Era(t, p, r))
    # (the eras and the present share their objects where they are the same version: compiled() gives `policy`
    # for its own version, and each stored roster is one object)
    if at is None:
        current_roster = rosters[-1].roster if rosters else roster
        adopted = versions.adoptions[-1] if versions.adoptions else None
    else:
        current_roster = roster_at(at) if rosters else roster
        adopted = versions.in_force(at)
    return InForce(tuple(eras), policy, current_roster, adopted)


def bounded(ledger: Ledger, at: datetime, now: datetime) -> None:
    """E632 when `at` is before the ledger's first event or later than now: a point in time the ledger can answer
    for lies between them."""
    low = ledger.store.span()[0]
    first = next(iter(ledger.store.chain(low, low)), None) if low else None
    first_at = parse_time(first[1]) if first is not None else None
    if first_at is not None and at < first_at:  # (an imported history may be older than the first event recorded)
        first_at = min(filter(None, (parse_time(r.at) for r in ledger.store.rows())), default=first_at)
    if first_at is None:
        raise TiergateError(Diagnostic("E632", "the ledger holds no event, so it can say nothing of any time",
                                       Location("--at")))
    if at < first_at:
        raise TiergateError(Diagnostic("E632", f"--at {format_time(at)} is before the ledger's first event "
                                       f"({format_time(first_at)}): the ledger knows nothing of that time",
                                       Location("--at"), hint=f"give a time from {format_time(first_at)} on"))
    if at > now:
        raise TiergateError(Diagnostic("E632", f"--at {format_time(at)} is later than now ({format_time(now)}): "
                                       "the ledger answers for what has happened", Location("--at"),
                                       hint="leave out --at to ask about now"))
