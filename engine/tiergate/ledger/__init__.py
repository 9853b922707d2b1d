"""The governance ledger: an append-only, hash-chained store of lifecycle events (SQLite by default)."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PATH = Path(".tiergate") / "ledger.db"


def ledger_path(path: str | None = None) -> Path:
    """--ledger, else $TIERGATE_LEDGER, else .tiergate/ledger.db in the working directory."""
    return Path(path or os.environ.get("TIERGATE_LEDGER") or DEFAULT_PATH)
