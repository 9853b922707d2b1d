"""Signed checkpoints: the ledger's head hash and event count at a moment, signed by an operator's key.

A checkpoint is an event of the ledger (type `checkpoint`, use case and version `-`) that says "the ledger held
`count` events and event `count` had the hash `head`", signed like an approval: its envelope is a DSSE envelope of
an in-toto Statement whose subject is the ledger at that head (name `tiergate-ledger`, digest sha256 = the head) and
whose predicate is the checkpoint event itself. Its signer is a person of the roster with a key valid at its time.

Kept somewhere else too (`audit checkpoint --out FILE`), a checkpoint lets anyone prove later that the ledger still
extends it: event `count` still has the hash `head`, so nothing at or before it changed or went missing (each hash
covers every event before it). `audit checkpoint` first checks the whole ledger, every signature included, so a
checkpoint also says that every signed event up to its head was checked then: `audit verify --checkpoint FILE`
checks the chain from the first event but the signatures only after the checkpoint (docs/signing.md).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.inputs.events import Roster, format_time, parse_time

CHECKPOINT = "checkpoint"
NOBODY = "-"
#: the subject name of a checkpoint's statement: the ledger, at the head its digest names
LEDGER_SUBJECT = "tiergate-ledger"
_FIELDS = ("at", "type", "use_case", "version", "actor", "count", "head", "envelope")
_CHECKPOINT_LIMIT = 1024 * 1024  # bytes of a checkpoint file read whole (one is about a kilobyte)


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint read and checked: its event (with the envelope), who signed it, with which key."""

    body: dict
    signer: str
    key_id: str

    @property
    def count(self) -> int:
        return self.body["count"]

    @property
    def head(self) -> str:
        return self.body["head"]

    @property
    def at(self) -> datetime:
        return parse_time(self.body["at"])


def unsigned_body(count: int, head: str, actor: str, at: str) -> dict:
    return {"at": at, "type": CHECKPOINT, "use_case": NOBODY, "version": NOBODY, "actor": actor, "count": count,
            "head": head}


def statement_of(event: dict) -> dict:
    """The in-toto Statement v1 a checkpoint's envelope signs: the ledger at its head, and the event (no envelope)."""
    from tiergate.inputs.dsse import STATEMENT_TYPE, predicate_type

    return {"_type": STATEMENT_TYPE, "subject": [{"name": LEDGER_SUBJECT, "digest": {"sha256": event["head"]}}],
            "predicateType": predicate_type(CHECKPOINT), "predicate": dict(event)}


def sign(event: dict, private_key) -> dict:
    """The checkpoint event with its envelope, signed with `private_key` (a cryptography Ed25519PrivateKey)."""
    from tiergate.inputs.dsse import sign_statement

    return {**event, "envelope": sign_statement(statement_of(event), private_key).as_dict()}


def body_problems(body: dict, where: Location) -> list[Diagnostic]:
    """What is wrong with the shape of a checkpoint event (E400)."""
    def bad(message: str) -> list[Diagnostic]:
        return [Diagnostic("E400", message, where)]

    if (body.get("use_case"), body.get("version")) != (NOBODY, NOBODY):
        return bad(f"a checkpoint belongs to no use case: its use_case and version are `{NOBODY}`")
    extra = sorted(set(body) - set(_FIELDS))
    if extra:
        return bad(f"a checkpoint has no field `{extra[0]}` (it has {', '.join(_FIELDS)})")
    count = body.get("count")
    if type(count) is not int or count < 1:
        return bad("a checkpoint's `count` is the number of events it covers, a whole number from 1")
    head = body.get("head")
    if not isinstance(head, str) or len(head) != 64 or any(c not in "0123456789abcdef" for c in head):
        return bad("a checkpoint's `head` is the hash of its last event: 64 lowercase hexadecimal digits")
    if not isinstance(body.get("envelope"), dict):
        return bad("a checkpoint is signed: its `envelope` is a DSSE envelope (audit checkpoint --sign KEYFILE)")
    return []


def check(body: dict, roster: Roster | None, head_at, where: Location) -> Checkpoint:
    """The checkpoint `body`, checked: its shape (E400), its head the hash of event `count` of this ledger (E694;
    `head_at(count)` gives that hash, or None when the ledger holds fewer events), its envelope signed by a key the
    roster gives its actor at its time (E691, E692) and its statement exactly this checkpoint (E693)."""
    problems = body_problems(body, where)
    if problems:
        raise TiergateError(problems)
    wrong = head_problem(body, head_at)
    if wrong is not None:
        raise TiergateError(Diagnostic(
            "E694", f"the checkpoint is not of this ledger: {wrong}", where,
            hint="a checkpoint is made of the ledger it is recorded in or checked against (tiergate audit checkpoint)"))
    return signed_by(body, roster, where)


def head_problem(body: dict, head_at) -> str | None:
    """Why the ledger (`head_at(count)`: the hash of its event `count`, None when it holds fewer) does not hold the
    checkpoint's head; None when it does."""
    found = head_at(body["count"])
    if found == body["head"]:
        return None
    said = f"event {body['count']} has the hash {found}" if found is not None else \
        f"the ledger holds fewer than {body['count']} events"
    return f"the checkpoint says event {body['count']} has the hash {body['head']}, and {said}"


def signed_by(body: dict, roster: Roster | None, where: Location) -> Checkpoint:
    """The checkpoint, its envelope checked against the keys the roster gives its actor at its time (E691-E693)."""
    key = _check_signature(body, roster, where)
    return Checkpoint(body, (roster.person(body["actor"]) if roster is not None else None) or body["actor"], key)


def _check_signature(body: dict, roster: Roster | None, where: Location) -> str:
    from tiergate.inputs.dsse import parse_envelope, parse_statement, predicate_type, verify_envelope

    try:
        envelope = parse_envelope(body["envelope"], where.file)
        at = parse_time(body.get("at"))
        keys = roster.keys_of(body["actor"], at) if roster is not None and at is not None else []
        if not keys:
            why = "there is no roster" if roster is None else \
                f"the roster gives {body['actor']} no key valid at {body.get('at')}"
            raise TiergateError(Diagnostic("E692", f"the checkpoint's signature cannot be checked: {why}", where,
                                           hint="a checkpoint is signed by a person of the roster, with a key the "
                                                "roster's `keys:` gives them"))
        key = verify_envelope(envelope, keys)
        statement = parse_statement(envelope.payload, where.file)
        event = {k: v for k, v in body.items() if k != "envelope"}
        if statement != statement_of(event):
            differ = [k for k in ("_type", "subject", "predicateType", "predicate")
                      if statement.get(k) != statement_of(event)[k]]
            raise TiergateError(Diagnostic("E693", f"statement $.{differ[0]}: is not this checkpoint's", where,
                                           hint="sign the checkpoint exactly as it is recorded"))
    except TiergateError as exc:
        raise TiergateError([replace(d, location=where) for d in exc.diagnostics]) from None
    return key.id


def read_file(path: str) -> dict:
    """A checkpoint file (`audit checkpoint --out`): the checkpoint event as JSON; E695 when it cannot be read."""
    from tiergate.fileio import read_source

    where = Location(str(path))
    try:
        data = read_source(path, _CHECKPOINT_LIMIT)
    except TiergateError as exc:
        raise TiergateError([replace(d, code="E695") for d in exc.diagnostics]) from None
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise TiergateError(Diagnostic("E695", f"a checkpoint file is JSON: {exc}", where,
                                       hint="give the file `tiergate audit checkpoint --out` wrote")) from None
    if not isinstance(body, dict) or body.get("type") != CHECKPOINT:
        raise TiergateError(Diagnostic("E695", "this is no checkpoint: a checkpoint is a JSON object of type "
                                               "`checkpoint`", where,
                                       hint="give the file `tiergate audit checkpoint --out` wrote"))
    problems = body_problems(body, where)
    if problems:
        raise TiergateError([replace(d, code="E695") for d in problems])
    return body


def file_text(body: dict) -> str:
    """A checkpoint as its file holds it: the event, as JSON, with a newline."""
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def describe(cp: Checkpoint) -> str:
    return (f"checkpoint of {format_time(cp.at)}: {cp.count} events, head {cp.head}, signed by {cp.signer} "
            f"(key {cp.key_id})")
