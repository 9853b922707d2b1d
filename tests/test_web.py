"""The web registry (engine/tiergate/server/pages.py, views.py, templates/): signing in with a token, the pages behind
it, approving from the inbox as the signed-in person, and the attacks on it — a forged form, a revoked token's
session, another site's link after sign-in, hostile values in every field shown. In-process (Starlette's client);
tests/test_web_browser.py drives the same pages in Chromium."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from markupsafe import escape

from conftest import extra_module
from test_ledger_cli import POLICY, ROSTER, USE_CASES, tiergate

HOSTILE = '"><script>alert("x")</script><img src=x onerror=alert(1)>'


def ok(result) -> str:
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def build_story(ledger: Path) -> dict:
    """A ledger where loan-approval 1.0 (registered by dana) waits in ideation for sign-offs from bea and a risk
    officer to enter development, churn-dashboard 2026.2 (registered by bea) waits in preproduction for a
    business stakeholder's, and a version with hostile text everywhere. The tokens of rita, bea, dana and sam."""
    ok(tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "rita"))
    ok(tiergate("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml", "--ledger", ledger,
                "--actor", "dana", "--policy", POLICY))
    ok(tiergate("promote", "loan-approval", "1.0", "--to", "ideation", "--ledger", ledger, "--actor", "dana"))
    ok(tiergate("register", "churn-dashboard", "2026.2", "--answers", USE_CASES / "churn-dashboard.yaml",
                "--ledger", ledger, "--actor", "bea"))
    for stage in ("ideation", "development", "preproduction"):
        ok(tiergate("promote", "churn-dashboard", "2026.2", "--to", stage, "--ledger", ledger, "--actor", "bea"))
    hostile = yaml.safe_load((USE_CASES / "churn-dashboard.yaml").read_text())
    hostile["owner"] = "Team " + HOSTILE
    hostile["title"] = HOSTILE
    answers = ledger.parent / "hostile.yaml"
    answers.write_text(yaml.safe_dump(hostile))
    ok(tiergate("register", "churn-dashboard", HOSTILE, "--answers", answers, "--ledger", ledger, "--actor", "sam"))
    ok(tiergate("signoff", "churn-dashboard", HOSTILE, "--role", "business_stakeholder", "--gate", "ideation",
                "--reject", "--comment", HOSTILE, "--ledger", ledger, "--actor", "bea"))
    return {p: ok(tiergate("token", "create", p, "--ledger", ledger, "--actor", "rita")).strip()
            for p in ("rita", "bea", "dana", "sam")}


@pytest.fixture
def story(tmp_path):
    ledger = tmp_path / "ledger.db"
    return ledger, build_story(ledger)


@pytest.fixture
def client(story):
    extra_module("httpx")
    testclient = extra_module("starlette.testclient")
    from tiergate.server import Settings, create_app

    with testclient.TestClient(create_app(Settings(str(story[0]), str(POLICY))), base_url="http://testserver") as c:
        yield c


def sign_in(client, token: str, next_path: str = "/"):
    form = client.get("/sign-in", params={"next": next_path})
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/sign-in", data={"csrf": nonce, "token": token, "next": next_path}, follow_redirects=False)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)


PAGES = ["/", "/inbox", "/policy", "/kpis", "/use-cases/loan-approval/versions/1.0"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_browser_without_a_session_to_sign_in(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/sign-in?next={path}"


def test_signing_in_sets_a_session_cookie_the_page_cannot_read_and_goes_where_it_was_asked(client, story):
    response = sign_in(client, story[1]["rita"], "/policy")
    assert response.status_code == 303 and response.headers["location"] == "/policy"
    cookie = response.headers["set-cookie"]
    assert "tiergate_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # (over plain HTTP; over TLS it is Secure: the next test)
    page = client.get("/policy")
    assert page.status_code == 200 and "Signed in as <strong>rita</strong>" in page.text


def test_the_cookie_is_secure_when_the_page_came_over_tls(story):
    extra_module("httpx")
    testclient = extra_module("starlette.testclient")
    from tiergate.server import Settings, create_app

    with testclient.TestClient(create_app(Settings(str(story[0]), str(POLICY))), base_url="https://testserver") as c:
        assert "Secure" in sign_in(c, story[1]["rita"]).headers["set-cookie"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_signing_in_never_sends_the_browser_to_another_site(client, story, target):
    assert sign_in(client, story[1]["rita"], target).headers["location"] == "/"


def test_a_wrong_token_or_a_forged_sign_in_form_signs_nobody_in(client, story):
    form = client.get("/sign-in")
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    wrong = client.post("/sign-in", data={"csrf": nonce, "token": "tg_wrong", "next": "/"}, follow_redirects=False)
    assert wrong.status_code == 401 and "E650" in wrong.text
    assert "tiergate_session=" not in wrong.headers.get("set-cookie", "")
    client.cookies.clear()
    forged = client.post("/sign-in", data={"csrf": "guess", "token": story[1]["rita"]}, follow_redirects=False)
    assert forged.status_code == 403 and "E658" in forged.text
    assert "tiergate_session" not in forged.headers.get("set-cookie", "")


def test_pages_carry_headers_that_forbid_scripts_framing_and_caching(client, story):
    sign_in(client, story[1]["rita"])
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy and "frame-ancestors 'none'" in policy
        assert response.headers["cache-control"] == "no-store" and response.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in response.text.lower()


def test_a_revoked_tokens_session_ends_at_once(client, story):
    ledger, tokens = story
    sign_in(client, tokens["sam"])
    assert client.get("/inbox").status_code == 200
    listed = ok(tiergate("token", "list", "--ledger", ledger, "--format", "json"))
    token_id = next(t["token_id"] for t in json.loads(listed) if t["person"] == "sam")
    ok(tiergate("token", "revoke", token_id, "--ledger", ledger, "--actor", "rita"))
    response = client.get("/inbox", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
    assert 'tiergate_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]


def requirement_state(client, requirement: str) -> str:
    """The state the model page shows for one requirement of loan-approval 1.0's next gate."""
    page = client.get("/use-cases/loan-approval/versions/1.0").text
    found = re.search(rf'<code>{re.escape(requirement)}</code></td><td><span class="tag (\w+)">', page)
    assert found, requirement
    return found.group(1)


def test_the_inbox_lists_what_the_person_can_sign_and_approving_records_it_as_them(client, story):
    ledger, tokens = story
    sign_in(client, tokens["rita"])
    page = client.get("/inbox").text
    assert "loan-approval 1.0" in page and "churn-dashboard" not in page.split("Reviews due")[0]  # (not rita's role)
    assert requirement_state(client, "signoff:risk_audit@development") == "unmet"
    done = client.post("/inbox/sign", data={"csrf": csrf_of(page), "use_case": "loan-approval", "version": "1.0",
                                            "role": "risk_audit", "gate": "development", "decision": "approve",
                                            "comment": "Reviewed the design."})
    assert done.status_code == 200 and "Recorded your approve of loan-approval 1.0 as risk_audit" in done.text
    history = ok(tiergate("history", "loan-approval", "1.0", "--ledger", ledger, "--format", "json"))
    signoffs = [e for e in json.loads(history) if e["type"] == "signoff"]
    assert [(e["actor"], e["decision"], e.get("comment")) for e in signoffs] == [
        ("rita", "approve", "Reviewed the design.")]
    assert requirement_state(client, "signoff:risk_audit@development") == "met"  # the gate's state changed
    assert "loan-approval 1.0" not in client.get("/inbox").text.split("Reviews due")[0]  # (nothing left for rita)


def test_the_author_approving_their_own_version_is_refused_with_the_reason(client, story):
    ledger, tokens = story
    sign_in(client, tokens["bea"])
    page = client.get("/inbox").text
    response = client.post("/inbox/sign", data={"csrf": csrf_of(page), "use_case": "churn-dashboard",
                                                "version": "2026.2", "role": "business_stakeholder",
                                                "gate": "deployment", "decision": "approve"})
    assert response.status_code == 403
    assert "E611" in response.text and "bea registered churn-dashboard 2026.2, so may not approve it" in response.text
    history = ok(tiergate("history", "churn-dashboard", "2026.2", "--ledger", ledger, "--format", "json"))
    assert not [e for e in json.loads(history) if e["type"] == "signoff"]


@pytest.mark.parametrize("forged", [None, "", "0" * 64, "not-hex"])
def test_a_form_without_the_sessions_csrf_token_is_refused_and_nothing_is_written(client, story, forged):
    ledger, tokens = story
    sign_in(client, tokens["rita"])
    before = ok(tiergate("audit", "verify", "--ledger", ledger))
    data = {"use_case": "loan-approval", "version": "1.0", "role": "risk_audit", "gate": "development",
            "decision": "approve"}
    if forged is not None:
        data["csrf"] = forged
    response = client.post("/inbox/sign", data=data)
    assert response.status_code == 403 and "E658" in response.text
    assert ok(tiergate("audit", "verify", "--ledger", ledger)) == before


def test_a_form_of_another_persons_session_does_not_act_for_them(client, story):
    """The CSRF token of rita's pages, sent with bea's session (or the other way round), is refused: a form acts
    only for the person whose session its page was made for."""
    ledger, tokens = story
    sign_in(client, tokens["rita"])
    ritas = csrf_of(client.get("/inbox").text)
    sign_in(client, tokens["bea"])
    response = client.post("/inbox/sign", data={"csrf": ritas, "use_case": "loan-approval", "version": "1.0",
                                                "role": "risk_audit", "gate": "development", "decision": "approve"})
    assert response.status_code == 403 and "E658" in response.text


def test_a_person_without_the_role_is_refused_and_nothing_is_written(client, story):
    ledger, tokens = story
    sign_in(client, tokens["sam"])
    page = client.get("/inbox").text
    response = client.post("/inbox/sign", data={"csrf": csrf_of(page), "use_case": "loan-approval", "version": "1.0",
                                                "role": "risk_audit", "gate": "development", "decision": "approve"})
    assert response.status_code == 403 and "sam does not hold role risk_audit" in response.text


@pytest.mark.parametrize("path", PAGES + [f"/use-cases/churn-dashboard/versions/{quote(HOSTILE, safe='')}"])
def test_hostile_values_are_shown_as_text_on_every_page(client, story, path):
    sign_in(client, story[1]["rita"])
    response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    text = response.text
    assert "<script>alert" not in text and "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
    assert "<img src=x" not in text
    if path == "/" or path.startswith("/use-cases/churn-dashboard"):
        assert str(escape(HOSTILE)) in text


def test_an_unknown_version_is_a_404_page_with_the_clis_message(client, story):
    sign_in(client, story[1]["rita"])
    response = client.get("/use-cases/loan-approval/versions/9.9")
    assert response.status_code == 404 and "E422" in response.text
    assert "the ledger holds no registration of loan-approval 9.9" in response.text


@pytest.mark.parametrize("query, field", [({"sort": "nonsense"}, "sort"), ({"page": "0"}, "page"),
                                          ({"page": "x"}, "page"), ({"page": "99"}, "page")])
def test_bad_inventory_parameters_are_a_clear_problem(client, story, query, field):
    sign_in(client, story[1]["rita"])
    response = client.get("/", params=query)
    assert response.status_code == 422 and "E659" in response.text and f"`{field}`" in response.text


def test_the_inventory_filters_sorts_and_counts(client, story):
    sign_in(client, story[1]["rita"])
    everything = client.get("/").text
    assert re.search(r'id="count-total">3<', everything)
    critical = client.get("/", params={"tier": "critical"}).text
    assert "loan-approval" in critical and "churn-dashboard" not in critical.split("<tbody>")[1]
    by_stage = client.get("/", params={"sort": "stage", "order": "desc"}).text.split("<tbody>")[1]
    stages = re.findall(r'<td class="stage">(\w+)', by_stage)
    assert stages == sorted(stages, reverse=True) and len(stages) == 3


def test_the_report_downloads_as_one_self_contained_file(client, story):
    sign_in(client, story[1]["rita"])
    response = client.get("/use-cases/loan-approval/report/1.0")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "attachment" in response.headers["content-disposition"]
    assert "loan-approval" in response.text and "<script" not in response.text.lower()


def test_a_form_that_names_someone_else_as_the_actor_is_refused(client, story):
    """Approving on someone else's behalf: the form names bea, the session is rita's. Who acts is the session's
    person, so the form is refused (E656, as the API refuses a request naming an actor) and nothing is written."""
    ledger, tokens = story
    sign_in(client, tokens["rita"])
    before = ok(tiergate("audit", "verify", "--ledger", ledger))
    response = client.post("/inbox/sign", data={"csrf": csrf_of(client.get("/inbox").text), "actor": "bea",
                                                "use_case": "loan-approval", "version": "1.0",
                                                "role": "business_stakeholder", "gate": "development",
                                                "decision": "approve"})
    assert response.status_code == 422 and "E656" in response.text
    assert ok(tiergate("audit", "verify", "--ledger", ledger)) == before


def test_values_posted_through_the_api_are_shown_as_text_on_the_pages(client, story):
    ledger, tokens = story
    answers = yaml.safe_load((USE_CASES / "churn-dashboard.yaml").read_text())
    answers["title"] = answers["owner"] = "API " + HOSTILE
    posted = client.post("/v1/events", headers={"Authorization": f"Bearer {tokens['sam']}"},
                         json={"type": "registered", "use_case": "churn-dashboard", "version": "api-" + HOSTILE,
                               "answers": answers, "artifact": "javascript:alert(1)"})
    assert posted.status_code == 201, posted.text
    sign_in(client, tokens["rita"])
    inventory = client.get("/", params={"owner": "API " + HOSTILE}).text
    assert str(escape("api-" + HOSTILE)) in inventory and "<script>" not in inventory
    page = client.get(f"/use-cases/churn-dashboard/versions/{quote('api-' + HOSTILE, safe='')}").text
    assert str(escape("API " + HOSTILE)) in page and "<script>" not in page
    assert 'href="javascript:' not in page  # (an artifact is shown as text, never linked)


def test_a_form_larger_than_the_limit_is_refused_and_nothing_is_written(story):
    extra_module("httpx")
    testclient = extra_module("starlette.testclient")
    from tiergate.server import Settings, create_app

    ledger, tokens = story
    with testclient.TestClient(create_app(Settings(str(ledger), str(POLICY), max_body=2048)),
                               base_url="http://testserver") as small:
        sign_in(small, tokens["rita"])
        before = ok(tiergate("audit", "verify", "--ledger", ledger))
        response = small.post("/inbox/sign", data={"csrf": csrf_of(small.get("/inbox").text), "use_case":
                                                   "loan-approval", "version": "1.0", "role": "risk_audit",
                                                   "gate": "development", "decision": "approve",
                                                   "comment": "x" * 4096})
        assert response.status_code == 413 and "E651" in response.text
        assert ok(tiergate("audit", "verify", "--ledger", ledger)) == before


def test_the_model_page_names_a_waiver_that_ran_out_with_its_values_as_text(tmp_path):
    """loan-approval 1.0 entered preproduction while rita's waiver of its lineage review counted; the waiver ran
    out with nothing recorded: the page says which waiver (its justification shown as text, not markup)."""
    extra_module("httpx")
    testclient = extra_module("starlette.testclient")
    from tiergate.server import Settings, create_app

    ledger, events = tmp_path / "ledger.db", tmp_path / "events.jsonl"
    base = {"use_case": "loan-approval", "version": "1.0"}
    history = [{**base, "at": "2026-01-01T09:00:00Z", "type": "registered", "actor": "dana"}]
    history += [{**base, "at": f"2026-01-0{i + 2}T09:00:00Z", "type": "transition", "actor": "dana", "to": stage}
                for i, stage in enumerate(("ideation", "development"))]
    history += [{**base, "at": "2026-01-05T09:00:00Z", "type": "waiver", "actor": "rita",
                 "requirement": "evidence:lineage_review@preproduction", "expires": "2026-01-15T00:00:00Z",
                 "justification": HOSTILE},
                {**base, "at": "2026-01-06T09:00:00Z", "type": "transition", "actor": "dana", "to": "preproduction"}]
    events.write_text("".join(json.dumps(e) + "\n" for e in history))
    ok(tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "rita", "--policy", POLICY,
                "--at", "2025-12-31T09:00:00Z"))
    ok(tiergate("import", events, "--answers", USE_CASES / "loan-approval.yaml", "--allow-violations",
                "--ledger", ledger, "--policy", POLICY))
    token = ok(tiergate("token", "create", "rita", "--ledger", ledger, "--actor", "rita")).strip()
    with testclient.TestClient(create_app(Settings(str(ledger), str(POLICY))), base_url="http://testserver") as c:
        assert sign_in(c, token).status_code == 303
        page = c.get("/use-cases/loan-approval/versions/1.0")
    assert page.status_code == 200
    assert "Entered under a waiver that has run out: <code>evidence:lineage_review@preproduction</code>" in page.text
    assert f"by rita, expired 2026-01-15T00:00:00Z: {escape(HOSTILE)})" in page.text
    assert HOSTILE not in page.text
