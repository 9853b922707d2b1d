"""Reading files into located errors, and writing them so that nothing is ever half-written (temporary file, fsync, rename)."""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from tiergate.errors import Diagnostic, Location, TiergateError


class NotARegularFile(OSError):
    """What write_atomic raises for a path that holds something other than a regular file; `strerror` says what."""


#: what is at a path that is not a regular file, by the test of its mode (os.lstat: a link is not followed)
_NOT_A_FILE = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"),
               (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _regular_mode(path: Path) -> int | None:
    """The permission bits of the regular file at `path`; None when nothing is there; NotARegularFile otherwise."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _NOT_A_FILE if test(info.st_mode)), "not a regular file")
        raise NotARegularFile(errno.EISDIR if stat.S_ISDIR(info.st_mode) else errno.EEXIST,
                              f"it is {kind}, not a regular file (tiergate writes only to a regular file, "
                              f"or makes a new one)", str(path))
    return info.st_mode & 0o7777


def write_atomic(path: str | Path, text: str) -> None:
    """Write `text` as UTF-8 to `path`, never half-written: a temporary file beside it, fsync, then a rename.

    Only a regular file is replaced (keeping its permission bits), or a new one made. A symbolic link, a
    directory, a named pipe, a device or a socket at `path` is refused with NotARegularFile (an OSError)
    before anything is written; the path is looked at again just before the rename, which would otherwise
    put a regular file in the place of what is there.
    """
    path = Path(path)
    mode = _regular_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent or "."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:  # a new file: what open() would give it, not mkstemp's owner-only 0600
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        _regular_mode(path)  # (what was checked above may have been swapped since)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


MB = 1024 * 1024
#: The largest file of each kind that is read whole, in bytes. A larger file is refused before any of it is read.
POLICY_LIMIT = 4 * MB  # a policy (real ones are a few kilobytes)
INPUT_LIMIT = 2 * MB  # answers, YAML events, rosters, policy tests, metrics files, questionnaire schemas
EVENT_LINES_LIMIT = 1024 * MB  # an events file in JSON Lines: a ledger's history (1,000,000 events are ~250 MB)

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_NONBLOCK", 0))  # (a FIFO swapped in after the check still cannot block the open)
_CHUNK = 1024 * 1024


class Unreadable(Exception):
    """Why a file was not read: `reason` completes "<path>: ...", `hint` says what would be right, and `size` is
    the file's size in bytes when it is too large (None when unknown: it grew while it was read)."""

    def __init__(self, reason: str, hint: str | None = None, too_large: bool = False, size: int | None = None):
        super().__init__(reason)
        self.reason, self.hint, self.too_large, self.size = reason, hint, too_large, size


def read_bounded(path: str | Path, limit: int, what: str = "the input") -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; raises Unreadable otherwise.

    The file's type and size are checked before it is read: a directory, a pipe, a device or a socket is
    never opened, a file larger than `limit` never read, and a file that grows while it is read is read no
    further than `limit` + 1 bytes. `what` names what the file should hold, for the hint ("the policy").
    """
    try:
        info = os.stat(path)
        _check(info, limit, what)
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise Unreadable("file not found") from None
    except ValueError:  # a NUL in the path, or a character no file name can hold
        held = "a NUL character" if "\x00" in str(path) else "a character no file name can hold"
        raise Unreadable(f"is not a path a file can have (it holds {held})",
                         hint=f"name a regular file holding {what}") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror or exc}") from None
    try:
        with open(fd, "rb", buffering=0) as handle:
            _check(os.fstat(fd), limit, what)  # what was opened: the path may name something else by now
            return _read_at_most(handle, limit, info.st_size)
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror or exc}") from None


def _check(info: os.stat_result, limit: int, what: str) -> None:
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):
            raise Unreadable("is a directory, not a file", hint=f"name a regular file holding {what}")
        kind = next((name for test, name in _NOT_A_FILE if test(mode)), "not a regular file")  # (links followed)
        raise Unreadable(f"is {kind}, not a regular file",
                         hint=f"name a regular file holding {what}; pipes, devices and sockets are not read")
    if info.st_size > limit:
        raise Unreadable("too large", too_large=True, size=info.st_size)


def _read_at_most(handle, limit: int, expected: int) -> bytes:
    """Read to the end, or until more than `limit` bytes came (then Unreadable); `expected` is the size stat gave."""
    parts = []
    total = 0
    want = min(expected, limit) + 1  # usually the whole file in one read, and the end seen at once
    while True:
        chunk = handle.read(want)
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise Unreadable("too large", too_large=True)
        want = min(_CHUNK, limit + 1 - total)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_source(path: str | Path, limit: int = POLICY_LIMIT, *, what: str = "the input", code: str = "E001",
                subject: str = "the file", hint: str | None = None) -> bytes:
    """Read a regular file of at most `limit` bytes, turning every problem into a located diagnostic.

    A path that is missing, not a regular file, or unreadable is E001 (exit 2 at the CLI). A file larger than
    `limit` is refused before it is read, with `code` and the words "`subject` is 5.0 MB; the largest accepted
    is 4 MB" (and `hint`): each kind of input keeps the code its readers have always given a file too large.
    """
    try:
        return read_bounded(path, limit, what)
    except Unreadable as problem:
        where = Location(str(path))
        if problem.too_large:
            raise TiergateError(Diagnostic(code, f"{subject} is {too_large_words(problem.size, limit)}", where,
                                           hint=hint)) from None
        raise TiergateError(Diagnostic("E001", problem.reason, where, hint=problem.hint)) from None


def too_large_words(size: int | None, limit: int) -> str:
    """"5.0 MB; the largest accepted is 4 MB": how a file too large is worded."""
    return f"{_size(size, limit)}; the largest accepted is {_megabytes(limit)}"


def _size(size: int | None, limit: int) -> str:
    return f"{size / MB:.1f} MB" if size is not None else f"more than {_megabytes(limit)}"


def _megabytes(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit:,} bytes"
