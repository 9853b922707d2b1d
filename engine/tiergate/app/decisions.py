"""The decision log of the service: a check or a promote answered only once its decision is in the ledger
(ledger/decisions.py), and the log read back."""
from __future__ import annotations

from datetime import datetime

from tiergate.errors import Location
from tiergate.language.policy import Policy
from tiergate.ledger.service import Ledger


def logged_check(ledger: Ledger, policy: Policy, request: dict, *, actor: str, **options):
    """`check` from the ledger (app/checking.py), its decision recorded before it is returned: (result, decision).
    When the decision cannot be written, the check is not answered (fail closed)."""
    from tiergate.app.checking import check
    from tiergate.app.recording import when
    from tiergate.ledger.decisions import decision_body, verdict_of

    result = check(policy, ledger=ledger.url, **options)
    body = decision_body("check", result.use_case, result.version, request, verdict_of(result),
                         result.policy.sha256, actor, when(None))
    row = ledger.append_bodies([body], policy, None, Location("decision"), strict=True)[0]
    return result, {**body, "seq": row.seq, "hash": row.hash}


def logged_promote(ledger: Ledger, policy: Policy, request: dict, *, actor: str, use_case: str, version: str,
                   to: str, mode: str | None = None):
    """`promote` (app/recording.py) with its decision: written in the same transaction as the transition when
    allowed; when blocked, written on its own before the refusal is raised again (Blocked, with `.decision`)."""
    from tiergate.app.recording import when
    from tiergate.ledger.actions import Blocked, promote
    from tiergate.ledger.decisions import decision_body, verdict_of

    at = when(None)

    def log(result) -> dict:
        return decision_body("promote", use_case, version, request, verdict_of(result), policy.sha256, actor, at)

    written: list = []
    try:
        row, result = promote(ledger, policy, None, use_case, version, to, mode, actor, at, strict=True,
                              also=lambda result: [log(result)], written=written)
    except Blocked as blocked:
        body = log(blocked.result)
        logged = ledger.append_bodies([body], policy, None, Location("decision"), strict=True)[0]
        blocked.decision = {**body, "seq": logged.seq, "hash": logged.hash}
        raise
    from tiergate.ledger.integrity import read_row

    decision = written[-1]
    return row, result, {**read_row(decision), "seq": decision.seq, "hash": decision.hash}


def decisions(ledger: Ledger, since: datetime | None = None, limit: int = 1000) -> list[dict]:
    """The decisions recorded at or after `since`, oldest first, at most `limit`."""
    from tiergate.inputs.events import parse_time
    from tiergate.ledger.decisions import DECISION
    from tiergate.ledger.integrity import read_row

    out = []
    for row in ledger.store.rows(types=(DECISION,)):
        body = read_row(row)
        if since is not None and (parse_time(body["at"]) or since) < since:
            continue
        out.append({**body, "seq": row.seq, "hash": row.hash})
        if len(out) >= limit:
            break
    return out
