"""docs/api.md's example runs, and prints what its comments say."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_prints_what_its_comments_say(monkeypatch):
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    wanted = []
    for line in code.splitlines():
        if line.startswith("print(") and "#" in line:
            wanted.append(line.rsplit("# ", 1)[1])
        elif line.startswith("# ") and wanted and not line.startswith("# classify") and not line.startswith("# may"):
            wanted.append(line[2:])
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/api.md", "exec"), {})
    assert out.getvalue().splitlines() == wanted


def test_every_public_name_is_documented():
    import tiergate

    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    functions = [n for n in tiergate.__all__ if n[0].islower() and not n.startswith("_")]
    missing = [n for n in functions if f"`{n}(" not in text]
    assert not missing, missing
