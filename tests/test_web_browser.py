"""The web registry in a real browser: `tiergate serve` in its own process on a free loopback port, Debian's Chromium
headless driven by Playwright (never a downloaded browser). Sign in, filter the inventory, open a model, approve a
pending sign-off and see its gate change, be refused as the author, read hostile values as text, download the
auditor's report. A screenshot of each page goes to tests/artifacts/ (not kept in git) for a reviewer to look at.
Under CI=true a missing Chromium fails these tests instead of skipping them."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import _unavailable, extra_module
from test_ledger_cli import POLICY, ROOT
from test_server_client import free_port
from test_server_postgres import wait_for
from test_web import HOSTILE, build_story

ARTIFACTS = ROOT / "tests" / "artifacts"
#: what Chromium is started with here: headless, and none of its own traffic to the outside (the machine's network
#: refuses it, many connections at a time)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium() -> str:
    found = os.environ.get("TIERGATE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        _unavailable("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    extra_module("httpx")
    import httpx

    ledger = tmp_path_factory.mktemp("web") / "ledger.db"
    tokens = build_story(ledger)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tiergate", "serve", "--port", str(port), "--ledger", str(ledger),
                             "--policy", str(POLICY)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(httpx, url)
        yield url, tokens, ledger
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    sync = extra_module("playwright.sync_api")
    with sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.dialogs = dialogs
    yield opened
    assert not dialogs, f"a script ran on a page: {dialogs}"
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, url: str, token: str, next_path: str = "/") -> None:
    page.goto(f"{url}{next_path}")
    assert "/sign-in" in page.url
    page.fill("#token", token)
    page.click("form.signin button[type=submit]")
    page.wait_for_load_state()


def test_sign_in_filter_the_inventory_and_open_a_model(page, server):
    url, tokens, _ = server
    page.goto(f"{url}/sign-in")
    shot(page, "sign-in")
    sign_in(page, url, tokens["rita"])
    assert page.url == f"{url}/" and page.inner_text("#count-total") == "3"
    shot(page, "inventory")
    page.select_option("select[name=tier]", "critical")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "tier=critical" in page.url
    rows = page.locator("table.inventory tbody tr")
    assert rows.count() == 1 and "loan-approval" in rows.first.inner_text()
    page.click("table.inventory tbody a >> text=loan-approval")
    page.wait_for_load_state()
    assert page.url.endswith("/use-cases/loan-approval/versions/1.0")
    assert "May not enter development yet" in page.inner_text("#verdict")
    assert page.locator("figure.workflow svg").count() == 1
    shot(page, "model-version")


def test_approve_a_pending_sign_off_and_see_the_gate_change(page, server):
    url, tokens, _ = server
    sign_in(page, url, tokens["rita"], "/inbox")
    assert page.url == f"{url}/inbox"
    shot(page, "inbox")
    gate = f"{url}/use-cases/loan-approval/versions/1.0"
    row = page.locator("table.tasks tr", has_text="loan-approval 1.0")
    row.locator("input[name=comment]").fill("Design reviewed <b>ok</b>")
    row.locator("button[value=approve]").click()
    page.wait_for_load_state()
    assert "Recorded your approve of loan-approval 1.0 as risk_audit for development" in page.inner_text("#outcome")
    shot(page, "inbox-approved")
    page.goto(gate)
    state = page.locator("table.requirements tr", has_text="signoff:risk_audit@development").locator(".tag")
    assert state.inner_text() == "met"
    assert "Design reviewed <b>ok</b>" in page.inner_text("ol.timeline")  # (the comment as text)
    shot(page, "model-version-approved")


def test_the_author_is_refused_with_the_reason(page, server):
    url, tokens, _ = server
    sign_in(page, url, tokens["bea"], "/inbox")
    row = page.locator("table.tasks tr", has_text="churn-dashboard 2026.2")
    row.locator("button[value=approve]").click()
    page.wait_for_load_state()
    outcome = page.inner_text("#outcome")
    assert "E611" in outcome and "bea registered churn-dashboard 2026.2, so may not approve it" in outcome
    shot(page, "inbox-refused-author")


def test_hostile_values_are_read_as_text(page, server):
    url, tokens, _ = server
    sign_in(page, url, tokens["rita"])
    assert HOSTILE in page.inner_text("table.inventory")
    page.click(f"table.inventory tbody a >> nth=0")
    from urllib.parse import quote

    page.goto(f"{url}/use-cases/churn-dashboard/versions/{quote(HOSTILE, safe='')}")
    assert HOSTILE in page.inner_text("h1") and HOSTILE in page.inner_text("ol.timeline")
    assert page.locator("img").count() == 0
    shot(page, "hostile-values")


def test_policy_and_kpis_pages_and_the_report_download(page, server, tmp_path):
    url, tokens, _ = server
    sign_in(page, url, tokens["rita"], "/policy")
    assert "Governance measures by tier" in page.inner_text("main")
    shot(page, "policy")
    page.goto(f"{url}/kpis")
    assert page.locator("section.kpi").count() >= 5 and page.locator("section.kpi svg").count() >= 1
    shot(page, "kpis")
    page.goto(f"{url}/use-cases/loan-approval/versions/1.0")
    with page.expect_download() as download:
        page.click("#report")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert saved.name.endswith(".html") and "loan-approval" in text and "<script" not in text.lower()
    page.goto(saved.as_uri())
    shot(page, "auditor-report")


def test_signing_out_ends_the_session(page, server):
    url, tokens, _ = server
    sign_in(page, url, tokens["sam"])
    page.click("form.signout button")
    page.wait_for_load_state()
    assert "/sign-in" in page.url
    page.goto(f"{url}/inbox")
    assert "/sign-in" in page.url
