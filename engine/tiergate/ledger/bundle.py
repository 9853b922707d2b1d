"""Offline bundles: what it takes to check a model version's signed approvals with no ledger at hand.

A bundle is one JSON file (`attest export`): a run of the ledger's events, exactly as they were hashed, from the
earliest one the version needs to a signed checkpoint's head, and that checkpoint. The run holds the version's
events (signed envelopes among them), the roster events that gave the signers their keys, and the policy adoptions
in force with their sources. Every byte of it is bound: each event's hash covers it and every event before it, the
last hash is the checkpoint's head, and the checkpoint is signed. (Each event's hash is in the bundle too, so that a
change is named at the event it was made in.) So `attest verify` recomputes the hashes from the
first event's previous hash to the head, checks the checkpoint's signature, then each signed event of the version
against the roster in force when it was recorded (as the ledger did), and says which gate each one counts for under
the policy in force then. The file itself is written in one canonical form (sorted keys, two-space indents, ASCII),
so a change anywhere in it, even between values, is found.

A hash chain proves that an event belongs to it only with every event between, so the run holds the other events
recorded meanwhile too (of other models); docs/signing.md says so.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.inputs.events import Roster, parse_time

BUNDLE_TYPE = "https://tiergate.dev/bundle/v1"
NOBODY = "-"
_FIELDS = ("bundleType", "use_case", "version", "first", "previous", "events", "hashes", "checkpoint")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
BUNDLE_LIMIT = 256 * 1024 * 1024  # bytes of a bundle read whole


def file_text(bundle: dict) -> str:
    """The one form a bundle is written in (and the only one `attest verify` accepts)."""
    return json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


# --- export ------------------------------------------------------------------------------------

def export(store, use_case: str, version: str) -> tuple[dict, int]:
    """The bundle of a version, and how many of its events are the version's own (E696 when the ledger holds no
    event of it, or no signed checkpoint covers them)."""
    from tiergate.ledger.chain import GENESIS
    from tiergate.ledger.checkpoints import CHECKPOINT
    from tiergate.ledger.integrity import read_row
    from tiergate.ledger.policyversions import ADOPTED, PolicyVersions

    own = list(store.rows(use_case, version))
    where = Location("attest export")
    if not own:
        raise TiergateError(Diagnostic("E696", f"the ledger holds no event of {use_case} {version}", where,
                                       hint="tiergate history USE_CASE shows the versions it holds"))
    last = max(r.seq for r in own)
    checkpoints = [read_row(r) for r in store.rows(NOBODY, NOBODY, types=(CHECKPOINT,))]
    covering = [c for c in checkpoints if isinstance(c.get("count"), int) and c["count"] >= last]
    if not covering:
        raise TiergateError(Diagnostic(
            "E696", f"no signed checkpoint covers event {last}, the latest of {use_case} {version}: a bundle ends at "
                    "a checkpoint's head", where,
            hint="record one first: tiergate audit checkpoint --sign KEYFILE"))
    checkpoint = max(covering, key=lambda c: c["count"])  # (the latest: it vouches for the most)
    first = min(r.seq for r in own)
    starts = [first]
    rosters = [r.seq for r in store.rows(NOBODY, NOBODY, types=("roster",)) if r.seq < first]
    if rosters:
        starts.append(max(rosters))
    # the adoptions in force at the version's events, and the first adoption to carry each of their sources
    versions = PolicyVersions.read(store)
    in_force = {a for a in (versions.in_force(parse_time(r.at)) for r in own) if a is not None}
    needed = {digest for a in in_force for digest in (a.sha256, a.questionnaire_sha256)}
    starts.extend(a.seq for a in in_force)
    for row in store.rows(NOBODY, NOBODY, types=(ADOPTED,)):
        carried = needed.intersection(read_row(row).get("sources") or {})
        if carried:
            starts.append(row.seq)
            needed -= carried
    start = min(starts)
    before = store.before(start)
    run = list(store.chain(start, checkpoint["count"]))
    bundle = {"bundleType": BUNDLE_TYPE, "use_case": use_case, "version": version, "first": start,
              "previous": before[1] if before is not None else GENESIS,
              "events": [body.decode("utf-8") for *_, body, _, _ in run], "hashes": [row[-1] for row in run],
              "checkpoint": checkpoint}
    return bundle, sum(1 for row in run if (row[3], row[4]) == (use_case, version))


# --- verify ------------------------------------------------------------------------------------

@dataclass
class Approval:
    """A signed event of the version, checked: what it is, who signed it with which key, and what it counts for."""

    seq: int
    what: str
    signer: str
    key_id: str
    counts_for: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    """What `attest verify` found: the checkpoint's signer and key, the signed events, every problem."""

    use_case: str
    version: str
    count: int = 0  # events in the run
    checkpoint: str | None = None  # "signed by P (key K) at T: N events, head H"
    approvals: list[Approval] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    keys_from: str = "the bundle's own roster events"

    @property
    def ok(self) -> bool:
        return not self.problems


def parse(data: bytes, file: str) -> dict:
    """The bundle in `data`; E695 when it is no bundle at all (not JSON, not an object of bundleType v1). Whether
    what it holds checks out is `verify`'s."""
    def refuse(message: str) -> TiergateError:
        return TiergateError(Diagnostic("E695", message, Location(file),
                                        hint="give the file `tiergate attest export` wrote"))

    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise refuse(f"a bundle is JSON: {exc}") from None
    if not isinstance(bundle, dict) or bundle.get("bundleType") != BUNDLE_TYPE:
        raise refuse(f"this is no tiergate bundle: its `bundleType` is not {BUNDLE_TYPE}")
    try:  # (JSON may escape a lone surrogate, `\ud800`, which no text holds and no hash can be taken of)
        json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise refuse(f"the bundle holds {exc.object[exc.start:exc.end]!r}, a lone surrogate, which no text "
                     "holds") from None
    return bundle


def verify(data: bytes, bundle: dict, trusted: Roster | None = None, trusted_file: str | None = None) -> Verdict:
    """Check a bundle (`data`: its file's bytes, `bundle`: what `parse` made of them). With `trusted` (a roster the
    checker holds), every key that signed must be one it gives that person; else the bundle's roster events are
    taken for the keys, which proves the approvals were signed by the keys the ledger held, no more."""
    verdict = Verdict(str(bundle.get("use_case")), str(bundle.get("version")))
    if trusted is not None:
        verdict.keys_from = f"the roster you trust ({trusted_file})"
    problems = verdict.problems
    shape = _shape_problem(bundle)
    if shape is not None:
        problems.append(shape)
        return verdict
    if data != file_text(bundle).encode("ascii"):
        problems.append("the file was changed: it is not byte for byte as `attest export` writes it")
    events = _chain(bundle, verdict)
    if events is None:
        return verdict
    rosters = [(seq, body) for seq, body in events if body.get("type") == "roster"]
    cp = _checkpoint(bundle, rosters, trusted, verdict)
    if cp is None:
        return verdict
    _approvals(bundle, events, rosters, trusted, verdict)
    return verdict


def _shape_problem(bundle: dict) -> str | None:
    extra = sorted(set(bundle) - set(_FIELDS))
    if extra:
        return f"the bundle has a field it never has: `{extra[0]}`"
    missing = [k for k in _FIELDS if k not in bundle]
    if missing:
        return f"the bundle misses `{missing[0]}`"
    if not isinstance(bundle["use_case"], str) or not isinstance(bundle["version"], str):
        return "the bundle's `use_case` and `version` are text"
    if type(bundle["first"]) is not int or bundle["first"] < 1:
        return "the bundle's `first` is the seq of its first event, a whole number from 1"
    if not isinstance(bundle["previous"], str) or not _HEX64.match(bundle["previous"]):
        return "the bundle's `previous` is the hash before its first event: 64 lowercase hexadecimal digits"
    if not isinstance(bundle["events"], list) or not bundle["events"] or \
            not all(isinstance(e, str) for e in bundle["events"]):
        return "the bundle's `events` are the events as they were hashed: a list of JSON texts"
    if not isinstance(bundle["hashes"], list) or len(bundle["hashes"]) != len(bundle["events"]) or \
            not all(isinstance(h, str) and _HEX64.match(h) for h in bundle["hashes"]):
        return "the bundle's `hashes` are the events' hashes, one for each (64 lowercase hexadecimal digits)"
    if not isinstance(bundle["checkpoint"], dict):
        return "the bundle's `checkpoint` is the signed checkpoint its events lead to"
    return None


def _chain(bundle: dict, verdict: Verdict) -> list[tuple[int, dict]] | None:
    """Recompute the hashes from `previous` through every event; the events (seq, body), or None with the problem
    noted when the run does not lead to the checkpoint's head."""
    from tiergate.ledger.chain import event_hash
    from tiergate.ledger.checkpoints import body_problems

    previous, out = bundle["previous"], []
    for i, text in enumerate(bundle["events"]):
        seq = bundle["first"] + i
        previous = event_hash(previous, text.encode("utf-8"))
        if previous != bundle["hashes"][i]:
            what = "the hash before the first event was changed, or " if i == 0 else ""
            verdict.problems.append(f"event {seq} does not match its hash: {what}it was changed (or an event "
                                    "before it was added or taken out)")
            return None
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            verdict.problems.append(f"event {seq} is not a JSON object")
            return None
        out.append((seq, body))
    verdict.count = len(out)
    cp = bundle["checkpoint"]
    shape = body_problems(cp, Location("checkpoint"))
    if shape:
        verdict.problems.append(f"the checkpoint: {shape[0].message}")
        return None
    last = bundle["first"] + len(out) - 1
    if cp["count"] != last or cp["head"] != previous:
        verdict.problems.append(
            f"the events do not lead to the checkpoint: they end at event {last} with the hash {previous}; the "
            f"checkpoint says event {cp['count']} has the hash {cp['head']} (events, with their hashes, were changed, "
            "added or taken out)")
        return None
    return out


def _roster_at(rosters: list[tuple[int, dict]], seq: int) -> Roster | None:
    from tiergate.inputs.events import roster_from_body

    held = [body for at, body in rosters if at < seq]
    return roster_from_body(held[-1]) if held else None


def _untrusted(trusted: Roster | None, person: str, key_id: str, at) -> str | None:
    """Why a key the bundle's roster gave `person` is not one the checker trusts; None when it is (or nothing is
    pinned)."""
    if trusted is None:
        return None
    if any(k.id == key_id for k in trusted.keys_of(person, at)):
        return None
    return f"key {key_id} of {person} is not among the keys the roster you trust gives {person} then"


def _checkpoint(bundle: dict, rosters, trusted: Roster | None, verdict: Verdict):
    from tiergate.ledger.checkpoints import describe, signed_by

    cp = bundle["checkpoint"]
    roster = _roster_at(rosters, cp["count"] + 1)
    try:
        checked = signed_by(cp, roster, Location("checkpoint"))
    except TiergateError as exc:
        d = exc.diagnostics[0]
        verdict.problems.append(f"the checkpoint: {d.message} ({d.code})")
        return None
    pinned = _untrusted(trusted, checked.signer, checked.key_id, checked.at)
    if pinned is not None:
        verdict.problems.append(f"the checkpoint: {pinned}")
        return None
    verdict.checkpoint = describe(checked)
    return checked


def _approvals(bundle: dict, events, rosters, trusted: Roster | None, verdict: Verdict) -> None:
    from tiergate.ledger.signed import check_signed

    use_case, version = bundle["use_case"], bundle["version"]
    own = [(seq, body) for seq, body in events if body.get("use_case") == use_case and body.get("version") == version]
    if not any(body.get("type") == "registered" for _, body in own):
        verdict.problems.append(f"the bundle holds no registration of {use_case} {version}")
        return
    policies = _Policies(events)
    artifact, tier = None, None
    for seq, body in own:
        kind = body.get("type")
        if kind == "registered":
            artifact, tier = body.get("sha256") or None, body.get("tier")
        elif kind == "reclassified":
            tier = body.get("to_tier", tier)
        if "envelope" not in body:
            continue
        roster = _roster_at(rosters, seq)
        try:
            key_id = check_signed(body, roster, artifact, Location("ledger", seq))
        except TiergateError as exc:
            d = exc.diagnostics[0]
            verdict.problems.append(f"signed event {seq}: {d.message} ({d.code})")
            continue
        signer = roster.person(body["actor"]) or body["actor"]
        pinned = _untrusted(trusted, signer, key_id, parse_time(body["at"]))
        if pinned is not None:
            verdict.problems.append(f"signed event {seq}: {pinned}")
            continue
        verdict.approvals.append(Approval(seq, _what(body), signer, key_id,
                                          policies.counts_for(body, tier, seq, verdict)))


def _what(body: dict) -> str:
    kind = body["type"]
    if kind == "signoff":
        return f"{body.get('decision', 'approve')} sign-off as {body.get('role')} for {body.get('gate')}"
    if kind == "evidence":
        return f"evidence {body.get('kind')}"
    if kind == "review":
        return f"review as {body.get('role')}"
    if kind == "waiver":
        return f"waiver of {body.get('requirement')}"
    return kind


class _Policies:
    """The policy in force at each event of the run: its adoptions, by time, and the sources they carry."""

    def __init__(self, events: list[tuple[int, dict]]):
        from tiergate.ledger.policyversions import ADOPTED, sha256_of

        self.sources: dict[str, str] = {}
        self.adoptions: list[tuple] = []  # (at, seq, body)
        for seq, body in events:
            if body.get("type") != ADOPTED:
                continue
            for digest, text in (body.get("sources") or {}).items():
                if isinstance(text, str) and sha256_of(text) == digest:
                    self.sources[digest] = text
            self.adoptions.append((parse_time(body.get("at")), seq, body))
        self.adoptions.sort(key=lambda a: (a[0], a[1]))

    def counts_for(self, body: dict, tier: str | None, seq: int, verdict: Verdict) -> list[str]:
        """The requirements of the version's tier, under the policy in force when `body` was recorded, that this
        event is of the kind to meet: `ID (signed)` where only a signed one meets it."""
        from tiergate.ledger.policyversions import compiled

        at = parse_time(body.get("at"))
        starts = [a[0] for a in self.adoptions]
        i = bisect_right(starts, at) - 1
        if i < 0 or tier is None:
            return []
        identity = self.adoptions[i][2]
        try:
            policy = compiled(identity["policy"]["sha256"], identity["questionnaire"]["sha256"], self.sources,
                              str(identity.get("file", "")))
            requirements = policy.tier(tier).requirements
        except (TiergateError, KeyError, TypeError):
            verdict.problems.append(f"signed event {seq}: the policy in force then cannot be read from the bundle")
            return []
        label = f"{identity['policy']['name']} {identity['policy']['version']}"
        return [f"{r.id}{' (signed)' if r.signed else ''} of tier {tier} under {label}"
                for r in requirements if _meets_kind(r, body)]


def _meets_kind(requirement, body: dict) -> bool:
    kind = body["type"]
    if kind == "waiver":
        return requirement.id == body.get("requirement")
    if requirement.kind != kind:
        return False
    if kind == "signoff":
        return body.get("decision", "approve") == "approve" and requirement.stage == body.get("gate") \
            and body.get("role") in requirement.roles
    if kind == "evidence":
        return requirement.subject == body.get("kind")
    if kind == "review":
        return not requirement.roles or body.get("role") in requirement.roles
    return False
