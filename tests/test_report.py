"""`tiergate report`: the auditor's report of a model version, read back from its HTML as a browser would parse it.

The stories of examples/events/ are imported into a ledger as docs/ledger.md does; the report of each holds what an
auditor asks (verdict first, classification, policy versions, gates with what met them, waivers, obligations,
violations, the ledger's head and how to verify it); hostile values recorded in a ledger come out as text; a report
is written whole or not at all; unusable input exits 2 with the reason and its place.
"""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import check_golden
from conftest import tiergate as run_cli

ROOT = Path(__file__).resolve().parent.parent
STORIES, USE_CASES = ROOT / "examples" / "events", ROOT / "examples" / "use-cases"
EVOLUTION = ROOT / "examples" / "policy-evolution"
GOLDEN = ROOT / "tests" / "golden" / "report"
ENV = {"TIERGATE_LEDGER": None, "TIERGATE_POLICY": None, "TIERGATE_ROSTER": None, "TIERGATE_ACTOR": None}
FRAUD_AT = "2026-04-23T12:00:00Z"
#: the tags the report is made of (and no other: nothing from the ledger becomes markup)
TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "ul", "li", "table", "thead",
        "tbody", "tr", "th", "td", "code", "pre", "strong", "a", "svg", "desc", "defs", "pattern", "marker", "g",
        "rect", "path", "text"}


def tiergate(*args):
    return run_cli(*args, env=ENV)


class Page(HTMLParser):
    """A report as a browser reads it: its tags, its text by section (h2), its tables and its links."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.meta: dict[str, str] = {}
        self.headings: list[tuple[str, str]] = []  # (h1/h2/h3, text)
        self.sections: dict[str, str] = {}  # h2 text -> the text under it
        self.tables: list[tuple[str, list[list[str]]]] = []  # (section, rows of cell texts; the header row first)
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.text = ""  # all of it, as it reads
        self._heading = self._cell = self._link = None
        self._section = ""
        self._style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "meta" and "http-equiv" in attrs:
            self.meta[attrs["http-equiv"]] = attrs["content"]
        elif tag in ("h1", "h2", "h3"):
            self._heading = [tag, ""]
        elif tag == "table":
            self.tables.append((self._section, []))
        elif tag == "tr":
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "a":
            self._link = [attrs.get("href"), ""]
        self._style = tag == "style"

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading:
            self.headings.append(tuple(self._heading))
            if tag == "h2":
                self._section = self._heading[1]
                self.sections[self._section] = ""
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(self._cell)
            self._cell = None
        elif tag == "a" and self._link:
            self.links.append(tuple(self._link))
            self._link = None
        elif tag == "style":
            self._style = False

    def handle_data(self, data):
        if self._style:
            return
        self.text += data
        for part in (self._heading, self._link):
            if part is not None:
                part[1] += data
        if self._cell is not None:
            self._cell += data
        if self._section and (self._heading is None or self._heading[0] != "h2"):
            self.sections[self._section] += data

    def table(self, section: str, first_header: str) -> list[list[str]]:
        """The rows (header first) of the first table of `section` whose first header is `first_header`."""
        for where, rows in self.tables:
            if section in where and rows and rows[0][0] == first_header:
                return rows
        raise AssertionError(f"no table starting `{first_header}` in {section}")

    def section(self, name: str) -> str:
        return next(text for heading, text in self.sections.items() if name in heading).strip()


def svg_of(html: str) -> ElementTree.Element:
    return ElementTree.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group().encode("utf-8"))


def import_story(ledger: Path, name: str, use_case: str, *extra):
    result = tiergate("import", STORIES / name, "--answers", USE_CASES / f"{use_case}.yaml", "--ledger", ledger, *extra)
    assert result.exit_code == 0, result.stderr


@pytest.fixture(scope="module")
def stories(tmp_path_factory) -> Path:
    ledger = tmp_path_factory.mktemp("report") / "ledger.db"
    assert tiergate("roster", "import", ROOT / "examples" / "roster.yaml", "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    for name, use_case in (("fraud-promotion.yaml", "card-fraud-scoring"), ("expired-waiver.yaml", "plane-fuelling"),
                           ("loan-no-risk-signoff.yaml", "loan-approval")):
        import_story(ledger, name, use_case)
    return ledger


def report(ledger: Path, *args) -> str:
    result = tiergate("report", *args, "--ledger", ledger)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


@pytest.fixture(scope="module")
def fraud(stories) -> tuple[str, Page]:
    html = report(stories, "card-fraud-scoring", "2026.03", "--at", FRAUD_AT)
    return html, Page(html)


# --- what the report holds ---------------------------------------------------------------------------------------

def test_the_verdict_comes_first_then_every_section(fraud):
    _, page = fraud
    assert [text for tag, text in page.headings if tag == "h2"] == [
        "Verdict", "1. Classification", "2. Policy versions in force over its life",
        "3. Gates passed, and what met them", "4. Waivers", "5. Where it stands", "6. The ledger, and how to verify it",
        "7. Appendix: the version's events"]
    assert page.headings[0] == ("h1", "Audit report: card-fraud-scoring 2026.03")
    assert page.section("Verdict").startswith(
        "✓ COMPLIANT: card-fraud-scoring 2026.03, tier critical, in deployment: no violations, every obligation met")
    assert "Gates: 4 transitions, 4 with the gate met when it was passed." in page.section("Verdict")


def test_it_needs_nothing_else_and_runs_nothing(fraud):
    html, page = fraud
    assert page.meta["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'; "
                                                           "img-src data:")
    assert page.tags <= TAGS, page.tags - TAGS
    assert not re.search(r"(?i)<script|<link|<img|<iframe|\bsrc=|@import|url\((?!#)", html)
    assert "@media print" in html and "break-before:page" in html


def test_the_classification_with_its_reasons_and_answers(fraud):
    _, page = fraud
    text = page.section("Classification")
    assert "Registered by dana at 2026-03-25T09:00:00Z (event #34) as tier critical under mlops-default 1.0.0" in text
    assert "sha256 0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d" in text
    assert "s3://models/card-fraud-scoring/2026.03/model.onnx" in text  # (not http(s): shown, not linked)
    rules = page.table("Classification", "tier")
    assert rules[1] == ["critical", "Results are served live to customers or to many colleagues, so an outage or a "
                        "wrong answer is felt straight away", "line 35", "availability = realtime, audience = public"]
    answers = dict(page.table("Classification", "question")[1:])
    assert answers["audience"] == "public" and answers["regulations.regions"] == '["eu", "uk", "us"]'


def test_the_policy_versions_in_force_with_their_sha256(fraud):
    from tiergate.language.load import load_policy

    _, page = fraud
    rows = page.table("Policy versions in force over its life", "policy")
    assert rows[1] == ["mlops-default", "1.0.0", load_policy().sha256, "the start", "the report's time", "admin", "#1"]


def test_every_gate_passed_with_the_evidence_and_signoffs_that_met_it(fraud):
    _, page = fraud
    gates = [text for tag, text in page.headings if tag == "h3" and "→" in text]
    assert gates == [
        "business_scoping → ideation at 2026-03-25T09:05:00Z by dana (event #35): ✓ gate met",
        "ideation → development at 2026-03-27T08:00:00Z by dana (event #39): ✓ gate met",
        "development → preproduction at 2026-04-08T10:00:00Z by otto (event #49): ✓ gate met",
        "preproduction → deployment (canary) at 2026-04-20T08:00:00Z by paula (event #61): ✓ gate met"]
    deployment = [rows for section, rows in page.tables if section.endswith("what met them")][-1]
    rows = {row[0]: row for row in deployment[1:]}
    assert rows["signoff:risk_audit@deployment"][1:3] == ["✓ met", "approved by risk_audit: rita, raj"]
    assert rows["signoff:risk_audit@deployment"][3] == (
        "approve by rita as risk_audit (event #58, 2026-04-16T10:00:00Z)approve by raj as risk_audit (event #59, "
        "2026-04-16T14:00:00Z): “Canary at 5% of traffic, ramp after a week of clean results.”")
    assert rows["deployment@deployment"][2] == "deployment mode canary"
    assert rows["evidence:model_documentation@deployment"][3].endswith(
        "https://docs.example.com/card-fraud/2026.03/model-card.html")
    links = dict(page.links)
    assert links["https://docs.example.com/card-fraud/2026.03/model-card.html"] == \
        "https://docs.example.com/card-fraud/2026.03/model-card.html"
    assert all(href.startswith("https://") for href in links)
    preproduction = [rows for section, rows in page.tables if section.endswith("what met them")][-2]
    snapshot = next(row for row in preproduction if row[0] == "evidence:data_snapshot@preproduction")
    sha256 = "1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c"
    assert f"s3://snapshots/card-fraud-scoring/2026-04-05/, sha256 {sha256}" in snapshot[3]


def test_the_obligations_and_no_violations(fraud):
    _, page = fraud
    obligations = page.table("Where it stands", "requirement")
    assert [row[:2] for row in obligations[1:]] == [["monitoring:infrastructure_alerts@deployment", "✓ ok"],
                                                    ["monitoring:input_drift@deployment", "✓ ok"],
                                                    ["review:data_scientist@deployment", "✓ ok"],
                                                    ["monitoring:performance@deployment", "✓ ok"],
                                                    ["review:risk_audit@deployment", "✓ ok"]]
    assert "None: every transition followed the workflow and met its gate." in page.section("Where it stands")


def test_the_head_and_the_command_that_verifies_it(stories, fraud):
    html, page = fraud
    head = tiergate("audit", "head", "--ledger", stories).stdout.strip()
    text = page.section("The ledger, and how to verify it")
    assert f"its head, the hash of its last event:{head}" in text
    command = re.search(r"tiergate audit verify --ledger (\S+) --head ([0-9a-f]{64})", text)
    assert command.groups() == (str(stories), head)
    verified = tiergate("audit", "verify", "--ledger", command.group(1), "--head", command.group(2))
    assert verified.exit_code == 0 and verified.stdout.startswith("ledger intact: ")


def test_the_appendix_lists_the_versions_events_up_to_the_time_asked(fraud):
    _, page = fraud
    events = page.table("Appendix: the version's events", "event")[1:]
    assert [row[0] for row in events][:3] == ["#34", "#35", "#36"] and events[-1][1] <= FRAUD_AT
    assert {row[2] for row in events} == {"registered", "transition", "evidence", "signoff", "monitoring"}


def test_the_workflow_diagram_shows_where_it_stands(fraud):
    html, _ = fraud
    svg = svg_of(html)
    labels = ["".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert labels[:12] == ["business_scoping", "✓ passed", "ideation", "✓ passed", "development", "✓ passed",
                           "preproduction", "✓ passed", "deployment", "▶ current", "monitoring", "○ ready"]


def test_a_violation_and_a_gate_entered_unmet_make_it_not_compliant(stories):
    page = Page(report(stories, "loan-approval", "4.2.0", "--at", "2026-05-20T00:00:00Z"))
    assert page.section("Verdict").startswith("✗ NOT COMPLIANT: loan-approval 4.2.0, tier critical, in deployment: "
                                              "1 violation in its history")
    [gate] = [text for tag, text in page.headings if tag == "h3" and "(canary)" in text]
    assert re.fullmatch(r"preproduction → deployment \(canary\) at 2026-05-15T16:30:00Z by otto \(event #\d+\): "
                        r"✗ gate NOT met", gate), gate
    violations = page.table("Where it stands", "when")
    assert violations[1][1] == "preproduction → deployment (canary)"
    assert violations[1][3] == "signoff:risk_audit@deployment: needs 2 approving sign-offs from risk_audit for " \
                               "deployment (none recorded)"


@pytest.mark.parametrize("at, state, diagram", [("2026-06-05T12:00:00Z", "in force", "○ ready"),
                                                ("2026-06-18T09:00:00Z", "ended", "✗ blocked")])
def test_a_waiver_with_its_justification_and_validity(stories, at, state, diagram):
    html = report(stories, "plane-fuelling", "7.3.0", "--at", at)
    waivers = Page(html).table("Waivers", "requirement")
    assert waivers[1][:4] == ["evidence:lineage_review@preproduction", "rita", "2026-06-01T10:00:00Z",
                              "2026-06-15T10:00:00Z"]
    assert waivers[1][5] == state and "documentation" in waivers[1][4]
    labels = ["".join(t.itertext()) for t in svg_of(html).iter("{http://www.w3.org/2000/svg}text")]
    assert labels[labels.index("preproduction") + 1] == diagram


def test_gate_states_for_a_web_page(stories):
    from tiergate.app.auditreport import gate_states
    from tiergate.app.recording import open_ledger

    with open_ledger(str(stories), create=False, readonly=True) as ledger:
        view = gate_states(ledger, None, "plane-fuelling", "7.3.0", datetime(2026, 6, 18, 9, tzinfo=timezone.utc))
        retired = gate_states(ledger, None, "card-fraud-scoring", "2026.02",
                              datetime(2026, 4, 23, 12, tzinfo=timezone.utc))
    assert (view.workflow, view.current) == ("default", "development")
    assert view.states == {"business_scoping": "passed", "ideation": "passed", "development": "current",
                           "preproduction": "blocked", "deployment": "ahead", "monitoring": "ahead"}
    assert retired.current is None and set(retired.states.values()) == {"passed", "ahead"}


def test_the_policy_versions_over_a_life_that_spans_two(tmp_path):
    ledger = tmp_path / "triage.db"
    v3, v4 = EVOLUTION / "triage-0.3.policy", EVOLUTION / "triage-0.4.policy"
    for args in (["roster", "import", EVOLUTION / "roster.yaml", "--policy", v3, "--actor", "dana", "--at",
                  "2026-10-01T08:00:00Z"],
                 ["register", "triage", "1", "--answers", EVOLUTION / "triage.yaml", "--policy", v3, "--actor", "omar",
                  "--at", "2026-10-01T09:00:00Z"],
                 ["reclassify", "--policy", v4, "--actor", "dana", "--at", "2026-10-05T09:00:00Z"]):
        assert tiergate(*args, "--ledger", ledger).exit_code == 0
    page = Page(report(ledger, "triage", "1", "--at", "2026-10-06T09:00:00Z"))
    from tiergate.language.load import load_policy

    rows = page.table("Policy versions in force over its life", "policy")[1:]
    assert [row[:5] for row in rows] == [
        ["triage-governance", "0.3.0", load_policy(v3).sha256, "the start", "2026-10-05T09:00:00Z"],
        ["triage-governance", "0.4.0", load_policy(v4).sha256, "2026-10-05T09:00:00Z", "the report's time"]]
    reclassified = page.table("Classification", "when")
    assert reclassified[1][:2] == ["2026-10-05T09:00:00Z", "internal → sandbox"]


def test_json_holds_the_same_report(stories):
    data = json.loads(report(stories, "card-fraud-scoring", "2026.03", "--at", FRAUD_AT, "--format", "json"))
    assert (data["compliant"], data["stage"], data["classification"]["tier"]) == (True, "deployment", "critical")
    assert [g["transition"]["to"] for g in data["gates"]] == ["ideation", "development", "preproduction", "deployment"]
    assert data["workflow"]["states"]["deployment"] == "current"


# --- the golden file: one example's whole report ------------------------------------------------------------------

def test_the_report_of_the_fraud_promotion_matches_its_golden_file(stories, fraud, monkeypatch):
    import tiergate.ledger.service as service

    monkeypatch.setattr(service, "now", lambda: datetime(2026, 4, 24, 8, 0, tzinfo=timezone.utc))
    html = report(stories, "card-fraud-scoring", "2026.03", "--at", FRAUD_AT)
    head = tiergate("audit", "head", "--ledger", stories).stdout.strip()
    hashes = {row[5] for row in Page(html).table("Appendix", "event")[1:]}
    html = html.replace(str(stories), "LEDGER").replace(head, "HEAD")
    for short in hashes:  # (each event's hash covers the adoption, which names the policy file's path)
        html = html.replace(f"<code>{short}</code>", "<code>HASH</code>")
    html = re.sub(r"by tiergate [^<]+", "by tiergate VERSION", html)
    check_golden(GOLDEN / "fraud-promotion.html", html)


# --- hostile values recorded in a ledger ------------------------------------------------------------------------

HOSTILE_ANSWERS = {"title": "<script>alert('title')</script>", "owner": '"><img src=x onerror=alert(1)>'}
COMMENT = "**bold** [click](javascript:alert(1)) <script>alert(1)</script> \"quoted\" 'single' # heading"
LONG = "W" * 5000


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[str, Page]:
    import yaml

    folder = tmp_path_factory.mktemp("hostile")
    ledger, answers, roster = folder / "ledger.db", folder / "answers.yaml", folder / "roster.yaml"
    document = yaml.safe_load((USE_CASES / "loan-approval.yaml").read_text(encoding="utf-8"))
    answers.write_text(yaml.safe_dump({**document, **HOSTILE_ANSWERS}), encoding="utf-8")
    roster.write_text('people:\n  dana: [data_scientist]\n  rita: [risk_audit]\n  bea: [business_stakeholder]\n'
                      '  "<b>mallory</b>": [data_scientist]\n', encoding="utf-8")
    steps = [("roster", "import", roster, "--actor", "admin", "--at", "2026-01-01T00:00:00Z"),
             ("register", "loan-approval", "1.0", "--answers", answers, "--artifact", "javascript:alert(1)",
              "--actor", "dana", "--at", "2026-01-05T09:00:00Z"),
             ("evidence", "loan-approval", "1.0", "pii_handling", "note=<img src=x onerror=alert(1)>", "--uri",
              "javascript:alert(document.cookie)", "--actor", "<b>mallory</b>", "--at", "2026-01-06T09:00:00Z"),
             ("evidence", "loan-approval", "1.0", "data_snapshot", "rows=1", "--uri",
              'https://evil.example/a"onmouseover=alert(1)', "--actor", "dana", "--at", "2026-01-06T10:00:00Z"),
             ("evidence", "loan-approval", "1.0", "data_quality_check", "rows=1", "--uri",
              "https://docs.example.com/ok/report.html", "--actor", "dana", "--at", "2026-01-06T10:30:00Z"),
             ("signoff", "loan-approval", "1.0", "--gate", "development", "--role", "risk_audit", "--comment", COMMENT,
              "--actor", "rita", "--at", "2026-01-06T11:00:00Z"),
             ("signoff", "loan-approval", "1.0", "--gate", "development", "--role", "business_stakeholder",
              "--actor", "bea", "--at", "2026-01-06T12:00:00Z"),
             ("promote", "loan-approval", "1.0", "--to", "ideation", "--actor", "dana", "--at", "2026-01-07T09:00:00Z"),
             ("promote", "loan-approval", "1.0", "--to", "development", "--actor", "dana", "--at",
              "2026-01-07T10:00:00Z"),
             ("waive", "loan-approval", "1.0", "evidence:lineage_review@preproduction", "--until",
              "2026-01-10T00:00:00Z", "--justification", f"{LONG} {COMMENT}", "--actor", "rita", "--at",
              "2026-01-07T11:00:00Z")]
    for step in steps:
        result = tiergate(*step, "--ledger", ledger)
        assert result.exit_code == 0, result.stderr
    html = report(ledger, "loan-approval", "1.0", "--at", "2026-01-08T00:00:00Z")
    return html, Page(html)


def test_hostile_values_are_text_never_markup(hostile):
    html, page = hostile
    assert page.tags <= TAGS, page.tags - TAGS
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert f"{HOSTILE_ANSWERS['title']} · owner {HOSTILE_ANSWERS['owner']} · as of" in page.text
    assert page.text.count("by <b>mallory</b>") == 1 and page.text.count(f"“{COMMENT}”") == 1
    assert '{"note": "<img src=x onerror=alert(1)>"}' in page.section("Gates passed")


def test_only_http_urls_are_links_and_nothing_else_is(hostile):
    html, page = hostile
    assert [href for href, _ in page.links] == ["https://docs.example.com/ok/report.html"] * len(page.links)
    assert page.links, "an https URL is a link"
    text = page.section("Appendix")
    assert "javascript:alert(document.cookie)" in text and "javascript:alert(1)" in text
    assert 'https://evil.example/a"onmouseover=alert(1)' in text
    for tag in re.findall(r"<[^>]*>", html):
        assert "javascript:" not in tag and "onerror" not in tag and "onmouseover" not in tag, tag


def test_a_very_long_word_breaks_rather_than_overflowing_the_page(hostile):
    html, page = hostile
    assert LONG in page.section("Waivers")
    assert "overflow-wrap:anywhere" in html


# --- exit codes, messages and the file written ---------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["nope", "1"], "error[E422]: nope is not registered in the ledger"),
    (["card-fraud-scoring", "2026.9"], "error[E422]: version 2026.9 of card-fraud-scoring is not registered in the "
                                       "ledger\n  hint: did you mean `2026.03`?"),
    (["card-fraud-scoring", "2026.03", "--at", "2026-03-01T00:00:00Z"],
     "error[E422]: version 2026.03 of card-fraud-scoring is not registered in the ledger by 2026-03-01T00:00:00Z"),
    (["card-fraud-scoring", "2026.03", "--at", "2025-01-01T00:00:00Z"], "--at: error[E632]: --at 2025-01-01T00:00:00Z "
                                                                         "is before the ledger's first event")])
def test_a_use_case_or_version_not_registered_exits_2_naming_the_ledger(stories, tmp_path, args, message):
    out = tmp_path / "report.html"
    result = tiergate("report", *args, "--ledger", stories, "--out", out)
    assert result.exit_code == 2 and result.stdout == ""
    where = "" if "E632" in message else f"{stories}: "
    assert result.stderr.startswith(where + message), result.stderr
    assert result.stderr.endswith("tiergate: no report was written\n")
    assert not out.exists()


@pytest.mark.parametrize("content, message", [(None, "error[E600]: no ledger here"),
                                              (b"not a database" * 100, "error[E600]: this file is not a readable "
                                                                         "tiergate ledger")])
def test_a_ledger_that_cannot_be_read_exits_2(tmp_path, content, message):
    ledger = tmp_path / "ledger.db"
    if content is not None:
        ledger.write_bytes(content)
    result = tiergate("report", "card-fraud-scoring", "2026.03", "--ledger", ledger)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"{ledger}: {message}"), result.stderr


def test_a_time_that_is_no_time_is_a_usage_error(stories):
    result = tiergate("report", "card-fraud-scoring", "2026.03", "--ledger", stories, "--at", "yesterday")
    assert result.exit_code == 2 and "is not an RFC 3339 time" in result.stderr


def test_out_writes_the_file_and_nothing_to_standard_output(stories, fraud, tmp_path):
    out = tmp_path / "audit.html"
    result = tiergate("report", "card-fraud-scoring", "2026.03", "--ledger", stories, "--at", FRAUD_AT, "--out", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == f"wrote {out}\n"
    def timeless(html: str) -> str:
        return re.sub(r"(generated |made \()\S+Z", r"\1NOW", html)
    assert timeless(out.read_text(encoding="utf-8")) == timeless(fraud[0])


def test_out_is_written_whole_or_not_at_all(stories, tmp_path, monkeypatch):
    import tiergate.fileio as fileio

    out = tmp_path / "audit.html"
    out.write_text("the report of last quarter\n", encoding="utf-8")
    os.chmod(out, 0o640)

    def fail(source, target):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(fileio.os, "replace", fail)
    result = tiergate("report", "card-fraud-scoring", "2026.03", "--ledger", stories, "--out", out)
    assert result.exit_code == 2
    assert result.stderr == f"tiergate: cannot write {out}: No space left on device\n"
    assert out.read_text(encoding="utf-8") == "the report of last quarter\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.html"], "no temporary file is left behind"
    monkeypatch.undo()
    assert tiergate("report", "card-fraud-scoring", "2026.03", "--ledger", stories, "--out", out).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and (out.stat().st_mode & 0o777) == 0o640


def test_out_refuses_to_write_through_a_symbolic_link(stories, tmp_path):
    target, link = tmp_path / "elsewhere.txt", tmp_path / "audit.html"
    target.write_text("keep me\n", encoding="utf-8")
    link.symlink_to(target)
    result = tiergate("report", "card-fraud-scoring", "2026.03", "--ledger", stories, "--out", link)
    assert result.exit_code == 2 and "a symbolic link" in result.stderr
    assert target.read_text(encoding="utf-8") == "keep me\n" and link.is_symlink()
