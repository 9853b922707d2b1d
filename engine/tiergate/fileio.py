"""Reading files into located errors, and writing them so that nothing is ever half-written (temporary file, fsync, rename)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tiergate.errors import Diagnostic, Location, TiergateError


def write_atomic(path: str | Path, text: str) -> None:
    path = Path(path)
    mode = None
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        pass
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
