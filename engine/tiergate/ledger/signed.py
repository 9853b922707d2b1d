"""Recording a signed event: its DSSE envelope (the body's "envelope") must verify against a key the roster gives
the actor at the event's time, and hold the in-toto statement of exactly this event about exactly this version.

A body with "envelope" is signed; nothing else is. The envelope's payload is the statement of the body without
"envelope" (inputs/dsse.py statement_for), signed by the actor's own key; the hash chain covers it like any field.
"""
from __future__ import annotations

import json
from dataclasses import replace

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.inputs.events import Roster, parse_time

#: the body field that holds the envelope
ENVELOPE = "envelope"
#: the use case and version, and the type, of the roster events a ledger stores (as ledger/service.py has them)
NOBODY, ROSTER = "-", "roster"
#: the event types that may be signed: what a person records about a version
SIGNABLE = ("evidence", "signoff", "waiver", "monitoring", "review", "retired")


def is_signed(body: dict) -> bool:
    return ENVELOPE in body


def check_signed(body: dict, roster: Roster | None, artifact_sha256: str | None, where: Location) -> str:
    """The id of the key that signed `body`; E691 when its envelope cannot be read (or the event type is not one
    a person signs), E692 when no key the roster gives the actor at the event's time verifies it, E693 when its
    statement is not this event about this version. Every diagnostic is located at `where`."""
    try:
        return _check(body, roster, artifact_sha256, where)
    except TiergateError as exc:
        raise TiergateError([replace(d, location=where) for d in exc.diagnostics]) from None


def _check(body: dict, roster: Roster | None, artifact_sha256: str | None, where: Location) -> str:
    from tiergate.inputs.dsse import check_subject, parse_envelope, parse_statement, predicate_type, verify_envelope

    kind, file = body.get("type"), where.file
    if kind not in SIGNABLE:
        raise TiergateError(Diagnostic("E691", f"a `{kind}` event is not signed: `envelope` goes with "
                                               + ", ".join(SIGNABLE), where))
    envelope = parse_envelope(body[ENVELOPE], file)
    actor, at = body.get("actor"), parse_time(body.get("at"))
    keys = roster.keys_of(actor, at) if roster is not None and at is not None else []
    if not keys:
        why = "there is no roster" if roster is None else \
            f"the roster gives {actor} no key valid at {body.get('at')}"
        raise TiergateError(Diagnostic(
            "E692", f"the signature cannot be checked: {why} (signed by: "
                    f"{', '.join(sorted({s.keyid for s in envelope.signatures}))})", where,
            hint="give the person's public key in the roster's `keys:` (tiergate key generate prints the line), "
                 "then store it: tiergate roster import FILE"))
    key = verify_envelope(envelope, keys)
    statement = parse_statement(envelope.payload, file)
    event = {k: v for k, v in body.items() if k != ENVELOPE}
    if statement["predicateType"] != predicate_type(kind):
        raise TiergateError(Diagnostic("E693", f"statement $.predicateType: is {json.dumps(statement['predicateType'])}"
                                               f", not {json.dumps(predicate_type(kind))}", where))
    check_subject(statement, body["use_case"], body["version"], artifact_sha256, file)
    if statement["predicate"] != event:
        differ = sorted(k for k in set(statement["predicate"]) | set(event)
                        if statement["predicate"].get(k, _MISSING) != event.get(k, _MISSING))
        raise TiergateError(Diagnostic(
            "E693", "statement $.predicate: is not the event recorded (they differ in "
                    + ", ".join(f"`{k}`" for k in differ) + ")", where,
            hint="sign the event exactly as it is recorded, `actor` and `at` included"))
    return key.id


_MISSING = object()


class StoredSignatures:
    """`audit verify`'s check of the signed events a store holds, one at a time in seq order or not: each against the
    roster in force when it was recorded (the latest roster event before it) and the artifact its version registered
    before it, as recording checked it. What it reads of the store is read on the first signed event, never for a
    ledger without one."""

    def __init__(self, store) -> None:
        self.store = store
        self.rosters: list | None = None  # the stored roster events' rows, in seq order
        self.artifacts: dict[tuple[str, str], list[tuple[int, str | None]]] = {}

    def problem(self, seq: int, body: dict) -> str | None:
        """What is wrong with the signed event `seq` (its body, "envelope" in it), as verify reports it; or None. A
        checkpoint (ledger/checkpoints.py) is checked as recording checked it: signed, and of this ledger."""
        from tiergate.ledger.checkpoints import CHECKPOINT, check as check_checkpoint

        where = Location("ledger", seq)
        try:
            if body.get("type") == CHECKPOINT:
                check_checkpoint(body, self.roster_before(seq), self.head_at, where)
            else:
                check_signed(body, self.roster_before(seq), self._artifact_before(body, seq), where)
        except TiergateError as exc:
            d = exc.diagnostics[0]
            return f"signed event {seq}: {d.message} ({d.code})"
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # (a roster or registration that is no
            return f"signed event {seq}: it cannot be checked ({type(exc).__name__}: {exc})"  # event of its kind)
        return None

    def head_at(self, count: int) -> str | None:
        found = self.store.before(count + 1)
        return found[1] if found is not None and found[0] == count else None

    def roster_before(self, seq: int) -> Roster | None:
        from bisect import bisect_left

        from tiergate.inputs.events import roster_from_body

        if self.rosters is None:  # (seq, its row's body, its Roster once read)
            self.rosters = [[row.seq, row.body, None] for row in self.store.rows(NOBODY, NOBODY, types=(ROSTER,))]
        i = bisect_left([r[0] for r in self.rosters], seq)
        if not i:
            return None
        held = self.rosters[i - 1]
        if held[2] is None:
            held[2] = roster_from_body(json.loads(held[1]))
        return held[2]

    def _artifact_before(self, body: dict, seq: int) -> str | None:
        key = (body["use_case"], body["version"])
        registered = self.artifacts.get(key)
        if registered is None:
            registered = self.artifacts[key] = [
                (row.seq, (json.loads(row.body) or {}).get("sha256") or None)
                for row in self.store.rows(key[0], key[1], types=("registered",))]
        found = None
        for at, sha256 in registered:  # (as recording learned them: the latest registration before wins)
            if at < seq and sha256:
                found = sha256
        return found
