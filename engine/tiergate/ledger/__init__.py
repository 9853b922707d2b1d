"""The governance ledger: an append-only, hash-chained record of lifecycle events, kept by a store (a SQLite file
or a PostgreSQL database).

The Ledger (service.py) validates, chains (chain.py) and indexes (standing.py) the events above the store; the
store (store/) only keeps the rows, behind one protocol, and is chosen by the ledger's URL.
"""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PATH = Path(".tiergate") / "ledger.db"


def ledger_path(path: str | None = None) -> Path | str:
    """--ledger, else $TIERGATE_LEDGER, else .tiergate/ledger.db in the working directory: a path, or the text of a
    URL as given (`sqlite:///PATH`; store/base.py, open_store), which a Path would spoil."""
    from tiergate.errors import TiergateError
    from tiergate.ledger.store.base import split_url

    given = path or os.environ.get("TIERGATE_LEDGER")
    if not given:
        return DEFAULT_PATH
    try:
        plain = split_url(given) == ("sqlite", given)
    except TiergateError:  # a URL that names no ledger: opening it says why
        plain = False
    return Path(given) if plain else given
