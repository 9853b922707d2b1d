"""`audit verify` checks every signed event's envelope (issue 20): against the keys the roster in force when it was
recorded gave the actor, and its statement against the event and its version; an envelope altered in the database
and the chain hashed again to hide it is a finding naming the event, one pass or in runs on every core."""
from __future__ import annotations

import base64
import json
import re
import sqlite3
from pathlib import Path

import pytest

from test_ledger_cli import tiergate
from test_policy_versions import rechain
from test_signed_events import RAJ_KEY, RITA_KEY, SIGNOFF, event_of, keys, ledger, signed_body  # noqa: F401 (fixtures)
from tiergate.inputs.dsse import public_key_of
from tiergate.ledger import parallel, verify
from tiergate.ledger.chain import canonical
from tiergate.ledger.service import Ledger

DOCS = Path(__file__).resolve().parent.parent / "docs" / "signing.md"


def signed_ledger(ledger: Path, keys: dict) -> Path:
    for actor, at in (("rita", "2026-03-01T10:00:00Z"), ("raj", "2026-03-01T10:05:00Z")):
        result = tiergate(*SIGNOFF, "--ledger", ledger, "--actor", actor, "--at", at, "--sign", keys[actor])
        assert result.exit_code == 0, result.stderr
    return ledger


def rewrite(path: Path, seq: int, change) -> None:
    """Change the body of event `seq` (a dict in, a dict out; its actor column with it) and chain every hash again,
    as someone with write access to the file could."""
    db = sqlite3.connect(path)
    (body,) = db.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()
    changed = change(json.loads(body))
    db.execute("UPDATE events SET body = ?, actor = ? WHERE seq = ?", (canonical(changed), changed["actor"], seq))
    db.commit()
    db.close()
    rechain(path)


def both_ways(path: Path, monkeypatch) -> tuple:
    with monkeypatch.context() as m:
        m.setattr(verify, "VERIFY_PARALLEL_FROM", 10 ** 9)
        with Ledger(path, create=False, readonly=True) as opened:
            one_pass = opened.verify()
    with monkeypatch.context() as m:
        m.setattr(verify, "VERIFY_PARALLEL_FROM", 1)
        m.setattr(parallel, "cores", lambda: 2)
        with Ledger(path, create=False, readonly=True) as opened:
            in_runs = opened.verify()
    return one_pass, in_runs


def other_signature(body: dict) -> dict:
    """The envelope signed again with raj's key under rita's key id: the signature does not verify."""
    resigned = signed_body({k: v for k, v in body.items() if k != "envelope"}, key=RAJ_KEY)["envelope"]
    resigned["signatures"][0]["keyid"] = body["envelope"]["signatures"][0]["keyid"]
    return {**body, "envelope": resigned}


def predicate_changed(body: dict) -> dict:
    """The event says `reject` and its (unchanged, still valid) envelope `approve`."""
    return {**body, "decision": "reject"}


def payload_byte_changed(body: dict) -> dict:
    envelope = dict(body["envelope"])
    payload = bytearray(base64.b64decode(envelope["payload"]))
    payload[len(payload) // 2] ^= 0x01
    return {**body, "envelope": {**envelope, "payload": base64.b64encode(bytes(payload)).decode()}}


def actor_changed(body: dict) -> dict:
    """rita's signed sign-off rewritten as raj's, with rita's envelope: not raj's key."""
    return {**body, "actor": "raj"}


CHANGES = {
    "another-signature": (other_signature, "E692", "the signature does not verify with key"),
    "event-changed": (predicate_changed, "E693", "statement $.predicate: is not the event recorded"),
    "payload-byte": (payload_byte_changed, "E692", "the signature does not verify with key"),
    "another-actor": (actor_changed, "E692", "no signature is by a trusted key"),
}


def test_an_intact_signed_ledger_verifies_both_ways(ledger, keys, monkeypatch):
    signed_ledger(ledger, keys)
    for result in both_ways(ledger, monkeypatch):
        assert result.ok and result.count == 5, result.problem


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_envelope_altered_and_chained_again_is_found_both_ways(ledger, keys, monkeypatch, change):
    alter, code, words = CHANGES[change]
    rewrite(signed_ledger(ledger, keys), 4, alter)
    for result in both_ways(ledger, monkeypatch):
        assert not result.ok and result.seq == 4, result
        assert result.problem.startswith("signed event 4: ") and words in result.problem, result.problem
        assert result.problem.endswith(f"({code})"), result.problem


def test_a_signature_checked_against_the_roster_in_force_then_not_the_latest(ledger, keys, tmp_path):
    """A later roster that no longer gives rita her key does not break her earlier signature."""
    signed_ledger(ledger, keys)
    later = tmp_path / "later.yaml"
    later.write_text("people:\n  dana: [data_scientist]\n  rita: [risk_audit]\n  raj: [risk_audit]\n")
    assert tiergate("roster", "import", later, "--ledger", ledger, "--actor", "dana",
                    "--at", "2026-04-01T00:00:00Z").exit_code == 0
    result = tiergate("audit", "verify", "--ledger", ledger)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_the_cli_reports_it_as_signing_md_shows(ledger, keys):
    rewrite(signed_ledger(ledger, keys), 4, other_signature)
    result = tiergate("audit", "verify", "--ledger", ledger)
    assert result.exit_code == 1
    text = DOCS.read_text(encoding="utf-8")
    (shown,) = re.findall(r"LEDGER BROKEN: signed event 4: [^\n]*", text)
    # (the page's rita has her own key; the test's has another id, and the same words)
    doc_key = re.search(r"rita:\n    - \{id: ([0-9a-f]{16})", text).group(1)
    assert result.stdout.strip() == shown.replace(doc_key, public_key_of(RITA_KEY).id), result.stdout
