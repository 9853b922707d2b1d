"""`tiergate matrix`, `raci`, `requirements` and `graph` on the default pack.

The RACI matrix and the criticality attributes are checked cell for cell against the source
template ("What Is MLOps?", chapter 4). Graph outputs are compared with tests/golden/classify/;
set TIERGATE_UPDATE_GOLDEN=1 to rewrite them, then read every changed one by eye.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import check_golden, tiergate
from tiergate import load_policy

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "classify"
EXAMPLES = ROOT / "examples" / "use-cases"
UPDATE = os.environ.get("TIERGATE_UPDATE_GOLDEN") == "1"








def ok(*args: str) -> str:
    result = tiergate(*args)
    assert result.exit_code == 0, result.output
    return result.stdout





def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def policy():
    return load_policy(ROOT / "policies" / "mlops-default.policy")


# --- RACI ---------------------------------------------------------------------------------------

ROLES = ["business_stakeholder", "citizen_ds", "data_scientist", "risk_audit", "data_ops", "production", "architect"]

#: The template's RACI matrix, as its facts: task -> {role: letters}. Blank cells are left out.
RACI_FACTS = {
    "Identification": {"business_stakeholder": "A/R", "citizen_ds": "C", "risk_audit": "I"},
    "Data preparation": {"business_stakeholder": "C", "citizen_ds": "A/R", "data_scientist": "C"},
    "Data modeling": {"business_stakeholder": "C", "citizen_ds": "A", "data_scientist": "R"},
    "Model acceptance": {"business_stakeholder": "I", "citizen_ds": "C", "data_scientist": "C", "risk_audit": "A/R"},
    "Productionalization": {"citizen_ds": "C", "data_scientist": "A/R", "risk_audit": "I", "data_ops": "C"},
    "Capitalization": {"data_scientist": "R", "data_ops": "R", "architect": "A"},
    "Integration to external systems": {"data_ops": "A/R"},
    "Global orchestration": {"citizen_ds": "C", "data_ops": "R", "production": "A"},
    "User acceptance tests": {"business_stakeholder": "A/R", "citizen_ds": "R", "data_scientist": "C",
                              "data_ops": "I"},
    "Deployments": {"data_ops": "R", "production": "A", "architect": "I"},
    "Monitoring": {"business_stakeholder": "I", "citizen_ds": "C", "production": "A/R", "architect": "I"},
}
RACI_EXPECTED = [["task", *ROLES]] + [[task, *(cells.get(role, "") for role in ROLES)]
                                      for task, cells in RACI_FACTS.items()]


def test_raci_csv_reproduces_the_template_cell_for_cell():
    assert rows_of(ok("raci", "--format", "csv")) == RACI_EXPECTED


def test_raci_every_task_has_one_accountable():
    for task, cells in RACI_FACTS.items():
        assert sum("A" in letters for letters in cells.values()) == 1, task


def test_raci_json():
    data = json.loads(ok("raci", "--format", "json"))
    assert [list(row.values()) for row in data] == RACI_EXPECTED[1:]
    assert all(list(row) == ["task", *ROLES] for row in data)


def test_raci_markdown(policy):
    text = ok("raci", "--format", "markdown")
    lines = text.splitlines()
    assert lines[0] == "## RACI matrix"
    assert lines[2] == (f"Policy mlops-default {policy.version} (policies/mlops-default.policy, "
                        f"sha256 {policy.sha256[:12]})")
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| " + " | ".join(RACI_EXPECTED[0]) + " |"
    assert table[1] == "|" + "|".join(["---"] * 8) + "|"
    assert [[c.strip() for c in line.strip("|").split("|")] for line in table[2:]] == RACI_EXPECTED[1:]


def test_raci_html(policy):
    page = ok("raci", "--format", "html")
    assert_self_contained(page)
    assert table_of(page) == RACI_EXPECTED


# --- the tier matrix -----------------------------------------------------------------------------

ATTRIBUTES = ["criticality", "operationalization", "builder_autonomy", "versioning", "resources_separation",
              "sla_and_support_by_it", "integration_to_external_systems"]
#: The template's criticality table.
CRITICALITY = [
    ["ad_hoc", "Irregular ad hoc usage", "SSA with run on design node", "3", "0", "0", "0", "0"],
    ["scheduled", "Scheduled but can be inoperative for a small amount of time",
     "Self-service development and scheduling", "3", "3", "2", "0", "0"],
    ["monitored", "Scheduled and requires specific monitoring",
     "Light deployment process with rough QA and scheduling", "1", "3", "3", "1", "0"],
    ["critical", "Operational projects that cannot suffer outages", "Fully controlled deployment CI/CD",
     "0", "3", "3", "3", "3"],
]
CONSIDERATIONS = [
    ("reproducibility", "Reproducibility and traceability"), ("audit", "Audit and documentation"),
    ("signoff", "Human-in-the-loop sign-off"), ("verification", "Pre-production verification"),
    ("explainability", "Transparency and explainability"), ("bias", "Bias and harm testing"),
    ("deployment", "Production deployment modes"), ("monitoring", "Production monitoring"),
    ("data_quality", "Data quality and compliance"),
]
#: After the nine considerations, forbids get a column of their own.
FORBIDDEN_COLUMN = ("forbidden", "Not allowed when")


def test_matrix_attributes_reproduce_the_criticality_table():
    rows = rows_of(ok("matrix", "--attributes", "--format", "csv"))
    width = 1 + len(ATTRIBUTES)
    assert rows[0][:width] == ["tier", *ATTRIBUTES]
    assert [row[:width] for row in rows[1:]] == CRITICALITY


def test_matrix_columns_are_the_nine_considerations_in_order(policy):
    assert [(c.id, c.title) for c in policy.considerations] == CONSIDERATIONS
    header = rows_of(ok("matrix", "--format", "csv"))[0]
    assert header == ["tier", *(title for _, title in CONSIDERATIONS), FORBIDDEN_COLUMN[1]]
    with_attributes = rows_of(ok("matrix", "--attributes", "--format", "csv"))[0]
    assert with_attributes == ["tier", *ATTRIBUTES, *(title for _, title in CONSIDERATIONS), FORBIDDEN_COLUMN[1]]


def test_every_requirement_falls_under_a_consideration(policy):
    kinds = {k for c in policy.considerations for k in c.kinds}
    for tier in policy.tiers:
        for r in tier.requirements:
            assert r.covers in kinds or r.kind == "forbid", (tier.name, r.id)


def test_matrix_json_cells(policy):
    data = json.loads(ok("matrix", "--format", "json", "--attributes"))
    assert data["policy"] == {"name": "mlops-default", "version": policy.version, "sha256": policy.sha256}
    assert [(c["id"], c["title"]) for c in data["considerations"]] == [*CONSIDERATIONS, FORBIDDEN_COLUMN]
    assert [t["tier"] for t in data["tiers"]] == ["ad_hoc", "scheduled", "monitored", "critical"]
    for tier, expected in zip(data["tiers"], CRITICALITY):
        assert [str(tier["attributes"][k]) for k in ATTRIBUTES] == expected[1:]
        cell_ids = [r["id"] for cell in tier["cells"].values() for r in cell]
        declared = policy.tier(tier["tier"]).requirements
        assert sorted(cell_ids) == sorted(r.id for r in declared)  # every requirement in exactly one cell
    ad_hoc = data["tiers"][0]["cells"]
    assert ad_hoc["reproducibility"] == [{"id": "evidence:metrics_record@deployment", "severity": "require",
                                          "text": "require evidence metrics_record before deployment", "line": 57}]


def test_tiers_escalate(policy):
    """Each tier's requirements strictly contain the lower tier's; a tier may override one, never drop or weaken it."""
    data = json.loads(ok("matrix", "--format", "json"))
    strength = {"recommend": 0, "require": 1}
    tiers = data["tiers"]
    for lower, higher in zip(tiers, tiers[1:]):
        low = {r["id"]: r for cell in lower["cells"].values() for r in cell}
        high = {r["id"]: r for cell in higher["cells"].values() for r in cell}
        overridden = {i for i in low if i in high and high[i]["line"] != low[i]["line"]}
        assert set(low) - overridden < set(high), (lower["tier"], higher["tier"])
        assert set(low) <= set(high)
        for i in overridden:
            assert strength[high[i]["severity"]] >= strength[low[i]["severity"]], i
        # and per consideration, cell by cell
        for cid in lower["cells"]:
            assert {r["id"] for r in lower["cells"][cid]} <= {r["id"] for r in higher["cells"][cid]}, cid
    # the one override in the default pack: automated checks, recommended ad hoc, required from scheduled up
    ad_hoc = {r.id: r for r in policy.tier("ad_hoc").requirements}
    scheduled = {r.id: r for r in policy.tier("scheduled").requirements}
    key = "evidence:automated_checks@deployment"
    assert (ad_hoc[key].severity, scheduled[key].severity, scheduled[key].tier) == ("recommend", "require", "scheduled")


def test_matrix_csv_cells(policy):
    rows = rows_of(ok("matrix", "--format", "csv"))
    by_tier = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert by_tier["ad_hoc"]["Reproducibility and traceability"] == "evidence metrics_record before deployment"
    assert by_tier["ad_hoc"]["Pre-production verification"] == "recommend evidence automated_checks before deployment"
    assert by_tier["ad_hoc"]["Bias and harm testing"] == ""
    assert by_tier["critical"]["Bias and harm testing"] == (
        "evidence bias_test where disparate_impact >= 0.8 for protected_attributes before preproduction; "
        "evidence red_team before deployment waivable by risk_audit up to 14d")


@pytest.mark.parametrize("command", [["matrix"], ["matrix", "--attributes"], ["raci"]])
def test_every_format_agrees(command):
    csv_rows = rows_of(ok(*command, "--format", "csv"))
    assert table_of(ok(*command, "--format", "html")) == csv_rows
    md = ok(*command, "--format", "markdown")
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in table] == \
        [[c.replace("|", "\\|") for c in row] for row in csv_rows]
    data = json.loads(ok(*command, "--format", "json"))
    if command == ["raci"]:
        assert [list(row) for row in data] == [csv_rows[0]] * (len(csv_rows) - 1)
        assert [list(row.values()) for row in data] == csv_rows[1:]
    else:
        assert [t["tier"] for t in data["tiers"]] == [row[0] for row in csv_rows[1:]]


def test_matrix_html_is_one_self_contained_file():
    page = ok("matrix", "--attributes", "--format", "html")
    assert_self_contained(page)
    rows = table_of(page)
    assert rows[0][:8] == ["tier", *ATTRIBUTES]
    assert [row[:8] for row in rows[1:]] == CRITICALITY


def test_matrix_output_file(tmp_path):
    out = tmp_path / "matrix.html"
    result = tiergate("matrix", "--format", "html", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == f"wrote {out}\n"
    assert_self_contained(out.read_text(encoding="utf-8"))


# --- use cases -------------------------------------------------------------------------------------

def test_matrix_of_use_cases(policy):
    rows = rows_of(ok("matrix", "--use-cases", "examples/use-cases", "--format", "csv"))
    titles = [title for _, title in CONSIDERATIONS]
    assert rows[0] == ["use_case", "tier", "because", "rule", *titles, FORBIDDEN_COLUMN[1]]
    assert [(r[0], r[1], r[3]) for r in rows[1:]] == [
        ("adhoc-analysis", "ad_hoc", "policies/mlops-default.policy:46"),
        ("card-fraud-scoring", "critical", "policies/mlops-default.policy:35"),
        ("churn-dashboard", "scheduled", "policies/mlops-default.policy:45"),
        ("ecommerce-recommender", "critical", "policies/mlops-default.policy:35"),
        ("inflight-meal-counts", "monitored", "policies/mlops-default.policy:42"),
        ("loan-approval", "critical", "policies/mlops-default.policy:35"),
        ("plane-fuelling", "critical", "policies/mlops-default.policy:35"),
        ("predictive-maintenance", "monitored", "policies/mlops-default.policy:40")]
    # each count is the number of measures the use case's tier has under that consideration
    tiers = {t["tier"]: t for t in json.loads(ok("matrix", "--format", "json"))["tiers"]}
    for row in rows[1:]:
        cells = tiers[row[1]]["cells"]
        assert [int(n) for n in row[4:]] == [len(cells[cid]) for cid, _ in [*CONSIDERATIONS, FORBIDDEN_COLUMN]]


@pytest.mark.parametrize("fmt", ["markdown", "json", "html"])
def test_matrix_of_use_cases_other_formats(fmt):
    text = ok("matrix", "--use-cases", "examples/use-cases", "--format", fmt)
    for name in ("adhoc-analysis", "plane-fuelling", "predictive-maintenance"):
        assert name in text
    if fmt == "json":
        assert [r["tier"] for r in json.loads(text)] == ["ad_hoc", "critical", "scheduled", "critical", "monitored",
                                                         "critical", "critical", "monitored"]
    if fmt == "html":
        assert_self_contained(text)


def test_matrix_of_use_cases_with_a_bad_file(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(EXAMPLES, cases)
    (cases / "broken.yaml").write_text("use_case: broken\nanswers: [\n", encoding="utf-8")
    result = tiergate("matrix", "--use-cases", str(cases), "--format", "csv")
    assert result.exit_code == 2
    assert len(rows_of(result.stdout)) == 1 + 8
    assert f"{cases / 'broken.yaml'}:" in result.stderr and "error[E300]" in result.stderr


# --- requirements --------------------------------------------------------------------------------

def test_requirements_text(policy):
    text = ok("requirements", "scheduled")
    lines = text.splitlines()
    tier = policy.tier("scheduled")
    assert lines[0] == f"tier scheduled (workflow default): {len(tier.requirements)} requirements"
    assert [line.strip() for line in lines if line.startswith("  ") and not line.startswith("    ")] == [
        "preproduction:", "deployment:", "not allowed when:"]
    assert "    require evidence metrics_record before deployment  [evidence:metrics_record@deployment, line 57, " \
           "from tier ad_hoc]" in lines
    assert "    require evidence environment_recreation before deployment  " \
           "[evidence:environment_recreation@deployment, line 71]" in lines
    assert sum(1 for line in lines if line.startswith("    ")) == len(tier.requirements)


def test_requirements_json(policy):
    data = json.loads(ok("requirements", "critical", "--format", "json"))
    assert list(data) == ["policy", "tier", "workflow", "requirements", "dropped"]
    assert data["dropped"] == []  # the default pack drops nothing
    assert (data["tier"], data["workflow"]) == ("critical", "default")
    assert [r["id"] for r in data["requirements"]] == [r.id for r in policy.tier("critical").requirements]
    for r in data["requirements"]:
        assert list(r) == ["id", "kind", "stage", "severity", "text", "line", "declared_in"]
    declared = {r["declared_in"] for r in data["requirements"]}
    assert declared == {"ad_hoc", "scheduled", "monitored", "critical"}


def test_requirements_markdown(policy):
    text = ok("requirements", "monitored", "--format", "markdown")
    assert text.startswith("## Tier monitored\n")
    assert "### preproduction" in text and "### deployment" in text
    items = [line for line in text.splitlines() if line.startswith("- `")]
    assert len(items) == len(policy.tier("monitored").requirements)
    assert "- `signoff:risk_audit@preproduction` — require signoff from risk_audit before preproduction (line 92)" \
        in items


def test_requirements_unknown_tier():
    result = tiergate("requirements", "critcal")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "tiergate: unknown tier `critcal`; did you mean `critical`?\n"
    far = tiergate("requirements", "gold")
    assert far.exit_code == 2
    assert far.stderr == ("tiergate: unknown tier `gold`; declared tiers: `ad_hoc`, `scheduled`, `monitored`, "
                          "`critical`\n")


# --- graph -----------------------------------------------------------------------------------------

def test_graph_mermaid_golden():
    check_golden(GOLDEN / "graph-default.mmd", ok("graph"))


def test_graph_mermaid_of_a_tier_golden():
    check_golden(GOLDEN / "graph-ad_hoc.mmd", ok("graph", "--tier", "ad_hoc"))


def test_graph_dot_golden():
    check_golden(GOLDEN / "graph-default.dot", ok("graph", "--format", "dot"))


def test_graph_mermaid_has_every_edge(policy):
    text = ok("graph")
    assert text.startswith("flowchart LR\n")
    wf = policy.workflows["default"]
    for a, b in wf.edges:
        assert re.search(rf"^  s_{a} -->(\|\"[^\"]*\"\|)? s_{b}$", text, re.MULTILINE), (a, b)
    arrows = [line for line in text.splitlines() if "-->" in line]
    assert len(arrows) == len(wf.edges)


def dot_tokens(text: str) -> list[str]:
    """DOT tokens: quoted strings (with escapes), identifiers, `->`, and single punctuation characters."""
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            tokens.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("->", i):
            tokens.append("->")
            i += 2
        elif ch.isalnum() or ch == "_":
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(text[i:j])
            i = j
        else:
            assert ch in "{}[]=;,", f"unexpected {ch!r} in dot output"
            tokens.append(ch)
            i += 1
    return tokens


@pytest.mark.parametrize("tier", [None, "ad_hoc", "scheduled", "monitored", "critical"])
def test_graph_dot_parses(policy, tier):
    text = ok("graph", "--format", "dot", *(["--tier", tier] if tier else []))
    tokens = dot_tokens(text)
    assert tokens[:3] == ["digraph", '"default"', "{"] and tokens[-1] == "}"
    depth = 0
    for t in tokens:
        depth += {"{": 1, "}": -1}.get(t, 0)
        assert depth >= 0
    assert depth == 0
    assert tokens.count("[") == tokens.count("]")
    edges = {(tokens[i - 1].strip('"'), tokens[i + 1].strip('"')) for i, t in enumerate(tokens) if t == "->"}
    wf = policy.workflows["default"]
    assert edges == set(wf.edges)
    nodes = {tokens[i].strip('"') for i in range(1, len(tokens) - 1)
             if tokens[i + 1] == "[" and tokens[i - 1] == ";" and tokens[i].startswith('"')}
    assert nodes == set(wf.stages)
    # each gate's requirement ids label the edge into its stage
    shown = tier or "critical"
    for r in policy.tier(shown).gate("preproduction"):
        assert r.id in text


@pytest.mark.skipif(shutil.which("dot") is None and os.environ.get("CI") != "true",
                    reason="Graphviz is not installed (.ci/run installs it; under CI=true its absence fails)")
@pytest.mark.parametrize("tier", ["ad_hoc", "critical"])
def test_graph_dot_is_accepted_by_graphviz(policy, tier):
    import subprocess

    text = ok("graph", "--format", "dot", "--tier", tier)
    result = subprocess.run(["dot", "-Tplain"], input=text, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    plain = result.stdout.splitlines()
    assert sum(line.startswith("edge ") for line in plain) == len(policy.workflows["default"].edges)
    assert sum(line.startswith("node ") for line in plain) == len(policy.workflows["default"].stages)


def test_graph_unknown_workflow_and_tier():
    result = tiergate("graph", "nightly")
    assert result.exit_code == 2
    assert result.stderr == "tiergate: unknown workflow `nightly`; declared workflows: `default`\n"
    result = tiergate("graph", "--tier", "critcal")
    assert result.exit_code == 2
    assert result.stderr == "tiergate: unknown tier `critcal`; did you mean `critical`?\n"


# --- helpers for HTML -------------------------------------------------------------------------------

class _Table(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.items: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br"):
            self.stack.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell, self.items = [], []
        elif tag == "li":
            self.items.append("")

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag in ("td", "th"):
            self.rows[-1].append("; ".join(self.items) if self.items else "".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            if self.items:
                self.items[-1] += data
            else:
                self.cell.append(data)


def table_of(page: str) -> list[list[str]]:
    parser = _Table()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], f"unclosed tags: {parser.stack}"
    return parser.rows


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>\n")
    assert "<style>" in page and "<table>" in page and page.rstrip().endswith("</html>")
    lowered = page.lower()
    for external in ("http://", "https://", "//cdn", "<link", " src=", "@import", "url("):
        assert external not in lowered, external
