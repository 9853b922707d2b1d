"""Signed checkpoints (issue 20, part 4): `audit checkpoint --sign KEYFILE` checks the whole ledger, then records its
head hash and event count signed by a person of the roster; `audit verify --checkpoint FILE` proves the ledger still
extends a checkpoint kept elsewhere, which a rewrite of the database hashed again throughout (invisible to a plain
`audit verify`) cannot hide; `serve --checkpoint-every` records one at an interval when anything was recorded."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from test_ledger_cli import exported, tiergate
from test_policy_versions import rechain
from test_signed_events import RAJ_KEY, RITA_KEY, SIGNOFF, keys, ledger, pem  # noqa: F401 (fixtures)
from tiergate.inputs.dsse import PAYLOAD_TYPE, public_key_of
from tiergate.ledger.chain import canonical

RAJ_ID = public_key_of(RAJ_KEY).id


def sign_off(ledger: Path, keys: dict, actor: str = "rita", at: str = "2026-03-01T10:00:00Z") -> None:
    result = tiergate(*SIGNOFF, "--ledger", ledger, "--actor", actor, "--at", at, "--sign", keys[actor])
    assert result.exit_code == 0, result.stderr


def checkpoint(ledger: Path, keys: dict, out: Path | None = None, at: str = "2026-03-01T11:00:00Z"):
    extra = ("--out", out) if out is not None else ()
    return tiergate("audit", "checkpoint", "--ledger", ledger, "--sign", keys["raj"], "--at", at, *extra)


def events_in(ledger: Path) -> int:
    db = sqlite3.connect(ledger)
    try:
        return db.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        db.close()


def rewrite(ledger: Path, seq: int, change) -> None:
    db = sqlite3.connect(ledger)
    (body,) = db.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()
    changed = change(json.loads(body))
    db.execute("UPDATE events SET body = ?, at = ? WHERE seq = ?", (canonical(changed), changed["at"], seq))
    db.commit()
    db.close()
    rechain(ledger)


@pytest.fixture
def kept(ledger, keys, tmp_path) -> Path:
    """A ledger (a policy adopted, a roster, a registration) and a signed sign-off, with a checkpoint of those 4
    events kept in a file."""
    sign_off(ledger, keys)
    out = tmp_path / "checkpoint.json"
    result = checkpoint(ledger, keys, out)
    assert result.exit_code == 0, result.stderr
    return out


def test_a_checkpoint_is_recorded_signed_and_written_to_its_file(ledger, keys, kept):
    events = exported(ledger)
    recorded = events[-1]
    assert recorded["type"] == "checkpoint" and recorded["actor"] == "raj"
    assert recorded["count"] == 4 and len(events) == 5
    assert json.loads(kept.read_text()) == recorded
    assert recorded["envelope"]["payloadType"] == PAYLOAD_TYPE
    assert recorded["envelope"]["signatures"][0]["keyid"] == RAJ_ID
    result = tiergate("audit", "verify", "--ledger", ledger)
    assert result.exit_code == 0 and result.stdout.startswith("ledger intact: 5 events"), result.stdout


def test_the_printed_line_names_count_head_signer_and_key(ledger, keys):
    sign_off(ledger, keys)
    head = tiergate("audit", "head", "--ledger", ledger).stdout.strip()
    result = checkpoint(ledger, keys)
    assert result.exit_code == 0, result.stderr
    assert re.fullmatch(rf"checkpoint recorded \(#5, [0-9a-f]{{12}}\): 4 events, head {head}, signed by raj with key "
                        rf"{RAJ_ID}\n", result.stdout), result.stdout


def test_securesystemslib_verifies_a_checkpoints_envelope(kept):
    from securesystemslib.dsse import Envelope as StandardEnvelope
    from securesystemslib.signer import SSlibKey

    body = json.loads(kept.read_text())
    key = public_key_of(RAJ_KEY)
    standard = StandardEnvelope.from_dict(body["envelope"])
    assert list(standard.verify([SSlibKey(key.id, "ed25519", "ed25519", {"public": key.raw.hex()})], 1)) == [key.id]
    statement = json.loads(standard.pae().split(b" ", 4)[4])
    assert statement["subject"] == [{"name": "tiergate-ledger", "digest": {"sha256": body["head"]}}]
    assert statement["predicateType"] == "https://tiergate.dev/attestation/checkpoint/v1"
    assert statement["predicate"] == {k: v for k, v in body.items() if k != "envelope"}


def test_verify_against_the_checkpoint_checks_signatures_after_it(ledger, keys, kept):
    sign_off(ledger, keys, "raj", "2026-03-01T12:00:00Z")
    result = tiergate("audit", "verify", "--ledger", ledger, "--checkpoint", kept)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "it extends the checkpoint (event 4, " in result.stdout
    assert "by 2 events, 2 signed events checked after it" in result.stdout  # (the checkpoint and raj's sign-off)
    assert f"signed by raj (key {RAJ_ID}): the signature verifies" in result.stderr


def test_a_rewrite_hashed_again_is_found_by_the_checkpoints_recorded_and_kept(ledger, keys, kept):
    """Someone with write access changes the registration's tier and hashes every event again. The checkpoint the
    ledger holds names the change; taken out too (and the chain hashed again), a plain verify finds nothing, and the
    checkpoint kept elsewhere still names it."""
    rewrite(ledger, 3, lambda b: {**b, "tier": "minimal"})
    plain = tiergate("audit", "verify", "--ledger", ledger)
    assert plain.exit_code == 1, plain.stdout
    assert plain.stdout.startswith("LEDGER BROKEN: signed event 5: the checkpoint is not of this ledger: the "
                                   "checkpoint says event 4 has the hash "), plain.stdout
    db = sqlite3.connect(ledger)
    db.execute("DELETE FROM events WHERE seq = 5")
    db.execute("DELETE FROM standing WHERE seq = 5")
    db.commit()
    db.close()
    rechain(ledger)
    assert tiergate("audit", "verify", "--ledger", ledger).exit_code == 0
    result = tiergate("audit", "verify", "--ledger", ledger, "--checkpoint", kept)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stdout.startswith("LEDGER BROKEN: the ledger does not extend the checkpoint: the checkpoint says "
                                    "event 4 has the hash "), result.stdout


def test_an_import_with_a_checkpoint_of_another_history_is_refused(ledger, keys, kept, tmp_path):
    out = tmp_path / "all.jsonl"
    assert tiergate("export", "--ledger", ledger, "-o", out).exit_code == 0
    lines = out.read_text().splitlines()
    lines[1] = lines[1].replace('"dana": ["data_scientist"]', '"dana": ["data_scientist"], "zed": ["data_scientist"]')
    assert '"zed"' in lines[1]  # (another roster, as valid: only the checkpoint's head tells the histories apart)
    out.write_text("\n".join(lines) + "\n")
    again = tmp_path / "again.db"
    result = tiergate("import", out, "--ledger", again)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert re.search(r"all.jsonl:5: error\[E694\]: the checkpoint is not of this ledger", result.stderr), result.stderr
    assert not again.exists() or events_in(again) == 0  # (nothing was written)


def test_events_taken_off_the_end_are_found(ledger, keys, kept):
    db = sqlite3.connect(ledger)
    db.execute("DELETE FROM events WHERE seq >= 4")
    db.execute("DELETE FROM standing WHERE seq >= 4")
    db.commit()
    db.close()
    assert tiergate("audit", "verify", "--ledger", ledger).exit_code == 0  # (a shorter chain is a whole chain)
    result = tiergate("audit", "verify", "--ledger", ledger, "--checkpoint", kept)
    assert result.exit_code == 1
    assert "the ledger holds fewer than 4 events" in result.stdout, result.stdout


def test_a_checkpoint_file_changed_is_refused(ledger, keys, kept):
    body = json.loads(kept.read_text())
    body["count"] = 3
    kept.write_text(json.dumps(body))
    result = tiergate("audit", "verify", "--ledger", ledger, "--checkpoint", kept)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "whose signature does not verify with the roster this ledger holds either: the file was changed" \
        in result.stdout, result.stdout


@pytest.mark.parametrize("content, words", [
    ("not json", "a checkpoint file is JSON"),
    ('{"type": "signoff"}', "this is no checkpoint"),
    ('{"type": "checkpoint", "use_case": "-", "version": "-", "count": 0}', "a whole number from 1"),
])
def test_a_file_that_is_no_checkpoint_is_refused_with_E695(ledger, tmp_path, content, words):
    path = tmp_path / "cp.json"
    path.write_text(content)
    result = tiergate("audit", "verify", "--ledger", ledger, "--checkpoint", path)
    assert result.exit_code == 2 and "error[E695]" in result.stderr and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_key_no_one_in_the_roster_holds_signs_no_checkpoint(ledger, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = tmp_path / "stranger.key"
    stranger.write_bytes(pem(Ed25519PrivateKey.generate()))
    before = events_in(ledger)
    result = tiergate("audit", "checkpoint", "--ledger", ledger, "--sign", stranger)
    assert result.exit_code == 2 and "error[E692]" in result.stderr and "no one's in the roster" in result.stderr
    assert "nothing was written" in result.stderr and events_in(ledger) == before


def test_a_broken_ledger_gets_no_checkpoint(ledger, keys):
    db = sqlite3.connect(ledger)
    db.execute("UPDATE events SET body = replace(body, 'dana', 'dave') WHERE seq = 2")
    db.commit()
    db.close()
    before = events_in(ledger)
    result = checkpoint(ledger, keys)
    assert result.exit_code == 1 and result.stdout.startswith("LEDGER BROKEN: event 2 was altered"), result.stdout
    assert "no checkpoint was recorded" in result.stderr and events_in(ledger) == before


def test_a_checkpoint_of_another_head_is_refused_when_recorded(ledger, keys):
    """A checkpoint event made by hand whose head is not the ledger's: E694, nothing written."""
    from tiergate.errors import Location, TiergateError
    from tiergate.language.load import load_policy
    from tiergate.ledger.checkpoints import sign, unsigned_body
    from tiergate.ledger.service import Ledger

    body = sign(unsigned_body(2, "ab" * 32, "raj", "2026-03-01T11:00:00Z"), RAJ_KEY)
    with Ledger(ledger, create=False) as opened:
        with pytest.raises(TiergateError) as caught:
            opened.append_bodies([body], load_policy(), None, Location("test"))
        assert opened.count() == 3
    d = caught.value.diagnostics[0]
    assert d.code == "E694"
    assert d.message.startswith("the checkpoint is not of this ledger: the checkpoint says event 2 has the hash abab")


def test_a_checkpoint_signed_in_another_persons_name_is_refused(ledger, keys):
    """raj's key, rita's name: E692 (the roster gives rita another key)."""
    from tiergate.errors import Location, TiergateError
    from tiergate.language.load import load_policy
    from tiergate.ledger.checkpoints import sign, unsigned_body
    from tiergate.ledger.service import Ledger

    with Ledger(ledger, create=False) as opened:
        head = opened.store.head()
        body = sign(unsigned_body(head[0], head[1], "rita", "2026-03-01T11:00:00Z"), RAJ_KEY)
        with pytest.raises(TiergateError) as caught:
            opened.append_bodies([body], load_policy(), None, Location("test"))
    assert caught.value.diagnostics[0].code == "E692"


def test_verify_finds_a_recorded_checkpoint_altered(ledger, keys, kept):
    rewrite(ledger, 5, lambda b: {**b, "at": "2026-03-01T11:30:00Z"})
    result = tiergate("audit", "verify", "--ledger", ledger)
    assert result.exit_code == 1
    assert result.stdout.startswith("LEDGER BROKEN: signed event 5: statement $.predicate: is not this "
                                    "checkpoint's (E693)"), result.stdout


def test_export_and_import_keep_checkpoints(ledger, keys, kept, tmp_path):
    out = tmp_path / "all.jsonl"
    assert tiergate("export", "--ledger", ledger, "-o", out).exit_code == 0
    again = tmp_path / "again.db"
    result = tiergate("import", out, "--ledger", again)
    assert result.exit_code == 0, result.stderr
    heads = [tiergate("audit", "head", "--ledger", p).stdout for p in (ledger, again)]
    assert heads[0] == heads[1]
    result = tiergate("audit", "verify", "--ledger", again, "--checkpoint", kept)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_checkpoint_options_at_the_command_line(ledger, keys):
    result = tiergate("audit", "checkpoint", "--ledger", ledger)
    assert result.exit_code == 2 and "--sign" in result.stderr
    result = tiergate("audit", "verify", "--ledger", ledger, "--head", "ab" * 32, "--checkpoint", "x.json")
    assert result.exit_code == 2 and "give --head or --checkpoint, not both" in result.stderr


def test_no_private_key_reaches_the_ledger_the_file_or_the_output(ledger, keys, kept):
    from cryptography.hazmat.primitives import serialization

    raw = RAJ_KEY.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    secrets = [raw.hex(), pem(RAJ_KEY).decode().splitlines()[1]]
    import base64

    secrets.append(base64.b64encode(raw).decode())
    texts = [kept.read_text(), ledger.read_bytes().decode("latin-1"),
             tiergate("audit", "verify", "--ledger", ledger, "--checkpoint", kept).stdout]
    for text in texts:
        for secret in secrets:
            assert secret not in text


# --- the server -----------------------------------------------------------------------------------

def test_a_server_records_a_checkpoint_when_anything_is_new(ledger, keys):
    pytest.importorskip("starlette")
    from tiergate.server.settings import Settings
    from tiergate.server.state import ServerState

    sign_off(ledger, keys)
    state = ServerState(Settings(str(ledger), checkpoint_every=60, checkpoint_key=str(keys["raj"])))
    try:
        said = state.checkpoint()
        assert re.fullmatch(r"checkpoint recorded \(#5\): 4 events, head [0-9a-f]{64}", said), said
        assert state.checkpoint() is None  # (nothing recorded since: no checkpoint of a checkpoint)
        sign_off(ledger, keys, "raj", "2026-03-01T12:00:00Z")
        assert state.checkpoint().startswith("checkpoint recorded (#7): 6 events")
    finally:
        state.close()
    assert tiergate("audit", "verify", "--ledger", ledger).exit_code == 0


def test_a_server_with_a_key_no_one_holds_does_not_start(ledger, tmp_path):
    pytest.importorskip("starlette")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = tmp_path / "stranger.key"
    stranger.write_bytes(pem(Ed25519PrivateKey.generate()))
    result = tiergate("serve", "--ledger", ledger, "--checkpoint-every", "1h", "--checkpoint-key", stranger)
    assert result.exit_code == 2 and "error[E692]" in result.stderr and "did not start" in result.stderr


@pytest.mark.parametrize("args, words", [
    (("--checkpoint-every", "1h"), "--checkpoint-every and --checkpoint-key go together"),
    (("--checkpoint-every", "soon", "--checkpoint-key", "k"), "'soon' is not a duration"),
    (("--checkpoint-every", "0s", "--checkpoint-key", "k"), "'0s' is not a duration"),
])
def test_serve_checkpoint_options_are_checked(ledger, args, words):
    result = tiergate("serve", "--ledger", ledger, *args)
    assert result.exit_code == 2 and words in result.stderr, result.stderr
