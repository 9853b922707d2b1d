"""docs/signing.md shows real output: the walk-through (keys, a signed sign-off, a checkpoint, a bundle exported and
verified elsewhere, a bundle changed) is run again here with keys of its own, and each command with what it printed
(standard output and error as a terminal shows them) must be on the page, once key ids, key material and hashes
are put aside (they differ with every key)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "signing.md"

SIGNING = [
    "roster import roster.yaml --actor dana --at 2026-03-01T08:00:00Z",
    "register loan-approval 1.0 --answers loan-approval.yaml --artifact s3://models/loan-approval/1.0/model.joblib "
    "--sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --actor dana --at 2026-03-01T09:00:00Z",
    "signoff loan-approval 1.0 --gate deployment --role risk_audit --actor rita --at 2026-03-01T10:00:00Z --sign rita.key",
    "signoff loan-approval 1.0 --gate deployment --role risk_audit --actor raj --at 2026-03-01T10:05:00Z --sign rita.key",
    "audit verify",
    "audit checkpoint --sign olga.key --out checkpoint-0301.json --at 2026-03-01T18:00:00Z",
    "evidence loan-approval 1.0 bias_test disparity=0.04 --actor raj --at 2026-03-02T09:00:00Z --sign raj.key",
    "audit verify --checkpoint checkpoint-0301.json",
    "attest export loan-approval 1.0 --out loan-approval-1.0.bundle.json",
    "audit checkpoint --sign olga.key --at 2026-03-02T18:00:00Z",
    "attest export loan-approval 1.0 --out loan-approval-1.0.bundle.json",
]
ELSEWHERE = [
    "attest verify loan-approval-1.0.bundle.json --roster roster.yaml",
    "attest verify changed.bundle.json --roster roster.yaml",
]


def run(line: str, cwd: Path, env: dict) -> str:
    proc = subprocess.run([sys.executable, "-m", "tiergate", *line.split()], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = proc.stdout.decode()
    return f"$ tiergate {line}\n{out}" + (f"(exit status {proc.returncode})\n" if proc.returncode else "")


def normal(text: str) -> str:
    text = re.sub(r"ed25519: [A-Za-z0-9+/=]+", "ed25519: KEY", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "HASH", text)
    text = re.sub(r"\b[0-9a-f]{16}\b", "KEYID", text)
    return re.sub(r"\b[0-9a-f]{12}\b", "SHORT", text)


def test_the_walk_through_prints_what_the_page_shows(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERGATE_")}
    env.update(PYTHONIOENCODING="utf-8", TIERGATE_LEDGER=str(tmp_path / "ledger.db"))
    shutil.copy(ROOT / "examples" / "use-cases" / "loan-approval.yaml", tmp_path)
    lines = {}
    for person in ("rita", "raj", "olga"):
        shown = run(f"key generate --out {person}.key", tmp_path, env)
        lines[person] = shown.splitlines()[-1]
    (tmp_path / "roster.yaml").write_text(
        "people:\n  dana: [data_scientist]\n  rita: [risk_audit]\n  raj: [risk_audit]\n  olga: [governance_admin]\n"
        "keys:\n" + "".join(f"  {p}:\n    - {lines[p]}\n" for p in ("rita", "raj", "olga")))
    page = normal(PAGE.read_text(encoding="utf-8"))
    assert normal((tmp_path / "roster.yaml").read_text()) in page
    for line in SIGNING:
        shown = normal(run(line, tmp_path, env))
        assert shown in page, shown
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("loan-approval-1.0.bundle.json", "roster.yaml"):
        shutil.copy(tmp_path / name, elsewhere)
    bundle = json.loads((elsewhere / "loan-approval-1.0.bundle.json").read_text())
    bundle["events"][3] = bundle["events"][3].replace('"decision":"approve"', '"decision":"reject"')
    (elsewhere / "changed.bundle.json").write_text(json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=True)
                                                   + "\n")
    env.pop("TIERGATE_LEDGER")
    for line in ELSEWHERE:
        shown = normal(run(line, elsewhere, env))
        assert shown in page, shown


def test_the_forged_sign_off_is_shown_as_it_is_judged():
    """The forged-approval example: a sign-off recorded in rita's name without her key does not meet a signed
    requirement, and the page shows the real verdict."""
    line = ("check --policy examples/signing/signed.policy --answers examples/use-cases/loan-approval.yaml --events "
            "examples/signing/forged-signoff.yaml --roster examples/roster.yaml --to deployment "
            "--at 2026-03-02T10:00:00Z")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERGATE_")}
    env["PYTHONIOENCODING"] = "utf-8"
    shown = run(line, ROOT, env)
    assert "(exit status 1)" in shown and "rita's sign-off does not count: it is not signed" in shown
    assert normal(shown) in normal(PAGE.read_text(encoding="utf-8")), shown
