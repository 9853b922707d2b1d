"""`tiergate lint` and `tiergate fmt` through click: exit codes, messages, and in-place rewriting."""
from __future__ import annotations

import inspect
import json
import os
import stat
import sys

import click
import pytest

import tiergate
from tiergate.cli import COMMANDS, main, run

UNFORMATTED_LINE = ("tiers low < high", "tiers   low<high")


def invoke(runner, *args):
    result = runner.invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture
def clean(write_policy, small_policy):
    return write_policy(small_policy, "clean.policy")


@pytest.fixture
def broken(write_policy, small_policy):
    return write_policy(small_policy.replace("otherwise low", "otherwise lowest"), "broken.policy")


@pytest.fixture
def warned(write_policy, small_policy):
    """Compiles, with one warning: an evidence kind that no consideration covers (W260)."""
    text = small_policy.replace("require evidence unit_tests before release",
                                "require evidence unit_tests before release\n  require evidence fairness before release")
    return write_policy(text, "warned.policy")


@pytest.fixture
def unformatted(write_policy, small_policy):
    return write_policy(small_policy.replace(*UNFORMATTED_LINE), "messy.policy")


@pytest.fixture
def unparsable(write_policy, small_policy):
    return write_policy(small_policy.replace("classify:", "classify"), "unparsable.policy")


def line_of(path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if text in line)


# --- lint ------------------------------------------------------------------------------------

def test_lint_clean_policy_exits_0(cli_runner, clean):
    result = invoke(cli_runner, "lint", str(clean))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "1 policy file: no problems" in result.stderr


def test_lint_error_exits_1_with_location(cli_runner, broken):
    result = invoke(cli_runner, "lint", str(broken))
    assert result.exit_code == 1
    line = line_of(broken, "otherwise lowest")
    assert f"{broken}:{line}:13: error[E210]: unknown tier `lowest`" in result.stdout
    assert "did you mean `low`?" in result.stdout
    assert "1 error, 0 warnings in 1 policy file" in result.stderr


def test_lint_unparsable_exits_1(cli_runner, unparsable):
    result = invoke(cli_runner, "lint", str(unparsable))
    assert result.exit_code == 1
    assert f"{unparsable}:{line_of(unparsable, 'classify')}:" in result.stdout
    assert "error[E100]" in result.stdout


def test_lint_missing_file_exits_2(cli_runner, tmp_path):
    missing = tmp_path / "absent.policy"
    result = invoke(cli_runner, "lint", str(missing))
    assert result.exit_code == 2
    assert f"{missing}: error[E001]: file not found" in result.stdout


def test_lint_unreadable_wins_over_findings(cli_runner, broken, tmp_path):
    result = invoke(cli_runner, "lint", str(broken), str(tmp_path / "absent.policy"))
    assert result.exit_code == 2
    assert "E210" in result.stdout and "E001" in result.stdout


def test_lint_without_files_is_a_usage_error(cli_runner):
    result = invoke(cli_runner, "lint")
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_lint_warning_only_passes_unless_strict(cli_runner, warned):
    result = invoke(cli_runner, "lint", str(warned))
    assert result.exit_code == 0
    assert "warning[W260]" in result.stdout
    assert "0 errors, 1 warning in 1 policy file" in result.stderr
    strict = invoke(cli_runner, "lint", "--strict", str(warned))
    assert strict.exit_code == 1
    assert "warning[W260]" in strict.stdout


def test_lint_strict_on_clean_policy_exits_0(cli_runner, clean):
    assert invoke(cli_runner, "lint", "--strict", str(clean)).exit_code == 0


def test_lint_several_files(cli_runner, clean, broken, warned):
    result = invoke(cli_runner, "lint", str(clean), str(broken), str(warned))
    assert result.exit_code == 1
    assert "1 error, 1 warning in 3 policy files" in result.stderr
    # sorted by file, then line
    assert result.stdout.index("broken.policy") < result.stdout.index("warned.policy")


def test_lint_json(cli_runner, broken, warned, clean):
    result = invoke(cli_runner, "lint", "--format", "json", str(broken), str(warned))
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert [d["code"] for d in found] == ["E210", "W260"]
    assert set(found[0]) == {"code", "severity", "file", "line", "column", "message", "hint"}
    assert found[0]["file"] == str(broken) and found[0]["line"] == line_of(broken, "otherwise lowest")
    assert found[1]["severity"] == "warning"
    clean_result = invoke(cli_runner, "lint", "--format", "json", str(clean))
    assert clean_result.exit_code == 0 and json.loads(clean_result.stdout) == []


def test_lint_json_missing_file_exits_2(cli_runner, tmp_path):
    result = invoke(cli_runner, "lint", "--format", "json", str(tmp_path / "absent.policy"))
    assert result.exit_code == 2
    assert json.loads(result.stdout)[0]["code"] == "E001"


def test_lint_default_pack(cli_runner, default_policy):
    result = invoke(cli_runner, "lint", "--strict", str(default_policy))
    assert result.exit_code == 0, result.output


# --- fmt -------------------------------------------------------------------------------------

def test_fmt_prints_canonical_text_and_changes_nothing(cli_runner, unformatted, small_policy):
    before = unformatted.read_bytes()
    result = invoke(cli_runner, "fmt", str(unformatted))
    assert result.exit_code == 0
    assert result.stdout == small_policy
    assert unformatted.read_bytes() == before


def test_fmt_check_unformatted_exits_1_and_names_it(cli_runner, unformatted, clean):
    before = unformatted.read_bytes()
    result = invoke(cli_runner, "fmt", "--check", str(clean), str(unformatted))
    assert result.exit_code == 1
    assert f"{unformatted}: not formatted" in result.output
    assert str(clean) not in result.output
    assert "1 file would be reformatted" in result.stderr
    assert unformatted.read_bytes() == before


def test_fmt_check_formatted_exits_0(cli_runner, clean):
    result = invoke(cli_runner, "fmt", "--check", str(clean))
    assert result.exit_code == 0
    assert "1 file already formatted" in result.stderr


@pytest.mark.parametrize("flag", ["--write", "-w"])
def test_fmt_write_rewrites_atomically(cli_runner, unformatted, small_policy, flag):
    os.chmod(unformatted, 0o640)
    inode = unformatted.stat().st_ino
    result = invoke(cli_runner, "fmt", flag, str(unformatted))
    assert result.exit_code == 0
    assert unformatted.read_text(encoding="utf-8") == small_policy
    assert f"reformatted {unformatted}" in result.stderr
    # replaced by a rename (a new file), mode kept, and no temporary file left beside it
    assert unformatted.stat().st_ino != inode
    assert stat.S_IMODE(unformatted.stat().st_mode) == 0o640
    assert sorted(p.name for p in unformatted.parent.iterdir()) == ["messy.policy"]


def test_fmt_write_leaves_formatted_file_alone(cli_runner, clean):
    before = clean.stat()
    result = invoke(cli_runner, "fmt", "--write", str(clean))
    assert result.exit_code == 0
    after = clean.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert "reformatted" not in result.output


def test_fmt_write_failure_leaves_the_original(cli_runner, unformatted, monkeypatch):
    """A failure part-way through the write leaves the original file whole and no temporary file."""
    import tiergate.fileio

    before = unformatted.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tiergate.fileio.os, "fsync", broken_fsync)
    result = cli_runner.invoke(main, ["fmt", "--write", str(unformatted)])
    assert result.exit_code != 0
    assert unformatted.read_bytes() == before
    assert sorted(p.name for p in unformatted.parent.iterdir()) == ["messy.policy"]


def test_fmt_write_crlf_file(cli_runner, write_policy, small_policy):
    path = write_policy(small_policy.replace("\n", "\r\n"), "crlf.policy")
    assert invoke(cli_runner, "fmt", "--check", str(path)).exit_code == 1
    assert invoke(cli_runner, "fmt", "--write", str(path)).exit_code == 0
    assert path.read_bytes() == small_policy.encode("utf-8")
    assert invoke(cli_runner, "fmt", "--check", str(path)).exit_code == 0


@pytest.mark.parametrize("mode", [[], ["--check"], ["--write"]])
def test_fmt_unparsable_exits_2_and_names_it(cli_runner, unparsable, mode):
    before = unparsable.read_bytes()
    result = invoke(cli_runner, "fmt", *mode, str(unparsable))
    assert result.exit_code == 2
    assert f"{unparsable}:{line_of(unparsable, 'classify')}:" in result.stderr
    assert "error[E100]" in result.stderr
    assert unparsable.read_bytes() == before


def test_fmt_missing_file_exits_2(cli_runner, tmp_path):
    result = invoke(cli_runner, "fmt", str(tmp_path / "absent.policy"))
    assert result.exit_code == 2
    assert "absent.policy" in result.stderr


def test_fmt_unparsable_among_others_still_formats_the_rest(cli_runner, unparsable, unformatted, small_policy):
    result = invoke(cli_runner, "fmt", "--write", str(unformatted), str(unparsable))
    assert result.exit_code == 2
    assert unformatted.read_text(encoding="utf-8") == small_policy


def test_fmt_write_and_check_together_is_a_usage_error(cli_runner, unformatted):
    before = unformatted.read_bytes()
    result = invoke(cli_runner, "fmt", "--write", "--check", str(unformatted))
    assert result.exit_code == 2
    assert "--write and --check cannot be used together" in result.output
    assert unformatted.read_bytes() == before


def test_fmt_output_formats_to_itself(cli_runner, default_policy):
    result = invoke(cli_runner, "fmt", str(default_policy))
    assert result.exit_code == 0
    assert result.stdout == default_policy.read_text(encoding="utf-8")


# --- help and the entry point ----------------------------------------------------------------

def _normalise(text: str) -> str:
    return " ".join(text.split())


def _doc(command: click.Command) -> str:
    doc = inspect.getdoc(command.callback) or command.help or ""
    doc = doc.split("\f")[0]
    paragraphs = [p for p in doc.split("\n\n") if p.strip() and p.strip() != "\b"]
    return paragraphs[0] if paragraphs else ""


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(cli_runner, name):
    command = main.get_command(click.Context(main), name)
    assert command is not None, name
    doc = _doc(command)
    assert doc.strip(), f"`{name}` has no docstring"
    result = invoke(cli_runner, name, "--help")
    assert result.exit_code == 0, result.output
    assert f"Usage: main {name}" in result.stdout or f"{name} [OPTIONS]" in result.stdout
    assert _normalise(doc.replace("\b", "")) in _normalise(result.stdout)


def test_main_help_lists_every_command(cli_runner):
    result = invoke(cli_runner, "--help")
    assert result.exit_code == 0
    for name, (_module, summary) in COMMANDS.items():
        assert name in result.stdout
        assert _normalise(summary) in _normalise(result.stdout), name


def test_version(cli_runner):
    result = invoke(cli_runner, "--version")
    assert result.exit_code == 0
    assert tiergate.__version__ in result.stdout


def test_unexpected_failure_exits_2_not_0(monkeypatch, capsys, clean):
    """The entry point fails closed: a crash inside a command is exit 2 with a short message."""
    import tiergate.cli.lint as lint_module

    def crash(path):
        raise RuntimeError("boom")

    monkeypatch.setattr(lint_module, "lint_file", crash)
    monkeypatch.delenv("TIERGATE_DEBUG", raising=False)
    monkeypatch.setattr(sys, "argv", ["tiergate", "lint", str(clean)])
    with pytest.raises(SystemExit) as info:
        run()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err
    assert "Traceback" not in err


def test_fmt_write_refuses_to_replace_a_symbolic_link(cli_runner, write_policy, small_policy, tmp_path):
    """`fmt --write` on a policy reached through a link leaves the link and its target as they were: exit 2."""
    target = write_policy(small_policy.replace(*UNFORMATTED_LINE), "real.policy")
    before = target.read_text(encoding="utf-8")
    link = tmp_path / "linked.policy"
    link.symlink_to(target)
    result = invoke(cli_runner, "fmt", "--write", str(link))
    assert result.exit_code == 2, result.output
    assert "cannot rewrite" in result.stderr and "symbolic link" in result.stderr
    assert link.is_symlink() and target.read_text(encoding="utf-8") == before


def test_fmt_refuses_a_policy_too_large_as_lint_does(cli_runner, tmp_path):
    """fmt reads a policy as lint does: over 4 MB is E106, checked before the file is read; both exit 2, as for
    any input that cannot be used."""
    big = tmp_path / "big.policy"
    with open(big, "wb") as handle:
        handle.truncate(5 * 1024 * 1024)  # sparse: its size says enough
    for command, code in (("lint", 2), ("fmt", 2)):
        result = invoke(cli_runner, command, str(big))
        assert (result.exit_code, "error[E106]" in result.stdout + result.stderr) == (code, True), result.output
