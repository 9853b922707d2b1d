"""Signed checkpoints of the ledger (ledger/checkpoints.py): make one, and verify the ledger against one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.ledger.checkpoints import CHECKPOINT, Checkpoint, NOBODY
from tiergate.ledger.service import Ledger
from tiergate.ledger.verify import Verification


@dataclass(frozen=True)
class Made:
    """`audit checkpoint`: the check of the ledger it rests on, and the checkpoint recorded (None when the check
    found the ledger broken: nothing is recorded then)."""

    verification: Verification
    seq: int | None = None
    hash: str | None = None
    body: dict | None = None
    key_id: str | None = None


@dataclass(frozen=True)
class Against:
    """`audit verify --checkpoint`: the checkpoint (checked), and the check of the ledger after it."""

    checkpoint: Checkpoint
    verification: Verification | None  # (None when the ledger does not extend the checkpoint: nothing more to say)
    problem: str | None  # why the ledger does not extend the checkpoint (None: it does)
    signed_after: int  # signed events after the checkpoint, whose signatures were checked


def signer_of(ledger: Ledger, key, at: datetime) -> str:
    """The person of the roster the ledger holds whose key (valid at `at`) is the public half of `key`; E692 when
    there is none."""
    from tiergate.inputs.dsse import public_key_of

    public = public_key_of(key)
    roster = ledger.roster()
    for person, keys in (roster.keys.items() if roster is not None else ()):
        if any(k.id == public.id and k.active(at) for k in keys):
            return person
    where = "the roster the ledger holds" if roster is not None else "the ledger, which holds no roster"
    raise TiergateError(Diagnostic("E692", f"the key {public.id} is no one's in {where} at {at.isoformat()}: a "
                                           "checkpoint is signed by a person of the roster", Location("--sign"),
                                   hint="give the operator's public key in the roster's `keys:`, then store it: "
                                        "tiergate roster import FILE"))


def make(ledger: Ledger, key_path: str, at: datetime | None = None) -> Made:
    """Check the whole ledger (every signature included), then record a checkpoint of the head it checked, signed
    with the private key at `key_path` by the person of the roster it belongs to. A broken ledger gets no
    checkpoint: `Made.seq` is None."""
    from tiergate.inputs.signingkeys import load_private_key

    return make_with(ledger, load_private_key(key_path), at)


def make_with(ledger: Ledger, key, at: datetime | None = None) -> Made:
    """`make`, with the private key loaded (a cryptography Ed25519PrivateKey): how a server signs at an interval."""
    from tiergate.app.recording import when
    from tiergate.inputs.events import parse_time
    from tiergate.language.load import load_policy
    from tiergate.ledger.checkpoints import sign, unsigned_body

    stamp = when(at)
    person = signer_of(ledger, key, parse_time(stamp))
    checked = ledger.verify()
    if not checked.ok:
        return Made(checked)
    if checked.count == 0:
        raise TiergateError(Diagnostic("E694", "the ledger holds no events: there is nothing to checkpoint",
                                       Location("audit checkpoint")))
    body = sign(unsigned_body(checked.count, checked.head, person, stamp), key)
    row = ledger.append_bodies([body], load_policy(), None, Location("audit checkpoint"))[0]
    return Made(checked, row.seq, row.hash, body, body["envelope"]["signatures"][0]["keyid"])


def anything_new(ledger: Ledger) -> bool:
    """Whether events were recorded since the latest checkpoint (its own event aside): a server that checkpoints at
    an interval records none over a ledger nobody wrote to."""
    head = ledger.store.head()
    if head is None:
        return False
    last = latest(ledger)
    return last is None or last["count"] < head[0] - 1


def latest(ledger: Ledger) -> dict | None:
    """The latest checkpoint the ledger holds (its event), or None."""
    from tiergate.ledger.integrity import read_row

    row = ledger.store.latest(NOBODY, NOBODY, CHECKPOINT)
    return read_row(row) if row is not None else None


def verify_against(ledger: Ledger, path: str) -> Against:
    """Check the checkpoint in the file at `path` (signed by a key the roster gave its signer then, and of this
    ledger), then the whole chain, with the signatures of the events after the checkpoint (those before it were
    checked when it was made, and the chain shows them unchanged)."""
    from tiergate.ledger.checkpoints import head_problem, read_file, signed_by
    from tiergate.ledger.signed import StoredSignatures

    body = read_file(path)
    stored = StoredSignatures(ledger.store)
    seq = _recorded_at(ledger, body)
    roster = stored.roster_before(seq if seq is not None else body["count"] + 1)
    wrong = head_problem(body, stored.head_at)
    if wrong is not None:  # (a finding: the ledger's history is not the one the checkpoint signed, or the file
        try:               # was changed; its signature tells which, when this ledger's roster can check it)
            signed_by(body, roster, Location(str(path)))
            why = "the ledger does not extend the checkpoint"
        except TiergateError:
            why = ("the ledger does not extend the checkpoint, whose signature does not verify with the roster this "
                   "ledger holds either: the file was changed, or the ledger (its roster included) was rewritten")
        return Against(Checkpoint(body, body["actor"], ""), None, f"{why}: {wrong}", 0)
    cp = signed_by(body, roster, Location(str(path)))
    verification = ledger.verify(checked_through=cp.count)
    high = ledger.store.span()[1]
    signed_after = sum(1 for row in ledger.store.chain(cp.count + 1, high) if row[6] and b'"envelope":' in row[6])
    return Against(cp, verification, None, signed_after)


def _recorded_at(ledger: Ledger, body: dict) -> int | None:
    """The seq of the checkpoint event the ledger holds with exactly this body, or None."""
    from tiergate.jsoncodec import canonical

    text = canonical(body)
    for row in ledger.store.rows(NOBODY, NOBODY, types=(CHECKPOINT,)):
        if row.body == text:
            return row.seq
    return None
