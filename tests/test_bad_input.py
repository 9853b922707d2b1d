"""Hostile and broken inputs to `tiergate lint`, each run as a real process.

Every one must end quickly with exit 1 (a finding) or 2 (unusable input), with a message that names
the file and never a Python traceback. CRLF line endings and a UTF-8 byte-order mark are not
problems at all.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tiergate
from tiergate import TiergateError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEXT = (ROOT / "policies" / "mlops-default.policy").read_text(encoding="utf-8")
#: the line of the default pack whose condition the nesting cases replace
SCHEDULED_RULE = 'scheduled when availability in ["scheduled", "realtime"]'
TIME_LIMIT = 10.0
#: that rule with its condition under ten thousand `not`s
NOTS = "scheduled when " + "not " * 10_000 + 'availability in ["scheduled", "realtime"]'


def default_pack_with(old: str, new: str) -> str:
    """The default pack's text with one piece replaced (which must be there)."""
    assert old in DEFAULT_TEXT, f"the default pack no longer contains {old!r}"
    return DEFAULT_TEXT.replace(old, new)


def lint(path: Path, cwd: Path):
    """Run `python -m tiergate lint PATH`; returns (exit code, stdout + stderr, seconds)."""
    env = {k: v for k, v in os.environ.items() if k != "TIERGATE_DEBUG"}
    env["PYTHONIOENCODING"] = "utf-8"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "tiergate", "lint", str(path)], cwd=cwd, env=env,
                          capture_output=True, timeout=60)
    elapsed = time.monotonic() - start
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", errors="replace"), elapsed


def assert_rejected(path: Path, cwd: Path, codes=(1, 2), expect: str | None = None) -> str:
    code, output, elapsed = lint(path, cwd)
    assert code in codes, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert path.name in output, output
    assert elapsed < TIME_LIMIT, f"took {elapsed:.1f}s"
    if expect is not None:
        assert expect in output, output
    return output


def assert_clean(path: Path, cwd: Path) -> None:
    code, output, elapsed = lint(path, cwd)
    assert code == 0, output
    assert "Traceback" not in output
    assert "no problems" in output
    assert elapsed < TIME_LIMIT


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    """A copy of the checkout's layout: policies/ beside schemas/, so the default pack's questionnaire resolves."""
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    (tmp_path / "policies").mkdir()
    return tmp_path / "policies"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.policy"
    path.write_bytes(b"")
    assert_rejected(path, tmp_path, codes=(1,), expect="E200")


def test_ten_megabyte_file(tmp_path):
    path = tmp_path / "huge.policy"
    line = ("# " + "x" * 97 + "\n").encode()
    path.write_bytes(line * (10 * 1024 * 1024 // len(line) + 1))
    assert path.stat().st_size >= 10 * 1024 * 1024
    assert_rejected(path, tmp_path, codes=(2,), expect="E106")


def test_binary_junk(tmp_path):
    path = tmp_path / "junk.policy"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(8192)))
    assert_rejected(path, tmp_path, codes=(2,), expect="E105")


def test_invalid_utf8_without_nul_bytes(tmp_path):
    path = tmp_path / "latin1.policy"
    path.write_bytes('policy "café" version "1":\n'.encode("latin-1"))
    assert_rejected(path, tmp_path, codes=(2,), expect="E105")


def test_ten_thousand_nested_parentheses(pack_dir):
    path = pack_dir / "nested.policy"
    condition = "(" * 10_000 + 'availability == "realtime"' + ")" * 10_000
    path.write_text(default_pack_with(SCHEDULED_RULE, "scheduled when " + condition), encoding="utf-8")
    assert_rejected(path, pack_dir, codes=(1,), expect="E107")


def test_ten_thousand_nots(pack_dir):
    path = pack_dir / "nots.policy"
    path.write_text(default_pack_with(SCHEDULED_RULE, NOTS), encoding="utf-8")
    assert_rejected(path, pack_dir, codes=(1,), expect="E107")


def test_ten_thousand_nots_in_process():
    text = default_pack_with(SCHEDULED_RULE, NOTS)
    result = tiergate.lint_source(text, "nots.policy")
    assert [d.code for d in result.errors] == ["E107"]
    assert result.errors[0].location.line == DEFAULT_TEXT[: DEFAULT_TEXT.index(SCHEDULED_RULE)].count("\n") + 1


def test_crlf_line_endings_are_clean(pack_dir):
    path = pack_dir / "crlf.policy"
    path.write_bytes(DEFAULT_TEXT.replace("\n", "\r\n").encode("utf-8"))
    assert_clean(path, pack_dir)


def test_utf8_bom_is_clean(pack_dir):
    path = pack_dir / "bom.policy"
    path.write_bytes(b"\xef\xbb\xbf" + DEFAULT_TEXT.encode("utf-8"))
    assert_clean(path, pack_dir)


def test_non_ascii_identifier(pack_dir):
    path = pack_dir / "accent.policy"
    path.write_text(default_pack_with("tiers ad_hoc <", "tiers ad_hoc_é <"), encoding="utf-8")
    output = assert_rejected(path, pack_dir, codes=(1,), expect="E101")
    line = DEFAULT_TEXT[: DEFAULT_TEXT.index("tiers ad_hoc <")].count("\n") + 1
    assert f"accent.policy:{line}:14" in output


def test_a_directory(tmp_path):
    path = tmp_path / "dir.policy"
    path.mkdir()
    assert_rejected(path, tmp_path, codes=(2,))


def test_a_missing_file(tmp_path):
    assert_rejected(tmp_path / "absent.policy", tmp_path, codes=(2,), expect="not found")


def test_questionnaire_that_does_not_exist(pack_dir):
    path = pack_dir / "noschema.policy"
    path.write_text(default_pack_with("../schemas/questionnaire.schema.json", "missing.schema.json"), encoding="utf-8")
    output = assert_rejected(path, pack_dir, codes=(1,), expect="E253")
    assert "missing.schema.json" in output


def test_questionnaire_that_is_not_json(pack_dir):
    (pack_dir / "broken.schema.json").write_text('{"properties": {"answers": ', encoding="utf-8")
    path = pack_dir / "badschema.policy"
    path.write_text(default_pack_with("../schemas/questionnaire.schema.json", "broken.schema.json"), encoding="utf-8")
    output = assert_rejected(path, pack_dir, codes=(1,), expect="E253")
    assert "not valid JSON" in output


def test_questionnaire_that_is_a_directory(pack_dir):
    (pack_dir / "adir.json").mkdir()
    path = pack_dir / "dirschema.policy"
    path.write_text(default_pack_with("../schemas/questionnaire.schema.json", "adir.json"), encoding="utf-8")
    assert_rejected(path, pack_dir, codes=(1,), expect="E253")


def test_several_bad_files_at_once(tmp_path):
    """One unreadable file among several: every file is reported and the exit is 2."""
    empty = tmp_path / "empty.policy"
    empty.write_bytes(b"")
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run([sys.executable, "-m", "tiergate", "lint", str(empty), str(tmp_path / "gone.policy")],
                          cwd=tmp_path, env=env, capture_output=True, timeout=60)
    output = (proc.stdout + proc.stderr).decode()
    assert proc.returncode == 2
    assert "empty.policy" in output and "gone.policy" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("size", [MB * 1024 * 1024 for MB in (1, 3)])
def test_large_but_accepted_policy_is_linted_quickly(size):
    """Just under the size limit, a file of comments is parsed well within the time limit."""
    line = "# " + "y" * 97 + "\n"
    text = line * (size // len(line))
    start = time.monotonic()
    result = tiergate.lint_source(text.encode(), "big.policy")
    assert time.monotonic() - start < TIME_LIMIT
    assert [d.code for d in result.errors] == ["E200"]


def test_compile_policy_raises_tiergate_error_for_each_bad_input(tmp_path):
    for data in (b"", b"\x00\x01", b"\xff", "(" * 10_000, "policy", "\ufeff"):
        with pytest.raises(TiergateError) as info:
            tiergate.compile_policy(data)
        assert info.value.diagnostics
