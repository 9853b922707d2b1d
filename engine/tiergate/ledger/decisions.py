"""The decision log: every check and promote the service answers, recorded in the ledger before the answer leaves
(OPA's decision logs, never dropped): its id, the time, the person, the policy's SHA-256, a digest of the request
and the verdict. A decision belongs to the version it was about (its history shows it) and takes that version's
`decision` slot of the standing index (status reads only the latest, and nothing of it)."""
from __future__ import annotations

import hashlib
import re
import uuid

from tiergate.errors import Diagnostic, Location
from tiergate.ledger.chain import canonical

DECISION = "decision"
OPERATIONS = ("check", "promote")
VERDICTS = ("allowed", "blocked", "compliant", "failing")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[0-9a-f]{32}$")


def input_digest(request: dict) -> str:
    """The SHA-256 of the request as canonical JSON: what was asked, without storing it."""
    return hashlib.sha256(canonical(request).encode("utf-8")).hexdigest()


def decision_body(operation: str, use_case: str, version: str, request: dict, verdict: str, policy_sha256: str,
                  actor: str, at: str) -> dict:
    return {"at": at, "type": DECISION, "use_case": use_case, "version": version, "actor": actor,
            "decision_id": uuid.uuid4().hex, "operation": operation, "verdict": verdict,
            "policy_sha256": policy_sha256, "input_sha256": input_digest(request)}


def verdict_of(result) -> str:
    """A check's verdict in one word: allowed or blocked when a stage was asked about, else compliant or failing."""
    if result.allowed is not None:
        return "allowed" if result.allowed else "blocked"
    return "failing" if result.failing else "compliant"


def body_problems(body: dict, where: Location) -> list[Diagnostic]:
    def bad(message: str) -> list[Diagnostic]:
        return [Diagnostic("E400", message, where)]

    if not isinstance(body.get("decision_id"), str) or not _ID.match(body["decision_id"]):
        return bad("a decision names itself by `decision_id`, 32 lowercase hexadecimal digits")
    if body.get("operation") not in OPERATIONS:
        return bad(f"a decision's `operation` is one of {', '.join(OPERATIONS)}")
    if body.get("verdict") not in VERDICTS:
        return bad(f"a decision's `verdict` is one of {', '.join(VERDICTS)}")
    for key in ("policy_sha256", "input_sha256"):
        if not isinstance(body.get(key), str) or not _SHA256.match(body[key]):
            return bad(f"a decision's `{key}` is a SHA-256 (64 lowercase hexadecimal digits)")
    return []
