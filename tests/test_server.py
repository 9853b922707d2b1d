"""The HTTP API (`tiergate serve`): people by their tokens, refusals as problem+json with the command line's codes
and messages, and the same answers as the command line. Each attack is tried, not only the happy path."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import extra_module
from test_ledger_cli import POLICY, ROSTER, USE_CASES, exported, state, tiergate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ledger(tmp_path) -> Path:
    path = tmp_path / "ledger.db"
    assert tiergate("roster", "import", ROSTER, "--ledger", path, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    return path


def token_for(ledger: Path, person: str) -> str:
    result = tiergate("token", "create", person, "--ledger", ledger, "--actor", "rita")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def client(ledger):
    extra_module("httpx")
    testclient = extra_module("starlette.testclient")
    from tiergate.server import Settings, create_app

    with testclient.TestClient(create_app(Settings(str(ledger), str(POLICY)))) as c:
        yield c


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def answers(name: str) -> dict:
    return yaml.safe_load((USE_CASES / f"{name}.yaml").read_text())


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["status"], body["code"], body["type"]) == (status, code, f"urn:tiergate:error:{code}")
    assert body["errors"][0]["code"] == code and body["detail"] == body["errors"][0]["message"]
    return body


def register(client, token, name="loan-approval", version="1.0"):
    return client.post("/v1/events", headers=bearer(token), json={
        "type": "registered", "use_case": name, "version": version, "answers": answers(name)})


def test_health_needs_no_token_and_ready_says_what_is_loaded(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["status"] == "ready" and ready["policy"]["name"] == "mlops-default" and ready["events"] == 2  # (the adoption, the roster)


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic dGc6eA==", "Bearer tg_not-a-token",
                                    "Bearer raj", "bearer  "])
def test_every_v1_request_needs_a_valid_token(client, header):
    headers = {"Authorization": header} if header is not None else {}
    for method, path in [("get", "/v1/policy"), ("get", "/v1/status"), ("post", "/v1/audit/verify"),
                         ("get", "/v1/audit/head")]:
        response = getattr(client, method)(path, headers=headers)
        body = problem(response, 401, "E650")
        assert response.headers["www-authenticate"] == "Bearer"
        assert body["errors"][0]["file"] == "Authorization"


def test_a_revoked_or_expired_token_is_refused_and_a_person_off_the_roster_too(client, ledger, tmp_path):
    token = token_for(ledger, "raj")
    assert client.get("/v1/policy", headers=bearer(token)).status_code == 200
    token_id = exported(ledger)[-1]["token_id"]
    assert tiergate("token", "revoke", token_id, "--ledger", ledger, "--actor", "rita").exit_code == 0
    problem(client.get("/v1/policy", headers=bearer(token)), 401, "E650")
    other = token_for(ledger, "bea")
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text("people:\n  rita: [risk_audit]\n  admin: [risk_audit]\n")
    assert tiergate("roster", "import", fewer, "--ledger", ledger, "--actor", "rita").exit_code == 0
    problem(client.get("/v1/policy", headers=bearer(other)), 401, "E650")


def test_the_actor_is_the_tokens_person_never_a_claim(client, ledger):
    dana = token_for(ledger, "dana")
    done = register(client, dana)
    assert done.status_code == 201, done.text
    assert exported(ledger)[-1]["actor"] == "dana" and done.json()["event"]["actor"] == "dana"
    before = state(ledger)
    claim = client.post("/v1/events", headers=bearer(dana), json={
        "type": "signoff", "use_case": "loan-approval", "version": "1.0", "gate": "development",
        "role": "risk_audit", "decision": "approve", "actor": "rita"})
    body = problem(claim, 422, "E656")
    assert body["detail"] == "a request does not say who acts: its token does (`actor` is given)"
    assert state(ledger) == before


def test_a_signoff_by_a_person_without_the_role_is_403_and_nothing_is_written(client, ledger):
    register(client, token_for(ledger, "dana"))
    before = state(ledger)
    sam = token_for(ledger, "sam")
    before = state(ledger)
    refused = client.post("/v1/events", headers=bearer(sam), json={
        "type": "signoff", "use_case": "loan-approval", "version": "1.0", "gate": "development",
        "role": "risk_audit", "decision": "approve"})
    body = problem(refused, 403, "E611")
    assert body["detail"] == "sam does not hold role risk_audit (holds data_scientist, citizen_ds)"
    assert state(ledger) == before
    rita = client.post("/v1/events", headers=bearer(token_for(ledger, "rita")), json={
        "type": "signoff", "use_case": "loan-approval", "version": "1.0", "gate": "development",
        "role": "risk_audit", "decision": "approve"})
    assert rita.status_code == 201 and rita.json()["event"]["actor"] == "rita"


def test_refusals_carry_the_command_lines_codes(client, ledger):
    dana = token_for(ledger, "dana")
    register(client, dana)
    problem(register(client, dana), 409, "E612")  # registered already
    unknown_stage = client.post("/v1/events", headers=bearer(dana), json={
        "type": "signoff", "use_case": "loan-approval", "version": "1.0", "gate": "prod", "role": "risk_audit",
        "decision": "approve"})
    problem(unknown_stage, 422, "E610")
    missing_field = client.post("/v1/events", headers=bearer(dana), json={
        "type": "evidence", "use_case": "loan-approval", "version": "1.0"})
    assert problem(missing_field, 422, "E400")["detail"].startswith("event evidence misses kind")
    bad_type = client.post("/v1/events", headers=bearer(dana), json={"type": "transition", "use_case": "x",
                                                                      "version": "1", "to": "deployment"})
    assert "a person records one of registered, evidence" in problem(bad_type, 422, "E400")["detail"]
    bad_answers = client.post("/v1/events", headers=bearer(dana), json={
        "type": "registered", "use_case": "loan-approval", "version": "2.0",
        "answers": {**answers("loan-approval"), "answers": {**answers("loan-approval")["answers"],
                                                           "audience": "publik"}}})
    body = problem(bad_answers, 422, "E303")
    assert "publik" in body["detail"]


@pytest.mark.parametrize("data, status, code", [
    (b"not json", 400, "E652"), (b"[1, 2]", 400, "E652"), (b'{"a": NaN}', 400, "E652"), (b"\xff\xfe", 400, "E652"),
    (b"{" * 100_000, 400, "E652")])
def test_a_body_that_is_not_a_json_object_is_400(client, ledger, data, status, code):
    response = client.post("/v1/classify", headers={**bearer(token_for(ledger, "dana")),
                                                    "Content-Type": "application/json"}, content=data)
    problem(response, status, code)


def test_a_body_past_the_limit_is_413_before_it_is_read(ledger):
    testclient = extra_module("starlette.testclient")
    from tiergate.server import Settings, create_app

    with testclient.TestClient(create_app(Settings(str(ledger), str(POLICY), max_body=1000))) as small:
        token = token_for(ledger, "dana")
        problem(small.post("/v1/classify", headers=bearer(token), content=b"{" + b" " * 2000 + b"}"), 413, "E651")
        chunks = (b" " * 600 for _ in range(3))  # no Content-Length: counted as it comes
        problem(small.post("/v1/classify", headers=bearer(token), content=chunks), 413, "E651")


def test_classify_answers_as_the_command_line_does(client, ledger):
    token = token_for(ledger, "dana")
    response = client.post("/v1/classify", headers=bearer(token), json=answers("loan-approval"))
    assert response.status_code == 200
    cli = json.loads(tiergate("classify", USE_CASES / "loan-approval.yaml", "--policy", POLICY,
                              "--format", "json").stdout)
    assert response.json()["tier"] == cli["tier"] == "critical"
    assert response.json()["matched"] == cli["matched"]


def test_promote_is_409_with_every_unmet_requirement_then_200(client, ledger):
    dana = token_for(ledger, "dana")
    register(client, dana)
    ideation = client.post("/v1/promote", headers=bearer(dana), json={"use_case": "loan-approval", "version": "1.0",
                                                                     "to": "ideation"})
    assert ideation.status_code == 200, ideation.text
    assert ideation.json()["check"]["allowed"] is True and exported(ledger)[-1]["actor"] == "dana"
    before = state(ledger)
    blocked = client.post("/v1/promote", headers=bearer(dana), json={"use_case": "loan-approval",
                                                                   "version": "1.0", "to": "development"})
    body = problem(blocked, 409, "E660")
    unmet = [r["id"] for r in body["check"]["requirements"] if r["status"] == "unmet"]
    assert unmet == ["evidence:pii_handling@development", "signoff:business_stakeholder@development",
                     "signoff:risk_audit@development"]
    # no transition: only the decision that refused it
    assert state(ledger)[1] == before[1] + 1 and exported(ledger)[-1]["type"] == "decision"


def test_check_answers_as_check_ledger_does(client, ledger):
    dana = token_for(ledger, "dana")
    assert tiergate("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml", "--ledger",
                    ledger, "--actor", "dana", "--at", "2026-11-01T00:00:00Z").exit_code == 0
    request = {"use_case": "loan-approval", "to": "ideation", "at": "2026-12-01T00:00:00Z", "replay": True}
    response = client.post("/v1/check", headers=bearer(dana), json=request)
    cli = tiergate("check", "--ledger", ledger, "--use-case", "loan-approval", "--to", "ideation", "--at",
                   "2026-12-01T00:00:00Z", "--replay", "--policy", POLICY, "--format", "json")
    assert response.status_code == 200 and response.json() == json.loads(cli.stdout)
    for bad, field in [({"use_case": "loan-approval", "replay": "yes"}, "replay"),
                       ({"use_case": "loan-approval", "at": "yesterday"}, "at"),
                       ({"use_case": "loan-approval", "colour": "red"}, "colour"), ({}, "use_case")]:
        body = problem(client.post("/v1/check", headers=bearer(dana), json=bad), 422, "E400")
        assert body["errors"][0]["file"] == field
    unknown = client.post("/v1/check", headers=bearer(dana), json={"use_case": "loan-approval", "version": "9"})
    problem(unknown, 404, "E422")


def test_status_history_head_and_verify(client, ledger):
    dana = token_for(ledger, "dana")
    register(client, dana)
    rows = client.get("/v1/status", headers=bearer(dana)).json()["versions"]
    assert [(r["use_case"], r["version"], r["stage"]) for r in rows] == [("loan-approval", "1.0", "business_scoping")]
    assert client.get("/v1/status?tier=ad_hoc", headers=bearer(dana)).json()["versions"] == []
    problem(client.get("/v1/status?colour=red", headers=bearer(dana)), 422, "E400")
    history = client.get("/v1/use-cases/loan-approval/versions/1.0", headers=bearer(dana)).json()
    assert [e["type"] for e in history] == ["registered"]
    problem(client.get("/v1/use-cases/loan-approval/versions/9.9", headers=bearer(dana)), 404, "E654")
    head, count = state(ledger)
    assert client.get("/v1/audit/head", headers=bearer(dana)).json() == {"head": head, "events": count}
    verified = client.post("/v1/audit/verify", headers=bearer(dana)).json()
    assert verified == {"intact": True, "events": count, "head": head, "problem": None, "event": None}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tiergate_serve_listens_on_loopback_and_answers(ledger):
    httpx = extra_module("httpx")
    extra_module("uvicorn")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tiergate", "serve", "--port", str(port), "--ledger", str(ledger),
                             "--policy", str(POLICY)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and answer is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None and answer.json() == {"status": "ok"}
        token = token_for(ledger, "dana")
        assert httpx.get(f"http://127.0.0.1:{port}/v1/policy", headers=bearer(token)).json()["name"] == \
            "mlops-default"
        # only loopback: no other address of this machine answers
        others = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
        for address in others:
            with pytest.raises(httpx.TransportError):
                httpx.get(f"http://{address}:{port}/health", timeout=1.0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- the decision log ----------------------------------------------------------------------------------------

def test_every_check_is_answered_only_once_its_decision_is_in_the_ledger(client, ledger):
    import hashlib

    from tiergate.ledger.chain import canonical

    dana = token_for(ledger, "dana")
    register(client, dana)
    request = {"use_case": "loan-approval", "to": "ideation"}
    answer = client.post("/v1/check", headers=bearer(dana), json=request)
    assert answer.status_code == 200
    [decision] = client.get("/v1/decisions", headers=bearer(dana)).json()
    assert decision["decision_id"] == answer.headers["tiergate-decision"]
    assert (decision["operation"], decision["verdict"], decision["actor"], decision["use_case"],
            decision["version"]) == ("check", "allowed", "dana", "loan-approval", "1.0")
    from tiergate.language.load import load_policy

    assert decision["policy_sha256"] == load_policy(POLICY).sha256
    assert decision["input_sha256"] == hashlib.sha256(canonical(request).encode()).hexdigest()
    assert exported(ledger)[-1]["decision_id"] == decision["decision_id"]  # in the ledger, and in an export
    assert tiergate("audit", "verify", "--ledger", ledger).exit_code == 0
    history = client.get("/v1/use-cases/loan-approval/versions/1.0", headers=bearer(dana)).json()
    assert [e["type"] for e in history] == ["registered", "decision"]


def test_a_promote_logs_its_decision_with_the_transition_or_alone_when_blocked(client, ledger):
    dana = token_for(ledger, "dana")
    register(client, dana)
    done = client.post("/v1/promote", headers=bearer(dana), json={"use_case": "loan-approval", "version": "1.0",
                                                                 "to": "ideation"})
    events = exported(ledger)
    assert [e["type"] for e in events[-2:]] == ["transition", "decision"]
    assert events[-1]["decision_id"] == done.json()["decision_id"] and events[-1]["verdict"] == "allowed"
    blocked = client.post("/v1/promote", headers=bearer(dana), json={"use_case": "loan-approval",
                                                                   "version": "1.0", "to": "development"})
    body = problem(blocked, 409, "E660")
    last = exported(ledger)[-1]
    assert (last["type"], last["verdict"], last["operation"], last["decision_id"]) == (
        "decision", "blocked", "promote", body["decision_id"])
    since = client.get("/v1/decisions?since=2000-01-01T00:00:00Z&limit=1", headers=bearer(dana)).json()
    assert len(since) == 1 and since[0]["verdict"] == "allowed"
    assert client.get("/v1/decisions?since=2999-01-01T00:00:00Z", headers=bearer(dana)).json() == []
    problem(client.get("/v1/decisions?limit=0", headers=bearer(dana)), 422, "E400")
    problem(client.get("/v1/decisions?colour=red", headers=bearer(dana)), 422, "E400")


def test_a_check_whose_decision_cannot_be_written_is_not_answered(client, ledger, monkeypatch):
    from tiergate.errors import Diagnostic, Location, TiergateError
    from tiergate.ledger.service import Ledger

    dana = token_for(ledger, "dana")
    register(client, dana)
    before = state(ledger)

    def full(*args, **kwargs):
        raise TiergateError(Diagnostic("E600", "the disk is full", Location(str(ledger))))
    monkeypatch.setattr(Ledger, "append_bodies", full)
    answer = client.post("/v1/check", headers=bearer(dana), json={"use_case": "loan-approval", "to": "ideation"})
    problem(answer, 503, "E600")
    assert "allowed" not in answer.text
    monkeypatch.undo()
    assert state(ledger) == before


def test_an_internal_failure_answers_500_and_decides_nothing(client, ledger, monkeypatch):
    import tiergate.app.decisions as decisions

    dana = token_for(ledger, "dana")
    register(client, dana)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(decisions, "logged_check", broken)
    body = problem(client.post("/v1/check", headers=bearer(dana), json={"use_case": "loan-approval"}), 500, "E655")
    assert "boom" not in json.dumps(body)  # (the details go to the log, not to the caller)


def test_metrics_count_requests_latencies_decisions_and_the_ledger(client, ledger):
    dana = token_for(ledger, "dana")
    register(client, dana)
    client.post("/v1/check", headers=bearer(dana), json={"use_case": "loan-approval", "to": "ideation"})
    client.post("/v1/promote", headers=bearer(dana), json={"use_case": "loan-approval", "version": "1.0",
                                                          "to": "development"})
    client.get("/v1/policy")  # 401
    text = client.get("/metrics").text
    lines = text.splitlines()
    assert 'tiergate_requests_total{route="/v1/policy",method="GET",status="401"} 1' in lines
    assert 'tiergate_requests_total{route="/v1/events",method="POST",status="201"} 1' in lines
    assert 'tiergate_decisions_total{operation="check",verdict="allowed"} 1' in lines
    assert 'tiergate_decisions_total{operation="promote",verdict="blocked"} 1' in lines
    assert f"tiergate_ledger_events {state(ledger)[1]}" in lines
    count = next(line for line in lines if line.startswith('tiergate_request_seconds_count{route="/v1/check"}'))
    assert count.endswith(" 1")
    assert 'tiergate_request_seconds_bucket{route="/v1/check",le="+Inf"} 1' in lines


# --- administration over the API ------------------------------------------------------------------------------

def test_an_admin_stores_a_roster_and_revokes_a_token_and_no_one_else_may(client, ledger):
    admin_roster = {"people": {**yaml.safe_load(ROSTER.read_text())["people"], "gina": ["governance_admin"]}}
    path = ledger.parent / "with-admin.yaml"
    path.write_text(yaml.safe_dump(admin_roster))
    assert tiergate("roster", "import", path, "--ledger", ledger, "--actor", "rita").exit_code == 0
    gina, raj = token_for(ledger, "gina"), token_for(ledger, "raj")
    raj_id = exported(ledger)[-1]["token_id"]
    before = state(ledger)
    # not an admin: refused, nothing written
    problem(client.post("/v1/roster", headers=bearer(raj), json=admin_roster), 403, "E653")
    problem(client.post(f"/v1/tokens/{raj_id}/revoke", headers=bearer(raj)), 403, "E653")
    assert state(ledger) == before
    # a roster with a problem: located, nothing written
    bad = client.post("/v1/roster", headers=bearer(gina), json={"people": {"rita": "risk_audit"}})
    assert problem(bad, 422, "E410")["errors"][0]["message"]
    assert state(ledger) == before
    fewer = {"people": {"gina": ["governance_admin"], "rita": ["risk_audit"]}}
    stored = client.post("/v1/roster", headers=bearer(gina), json=fewer)
    assert stored.status_code == 201 and exported(ledger)[-1]["actor"] == "gina"
    problem(client.get("/v1/policy", headers=bearer(raj)), 401, "E650")  # raj is off the roster now
    revoked = client.post(f"/v1/tokens/{raj_id}/revoke", headers=bearer(gina))
    assert revoked.status_code == 200 and exported(ledger)[-1]["type"] == "token_revoked"
    problem(client.post(f"/v1/tokens/{raj_id}/revoke", headers=bearer(gina)), 409, "E612")


def test_a_version_with_a_slash_has_its_history_over_the_api(client, ledger):
    """Version ids may hold `/` (`2026/12`): the path takes the rest, percent-encoded or not, as the CLI's
    `history --server` sends it (quoted)."""
    dana = token_for(ledger, "dana")
    assert tiergate("register", "loan-approval", "2026/12", "--answers", USE_CASES / "loan-approval.yaml", "--ledger",
                    ledger, "--actor", "dana").exit_code == 0
    for path in ("/v1/use-cases/loan-approval/versions/2026/12", "/v1/use-cases/loan-approval/versions/2026%2F12"):
        answer = client.get(path, headers=bearer(dana))
        assert answer.status_code == 200, answer.text
        assert [(e["type"], e["version"]) for e in answer.json()] == [("registered", "2026/12")]
    problem(client.get("/v1/use-cases/loan-approval/versions/2026/13", headers=bearer(dana)), 404, "E654")


@pytest.mark.parametrize("version", ["a%0Ab", "%0A", "x%3Fy", "%F3%9C%81%B8%0B"])
def test_any_version_in_the_path_gets_a_problem_not_a_plain_404(client, ledger, version):
    """Whatever the path holds after /versions/ (line breaks, `?` encoded, any character), the answer is the API's
    problem+json, as schemathesis requires of every operation."""
    dana = token_for(ledger, "dana")
    answer = client.get(f"/v1/use-cases/loan-approval/versions/{version}", headers=bearer(dana))
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "E654"
