"""Each command imports only what it needs: networkx, jsonschema and Lark cost more to import than a clean lint or a
gate check costs to run, so they are imported only when a graph, a schema error's wording or a syntax error's
message is asked for."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
POLICY = ROOT / "policies" / "mlops-default.policy"

HEAVY = ("networkx", "jsonschema", "lark")


def imported_by(*argv: str) -> tuple[int, set[str]]:
    """(exit code, heavy packages imported) of `tiergate ARGV` in a fresh interpreter."""
    code = ("import json, sys\nfrom tiergate.cli import main\n"
            "try:\n    main(sys.argv[1:], standalone_mode=False)\nexcept SystemExit as exc:\n    code = exc.code\n"
            "else:\n    code = 0\n"
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\nprint(code)\n")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT, check=True)
    *_, modules, exit_code = out.stdout.strip().splitlines()
    return int(exit_code or 0), set(json.loads(modules))


@pytest.mark.parametrize("argv", [
    ("lint", str(POLICY)),
    ("check", "--policy", str(POLICY), "--answers", str(EXAMPLES / "use-cases" / "loan-approval.yaml"),
     "--events", str(EXAMPLES / "events" / "loan-no-risk-signoff.yaml"), "--roster", str(EXAMPLES / "roster.yaml"),
     "--to", "preproduction", "--at", "2026-04-20T00:00:00Z"),
], ids=["lint", "check --to"])
def test_a_clean_run_imports_none_of_the_heavy_libraries(argv):
    code, heavy = imported_by(*argv)
    assert code in (0, 1)
    assert heavy == set()


def test_a_move_off_the_workflow_is_worded_from_the_networkx_graph():
    code, heavy = imported_by("check", "--policy", str(POLICY), "--answers",
                              str(EXAMPLES / "use-cases" / "adhoc-analysis.yaml"), "--events",
                              str(EXAMPLES / "events" / "skipped-stage.yaml"), "--roster", str(EXAMPLES / "roster.yaml"),
                              "--version", "0.3", "--to", "ideation", "--at", "2026-06-01T00:00:00Z")
    assert code == 1 and "networkx" in heavy


def test_a_local_check_does_not_load_the_http_client():
    """`--server` is on every command that may ask a service; the HTTP client (a third of a command's start-up) is
    imported only when a server is asked, and the XML escaping that loads it too only for the XML reports."""
    code = ("import sys\nfrom tiergate.cli import main\n"
            "try:\n    main(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('urllib.request', 'http.client') if m in sys.modules))\n")
    argv = ["check", "--policy", str(POLICY), "--answers", str(EXAMPLES / "use-cases" / "loan-approval.yaml"),
            "--events", str(EXAMPLES / "events" / "loan-no-risk-signoff.yaml"), "--roster",
            str(EXAMPLES / "roster.yaml"), "--to", "preproduction", "--at", "2026-04-20T00:00:00Z"]
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
