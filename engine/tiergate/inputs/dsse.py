"""Signed statements: in-toto Statements v1 in DSSE envelopes, signed and verified with pure Ed25519 (no I/O).

DSSE (github.com/secure-systems-lab/dsse, protocol v1) signs the PAE ("pre-authentication encoding") of a
payload and its type, never the payload alone:

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body   (LEN: decimal byte count)

The signature is pure Ed25519 (RFC 8032) over those bytes: not Ed25519ph, and not Ed25519 over a digest of them
(cosign's issues 4414 and 5074 show what mixing the two costs). The payload of a tiergate envelope is an in-toto
Statement v1 (github.com/in-toto/attestation, spec/v1) whose predicate is a tiergate event.

The `cryptography` library is imported only inside the functions that sign or verify, so that `import tiergate`
and the commands that never sign do not load it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Mapping

from tiergate.errors import Diagnostic, Location, TiergateError

#: the payload type of every tiergate envelope: an in-toto Statement in JSON
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: predicateType of a tiergate event: PREDICATE_PREFIX + event type + "/v1"
PREDICATE_PREFIX = "https://tiergate.dev/attestation/"
PREDICATE_VERSION = "v1"
_ENVELOPE_FIELDS = ("payloadType", "payload", "signatures")
_SIGNATURE_FIELDS = ("keyid", "sig")
_STATEMENT_FIELDS = ("_type", "subject", "predicateType", "predicate")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*={0,2}")
_ENVELOPE_LIMIT = 4 * 1024 * 1024  # bytes of an envelope read whole (a signed event is a few kilobytes)


# --- keys ------------------------------------------------------------------------------------

def key_id(raw: bytes) -> str:
    """A public key's id: the first 16 hex digits of the SHA-256 of its raw 32 bytes."""
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key a person signs with, valid from `since` (inclusive) until `until` (exclusive)."""

    id: str
    raw: bytes
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_raw(cls, raw: bytes, since: datetime | None = None, until: datetime | None = None) -> PublicKey:
        return cls(key_id(raw), bytes(raw), since, until)

    @property
    def ed25519(self) -> str:
        """The key as the roster writes it: standard base64 of the raw 32 bytes."""
        return base64.b64encode(self.raw).decode("ascii")

    def active(self, at: datetime) -> bool:
        return (self.since is None or self.since <= at) and (self.until is None or at < self.until)

    def verifies(self, signature: bytes, message: bytes) -> bool:
        """Whether `signature` is this key's pure Ed25519 signature of `message`."""
        from cryptography.exceptions import InvalidSignature

        try:
            _loaded(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@lru_cache(maxsize=256)
def _loaded(raw: bytes):
    """The cryptography Ed25519PublicKey of raw key bytes, made once per key (`audit verify` checks thousands of
    signatures by a few keys); ValueError when they are no key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_of(private_key) -> PublicKey:
    """The PublicKey of a cryptography Ed25519PrivateKey."""
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PublicKey.from_raw(raw)


def roster_line(key: PublicKey) -> str:
    """The line that gives a person this key in a roster's `keys:` (YAML flow mapping); an id of digits only is
    quoted, which YAML would read as a number."""
    ident = f"'{key.id}'" if key.id.isdigit() else key.id
    return f"{{id: {ident}, ed25519: {key.ed25519}}}"


# --- DSSE ------------------------------------------------------------------------------------

def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1's pre-authentication encoding of a payload and its type: the bytes that are signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope, parsed: the payload's bytes (decoded) and its signatures."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]
    file: str = "<envelope>"

    def as_dict(self) -> dict:
        """The envelope as DSSE's JSON has it (standard base64)."""
        return {"payloadType": self.payload_type, "payload": _b64(self.payload),
                "signatures": [{"keyid": s.keyid, "sig": _b64(s.sig)} for s in self.signatures]}

    def to_json(self) -> str:
        """The envelope as one line of JSON (keys in DSSE's order, no spaces)."""
        return json.dumps(self.as_dict(), separators=(",", ":"), ensure_ascii=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sign_envelope(payload: bytes, private_key, payload_type: str = PAYLOAD_TYPE) -> Envelope:
    """An envelope of `payload`, signed with a cryptography Ed25519PrivateKey over PAE(payload_type, payload)."""
    signature = private_key.sign(pae(payload_type, payload))
    return Envelope(payload_type, bytes(payload), (Signature(public_key_of(private_key).id, signature),))


def _refuse(file: str, field: str, message: str, hint: str | None = None, code: str = "E691") -> TiergateError:
    return TiergateError(Diagnostic(code, f"envelope {field}: {message}", Location(file), hint=hint))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {json.dumps(key)} is written twice")
        seen[key] = value
    return seen


def _decode_b64(text: Any, file: str, field: str) -> bytes:
    """Base64 (standard or URL-safe, as DSSE allows; padding optional) in its one canonical spelling."""
    if not isinstance(text, str):
        raise _refuse(file, field, f"is {_kind(text)}, not base64 text")
    if not _B64.fullmatch(text) or len(text.rstrip("=")) % 4 == 1:
        raise _refuse(file, field, "is not base64", hint="base64 holds only A-Z, a-z, 0-9 and + / (or - _), "
                                                         "with = padding at the end")
    standard = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        data = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(file, field, "is not base64") from None
    if _b64(data).rstrip("=") != standard:  # unused bits set: another spelling of these bytes, never ours
        raise _refuse(file, field, "is not base64 in its canonical form (its last character carries bits "
                                   "that are not part of the data)")
    return data


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true or false", type(None): "null"}.get(
        type(value), "a number")


def parse_envelope(data: bytes | str | Mapping, file: str = "<envelope>",
                   payload_type: str | None = PAYLOAD_TYPE) -> Envelope:
    """A DSSE envelope from its JSON (or the parsed object), checked field by field; E691 for every malformed
    part, naming the field. `payload_type`: the one accepted (None: any)."""
    if isinstance(data, (bytes, str)):
        if len(data) > _ENVELOPE_LIMIT:
            raise _refuse(file, "$", f"is {len(data):,} bytes; the largest accepted is {_ENVELOPE_LIMIT:,}")
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            data = json.loads(text, object_pairs_hook=_no_duplicates,
                              parse_constant=lambda name: (_ for _ in ()).throw(ValueError(f"{name} is not JSON")))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise _refuse(file, "$", f"is not JSON ({exc})", hint="an envelope is one JSON object with "
                          "payloadType, payload and signatures") from None
    if not isinstance(data, Mapping):
        raise _refuse(file, "$", f"is {_kind(data)}, not an object with payloadType, payload and signatures")
    for key in _ENVELOPE_FIELDS:
        if key not in data:
            raise _refuse(file, f"$.{key}", "is missing", hint="an envelope has payloadType, payload and signatures")
    extra = sorted(set(data) - set(_ENVELOPE_FIELDS))
    if extra:
        raise _refuse(file, f"$.{extra[0]}", "is not a field of a DSSE envelope")
    kind = data["payloadType"]
    if not isinstance(kind, str):
        raise _refuse(file, "$.payloadType", f"is {_kind(kind)}, not text")
    if payload_type is not None and kind != payload_type:
        raise _refuse(file, "$.payloadType", f"is {json.dumps(kind)}, not {json.dumps(payload_type)}",
                      hint="tiergate signs in-toto Statements only")
    payload = _decode_b64(data["payload"], file, "$.payload")
    items = data["signatures"]
    if not isinstance(items, list) or not items:
        raise _refuse(file, "$.signatures", "is not a list of signatures" if not isinstance(items, list)
                      else "is empty: the envelope is not signed")
    signatures = []
    for i, item in enumerate(items):
        where = f"$.signatures[{i}]"
        if not isinstance(item, Mapping):
            raise _refuse(file, where, f"is {_kind(item)}, not an object with keyid and sig")
        for key in _SIGNATURE_FIELDS:
            if key not in item:
                raise _refuse(file, f"{where}.{key}", "is missing",
                              hint="tiergate names the key that signed: its id in the roster")
        extra = sorted(set(item) - set(_SIGNATURE_FIELDS))
        if extra:
            raise _refuse(file, f"{where}.{extra[0]}", "is not a field of a DSSE signature")
        if not isinstance(item["keyid"], str):
            raise _refuse(file, f"{where}.keyid", f"is {_kind(item['keyid'])}, not text")
        sig = _decode_b64(item["sig"], file, f"{where}.sig")
        if len(sig) != 64:
            raise _refuse(file, f"{where}.sig", f"holds {len(sig)} bytes; an Ed25519 signature has 64")
        signatures.append(Signature(item["keyid"], sig))
    return Envelope(kind, payload, tuple(signatures), file)


def verify_envelope(envelope: Envelope, keys: Iterable[PublicKey]) -> PublicKey:
    """The trusted key whose pure Ed25519 signature over the envelope's PAE the envelope carries; E692 when there
    is none, or when a signature under a trusted key's id does not verify."""
    trusted = {k.id: k for k in keys}
    message = pae(envelope.payload_type, envelope.payload)
    good = None
    for i, signature in enumerate(envelope.signatures):
        key = trusted.get(signature.keyid)
        if key is None:
            continue
        if not key.verifies(signature.sig, message):
            raise TiergateError(Diagnostic(
                "E692", f"envelope $.signatures[{i}]: the signature does not verify with key {key.id}",
                Location(envelope.file), hint="it was made over other bytes, with another key, or with another "
                "scheme (tiergate signs with pure Ed25519 over DSSE's PAE, never Ed25519ph or a digest)"))
        good = good or key
    if good is None:
        named = ", ".join(sorted({s.keyid for s in envelope.signatures})) or "none"
        known = ", ".join(sorted(trusted)) or "none"
        raise TiergateError(Diagnostic("E692", f"envelope: no signature is by a trusted key (signed by: {named}; "
                                               f"trusted here: {known})", Location(envelope.file),
                                       hint="the key must be the signer's, in the roster, valid at the event's time"))
    return good


# --- in-toto Statement v1 ---------------------------------------------------------------------

def predicate_type(event_type: str) -> str:
    """The predicateType of a tiergate event of this type: https://tiergate.dev/attestation/<type>/v1."""
    return f"{PREDICATE_PREFIX}{event_type}/{PREDICATE_VERSION}"


def version_name(use_case: str, version: str) -> str:
    """The subject name of a version with no registered artifact: USE_CASE@VERSION."""
    return f"{use_case}@{version}"


def subject_of(use_case: str, version: str, artifact_uri: str | None = None,
               artifact_sha256: str | None = None) -> dict:
    """The statement's subject for a version: its artifact (URI and sha256) when the ledger knows the artifact's
    sha256; else the name USE_CASE@VERSION with the sha256 of that name's UTF-8 bytes (in-toto asks every subject
    for a digest, and this one names exactly one version of one use case)."""
    if artifact_sha256:
        return {"name": artifact_uri or version_name(use_case, version), "digest": {"sha256": artifact_sha256}}
    name = version_name(use_case, version)
    return {"name": name, "digest": {"sha256": hashlib.sha256(name.encode("utf-8")).hexdigest()}}


def statement_for(event: Mapping, artifact_uri: str | None = None, artifact_sha256: str | None = None) -> dict:
    """The in-toto Statement v1 of a tiergate event (a mapping with type, use_case and version): its subject is
    the version (subject_of), its predicate the event itself."""
    return {"_type": STATEMENT_TYPE,
            "subject": [subject_of(event["use_case"], event["version"], artifact_uri, artifact_sha256)],
            "predicateType": predicate_type(event["type"]), "predicate": dict(event)}


def statement_bytes(statement: Mapping) -> bytes:
    """The payload of a statement: canonical JSON (sorted keys, no spaces, UTF-8)."""
    from tiergate.jsoncodec import canonical

    return canonical(statement).encode("utf-8")


def sign_statement(statement: Mapping, private_key) -> Envelope:
    """A statement in a DSSE envelope signed with `private_key` (a cryptography Ed25519PrivateKey)."""
    return sign_envelope(statement_bytes(statement), private_key)


def _wrong(file: str, field: str, message: str, hint: str | None = None) -> TiergateError:
    return TiergateError(Diagnostic("E693", f"statement {field}: {message}", Location(file), hint=hint))


def parse_statement(payload: bytes, file: str = "<envelope>") -> dict:
    """The in-toto Statement v1 an envelope's payload holds, checked field by field (E693 naming the field)."""
    try:
        data = json.loads(payload.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _wrong(file, "$", f"is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _wrong(file, "$", f"is {_kind(data)}, not an in-toto Statement")
    for key in _STATEMENT_FIELDS:
        if key not in data:
            raise _wrong(file, f"$.{key}", "is missing")
    if data["_type"] != STATEMENT_TYPE:
        raise _wrong(file, "$._type", f"is {json.dumps(data['_type'])}, not {json.dumps(STATEMENT_TYPE)}")
    subjects = data["subject"]
    if not isinstance(subjects, list) or not subjects:
        raise _wrong(file, "$.subject", "is not a list of one subject or more")
    for i, subject in enumerate(subjects):
        where = f"$.subject[{i}]"
        if not isinstance(subject, dict) or not isinstance(subject.get("name"), str):
            raise _wrong(file, where, "is not an object with a name")
        digest = subject.get("digest")
        if not isinstance(digest, dict) or not digest or not all(isinstance(v, str) for v in digest.values()):
            raise _wrong(file, f"{where}.digest", "is not a mapping of algorithm -> hex digest")
    if not isinstance(data["predicateType"], str) or not data["predicateType"]:
        raise _wrong(file, "$.predicateType", "is not text")
    if not isinstance(data["predicate"], dict):
        raise _wrong(file, "$.predicate", f"is {_kind(data['predicate'])}, not an object")
    return data


def check_subject(statement: Mapping, use_case: str, version: str, artifact_sha256: str | None = None,
                  file: str = "<envelope>") -> None:
    """E693 unless the statement is about this version: a subject with the artifact's sha256 (when the version
    has one registered) or USE_CASE@VERSION with its digest; and, for a tiergate predicate, a predicate whose
    use_case and version are these."""
    expected = subject_of(use_case, version, None, artifact_sha256)
    want = expected["digest"]["sha256"]
    named = None if artifact_sha256 else expected["name"]
    if not any(s.get("digest", {}).get("sha256") == want and (named is None or s.get("name") == named)
               for s in statement.get("subject", ())):
        what = f"the artifact sha256 {want}" if artifact_sha256 else f"`{named}`"
        raise _wrong(file, "$.subject", f"does not name {what}: the statement is about another version",
                     hint=f"sign a statement about {version_name(use_case, version)}")
    kind = statement.get("predicateType")
    if isinstance(kind, str) and kind.startswith(PREDICATE_PREFIX):
        predicate = statement.get("predicate") or {}
        for key, value in (("use_case", use_case), ("version", version)):
            if predicate.get(key) != value:
                raise _wrong(file, f"$.predicate.{key}", f"is {json.dumps(predicate.get(key))}, not "
                             f"{json.dumps(value)}: the statement is about another version")
        event_type = predicate.get("type")
        if isinstance(event_type, str) and kind != predicate_type(event_type):
            raise _wrong(file, "$.predicateType", f"is {json.dumps(kind)}, not {json.dumps(predicate_type(event_type))}"
                         " for a predicate of type " + json.dumps(event_type))
