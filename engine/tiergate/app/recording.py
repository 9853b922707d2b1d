"""Writing to the ledger: register a version, record an event, promote through a gate, import, store the roster.

Every write is validated against the policy and the ledger before anything is written, and is all or nothing.
"""
from __future__ import annotations

from datetime import datetime
from math import isfinite
from typing import Iterable

from tiergate.app.results import Imported, Promoted, Recorded
from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.fileio import INPUT_LIMIT, read_source
from tiergate.inputs.events import Roster, format_time
from tiergate.language.policy import Policy
from tiergate.ledger.service import Ledger

#: Lifecycle event types a person records one at a time (`register`, `promote` and the roster have their own).
RECORDABLE = ("evidence", "signoff", "waiver", "monitoring", "review", "retired")


def open_ledger(path: str | None = None, *, create: bool = True, readonly: bool = False) -> Ledger:
    """The ledger at `path`, else $TIERGATE_LEDGER, else .tiergate/ledger.db in the working directory."""
    from tiergate.ledger import ledger_path

    return Ledger(ledger_path(path), create=create, readonly=readonly)


def when(at: datetime | None) -> str:
    """The time an event is recorded at, as stored: `at` when given, else now."""
    from tiergate.ledger.actions import time_or_now

    return time_or_now(at)


def coerce(text: str):
    """A value written on a command line: true/false, an integer, a number, else the text itself. (`nan`, `inf` and
    `1e999` are numbers too, not finite ones: `assignments` refuses them.)"""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def assignments(items: Iterable[str]) -> dict:
    """NAME=VALUE items as a mapping (values coerced); raises ValueError(item) for an item without `=`, and
    TiergateError (E311) for a number that is not finite (`psi=nan`, `psi=inf`, `psi=1e999`)."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(item)
        key, _, value = item.partition("=")
        key, value = key.strip(), value.strip()
        out[key] = coerced = coerce(value)
        if isinstance(coerced, float) and not isfinite(coerced):
            from tiergate.inputs.yamlsource import NON_FINITE_HINT

            raise TiergateError(Diagnostic("E311", f"`{key}` is `{value}`, which is not a finite number",
                                           Location("<command line>"), hint=NON_FINITE_HINT))
    return out


def metrics_file(path: str) -> dict:
    """The metrics in a YAML or JSON file: a mapping of metric names to values (ValueError when it is not one)."""
    from tiergate.inputs.yamlsource import load_yaml

    doc = load_yaml(read_source(path, INPUT_LIMIT, what="metrics (a YAML or JSON mapping)", code="E300"), path)
    if not isinstance(doc.data, dict):
        raise ValueError("a metrics file holds a mapping of metric names to values")
    return dict(doc.data)


def body(event_type: str, use_case: str, version: str, *, actor: str, at: datetime | None, **fields) -> dict:
    """An event's body as the ledger stores it; fields given as None are left out."""
    out = {"at": when(at), "type": event_type, "use_case": use_case, "version": version, "actor": actor}
    out.update({k: v for k, v in fields.items() if v is not None})
    if isinstance(out.get("expires"), datetime):
        out["expires"] = format_time(out["expires"])
    return out


def record(ledger: Ledger, policy: Policy, roster: Roster | None, event_type: str, use_case: str, version: str, *,
           actor: str, at: datetime | None = None, sign: str | None = None, **fields) -> Recorded:
    """Validate and append one lifecycle event (evidence, signoff, waiver, monitoring, review, retired); `sign`: the
    path of the actor's private key, to record the event signed (`signed`)."""
    from tiergate.ledger.actions import record as append

    event, adopted = body(event_type, use_case, version, actor=actor, at=at, **fields), []
    if sign is not None:
        stored = ledger.roster()
        person = stored.person(actor) if stored is not None else None
        event["actor"] = person or actor  # (signed as the ledger will record it: as the roster spells the name)
        registration = ledger.registration(use_case, version) or {}
        event = signed(event, sign, registration.get("artifact"), registration.get("sha256"))
    row = append(ledger, policy, roster, event, Location(event_type), strict=True, adopted=adopted)
    return Recorded(row.seq, row.hash, event, _adoption(adopted))


def signed(event: dict, key_path: str, artifact: str | None = None, sha256: str | None = None) -> dict:
    """The event with its "envelope": the in-toto statement of the event (subject: the version's registered
    artifact and sha256 when it has them, else USE_CASE@VERSION) in a DSSE envelope signed with the private key at
    `key_path` (E690 when it cannot be used). The key is read here and goes nowhere else."""
    from tiergate.inputs.dsse import sign_statement, statement_for
    from tiergate.inputs.signingkeys import load_private_key

    key = load_private_key(key_path)
    envelope = sign_statement(statement_for(event, artifact, sha256 if sha256 else None), key)
    return {**event, "envelope": envelope.as_dict()}


def register(ledger: Ledger, policy: Policy, roster: Roster | None, use_case: str, version: str, answers_path: str,
             *, actor: str, at: datetime | None = None, artifact: str | None = None,
             sha256: str | None = None) -> Recorded:
    """Classify the use case from its answers file and record the version's registration with its tier."""
    from tiergate.inputs.answers import load_answers
    from tiergate.ledger.actions import register as append

    answers, adopted = load_answers(answers_path, policy), []
    row, event = append(ledger, policy, roster, use_case, version, answers, actor, when(at), artifact, sha256,
                        strict=True, adopted=adopted)
    return Recorded(row.seq, row.hash, event, _adoption(adopted))


def register_document(ledger: Ledger, policy: Policy, use_case: str, version: str, document, *, actor: str,
                      artifact: str | None = None, sha256: str | None = None) -> Recorded:
    """`register`, with the answers given as a document (a request's body) rather than a file: validated against
    the policy's questionnaire first."""
    from tiergate.errors import Diagnostic, Location, TiergateError
    from tiergate.inputs.answers import validate_answers
    from tiergate.ledger.actions import register as append

    if not isinstance(document, dict):
        raise TiergateError(Diagnostic("E301", "`answers` is an answers document: a mapping with use_case, title, "
                                               "owner and answers", Location("answers")))
    answers, adopted = validate_answers(document, policy.questionnaire, "answers"), []
    row, event = append(ledger, policy, None, use_case, version, answers, actor, when(None), artifact, sha256,
                        strict=True, adopted=adopted)
    return Recorded(row.seq, row.hash, event, _adoption(adopted))


def promote(ledger: Ledger, policy: Policy, roster: Roster | None, use_case: str, version: str, to: str, *,
            mode: str | None = None, actor: str, at: datetime | None = None) -> Promoted:
    """Judge the gate and write the transition in one locked step; raises `Blocked` (with the check) when unmet."""
    from tiergate.ledger.actions import promote as append

    adopted: list = []
    row, result = append(ledger, policy, roster, use_case, version, to, mode, actor, when(at), strict=True,
                         adopted=adopted)
    return Promoted(row.seq, row.hash, result, _adoption(adopted))


def import_events(ledger: Ledger, policy: Policy, roster: Roster | None, events_path: str,
                  answers_paths: Iterable[str] = (), *, allow_violations: bool = False) -> Imported:
    """Import an events file whole or not at all, each event validated as if recorded one by one (under `policy`, and
    after each `policy_adopted` event of the file under the policy it adopts)."""
    from tiergate.inputs.answers import load_answers
    from tiergate.inputs.events import read_events
    from tiergate.ledger.importing import import_file

    answers = {}
    for path in answers_paths:
        loaded = load_answers(path, policy)
        answers[loaded.use_case] = loaded
    admitted = [] if allow_violations else None
    done = import_file(ledger, policy, roster, read_events(events_path), events_path, answers, admitted)
    return Imported(done.count, done.head, tuple(admitted or ()))


def store_roster(ledger: Ledger, policy: Policy, path: str, *, actor: str, at: datetime | None = None) -> Recorded:
    """Store a roster file in the ledger, as a recorded event (every change of roles is on the record)."""
    from tiergate.inputs.events import parse_roster, read_roster
    from tiergate.inputs.yamlsource import load_yaml
    from tiergate.ledger.actions import record as append, roster_body

    data = read_roster(path)
    parse_roster(data, path)  # validated first
    event, adopted = roster_body(load_yaml(data, path).data, actor, when(at)), []
    row = append(ledger, policy, None, event, Location(path), strict=True, adopted=adopted)
    return Recorded(row.seq, row.hash, event, _adoption(adopted))


def store_roster_document(ledger: Ledger, policy: Policy, document, *, actor: str) -> Recorded:
    """`store_roster`, with the roster given as a document (a request's body): validated first, every problem
    located in it (`$.people.rita`)."""
    from tiergate.inputs.events import roster_from_document
    from tiergate.inputs.yamlsource import YamlDocument
    from tiergate.ledger.actions import record as append, roster_body

    roster_from_document(YamlDocument("roster", document, {"$": 0}))
    event, adopted = roster_body(document, actor, when(None)), []
    row = append(ledger, policy, None, event, Location("roster"), strict=True, adopted=adopted)
    return Recorded(row.seq, row.hash, event, _adoption(adopted))


def adopt(ledger: Ledger, policy: Policy, *, actor: str, at: datetime | None = None) -> Recorded | None:
    """`tiergate policy adopt`: record that `policy` is in force from now (with its source and its questionnaire's,
    when the ledger does not hold them yet); None when it is in force already."""
    event = ledger.adoption(policy, actor, when(at))
    if event is None:
        return None
    row = ledger.append_bodies([event], policy, None, Location("policy adopt"), strict=True)[0]
    return Recorded(row.seq, row.hash, event)


def _adoption(rows: list):
    """The adoption recorded before an event (its row and body), or None."""
    if not rows:
        return None
    from tiergate.ledger.integrity import read_row

    return Recorded(rows[0].seq, rows[0].hash, read_row(rows[0]))
