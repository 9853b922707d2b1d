"""`tiergate doc`: documentation generated from a policy, in Markdown and as one self-contained HTML page.

docs/policies/<pack>.md is the generated documentation of every shipped policies/<pack>.policy; a test
regenerates each one and fails when the committed file is stale. docs/authoring.md quotes real outputs of
`tiergate test` and `tiergate diff`; a test checks that they are still what the commands print.
"""
from __future__ import annotations

import html
import os
import re
import stat
from pathlib import Path

import pytest

from conftest import tiergate
from tiergate import load_policy

ROOT = Path(__file__).resolve().parent.parent
PACKS = sorted((ROOT / "policies").glob("*.policy"))
DOCS = ROOT / "docs" / "policies"
GOLDEN = ROOT / "tests" / "golden" / "authoring"
DEFAULT = "policies/mlops-default.policy"
REGENERATE = ('for p in policies/*.policy; do tiergate doc "$p" --output "docs/policies/$(basename "$p" .policy).md"; '
              "done")





@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module", params=[p.name for p in PACKS])
def pack(request):
    path = f"policies/{request.param}"
    return path, load_policy(ROOT / path)


def test_markdown_has_every_tier_rule_raci_and_workflow(pack):
    path, policy = pack
    result = tiergate("doc", path)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"# Policy {policy.name} {policy.version}\n")
    for tier in policy.tiers:
        assert re.search(rf"^## Tier {re.escape(tier.name)}( \(extends \w+\))?$", text, re.MULTILINE), tier.name
        for r in tier.requirements:
            if r.kind != "forbid":
                assert f"`{r.id}`, line {r.loc.line}" in text
    for rule in policy.rules:
        assert rule.because and rule.because in text
        assert f"(line {rule.loc.line})" in text
    assert f"otherwise **{policy.floor}** (line {policy.floor_loc.line})" in text
    if policy.raci:
        raci = text[text.index("## Responsibilities (RACI)"):]
        assert "| task | " in raci
        for row in policy.raci:
            assert f"| {row.task} |" in raci
    for name in policy.workflows:
        assert f"## Workflow {name}\n\n```mermaid\nflowchart LR\n" in text
    assert text.count("```mermaid") == len(policy.workflows)


def test_markdown_of_the_default_pack_reads_the_rules_in_words():
    text = tiergate("doc", DEFAULT).stdout
    assert ('- **critical** when `availability` is "realtime" and `audience` is one of "public", "internal_many" — '
            "Results are served live to customers or to many colleagues") in text
    assert ('- Required: 2 signoffs from risk_audit before deployment as "signoff:risk_audit@deployment" '
            "(`signoff:risk_audit@deployment`, line 117)") in text
    assert ("- Required: evidence lineage_review before preproduction waivable by risk_audit up to 14d "
            "(`evidence:lineage_review@preproduction`, line 109)") in text
    assert "| Model acceptance | I | C | C | A/R |  |  |  |" in text
    for tier in ("ad_hoc", "scheduled", "monitored", "critical"):
        assert f"## Tier {tier}" in text


def test_html_is_one_self_contained_page(pack):
    path, policy = pack
    result = tiergate("doc", path, "--format", "html")
    assert result.exit_code == 0
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert page.count("<html") == 1 and page.rstrip().endswith("</html>")
    lowered = page.lower()
    for outside in ("http://", "https://", "//cdn", "<script", "<link", "<iframe", "<img", "src=", "@import",
                    "url("):
        assert outside not in lowered, outside
    assert f"<title>Policy {html.escape(policy.name)} {html.escape(policy.version)}</title>" in page
    for tier in policy.tiers:
        assert f"<h2>Tier {tier.name}" in page
    for rule in policy.rules:
        assert html.escape(rule.because) in page
    assert page.count('<pre class="mermaid">') == len(policy.workflows)
    if policy.raci:
        assert "<h2>Responsibilities (RACI)</h2>" in page


def test_output_writes_the_file(tmp_path):
    out = tmp_path / "mlops-default.html"
    result = tiergate("doc", DEFAULT, "--format", "html", "--output", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"wrote {out}\n"
    assert out.read_text(encoding="utf-8") == tiergate("doc", DEFAULT, "--format", "html").stdout
    # a page written for others to read is as readable as any new file (not owner-only)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_output_keeps_the_mode_of_a_file_it_replaces(tmp_path):
    out = tmp_path / "doc.md"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o640)
    assert tiergate("doc", DEFAULT, "--output", str(out)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.read_text(encoding="utf-8").startswith("# Policy mlops-default")


def test_an_unusable_policy_exits_2(tmp_path):
    bad = tmp_path / "bad.policy"
    bad.write_text("tiers a < b\n", encoding="utf-8")
    result = tiergate("doc", str(bad))
    assert result.exit_code == 2
    assert "the policy cannot be used" in result.stderr
    assert result.stdout == ""


# --- the committed documentation ------------------------------------------------------------------

def test_every_shipped_pack_has_its_generated_documentation():
    documented = sorted(p.stem for p in DOCS.glob("*.md"))
    packs = sorted(p.stem for p in PACKS)
    assert documented == packs, f"docs/policies/ does not match policies/*.policy; regenerate with:\n  {REGENERATE}"


@pytest.mark.parametrize("name", [p.stem for p in PACKS])
def test_generated_documentation_is_up_to_date(name):
    committed = DOCS / f"{name}.md"
    assert committed.is_file(), f"{committed.relative_to(ROOT)} is missing; generate it with:\n  {REGENERATE}"
    fresh = tiergate("doc", f"policies/{name}.policy").stdout
    assert fresh == committed.read_text(encoding="utf-8"), (
        f"{committed.relative_to(ROOT)} is stale (policies/{name}.policy changed since it was generated); "
        f"regenerate it from the checkout's root with:\n  {REGENERATE}")


def _fenced_blocks(markdown: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^```text\n(.*?)^```$", markdown, re.MULTILINE | re.DOTALL)]


def test_the_authoring_guide_quotes_real_output():
    guide = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    blocks = _fenced_blocks(guide)
    failing = (GOLDEN / "broken.expected.txt").read_text(encoding="utf-8")
    assert failing in blocks, "docs/authoring.md must quote tests/golden/authoring/broken.expected.txt whole"
    diff = (GOLDEN / "diff-1.1.txt").read_text(encoding="utf-8")
    assert diff in blocks, "docs/authoring.md must quote tests/golden/authoring/diff-1.1.txt whole"
    shipped = tiergate("test", "policies/mlops-default_test.yaml", "--coverage").stdout.splitlines()
    assert "\n".join(shipped[-2:]) + "\n" in blocks, "the guide's coverage summary is not what the shipped tests print"
