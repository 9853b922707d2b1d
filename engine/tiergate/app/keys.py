"""Signing keys: `tiergate key generate` writes a new Ed25519 private key and gives the public key's roster line."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.inputs.dsse import PublicKey, public_key_of


def generate_key(out: str | Path) -> PublicKey:
    """Make an Ed25519 key pair, write its private key to `out` (PEM, PKCS#8, unencrypted, mode 0600) and return
    the public key. The file is written whole or not at all, and never over a file that exists (E690)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    write_new_private(out, pem)
    return public_key_of(key)


def write_new_private(path: str | Path, data: bytes) -> None:
    """Write `data` to a new file at `path`, readable by its owner only: a temporary file (mode 0600) beside it,
    fsync, then a hard link to `path`, which fails when anything is there (no race with another writer)."""
    path = Path(path)
    if os.path.lexists(path):
        raise _exists(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    except OSError as exc:
        raise TiergateError(Diagnostic("E690", f"the signing key cannot be written: {exc.strerror or exc}",
                                       Location(str(path)))) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise _exists(path) from None
        except OSError as exc:
            raise TiergateError(Diagnostic("E690", f"the signing key cannot be written: {exc.strerror or exc}",
                                           Location(str(path)))) from None
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _exists(path: Path) -> TiergateError:
    return TiergateError(Diagnostic("E690", "the signing key is not written: a file is there already",
                                     Location(str(path)), hint="tiergate never overwrites a key; name a new file"))
