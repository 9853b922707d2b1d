"""A policy file that is not policy text at all (binary, not UTF-8, over 4 MB) is unusable input: every command
that reads a policy says why (E105, E106) and exits 2, as for a file that cannot be read."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, tiergate
from tiergate.errors import CODES, EXIT_INPUT

ANSWERS = ROOT / "examples" / "use-cases" / "loan-approval.yaml"
EVENTS = ROOT / "examples" / "events" / "loan-no-risk-signoff.yaml"
ROSTER = ROOT / "examples" / "roster.yaml"
DEFAULT = ROOT / "policies" / "mlops-default.policy"


def binary(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00policy.docx")


def not_utf8(path: Path) -> None:
    path.write_bytes('policy "team-models" version "1.0.0":\n  description: "Mod\u00e8les"\n'.encode("cp1252"))


def too_large(path: Path) -> None:
    with open(path, "wb") as handle:
        handle.truncate(5 * 1024 * 1024)  # sparse: its size says enough, it is refused before it is read


#: the bad file, and the words every command reports it with
FILES = {
    "binary": (binary, "error[E105]: this is a binary file, not policy text"),
    "not-utf8": (not_utf8, "error[E105]: the file is not UTF-8 text (bad byte 0xe8)"),
    "too-large": (too_large, "error[E106]: policy file is 5.0 MB; the largest accepted is 4 MB"),
}

#: every command that reads a policy, with `{p}` where the policy's path goes
COMMANDS = {
    "lint": ["lint", "{p}"],
    "lint --format json": ["lint", "--format", "json", "{p}"],
    "lint (with a good file)": ["lint", str(DEFAULT), "{p}"],
    "fmt": ["fmt", "{p}"],
    "fmt --check": ["fmt", "--check", "{p}"],
    "classify": ["classify", str(ANSWERS), "--policy", "{p}"],
    "check": ["check", "--policy", "{p}", "--answers", str(ANSWERS), "--events", str(EVENTS), "--roster", str(ROSTER),
              "--to", "production"],
    "doc": ["doc", "{p}"],
    "matrix": ["matrix", "--policy", "{p}"],
    "requirements": ["requirements", "high", "--policy", "{p}"],
    "raci": ["raci", "--policy", "{p}"],
    "graph": ["graph", "--policy", "{p}"],
    "diff (old)": ["diff", "{p}", str(DEFAULT)],
    "diff (new)": ["diff", str(DEFAULT), "{p}"],
    "register": ["register", "loan-approval", "1", "--answers", str(ANSWERS), "--policy", "{p}",
                 "--ledger", "{dir}/l.db"],
    "reclassify": ["reclassify", "--policy", "{p}", "--ledger", "{dir}/l.db"],
    "policy adopt": ["policy", "adopt", "{p}", "--ledger", "{dir}/l.db"],
    "test": ["test", "{dir}/team_test.yaml"],
}


def test_the_codes_are_registered_as_unusable_input():
    assert (CODES["E105"].exit_class, CODES["E106"].exit_class) == (EXIT_INPUT, EXIT_INPUT)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", FILES)
def test_every_command_exits_2_on_a_policy_that_is_not_text(tmp_path, command, kind):
    make, words = FILES[kind]
    policy = tmp_path / "team-models.policy"
    make(policy)
    (tmp_path / "team_test.yaml").write_text("policy: team-models.policy\ncases: []\n", encoding="utf-8")
    args = [a.replace("{p}", str(policy)).replace("{dir}", str(tmp_path)) for a in COMMANDS[command]]
    result = tiergate(*args)
    assert result.exit_code == 2, result.output
    if command == "lint --format json":
        found = [(d["code"], d["message"]) for d in json.loads(result.stdout)]
        assert found == [(words[len("error["):len("error[E105]") - 1], words.split("]: ", 1)[1])], found
    else:
        assert words in result.stdout + result.stderr, result.output
    assert not (tmp_path / "l.db").exists(), "nothing is recorded under a policy that cannot be read"
