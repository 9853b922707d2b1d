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


def read_source(path: str | Path) -> bytes:
    """Read a file as bytes, turning OS errors into a located diagnostic (exit 2 at the CLI)."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TiergateError(Diagnostic("E001", "file not found", Location(str(path)))) from None
    except IsADirectoryError:
        raise TiergateError(Diagnostic("E001", "is a directory, not a file", Location(str(path)))) from None
    except OSError as exc:
        raise TiergateError(Diagnostic("E001", f"cannot be read: {exc.strerror}", Location(str(path)))) from None
