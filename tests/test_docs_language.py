"""docs/language.md stays true: its example policy compiles, and the outputs shown are what tiergate prints."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from tiergate import compile_policy
from tiergate.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC, flags=re.S)


def _example(tmp_path: Path) -> Path:
    path = tmp_path / "acme.policy"
    path.write_text(_blocks("policy")[0], encoding="utf-8")
    return path


def test_the_example_policy_compiles_and_is_formatted(tmp_path):
    policy = compile_policy(_blocks("policy")[0], "acme.policy")
    assert policy.tier_names == ("low", "high")
    result = CliRunner().invoke(main, ["fmt", "--check", str(_example(tmp_path))])
    assert result.exit_code == 0, result.output


def test_the_requirements_output_shown_is_real(tmp_path, monkeypatch):
    _example(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["requirements", "high", "--policy", "acme.policy"])
    assert result.exit_code == 0
    assert result.output == _blocks("text")[0]


def test_the_lint_output_shown_is_real(tmp_path, monkeypatch):
    text = _blocks("policy")[0].replace("from validator, cro before", "from validater, cro before") \
        .replace('audience == "public"', 'audience == "customers"')
    (tmp_path / "bad.policy").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["lint", "bad.policy"])
    assert result.exit_code == 1
    assert result.stdout == _blocks("text")[1]


def test_every_derived_id_in_the_table_is_what_the_compiler_derives():
    policy = compile_policy(_blocks("policy")[0], "acme.policy")
    ids = {r.id for t in policy.tiers for r in t.requirements}
    for shown in ("signoff:validator+cro@production", "evidence:bias_test@validation", "deployment@production",
                  "monitoring:input_drift@production"):
        assert shown in ids
        assert f"`{shown}`" in DOC
