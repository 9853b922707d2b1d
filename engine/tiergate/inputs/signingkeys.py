"""A signer's private key file (PEM, PKCS#8, Ed25519), read with clear errors that never show key material."""
from __future__ import annotations

from pathlib import Path

from tiergate.errors import Diagnostic, Location, TiergateError

#: the largest private key file read (an Ed25519 PEM is 119 bytes; an encrypted or RSA one a few kilobytes)
KEY_LIMIT = 64 * 1024
_HINT = "make one with `tiergate key generate --out FILE`"


def _refuse(path: str, message: str, hint: str | None = _HINT) -> TiergateError:
    return TiergateError(Diagnostic("E690", f"the signing key {message}", Location(path), hint=hint))


def load_private_key(path: str | Path):
    """The cryptography Ed25519PrivateKey in the PEM (PKCS#8, unencrypted) file at `path`; E690 when the file
    cannot be read, holds no private key, holds an encrypted one, or a key of another type (RSA, ECDSA...).
    No message quotes the file's content."""
    from tiergate.fileio import Unreadable, read_bounded

    path = str(path)
    try:
        data = read_bounded(path, KEY_LIMIT, "an Ed25519 private key (PEM)")
    except Unreadable as problem:
        reason = "is too large to be a key" if problem.too_large else problem.reason
        raise _refuse(path, reason if reason.startswith("file ") else f"file {reason}", problem.hint or _HINT) from None
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if b"-----BEGIN" not in data or b"PRIVATE KEY-----" not in data:
        public = b"PUBLIC KEY-----" in data
        raise _refuse(path, "file holds a public key, not a private key" if public else
                      "file is not a private key in PEM form (-----BEGIN PRIVATE KEY-----)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # encrypted: a password would be needed
        raise _refuse(path, "is encrypted; tiergate reads an unencrypted PKCS#8 key",
                      "keep the key file readable by its owner only (mode 0600) instead") from None
    except Exception as exc:  # noqa: BLE001 - ValueError, UnsupportedAlgorithm...: never echo what was read
        raise _refuse(path, f"file cannot be read as a private key ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _refuse(path, f"is {_kind(key)} key, not an Ed25519 key", "tiergate signs with Ed25519 only; " + _HINT)
    return key


def _kind(key) -> str:
    """"an RSA", "an ECDSA"...: what kind of private key `key` is, with its article."""
    import warnings

    from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa, x448, x25519

    kinds = [(rsa.RSAPrivateKey, "an RSA"), (ec.EllipticCurvePrivateKey, "an elliptic-curve (ECDSA)"),
             (ed448.Ed448PrivateKey, "an Ed448"), (x25519.X25519PrivateKey, "an X25519"),
             (x448.X448PrivateKey, "an X448")]
    with warnings.catch_warnings():  # (naming cryptography's DSA class warns that DSA is deprecated)
        warnings.simplefilter("ignore")
        from cryptography.hazmat.primitives.asymmetric import dsa

        kinds.append((dsa.DSAPrivateKey, "a DSA"))
    return next((words for cls, words in kinds if isinstance(key, cls)), "another kind of")
