"""Signed events at recording (issue 20): `--sign KEYFILE` on signoff, waive, review and evidence stores the event
with its DSSE envelope ("envelope"), which a standard DSSE implementation verifies; recording (a command, an import,
the API) refuses an envelope that does not verify with a key the roster gives the actor at the event's time, or
whose statement is not exactly this event about this version, with its code and nothing written."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import extra_module
from test_ledger_cli import POLICY, USE_CASES, exported, state, tiergate
from tiergate.inputs.dsse import PAYLOAD_TYPE, public_key_of, roster_line, sign_statement, statement_for

SHA = hashlib.sha256(b"model bytes").hexdigest()
ARTIFACT = "s3://models/loan-approval/1.0/model.joblib"
RITA_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"rita's test key").digest())
RAJ_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"raj's test key").digest())
SIGNOFF = ("signoff", "loan-approval", "1.0", "--gate", "deployment", "--role", "risk_audit")


def pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def roster_text(rita_until: str | None = None) -> str:
    rita = roster_line(public_key_of(RITA_KEY))
    if rita_until:
        rita = rita[:-1] + f", until: '{rita_until}'}}"
    return ("people:\n  dana: [data_scientist]\n  rita: [risk_audit]\n  raj: [risk_audit]\n  sam: [risk_audit]\n"
            f"keys:\n  rita:\n    - {rita}\n  raj:\n    - {roster_line(public_key_of(RAJ_KEY))}\n")


@pytest.fixture
def keys(tmp_path) -> dict[str, Path]:
    out = {}
    for name, key in (("rita", RITA_KEY), ("raj", RAJ_KEY)):
        out[name] = tmp_path / f"{name}.key"
        out[name].write_bytes(pem(key))
        out[name].chmod(0o600)
    return out


def make_ledger(tmp_path: Path, roster: str, artifact: bool = True) -> Path:
    ledger, file = tmp_path / "ledger.db", tmp_path / "roster.yaml"
    file.write_text(roster)
    assert tiergate("roster", "import", file, "--ledger", ledger, "--actor", "dana",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    extra = ("--artifact", ARTIFACT, "--sha256", SHA) if artifact else ()
    result = tiergate("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml",
                      "--ledger", ledger, "--actor", "dana", "--at", "2026-01-02T00:00:00Z", *extra)
    assert result.exit_code == 0, result.stderr
    return ledger


@pytest.fixture
def ledger(tmp_path) -> Path:
    return make_ledger(tmp_path, roster_text())


def refused_unwritten(ledger: Path, result, code: str) -> str:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert f"error[{code}]" in result.stderr and "nothing was written" in result.stderr, result.stderr
    return result.stderr


# --- signing at the command line -----------------------------------------------------------------

def test_a_signed_signoff_is_exported_with_its_envelope_which_securesystemslib_verifies(ledger, keys):
    from securesystemslib.dsse import Envelope as StandardEnvelope
    from securesystemslib.signer import SSlibKey

    result = tiergate(*SIGNOFF, "--ledger", ledger, "--actor", "rita", "--sign", keys["rita"])
    key = public_key_of(RITA_KEY)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith(f"signed with key {key.id}\n")
    event = exported(ledger)[-1]
    envelope = event["envelope"]
    standard = StandardEnvelope.from_dict(envelope)
    assert standard.payload_type == PAYLOAD_TYPE
    assert list(standard.verify([SSlibKey(key.id, "ed25519", "ed25519", {"public": key.raw.hex()})], 1)) == [key.id]
    statement = json.loads(standard.pae().split(b" ", 4)[4])  # (PAE's last part: the payload)
    assert statement["predicate"] == {k: v for k, v in event.items() if k != "envelope"}
    assert statement["subject"] == [{"name": ARTIFACT, "digest": {"sha256": SHA}}]
    assert statement["predicateType"] == "https://tiergate.dev/attestation/signoff/v1"
    assert tiergate("audit", "verify", "--ledger", ledger).exit_code == 0


def test_waive_review_and_evidence_sign_too_and_the_env_variable_gives_the_key(tmp_path, keys):
    ledger = make_ledger(tmp_path, roster_text(), artifact=False)
    env = {"TIERGATE_SIGNING_KEY": str(keys["rita"])}
    for args in (("review", "loan-approval", "1.0", "--role", "risk_audit"),
                 ("evidence", "loan-approval", "1.0", "fairness", "disparate_impact=0.91")):
        result = tiergate(*args, "--ledger", ledger, "--actor", "rita", env=env)
        assert result.exit_code == 0, result.stderr
    events = exported(ledger)
    assert [e["type"] for e in events[-2:]] == ["review", "evidence"]
    for event in events[-2:]:
        payload = json.loads(base64.b64decode(event["envelope"]["payload"]))
        assert payload["subject"][0]["name"] == "loan-approval@1.0"  # (no artifact registered)
    unsigned = tiergate("evidence", "loan-approval", "1.0", "bias", "x=1", "--ledger", ledger, "--actor", "rita")
    assert unsigned.exit_code == 0 and "envelope" not in exported(ledger)[-1]


@pytest.mark.parametrize("actor, key, until, message", [
    ("raj", "rita", None, "no signature is by a trusted key (signed by: {rita}; trusted here: {raj})"),
    ("sam", "rita", None, "the roster gives sam no key valid at"),
    ("rita", "rita", "2026-01-03T00:00:00Z", "the roster gives rita no key valid at"),
], ids=["another-persons-key", "a-person-with-no-key", "an-expired-key"])
def test_a_signature_by_a_key_the_roster_does_not_give_the_actor_now_is_refused(tmp_path, keys, actor, key, until,
                                                                               message):
    ledger = make_ledger(tmp_path, roster_text(until))
    before = state(ledger)
    result = tiergate(*SIGNOFF, "--ledger", ledger, "--actor", actor, "--sign", keys[key])
    stderr = refused_unwritten(ledger, result, "E692")
    assert message.format(rita=public_key_of(RITA_KEY).id, raj=public_key_of(RAJ_KEY).id) in stderr
    assert state(ledger) == before


def test_a_key_file_that_cannot_be_used_is_e690(ledger, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    before = state(ledger)
    refused_unwritten(ledger, tiergate(*SIGNOFF, "--ledger", ledger, "--actor", "rita", "--sign", bad), "E690")
    assert state(ledger) == before


# --- envelopes made by hand: recorded (strict) and imported alike ---------------------------------

def event_of(**changes) -> dict:
    event = {"at": "2026-01-05T00:00:00Z", "type": "signoff", "use_case": "loan-approval", "version": "1.0",
             "actor": "rita", "gate": "deployment", "role": "risk_audit", "decision": "approve"}
    return {**event, **changes}


def signed_body(event: dict, statement_event: dict | None = None, sha: str | None = SHA, key=RITA_KEY) -> dict:
    envelope = sign_statement(statement_for(statement_event or event, ARTIFACT, sha), key).as_dict()
    return {**event, "envelope": envelope}


def one_byte_changed(body: dict) -> dict:
    envelope = dict(body["envelope"])
    payload = bytearray(base64.b64decode(envelope["payload"]))
    payload[len(payload) // 2] ^= 0x01
    envelope["payload"] = base64.b64encode(bytes(payload)).decode()
    return {**body, "envelope": envelope}


BAD = {
    "another-version": ("E693", lambda: signed_body(event_of(), event_of(version="2.0"), sha=None),
                        "statement $.subject: does not name the artifact sha256"),
    "about-another-artifact": ("E693", lambda: signed_body(event_of(), sha="cd" * 32),
                               "statement $.subject: does not name the artifact sha256"),
    "one-byte-changed": ("E692", lambda: one_byte_changed(signed_body(event_of())),
                         "the signature does not verify with key"),
    "decision-changed-after-signing": ("E693", lambda: {**signed_body(event_of()), "decision": "reject"},
                                       "statement $.predicate: is not the event recorded (they differ in `decision`)"),
    "another-persons-key": ("E692", lambda: signed_body(event_of(), key=RAJ_KEY), "no signature is by a trusted key"),
    "not-an-envelope": ("E691", lambda: {**event_of(), "envelope": {"payload": "x"}}, "envelope $.payloadType"),
    "a-person-with-no-key": ("E692", lambda: signed_body(event_of(actor="sam")), "the roster gives sam no key"),
    "evidence-about-another-version": (
        "E693", lambda: signed_body(
            {"at": "2026-01-05T00:00:00Z", "type": "evidence", "use_case": "loan-approval", "version": "1.0",
             "actor": "rita", "kind": "fairness", "metrics": {"di": 0.9}}, sha="cd" * 32),
        "statement $.subject"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_hand_made_bad_envelope_is_refused_when_imported_with_nothing_written(ledger, tmp_path, case):
    code, make, message = BAD[case]
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(make()) + "\n")
    before = state(ledger)
    result = tiergate("import", events, "--ledger", ledger, "--policy", POLICY)
    stderr = refused_unwritten(ledger, result, code)
    assert message in stderr and f"{events}:1" in stderr
    assert state(ledger) == before


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_hand_made_bad_envelope_is_refused_when_recorded(ledger, case):
    from tiergate import load_policy
    from tiergate.app.recording import open_ledger
    from tiergate.errors import TiergateError
    from tiergate.ledger.actions import record

    code, make, message = BAD[case]
    before = state(ledger)
    body = make()
    body["at"] = "2026-01-05T00:00:00Z"
    with open_ledger(str(ledger)) as opened, pytest.raises(TiergateError) as caught:
        record(opened, load_policy(POLICY), None, body, strict=True)
    assert [d.code for d in caught.value.diagnostics] == [code]
    assert message in caught.value.diagnostics[0].message
    assert state(ledger) == before


def test_a_good_hand_made_envelope_is_imported_and_then_the_same_one_is_a_duplicate(ledger, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(signed_body(event_of())) + "\n")
    assert tiergate("import", events, "--ledger", ledger, "--policy", POLICY).exit_code == 0
    assert "envelope" in exported(ledger)[-1]
    assert tiergate("import", events, "--ledger", ledger, "--policy", POLICY).exit_code == 2


# --- the private key goes nowhere -----------------------------------------------------------------

def test_the_private_key_never_appears_in_the_ledger_the_output_or_the_errors(tmp_path, keys):
    ledger = make_ledger(tmp_path, roster_text())
    outputs = []
    for actor in ("rita", "raj", "sam"):  # recorded, refused (another person's key), refused (no key)
        result = tiergate(*SIGNOFF, "--ledger", ledger, "--actor", actor, "--sign", keys["rita"])
        outputs.append(result.stdout + result.stderr)
    outputs.append(tiergate("export", "--ledger", ledger).stdout)
    raw = RITA_KEY.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    pem_body = b"".join(pem(RITA_KEY).splitlines()[1:-1])
    secrets = [raw, raw.hex().encode(), base64.b64encode(raw), pem_body, pem_body[:24]]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.db*"))
    for secret in secrets:
        assert secret not in stored
        for text in outputs:
            assert secret.decode("latin-1") not in text


# --- over the API --------------------------------------------------------------------------------

@pytest.fixture
def client(ledger):
    extra_module("httpx")
    testclient = extra_module("starlette.testclient")
    from tiergate.server import Settings, create_app

    with testclient.TestClient(create_app(Settings(str(ledger), str(POLICY)))) as c:
        yield c


def token_for(ledger: Path, person: str) -> str:
    result = tiergate("token", "create", person, "--ledger", ledger, "--actor", "rita")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def api_body(event: dict) -> dict:
    return {k: v for k, v in event.items() if k != "actor"}


def test_a_signed_signoff_posted_with_the_persons_token_is_recorded_and_with_another_is_refused(client, ledger):
    rita, raj = token_for(ledger, "rita"), token_for(ledger, "raj")
    assert client.get("/v1/whoami", headers={"Authorization": f"Bearer {rita}"}).json() == {"person": "rita"}
    body = signed_body(event_of(at="2026-01-05T00:00:00Z"))
    before = state(ledger)
    stolen = client.post("/v1/events", headers={"Authorization": f"Bearer {raj}"}, json=api_body(body))
    assert stolen.status_code == 422 and stolen.json()["code"] == "E692", stolen.text
    assert state(ledger) == before
    done = client.post("/v1/events", headers={"Authorization": f"Bearer {rita}"}, json=api_body(body))
    assert done.status_code == 201, done.text
    assert done.json()["event"]["envelope"] == body["envelope"]
    assert exported(ledger)[-1] == body
    changed = client.post("/v1/events", headers={"Authorization": f"Bearer {rita}"},
                          json={**api_body(body), "decision": "reject"})
    assert changed.status_code == 422 and changed.json()["code"] == "E693"


def test_the_cli_signs_locally_for_a_server(client, ledger, keys, monkeypatch):
    """With --server, the client signs (its key stays here): it sets `at` and names the token's person."""
    from tiergate.cli import remote

    def call(self, method, path, body=None, query=None):
        answer = client.request(method, path, json=body, params=query,
                                headers={"Authorization": f"Bearer {self.token}"})
        return answer.status_code, answer.json()

    monkeypatch.setattr(remote.Remote, "call", call)
    env = {"TIERGATE_TOKEN": token_for(ledger, "rita"), "TIERGATE_SERVER": "http://testserver"}
    result = tiergate(*SIGNOFF, "--sign", keys["rita"], env=env)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"recorded signoff #\d+ .* signed with key " + public_key_of(RITA_KEY).id, result.stdout)
    event = exported(ledger)[-1]
    assert event["actor"] == "rita" and "envelope" in event
    env["TIERGATE_TOKEN"] = token_for(ledger, "raj")
    refused = tiergate(*SIGNOFF, "--sign", keys["rita"], env=env)
    assert refused.exit_code == 2 and "error[E692]" in refused.stderr


def test_the_model_page_marks_signed_events(client, ledger, keys):
    assert tiergate(*SIGNOFF, "--ledger", ledger, "--actor", "rita", "--sign", keys["rita"]).exit_code == 0
    token = token_for(ledger, "dana")
    form = client.get("/sign-in", params={"next": "/"})
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    client.post("/sign-in", data={"csrf": nonce, "token": token, "next": "/"}, follow_redirects=False)
    page = client.get("/use-cases/loan-approval/versions/1.0").text
    assert f"signed, key {public_key_of(RITA_KEY).id}" in page
    assert page.count("signed, key") == 1
