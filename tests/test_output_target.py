"""`--output PATH` writes a regular file or a new one, and nothing else: never a link, a pipe, a device, a directory.

The report is written to a temporary file beside PATH and renamed over it. A rename replaces whatever PATH
names: a symbolic link (its target left as it was), or, as root, a device such as /dev/full. So anything at
PATH other than a regular file is refused (exit 2, a message saying what it is), and nothing is written.
Every node here lives in tmp_path: no real device is touched.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiergate.cli import main
from tiergate.fileio import NotARegularFile, write_atomic


def left_in(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


@pytest.fixture
def link(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("the target, untouched\n")
    path = tmp_path / "report.txt"
    path.symlink_to(target)
    return path


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "report.pipe"
    os.mkfifo(path)
    return path


def unchanged_link(path: Path) -> None:
    assert path.is_symlink() and path.resolve().read_text() == "the target, untouched\n"


def test_a_symbolic_link_is_refused_and_left_as_it_is(link, tmp_path):
    before = left_in(tmp_path)
    with pytest.raises(NotARegularFile, match="it is a symbolic link, not a regular file"):
        write_atomic(link, "report\n")
    unchanged_link(link)
    assert left_in(tmp_path) == before  # no temporary file left behind


def test_a_link_to_a_device_is_refused(tmp_path):
    path = tmp_path / "null"
    path.symlink_to(os.devnull)
    with pytest.raises(NotARegularFile, match="symbolic link"):
        write_atomic(path, "report\n")
    assert path.is_symlink() and os.readlink(path) == os.devnull


def test_a_dangling_link_is_refused(tmp_path):
    path = tmp_path / "report.txt"
    path.symlink_to(tmp_path / "nowhere" / "report.txt")
    with pytest.raises(NotARegularFile, match="symbolic link"):
        write_atomic(path, "report\n")
    assert path.is_symlink() and not (tmp_path / "nowhere").exists()


def test_a_named_pipe_is_refused_without_being_opened(fifo, tmp_path):
    before = left_in(tmp_path)
    with pytest.raises(NotARegularFile, match=r"it is a named pipe \(FIFO\), not a regular file"):
        write_atomic(fifo, "report\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert left_in(tmp_path) == before


def test_a_directory_is_refused(tmp_path):
    directory = tmp_path / "reports"
    directory.mkdir()
    with pytest.raises(NotARegularFile, match="it is a directory, not a regular file"):
        write_atomic(directory, "report\n")
    assert directory.is_dir() and left_in(directory) == set()
    assert left_in(tmp_path) == {"reports"}


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_refused_and_stays_a_device(tmp_path):
    path = tmp_path / "full"
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # what /dev/full is, made in tmp_path
    with pytest.raises(NotARegularFile, match="it is a character device, not a regular file"):
        write_atomic(path, "report\n")
    assert stat.S_ISCHR(os.lstat(path).st_mode)
    assert left_in(tmp_path) == {"full"}


def test_a_regular_file_is_replaced_and_keeps_its_mode_and_a_new_one_is_made(tmp_path):
    existing = tmp_path / "report.txt"
    existing.write_text("old\n")
    existing.chmod(0o640)
    write_atomic(existing, "new\n")
    assert existing.read_text() == "new\n" and stat.S_IMODE(existing.stat().st_mode) == 0o640
    write_atomic(tmp_path / "fresh.txt", "fresh\n")
    assert (tmp_path / "fresh.txt").read_text() == "fresh\n"
    assert left_in(tmp_path) == {"report.txt", "fresh.txt"}


# --- on the command line: exit 2, what the path is, nothing written ----------------------------------

def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_output_onto_a_link_exits_2_and_writes_nothing(link, tmp_path):
    before = left_in(tmp_path)
    result = run("matrix", "--format", "csv", "-o", str(link))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "it is a symbolic link, not a regular file" in result.stderr
    assert "wrote" not in result.stderr
    unchanged_link(link)
    assert left_in(tmp_path) == before


def test_output_onto_a_pipe_exits_2_and_writes_nothing(fifo, tmp_path):
    result = run("matrix", "--format", "csv", "-o", str(fifo))
    assert result.exit_code == 2
    assert "it is a named pipe (FIFO), not a regular file" in result.stderr and "wrote" not in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and left_in(tmp_path) == {fifo.name}


def test_output_onto_a_new_path_and_a_regular_file_still_writes(tmp_path):
    """(What must go on working. A directory is refused before write_atomic: every --output is a
    click.Path(dir_okay=False).)"""
    path = tmp_path / "matrix.csv"
    for _ in range(2):  # made, then replaced
        result = run("matrix", "--format", "csv", "-o", str(path))
        assert result.exit_code == 0 and result.stderr == f"wrote {path}\n"
    assert path.read_text().startswith("tier,")
