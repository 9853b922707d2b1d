"""The command line as a client (`--server URL`, token in TIERGATE_TOKEN), against a real `tiergate serve` process:
a model goes through register -> evidence -> sign-off by a second person -> promote; the output and the exit codes
are those of the same commands on a local ledger; anything that goes wrong on the way exits 2 (fail closed)."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from conftest import extra_module
from test_ledger_cli import ROOT, ROSTER, USE_CASES, exported, state, tiergate



def now() -> str:
    """A time after every event recorded so far and not ahead of the clock: what both runs are asked about."""
    from datetime import datetime, timezone

    time.sleep(0.01)
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    httpx = extra_module("httpx")
    extra_module("uvicorn")
    ledger = tmp_path_factory.mktemp("service") / "ledger.db"
    assert tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "rita",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    tokens = {p: tiergate("token", "create", p, "--ledger", ledger, "--actor", "rita").stdout.strip()
              for p in ("dana", "sam", "rita", "bea")}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tiergate", "serve", "--port", str(port), "--ledger", str(ledger)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=1.0)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    yield {"url": url, "ledger": ledger, "tokens": tokens}
    proc.terminate()
    proc.wait(timeout=30)


def remote(service, person, *args):
    return tiergate(*args, env={"TIERGATE_SERVER": service["url"], "TIERGATE_TOKEN": service["tokens"][person]})


def test_a_model_goes_through_its_first_gates_from_another_shell(service):
    ledger = service["ledger"]
    registered = remote(service, "dana", "register", "loan-approval", "1.0", "--answers",
                        USE_CASES / "loan-approval.yaml")
    assert registered.exit_code == 0, registered.stderr
    assert registered.stdout.startswith("registered loan-approval 1.0: tier critical under mlops-default 1.0.0 (#")
    assert exported(ledger)[-1]["actor"] == "dana"
    evidence = remote(service, "dana", "evidence", "loan-approval", "1.0", "pii_handling", "fields=0")
    assert evidence.exit_code == 0 and evidence.stdout.startswith("recorded evidence #")
    # a person without the role: refused as locally, exit 2, nothing written
    before = state(ledger)
    refused = remote(service, "sam", "signoff", "loan-approval", "1.0", "--gate", "development", "--role",
                     "risk_audit")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "signoff: error[E611]: sam does not hold role risk_audit (holds data_scientist, citizen_ds)" \
        in refused.stderr and "tiergate: nothing was written" in refused.stderr
    assert state(ledger) == before
    for person, role in (("rita", "risk_audit"), ("bea", "business_stakeholder")):
        signed = remote(service, person, "signoff", "loan-approval", "1.0", "--gate", "development", "--role", role)
        assert signed.exit_code == 0, signed.stderr
        assert exported(ledger)[-1]["actor"] == person
    ideation = remote(service, "dana", "promote", "loan-approval", "1.0", "--to", "ideation")
    assert ideation.exit_code == 0 and ideation.stdout.startswith("ALLOWED: loan-approval 1.0 may enter ideation")
    development = remote(service, "dana", "promote", "loan-approval", "1.0", "--to", "development")
    assert development.exit_code == 0, development.stdout + development.stderr
    assert "promoted loan-approval 1.0 to development" in development.stderr
    blocked = remote(service, "dana", "promote", "loan-approval", "1.0", "--to", "preproduction")
    assert blocked.exit_code == 1 and blocked.stdout.startswith("BLOCKED: loan-approval 1.0 may not enter")
    assert "tiergate: not promoted; nothing was written" in blocked.stderr
    assert [e["type"] for e in exported(ledger)[-2:]] == ["decision", "decision"]  # (each answer logged)


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "markdown"])
def test_check_answers_as_the_local_command_does(service, fmt):
    if not any(e["type"] == "registered" for e in exported(service["ledger"])):
        test_a_model_goes_through_its_first_gates_from_another_shell(service)
    args = ["check", "--use-case", "loan-approval", "--to", "preproduction", "--at", now(), "--replay",
            "--format", fmt]
    local = tiergate(*args, "--ledger", service["ledger"])
    served = remote(service, "dana", *args)
    assert (served.exit_code, served.stdout) == (local.exit_code, local.stdout)
    assert served.exit_code == 1


def test_status_and_history_answer_as_locally(service):
    if not any(e["type"] == "registered" for e in exported(service["ledger"])):
        test_a_model_goes_through_its_first_gates_from_another_shell(service)
    at = now()
    for args in (["status", "--at", at], ["status", "--at", at, "--format", "csv"]):
        local = tiergate(*args, "--ledger", service["ledger"])
        served = remote(service, "dana", *args)
        assert (served.exit_code, served.stdout) == (local.exit_code, local.stdout)
    local = tiergate("history", "loan-approval", "1.0", "--ledger", service["ledger"])
    served = remote(service, "dana", "history", "loan-approval", "1.0")
    assert served.stdout == local.stdout and served.exit_code == 0


def test_what_fails_on_the_way_exits_2(service):
    unreachable = tiergate("check", "--use-case", "loan-approval", env={
        "TIERGATE_SERVER": f"http://127.0.0.1:{free_port()}", "TIERGATE_TOKEN": service["tokens"]["dana"]})
    assert unreachable.exit_code == 2 and "cannot reach the server at http://127.0.0.1:" in unreachable.stderr
    no_token = tiergate("status", env={"TIERGATE_SERVER": service["url"], "TIERGATE_TOKEN": ""})
    assert no_token.exit_code == 2 and "TIERGATE_TOKEN is not set" in no_token.stderr
    forged = tiergate("status", env={"TIERGATE_SERVER": service["url"], "TIERGATE_TOKEN": "tg_forged"})
    assert forged.exit_code == 2 and "error[E650]: the request carries no valid token" in forged.stderr
    bad_url = tiergate("status", env={"TIERGATE_SERVER": "ftp://example", "TIERGATE_TOKEN": "x"})
    assert bad_url.exit_code == 2 and "is not an http:// or https:// URL" in bad_url.stderr
    claim = remote(service, "dana", "signoff", "loan-approval", "1.0", "--gate", "development", "--role",
                   "risk_audit", "--actor", "rita")
    assert claim.exit_code == 2 and "--actor goes with a local ledger" in claim.stderr
    local = remote(service, "dana", "check", "--use-case", "loan-approval", "--ledger", "x.db")
    assert local.exit_code == 2 and "--ledger goes with a local ledger" in local.stderr
