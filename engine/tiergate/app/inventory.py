"""The inventory the web registry opens on: every model version where it stands, filtered, sorted, counted, paged."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from tiergate.language.policy import Policy
from tiergate.ledger.service import Ledger

#: rows per page
PER_PAGE = 100

#: what the inventory sorts by: column name -> the key of a row (StatusRow)
SORT_KEYS = {
    "use_case": lambda r: (r.use_case, r.version),
    "owner": lambda r: (r.owner, r.use_case, r.version),
    "tier": lambda r: (r.tier, r.use_case, r.version),
    "stage": lambda r: (r.stage, r.use_case, r.version),
    "since": lambda r: (r.since.timestamp() if r.since else 0.0, r.use_case, r.version),
    "attention": lambda r: (not r.attention, r.use_case, r.version),
}


@dataclass(frozen=True)
class Inventory:
    policy: Policy
    #: the rows of this page
    rows: Sequence[Any]
    #: rows that passed the filters, on every page
    matched: int
    #: every version, before the filters
    total: int
    page: int
    pages: int
    #: counts of every version (before the filters): by tier, by stage, and how many need attention
    by_tier: dict[str, int]
    by_stage: dict[str, int]
    attention: int
    #: what was asked: filters and order, for the page's links
    filters: dict[str, Any]
    sort: str
    descending: bool
    #: the owners and tiers and stages there are, for the filters' choices
    owners: Sequence[str]


def inventory(ledger: Ledger, policy: Policy | None, at: datetime | None = None, *, tier: str | None = None,
              stage: str | None = None, owner: str | None = None, attention: bool = False, sort: str = "use_case",
              descending: bool = False, page: int = 1, per_page: int = PER_PAGE) -> Inventory:
    """The registry at `at` (app.registry.status), filtered, sorted by `sort` (one of SORT_KEYS), one page of it.
    An unknown sort column, or a page past the last, is E659, naming the parameter."""
    from tiergate.app.registry import status
    from tiergate.errors import Diagnostic, Location, TiergateError, did_you_mean

    if sort not in SORT_KEYS:
        raise TiergateError(Diagnostic("E659", f"`sort` is {sort!r}; the inventory sorts by "
                                       + ", ".join(SORT_KEYS), Location("sort"), hint=did_you_mean(sort, SORT_KEYS)))
    if page < 1 or per_page < 1:
        raise TiergateError(Diagnostic("E659", "`page` counts from 1", Location("page")))
    everything = status(ledger, policy, None, at)
    rows = [r for r in everything.rows if (tier is None or r.tier == tier) and (stage is None or r.stage == stage)
            and (owner is None or r.owner == owner) and (not attention or r.attention)]
    rows.sort(key=SORT_KEYS[sort], reverse=descending)
    pages = max(1, -(-len(rows) // per_page))
    if page > pages:
        raise TiergateError(Diagnostic("E659", f"`page` is {page}; there are {pages}", Location("page")))
    start = (page - 1) * per_page
    return Inventory(everything.policy, rows[start:start + per_page], len(rows), len(everything.rows), page, pages,
                     dict(sorted(Counter(r.tier for r in everything.rows).items())),
                     dict(sorted(Counter(r.stage for r in everything.rows).items())),
                     sum(1 for r in everything.rows if r.attention),
                     {"tier": tier, "stage": stage, "owner": owner, "attention": attention}, sort, descending,
                     sorted({r.owner for r in everything.rows}))
