"""Policy versions in the ledger: the source of every policy (and questionnaire) it has been recorded under.

A policy is *adopted* by a `policy_adopted` event, which belongs to no model (its use case and version are
`-`, as a roster's are): who adopted it, when, the policy's name, version and SHA-256, and its questionnaire's
SHA-256. Sources are content-addressed: the event that first names a SHA-256 carries the text under
`sources` (SHA-256 -> text); a later adoption of the same version (a policy put back in force) names it only.
The hash chain covers the events, and each text is checked against its SHA-256 whenever it is read, so a source
cannot be changed without the change being found.

The policy *in force* at a time is the one adopted latest at or before it; before the first adoption, the first
one adopted (the ledger knows of no earlier). The roster in force is found the same way among the roster events.
Compiled policy versions are kept by SHA-256, so each is compiled once per process.
"""
from __future__ import annotations

import hashlib
import re
import threading
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.ledger.kept import Kept
from tiergate.inputs.events import format_time, parse_time
from tiergate.language.policy import Policy

if TYPE_CHECKING:
    from tiergate.ledger.store.base import Store

ADOPTED = "policy_adopted"
NOBODY = "-"  # the use case and version of events that belong to no model
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Adoption:
    """One `policy_adopted` event."""

    seq: int
    at: datetime
    actor: str
    name: str
    version: str
    sha256: str
    questionnaire_sha256: str
    file: str

    def to_dict(self) -> dict:
        return {"seq": self.seq, "at": format_time(self.at), "actor": self.actor, "name": self.name,
                "version": self.version, "sha256": self.sha256, "questionnaire_sha256": self.questionnaire_sha256,
                "file": self.file}

    @property
    def label(self) -> str:
        return f"{self.name} {self.version} ({self.sha256[:12]})"


def adoption_body(policy: Policy, actor: str, at: str, held: Iterable[str]) -> dict:
    """The event adopting `policy`; it carries the sources the ledger does not hold yet (`held`: their SHA-256s)."""
    held = set(held)
    sources = {}
    for text in (policy.source, policy.questionnaire_source):
        digest = sha256_of(text)
        if digest not in held:
            sources[digest] = text
    body = {"at": at, "type": ADOPTED, "use_case": NOBODY, "version": NOBODY, "actor": actor,
            "policy": policy.identity(),
            "questionnaire": {"file": policy.questionnaire_file, "sha256": policy.questionnaire_sha256},
            "file": policy.file}
    if sources:
        body["sources"] = sources
    return body


def body_problems(body: dict, where: Location) -> list[Diagnostic]:
    """What is wrong with the shape of a `policy_adopted` body (E400), or with a source against its SHA-256
    (E640). That the SHA-256s it names are held is the validator's to check (it knows the ledger)."""
    def bad(message: str, code: str = "E400", hint: str | None = None) -> list[Diagnostic]:
        return [Diagnostic(code, message, where, hint=hint)]

    if (body.get("use_case"), body.get("version")) != (NOBODY, NOBODY):
        return bad(f"a {ADOPTED} event belongs to no use case: its use_case and version are `{NOBODY}`")
    identity = body.get("policy")
    if not isinstance(identity, dict) or not all(isinstance(identity.get(k), str) and identity.get(k)
                                                 for k in ("name", "version", "sha256")):
        return bad(f"a {ADOPTED} event names the policy by `policy: {{name, version, sha256}}`")
    questionnaire = body.get("questionnaire")
    if not isinstance(questionnaire, dict) or not isinstance(questionnaire.get("sha256"), str):
        return bad(f"a {ADOPTED} event names its questionnaire by `questionnaire: {{file, sha256}}`")
    for digest in (identity["sha256"], questionnaire["sha256"]):
        if not _SHA256.match(digest):
            return bad(f"`{digest}` is not a SHA-256 (64 lowercase hexadecimal digits)")
    sources = body.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(t, str) for t in sources.values()):
        return bad(f"the `sources` of a {ADOPTED} event map SHA-256s to the texts they are the hash of")
    for digest, text in sources.items():
        if sha256_of(text) != digest:
            return bad(f"the source stored under sha256 {digest[:12]} no longer matches it (its text hashes to "
                       f"{sha256_of(text)[:12]})", "E640",
                       "the source was changed after it was recorded: restore the ledger from a backup, or import "
                       "its last export into a new ledger")
    return []


def missing_source(body: dict, held, where: Location) -> Diagnostic | None:
    """E641 when the event names a source that neither it nor an event before it carries."""
    sources = body.get("sources") or {}
    for what, digest in (("policy", body["policy"]["sha256"]), ("questionnaire", body["questionnaire"]["sha256"])):
        if digest not in held and digest not in sources:
            return Diagnostic("E641", f"the {ADOPTED} event names {what} sha256 {digest[:12]}, whose source is "
                              "neither in it nor in an event before it", where,
                              hint="an adoption carries the source of each version the ledger does not hold yet "
                                   "(`sources`); export the history it comes from with its adoptions")
    return None


class PolicyVersions:
    """The adoptions and sources a ledger holds, read once (they are few)."""

    def __init__(self, store: Store):
        from tiergate.ledger.integrity import read_row

        self.adoptions: list[Adoption] = []
        self.sources: dict[str, str] = {}
        for row in store.rows(NOBODY, NOBODY, types=(ADOPTED,)):
            body = read_row(row)
            where = Location("ledger", row.seq)
            problems = body_problems(body, where)
            if problems:
                raise TiergateError(problems)
            self.sources.update(body.get("sources") or {})
            at = parse_time(body["at"])
            self.adoptions.append(Adoption(row.seq, at, body["actor"], body["policy"]["name"],
                                           body["policy"]["version"], body["policy"]["sha256"],
                                           body["questionnaire"]["sha256"], str(body.get("file", ""))))
        # in time order (equal times in recorded order), for `in_force`
        self.adoptions.sort(key=lambda a: (a.at, a.seq))
        self._starts = [a.at for a in self.adoptions]

    @classmethod
    def read(cls, store: Store) -> PolicyVersions:
        """The versions the ledger holds, as `PolicyVersions(store)` reads them, kept while the ledger's latest
        adoption is the same event (by its seq and hash: adoptions are only ever appended, and the hash is of the
        whole chain up to it). What a recording asks before every append costs one indexed read, not a parse of every
        adoption and a hash of every source. Not to be changed by the caller."""
        latest = store.latest(NOBODY, NOBODY, ADOPTED)
        if latest is None:
            return cls(store)
        return _READ.get((store.url, latest.seq, latest.hash), lambda: cls(store))

    def in_force(self, at: datetime) -> Adoption | None:
        """The adoption in force at `at` (the first one, before any); None when there is none."""
        if not self.adoptions:
            return None
        return self.adoptions[max(0, bisect_right(self._starts, at) - 1)]

    def find(self, prefix: str) -> Adoption:
        """The adoption of the version whose SHA-256 starts with `prefix` (E642 when none, or several)."""
        prefix = prefix.strip().lower()
        found = {a.sha256: a for a in self.adoptions if a.sha256.startswith(prefix)} if prefix else {}
        if len(found) != 1:
            known = ", ".join(sorted({f"{a.sha256[:12]} ({a.name} {a.version})" for a in self.adoptions})) or "none"
            what = "no policy version" if not found else f"{len(found)} policy versions"
            raise TiergateError(Diagnostic("E642", f"{what} in the ledger with a sha256 starting `{prefix}`",
                                           Location("<ledger>"), hint=f"the versions it holds: {known}"))
        return next(iter(found.values()))

    def policy(self, adoption: Adoption) -> Policy:
        """The adopted version, compiled from its stored source (once per process)."""
        return compiled(adoption.sha256, adoption.questionnaire_sha256, self.sources, adoption.file)


#: compiled versions, by (policy sha256, questionnaire sha256, the file name it is known by: what its reports name);
#: few are in use at once
_COMPILED: OrderedDict[tuple[str, str, str], Policy] = OrderedDict()
_COMPILED_MAX = 32
_LOCK = threading.Lock()
#: PolicyVersions.read's: by (ledger URL, seq and hash of the latest adoption)
_READ = Kept()


def remember(policy: Policy) -> None:
    """Keep a policy loaded from its file as the compiled form of its version (it is the same text)."""
    with _LOCK:
        _COMPILED[(policy.sha256, policy.questionnaire_sha256, policy.file)] = policy
        _trim()


def compiled(sha256: str, questionnaire_sha256: str, sources: dict[str, str], file: str = "") -> Policy:
    file = file or f"policy {sha256[:12]}"
    key = (sha256, questionnaire_sha256, file)
    with _LOCK:
        found = _COMPILED.get(key)
        if found is not None:
            _COMPILED.move_to_end(key)
            return found
    source, schema = sources.get(sha256), sources.get(questionnaire_sha256)
    if source is None or schema is None:
        raise TiergateError(Diagnostic("E641", f"the ledger does not hold the source of policy sha256 {sha256[:12]}"
                                       if source is None else f"the ledger does not hold the questionnaire sha256 "
                                       f"{questionnaire_sha256[:12]}", Location("<ledger>")))
    from tiergate.language.load import compile_policy

    policy = compile_policy(source, file, schema_source=schema)
    with _LOCK:
        _COMPILED[key] = policy
        _trim()
    return policy


def _trim() -> None:
    while len(_COMPILED) > _COMPILED_MAX:
        _COMPILED.popitem(last=False)
