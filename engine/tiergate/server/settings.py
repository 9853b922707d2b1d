"""What a server runs with: its ledger, its policy, who administers it, how large a request may be, how many
connections to the ledger it keeps."""
from __future__ import annotations

from dataclasses import dataclass

#: the largest request body a server reads by default (1 MiB); past it the answer is 413
MAX_BODY = 1 << 20
#: the ledger connections a server keeps open by default (on PostgreSQL: each server's share of max_connections)
CONNECTIONS = 10


@dataclass(frozen=True)
class Settings:
    #: the ledger's path or URL (sqlite:///…, postgresql://…)
    ledger: str
    #: the policy file; None: the policy the ledger holds in force (else the shipped default pack)
    policy: str | None = None
    #: the role whose holders may store a roster and revoke tokens over the API
    admin_role: str = "governance_admin"
    max_body: int = MAX_BODY
    #: the most ledger connections the server holds at once; a request waits for one (pool.py)
    connections: int = CONNECTIONS
    #: seconds between the signed checkpoints the server records (None: it records none); with `checkpoint_key`
    checkpoint_every: float | None = None
    #: the operator's private key file the server signs its checkpoints with
    checkpoint_key: str | None = None
