"""docs/ledger.md's worked example is real output: every `$ tiergate ...` line of its console blocks is run, in
order, on a fresh ledger, and what it printed (standard output and error interleaved as a terminal shows them,
then `(exit status N)` when not 0) must be what the page shows. TIERGATE_UPDATE_GOLDEN=1 writes the page's
blocks from the runs instead.

A block the page marks `<!-- changed by hand first: WHAT -->` runs after the test has changed the ledger's file as
WHAT says (TAMPERED holds each such change), as someone with access to the database file could. A ledger or an
output file named on a command (`--ledger history.db`, `--output x.jsonl`) is made in a temporary folder, never in
the checkout, and a head hash a command quotes from an earlier output is the one that run printed."""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from tiergate.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "ledger.md"
UPDATE = os.environ.get("TIERGATE_UPDATE_GOLDEN") == "1"
BLOCK = re.compile(r"(?:<!-- changed by hand first: (.*?) -->\n+)?```console\n(.*?)```", re.S)
HASH = re.compile(r"\b[0-9a-f]{64}\b")


def _older_drift_result(ledger: Path) -> None:
    """Point the index `status` reads at predictive-maintenance 3.1's first input_drift result, not its latest."""
    import sqlite3

    db = sqlite3.connect(ledger)
    try:
        (first,) = db.execute("SELECT min(seq) FROM events WHERE use_case = 'predictive-maintenance' AND version = '3.1' "
                              "AND type = 'monitoring' AND body LIKE '%\"kind\":\"input_drift\"%'").fetchone()
        changed = db.execute("UPDATE standing SET seq = ? WHERE use_case = 'predictive-maintenance' AND version = '3.1' "
                             "AND slot = 'monitoring:input_drift'", (first,)).rowcount
        assert changed == 1
        db.commit()
    finally:
        db.close()


#: what the page says was changed by hand before a block -> the change
TAMPERED = {"the index points at the older drift result": _older_drift_result}


def _commands(block: str) -> list[tuple[str, list[str]]]:
    """(command line, lines shown after it) for each `$ tiergate` line of a console block."""
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def _run(runner: CliRunner, command: str, where: Path) -> list[str]:
    args = shlex.split(command)
    assert args[0] == "tiergate", command
    # what the page reads or writes beside the checkout lives in the temporary folder: a ledger, an --output file,
    # and a file an earlier command wrote there
    args = [str(where / a) if i and (args[i - 1] in ("--ledger", "--output", "-o") or (where / a).is_file()) else a
            for i, a in enumerate(args)]
    result = runner.invoke(main, args[1:])
    assert result.exception is None or isinstance(result.exception, SystemExit), (command, result.exception)
    lines = [line.replace(f"{where}/", "") for line in result.output.splitlines()]  # as a terminal interleaves them
    if result.exit_code:
        lines.append(f"(exit status {result.exit_code})")
    return lines


def test_the_worked_example_is_what_tiergate_prints(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the page's paths are relative to the checkout
    runner = CliRunner(env={"TIERGATE_LEDGER": str(tmp_path / "governance.db"),  # as the page exports it
                            "TIERGATE_ACTOR": None, "TIERGATE_ROSTER": None, "TIERGATE_POLICY": None,
                            "COLUMNS": "110"})
    text = PAGE.read_text(encoding="utf-8")
    pieces, last, mismatches, heads = [], 0, [], {}
    for match in BLOCK.finditer(text):
        if match.group(1):
            TAMPERED[match.group(1)](tmp_path / "governance.db")
        shown = []
        for command, expected in _commands(match.group(2)):
            if not command.startswith("tiergate "):  # e.g. `export TIERGATE_LEDGER=...`: shown, not run
                shown += [f"$ {command}", *expected]
                continue
            command = HASH.sub(lambda m: heads.get(m.group(), m.group()), command)
            actual = _run(runner, command, tmp_path)
            for old, new in zip(HASH.findall("\n".join(expected)), HASH.findall("\n".join(actual))):
                heads[old] = new
            shown += [f"$ {command}", *actual]
            if actual != expected:
                mismatches.append(f"$ {command}\n--- the page\n" + "\n".join(expected) + "\n--- tiergate\n"
                                  + "\n".join(actual))
        pieces += [text[last:match.start(2)], "\n".join(shown) + "\n"]
        last = match.end(2)
    if UPDATE:
        PAGE.write_text("".join(pieces) + text[last:], encoding="utf-8")
        return
    assert not mismatches, "\n\n".join(mismatches) + "\n\n(TIERGATE_UPDATE_GOLDEN=1 writes the page from the runs)"
