"""docs/kpis.md's examples are real output: every `$ tiergate ...` line of its console blocks is run, in order, from
the root of the checkout, on ledgers in a temporary folder, and what it printed (standard output and error as a
terminal interleaves them, then `(exit status N)` when not 0) must be what the page shows.
TIERGATE_UPDATE_GOLDEN=1 writes the page's blocks from the runs instead."""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from tiergate.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "kpis.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def _run(runner: CliRunner, command: str, where: Path) -> list[str]:
    args = shlex.split(command)
    assert args[0] == "tiergate", command
    args = [str(where / a) if i and args[i - 1] == "--ledger" else a for i, a in enumerate(args)]
    result = runner.invoke(main, args[1:])
    assert result.exception is None or isinstance(result.exception, SystemExit), (command, result.exception)
    lines = [line.replace(f"{where}/", "") for line in result.output.splitlines()]
    return lines + ([f"(exit status {result.exit_code})"] if result.exit_code else [])


def test_the_examples_are_what_tiergate_prints(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the page's paths are relative to the checkout
    runner = CliRunner(env={"TIERGATE_LEDGER": str(tmp_path / "governance.db"), "TIERGATE_ACTOR": None,
                            "TIERGATE_ROSTER": None, "TIERGATE_POLICY": None})
    text = PAGE.read_text(encoding="utf-8")
    pieces, last, mismatches = [], 0, []
    for match in BLOCK.finditer(text):
        shown = []
        for line in match.group(1).splitlines():
            if not line.startswith("$ "):
                continue
            command = line[2:]
            if not command.startswith("tiergate "):  # `export ...`: shown, not run
                shown.append(line)
                continue
            actual = _run(runner, command, tmp_path)
            shown += [line, *actual]
        expected = match.group(1).rstrip("\n").split("\n")
        if shown != expected:
            mismatches.append("--- the page\n" + "\n".join(expected) + "\n--- tiergate\n" + "\n".join(shown))
        pieces += [text[last:match.start(1)], "\n".join(shown) + "\n"]
        last = match.end(1)
    if os.environ.get("TIERGATE_UPDATE_GOLDEN") == "1":
        PAGE.write_text("".join(pieces) + text[last:], encoding="utf-8")
        return
    assert not mismatches, "\n\n".join(mismatches) + "\n\n(TIERGATE_UPDATE_GOLDEN=1 writes the page from the runs)"
