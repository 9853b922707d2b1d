"""Offline bundles (issue 20, part 5): `attest export USE_CASE VERSION --out BUNDLE` writes the version's signed
envelopes, the roster and policy in force, the run of the chain they are in and the signed checkpoint it ends at;
`attest verify BUNDLE` checks it with no ledger, says which requirement each signed approval counts for, and refuses
a bundle with one byte changed anywhere (exit 1, the problem named; exit 2 for a file that is no bundle at all)."""
from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings, strategies as st

from test_ledger_cli import USE_CASES, tiergate
from test_signed_events import RAJ_KEY, RITA_KEY, SIGNOFF, keys, pem, roster_text  # noqa: F401 (fixtures)
from tiergate.inputs.dsse import public_key_of, roster_line

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "signing"
RITA_ID, RAJ_ID = public_key_of(RITA_KEY).id, public_key_of(RAJ_KEY).id


def run(*args, ledger: Path, policy: Path | None = None, **options):
    extra = ("--policy", policy) if policy is not None else ()
    result = tiergate(*args, "--ledger", ledger, *extra, **options)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def signed_ledger(tmp_path, keys) -> Path:
    """Under examples/signing/signed.policy (a signed sign-off by risk_audit before deployment): loan-approval 1.0
    registered, rita's signed sign-off, raj's signed evidence, another model's events between, a checkpoint by raj."""
    ledger, roster = tmp_path / "ledger.db", tmp_path / "roster.yaml"
    roster.write_text(roster_text())
    policy = EXAMPLES / "signed.policy"
    run("roster", "import", roster, ledger=ledger, policy=policy, env={"TIERGATE_ACTOR": "dana"})
    for use_case in ("loan-approval", "churn-dashboard"):
        run("register", use_case, "1.0", "--answers", USE_CASES / f"{use_case}.yaml", "--actor", "dana",
            ledger=ledger, policy=policy)
    run(*SIGNOFF, "--actor", "rita", "--sign", keys["rita"], ledger=ledger, policy=policy)
    run("evidence", "churn-dashboard", "1.0", "metrics_record", "auc=0.8", "--actor", "dana", ledger=ledger,
        policy=policy)
    run("evidence", "loan-approval", "1.0", "bias_test", "disparity=0.04", "--actor", "raj", "--sign", keys["raj"],
        ledger=ledger, policy=policy)
    run("audit", "checkpoint", "--sign", keys["raj"], ledger=ledger)
    return ledger


@pytest.fixture
def bundle(signed_ledger, tmp_path) -> Path:
    out = tmp_path / "bundle.json"
    run("attest", "export", "loan-approval", "1.0", "--out", out, ledger=signed_ledger)
    return out


def verify(path: Path, *extra):
    return tiergate("attest", "verify", path, *extra)


def test_a_bundle_verifies_and_says_what_each_signed_approval_counts_for(bundle):
    result = verify(bundle)
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "bundle verified: loan-approval 1.0, 2 signed events, 7 events chained to a signed checkpoint"
    assert re.fullmatch(rf"  checkpoint of \S+: 7 events, head [0-9a-f]{{64}}, signed by raj \(key {RAJ_ID}\)",
                        lines[1]), lines[1]
    assert lines[2] == "  keys: the bundle's own roster events"
    assert lines[3] == f"  #5 approve sign-off as risk_audit for deployment, signed by rita (key {RITA_ID})"
    assert lines[4].startswith("      counts for signoff:risk_audit@deployment (signed) of tier high under signed-approvals ")
    assert lines[5] == f"  #7 evidence bias_test, signed by raj (key {RAJ_ID})"
    assert "counts for evidence:bias_test" in lines[6]


def test_the_bundle_holds_the_run_from_the_policy_to_the_checkpoint_with_other_models_between(bundle):
    data = json.loads(bundle.read_text())
    assert data["first"] == 1 and data["previous"] == "0" * 64
    kinds = [json.loads(e)["type"] for e in data["events"]]
    assert kinds == ["policy_adopted", "roster", "registered", "registered", "signoff", "evidence", "evidence"]
    assert data["checkpoint"]["count"] == len(data["events"])
    assert any(json.loads(e)["use_case"] == "churn-dashboard" for e in data["events"])
    assert bundle.read_text() == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def test_keys_you_trust_pin_the_signers(bundle, tmp_path):
    trusted = tmp_path / "trusted.yaml"
    trusted.write_text(roster_text())
    result = verify(bundle, "--roster", trusted)
    assert result.exit_code == 0, result.stdout
    assert f"  keys: the roster you trust ({trusted})" in result.stdout
    other = tmp_path / "other.yaml"
    stranger = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"not rita's key").digest())
    other.write_text(roster_text().replace(roster_line(public_key_of(RITA_KEY)), roster_line(public_key_of(stranger))))
    result = verify(bundle, "--roster", other)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "BUNDLE REFUSED: loan-approval 1.0: 1 problem",
        f"  - signed event 5: key {RITA_ID} of rita is not among the keys the roster you trust gives rita then"]


def test_an_event_changed_in_the_bundle_is_named(bundle, tmp_path):
    data = json.loads(bundle.read_text())
    data["events"][4] = data["events"][4].replace('"deployment"', '"production"')
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n")
    result = verify(changed)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1] == ("  - event 5 does not match its hash: it was changed (or an event before it "
                                             "was added or taken out)")


def test_events_and_hashes_changed_together_do_not_lead_to_the_checkpoint(bundle, tmp_path):
    from tiergate.ledger.chain import event_hash

    data = json.loads(bundle.read_text())
    data["events"][4] = data["events"][4].replace('"deployment"', '"production"')
    previous = data["previous"]
    for i, text in enumerate(data["events"]):  # (every hash computed again, as a forger would)
        previous = data["hashes"][i] = event_hash(previous, text.encode())
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n")
    result = verify(changed)
    assert result.exit_code == 1
    assert "the events do not lead to the checkpoint: they end at event 7 with the hash" in result.stdout


def test_an_event_taken_out_is_found(bundle, tmp_path):
    data = json.loads(bundle.read_text())
    del data["events"][3], data["hashes"][3]
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n")
    result = verify(changed)
    assert result.exit_code == 1 and "event 4 does not match its hash" in result.stdout, result.stdout


def test_a_bundle_reformatted_is_refused(bundle, tmp_path):
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(json.loads(bundle.read_text())))
    result = verify(changed)
    assert result.exit_code == 1
    assert "the file was changed: it is not byte for byte as `attest export` writes it" in result.stdout


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_byte_changed_anywhere_is_refused(bundle, data):
    raw = bundle.read_bytes()
    at = data.draw(st.integers(0, len(raw) - 1), label="position")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]), label="byte")
    changed = raw[:at] + bytes([new]) + raw[at + 1:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "changed.json"
        path.write_bytes(changed)
        result = tiergate("attest", "verify", path)
    assert result.exit_code in (1, 2), (at, new, result.stdout)
    assert "Traceback" not in result.stderr + result.stdout and "internal error" not in result.stderr
    if result.exit_code == 1:
        assert result.stdout.startswith("BUNDLE REFUSED: ")
    else:
        assert "error[E695]" in result.stderr


@pytest.mark.parametrize("content, words", [
    (b"not json", "a bundle is JSON"),
    (b"{}", "this is no tiergate bundle"),
    (b'{"bundleType": "https://in-toto.io/Statement/v1"}', "this is no tiergate bundle"),
    (b"\xff\xfe", "a bundle is JSON"),
])
def test_a_file_that_is_no_bundle_is_refused_with_E695(tmp_path, content, words):
    path = tmp_path / "b.json"
    path.write_bytes(content)
    result = verify(path)
    assert result.exit_code == 2 and "error[E695]" in result.stderr and words in result.stderr, result.stderr


def test_a_missing_bundle_file_is_named(tmp_path):
    result = verify(tmp_path / "nowhere.json")
    assert result.exit_code == 2 and "nowhere.json" in result.stderr and "not found" in result.stderr


def test_no_bundle_without_a_checkpoint_that_covers_the_version(signed_ledger, keys, tmp_path):
    out = tmp_path / "b.json"
    run(*SIGNOFF, "--actor", "raj", "--sign", keys["raj"], ledger=signed_ledger,
        policy=EXAMPLES / "signed.policy")
    result = tiergate("attest", "export", "loan-approval", "1.0", "--out", out, "--ledger", signed_ledger)
    assert result.exit_code == 2 and "error[E696]" in result.stderr
    assert "no signed checkpoint covers event 9, the latest of loan-approval 1.0" in result.stderr
    assert "tiergate audit checkpoint --sign KEYFILE" in result.stderr and not out.exists()
    result = tiergate("attest", "export", "nothing", "1.0", "--out", out, "--ledger", signed_ledger)
    assert result.exit_code == 2 and "the ledger holds no event of nothing 1.0" in result.stderr


def test_a_version_with_no_signed_event_has_a_bundle_with_none(signed_ledger, tmp_path):
    out = tmp_path / "b.json"
    run("attest", "export", "churn-dashboard", "1.0", "--out", out, ledger=signed_ledger)
    result = verify(out)
    assert result.exit_code == 0
    assert result.stdout.startswith("bundle verified: churn-dashboard 1.0, 0 signed events, ")


def test_a_key_removed_later_still_verifies_what_it_signed_before(signed_ledger, keys, tmp_path):
    """rita's key leaves the roster after her sign-off: the bundle carries the roster in force when she signed."""
    roster = tmp_path / "later.yaml"
    roster.write_text(roster_text().replace(f"  rita:\n    - {roster_line(public_key_of(RITA_KEY))}\n", ""))
    run("roster", "import", roster, "--actor", "dana", ledger=signed_ledger, policy=EXAMPLES / "signed.policy")
    run("audit", "checkpoint", "--sign", keys["raj"], ledger=signed_ledger)
    out = tmp_path / "b.json"
    run("attest", "export", "loan-approval", "1.0", "--out", out, ledger=signed_ledger)
    result = verify(out)
    assert result.exit_code == 0, result.stdout
    assert f"signed by rita (key {RITA_ID})" in result.stdout


def test_no_private_key_is_in_a_bundle(bundle, keys):
    text = bundle.read_text()
    for key in (RITA_KEY, RAJ_KEY):
        for line in pem(key).decode().splitlines()[1:-1]:
            assert line not in text


def test_checkpoint_and_bundle_on_postgresql(postgres_ledger_url, keys, tmp_path):
    """The same on a PostgreSQL ledger: a checkpoint recorded and checked, a bundle exported and verified offline."""
    roster, policy = tmp_path / "roster.yaml", EXAMPLES / "signed.policy"
    roster.write_text(roster_text())
    url = postgres_ledger_url
    run("roster", "import", roster, "--actor", "dana", ledger=url, policy=policy)
    run("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml", "--actor", "dana",
        ledger=url, policy=policy)
    run(*SIGNOFF, "--actor", "rita", "--sign", keys["rita"], ledger=url, policy=policy)
    kept = tmp_path / "cp.json"
    run("audit", "checkpoint", "--sign", keys["raj"], "--out", kept, ledger=url)
    run(*SIGNOFF, "--actor", "raj", "--sign", keys["raj"], ledger=url, policy=policy)
    result = run("audit", "verify", "--checkpoint", kept, ledger=url)
    assert "it extends the checkpoint (event 4, " in result.stdout and "2 signed events checked after it" in \
        result.stdout, result.stdout
    run("audit", "checkpoint", "--sign", keys["raj"], ledger=url)
    out = tmp_path / "b.json"
    run("attest", "export", "loan-approval", "1.0", "--out", out, ledger=url)
    result = verify(out)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.startswith("bundle verified: loan-approval 1.0, 2 signed events, 6 events chained")


def test_a_lone_surrogate_in_a_bundle_is_refused_with_E695(bundle, tmp_path):
    """One byte changed can make the file hold the JSON escape of a lone surrogate (`\\ud800`), which no UTF-8 text
    holds and no hash can be taken of: refused as no bundle, not a traceback (the byte-changing test found it)."""
    data = json.loads(bundle.read_text())
    data["events"][2] = data["events"][2].replace('"actor":', '"actor\ud800":', 1)
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n")
    result = verify(changed)
    assert result.exit_code == 2 and "error[E695]" in result.stderr and "a lone surrogate" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
