"""Importing an events file: the whole file, or nothing.

Every event is first *prepared*: checked against the events schema and its times, classified (a
registration without a tier, from its answers) and written as canonical JSON. Then, in one transaction,
each is validated against the policy, the roster and what the ledger holds (as if recorded one by one),
chained and stored, in the file's order.

A large JSON Lines file is prepared on every core: forked workers prepare runs of its lines while this
process validates and stores the runs before them. A run a worker cannot prepare (a line that is not JSON,
an event the schema refuses, answers that do not classify) sends the whole file down the one-process path,
which words every problem as it always has: the workers only ever speed up a file that imports.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Iterable, Iterator, NamedTuple

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.inputs.events import JSON_LINES, Roster
from tiergate.language.gcpause import paused_gc
from tiergate.language.policy import Policy
from tiergate.inputs.answers import Answers
from tiergate.ledger.actions import _classified, answers_of
from tiergate.ledger.chain import canonical
from tiergate.ledger.policyversions import ADOPTED, body_problems
from tiergate.ledger.checkpoints import CHECKPOINT
from tiergate.ledger.tokens import ISSUED, REVOKED
from tiergate.ledger.tokens import body_problems as token_problems
from tiergate.ledger.decisions import DECISION
from tiergate.ledger.decisions import body_problems as decision_problems
from tiergate.ledger.service import (
    LEDGER_ONLY,
    NOBODY,
    ROSTER,
    Ledger,
    Validator,
    stored_row,
    validate_records,
)

#: lines of a JSON Lines file from which it is prepared on every core (below, starting workers costs more)
PARALLEL_FROM = 20_000
#: lines a worker prepares at a time
RUN_LINES = 4_000
#: refusals after which an import stops looking for more
MAX_PROBLEMS = 50


class Imported(NamedTuple):
    count: int  # events imported
    head: str  # the ledger's head after the import


_COMMON_TEXT = ("at", "type", "use_case", "version", "actor")


def _ledger_record_problems(record: dict, file: str, line: int) -> list[Diagnostic]:
    """Schema checks of the records only a ledger holds (service.LEDGER_ONLY)."""
    from tiergate.inputs.events import _TIME, parse_time, roster_from_document
    from tiergate.inputs.yamlsource import YamlDocument

    where = Location(file, line)
    kind = record["type"]
    for key in _COMMON_TEXT:
        if not isinstance(record.get(key), str) or not record[key]:
            return [Diagnostic("E400", f"event {kind} misses `{key}` (or it is not text)", where)]
    if not _TIME.match(record["at"]) or parse_time(record["at"]) is None:
        return [Diagnostic("E400", f"event {kind} $.at is {json.dumps(record['at'])}, not an RFC 3339 time with an "
                           "offset", where, hint="write times like 2026-03-01T09:30:00Z or 2026-03-01T09:30:00+01:00")]
    if kind == ADOPTED:
        return body_problems(record, where)
    if kind in (ISSUED, REVOKED):
        return token_problems(record, where)
    if kind == DECISION:
        return decision_problems(record, where)
    if kind == CHECKPOINT:
        from tiergate.ledger.checkpoints import body_problems as checkpoint_problems

        return checkpoint_problems(record, where)
    if kind == ROSTER:
        if (record["use_case"], record["version"]) != (NOBODY, NOBODY):
            return [Diagnostic("E400", f"a roster event belongs to no use case: its use_case and version are "
                               f"`{NOBODY}`", where)]
        try:
            roster_from_document(YamlDocument(file, {"people": record.get("people"),
                                                     **({"keys": record["keys"]} if "keys" in record else {})},
                                              {"$": line}))
        except TiergateError as exc:
            return list(exc.diagnostics)
        return []
    for key in ("from_tier", "to_tier"):
        if not isinstance(record.get(key), str):
            return [Diagnostic("E400", f"event {kind} misses `{key}` (or it is not text)", where)]
    return []


def check_records(records: list[tuple[Any, int]], file: str, yaml: bool = True) -> list[tuple[dict, int, float]]:
    """Schema and time checks of every record of an events file, with the file's line numbers (`yaml`: the
    records may hold times YAML read as datetimes; JSON holds none).

    Most records are judged by a fast check; when one fails it, the full validation (jsonschema) runs
    over the lifecycle records to word every problem the way `check --events` does. Returns (record,
    line, instant) with any time YAML read as a datetime given back as text, as `check --events` reads
    it, and the instant of its `at` (see engine/ledger/standing.py).
    """
    from tiergate.inputs.events import _times_as_text, fast_valid, parse_time

    problems, slow, out = [], False, []
    for record, line in records:
        if not isinstance(record, dict):
            slow = True
            continue
        kind = record.get("type")
        if kind in LEDGER_ONLY:
            problems.extend(_ledger_record_problems(record, file, line))
            at = parse_time(record.get("at"))
            out.append((record, line, at.timestamp() if at is not None else 0.0))
            continue
        if yaml:
            record = _times_as_text(record)
        at = parse_time(record.get("at"))
        out.append((record, line, at.timestamp() if at is not None else 0.0))
        if not fast_valid(record) or at is None or \
                (kind == "waiver" and parse_time(record["expires"]) is None):
            slow = True
    if slow:
        try:
            validate_records(records, file)
        except TiergateError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise TiergateError(sorted(problems, key=lambda d: d.location.line or 0))
    return out


class _Classifier:
    """Validates the answers of `registered` events and classifies them, once per distinct set of answers
    (thousands of use cases often share theirs)."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.tiers: dict[str, dict] = {}

    def problems(self, doc: dict, file: str, line: int) -> list[Diagnostic]:
        from tiergate.inputs.answers import validate_document
        from tiergate.inputs.yamlsource import YamlDocument

        return validate_document(YamlDocument(file, doc, {"$": line}), self.policy.questionnaire)

    def classified(self, answers: Answers) -> dict:
        key = canonical_or_none(answers.answers)
        if key is None:
            return _classified(self.policy, answers)
        found = self.tiers.get(key)
        if found is None:
            found = self.tiers[key] = _classified(self.policy, answers)
        return found


def canonical_or_none(value) -> str | None:
    try:
        return canonical(value)
    except (TypeError, ValueError):  # e.g. a date YAML read from an answer
        return None


def import_records(ledger: Ledger, policy: Policy, roster: Roster | None, records: list[tuple[Any, int]], file: str,
                   answers: dict[str, Answers], admitted: list[Diagnostic] | None = None) -> Imported:
    """Import (record, line) pairs read from `file`, or nothing: each event is validated as if recorded one by one.

    With a list as `admitted`, events that break the policy but are well formed are imported too (a history
    kept as it happened), with a warning for each appended to the list; without, they are refused.
    """
    with paused_gc():  # (where the process allows it: see service.py)
        prepared = prepare(records, file, answers, _Classifier(policy), yaml=not file.endswith(JSON_LINES))
        runs = [prepared[i:i + RUN_LINES] for i in range(0, len(prepared), RUN_LINES)]
        return _store(ledger, policy, roster, runs, file, admitted)


def import_file(ledger: Ledger, policy: Policy, roster: Roster | None, data: bytes, file: str,
                answers: dict[str, Answers], admitted: list[Diagnostic] | None = None) -> Imported:
    """Import the events file `file` whose content is `data` (JSON Lines or YAML), as `import_records` does."""
    from tiergate.inputs.events import _records
    from tiergate.ledger import parallel

    with paused_gc():  # (where the process allows it: see service.py)
        if file.endswith(JSON_LINES) and data.count(b"\n") >= PARALLEL_FROM:
            workers = parallel.cores()
            if workers > 1:
                runs = _prepared_on_every_core(data, file, policy, answers, workers)
                try:
                    return _store(ledger, policy, roster, runs, file, admitted)
                except _Unprepared:
                    pass  # the store rolled back: nothing was written
                finally:
                    runs.close()  # (stops the workers)
        return import_records(ledger, policy, roster, _records(data, file), file, answers, admitted)


def prepare(records: list[tuple[Any, int]], file: str, answers: dict[str, Answers],
            classifier: _Classifier, yaml: bool = True) -> list[tuple[tuple, int, dict]]:
    """(row, line, body) of each record, the row as the store appends it; every problem raised at once
    (`yaml`: see check_records)."""
    out, problems, not_json = [], [], None
    for body, line, instant in check_records(records, file, yaml):  # schema and times, with the file's line numbers
        if body.get("type") == "registered" and "tier" not in body:
            body = dict(body)
            doc = answers.get(body["use_case"])
            if doc is None and isinstance(body.get("answers"), dict):
                found = classifier.problems(body["answers"], file, line)
                if found:
                    problems.extend(found)
                    continue
                doc = answers_of(body)
                if doc.use_case != body["use_case"]:
                    problems.append(Diagnostic("E610", f"the embedded answers describe `{doc.use_case}`, not "
                                               f"`{body['use_case']}`", Location(file, line)))
                    continue
            if doc is None:
                problems.append(Diagnostic("E610", f"no answers for {body['use_case']}: give --answers FILE for it, "
                                           "or embed them in the event under `answers`", Location(file, line)))
                continue
            body.update(classifier.classified(doc))
            body["answers"] = doc.to_dict()
        try:
            out.append((stored_row(body, canonical(body), instant), line, body))
        except (TypeError, ValueError) as exc:
            not_json = not_json or exc
    if problems:
        raise TiergateError(problems)
    if not_json is not None:
        raise TiergateError(Diagnostic("E400", f"an event holds a value that is not JSON ({not_json})",
                                       Location(file), hint="quote dates and times in YAML"))
    return out


def _store(ledger: Ledger, policy: Policy, roster: Roster | None, runs: Iterable[list[tuple[tuple, int, dict | None]]],
           file: str, admitted: list[Diagnostic] | None) -> Imported:
    """Validate, chain and store prepared runs in one transaction; refused events are all reported, and nothing is
    written. The events of the file are validated under `policy`, then under each policy the file adopts (its
    `policy_adopted` events) from that event on. (An import adopts nothing itself: a ledger exported and imported
    again ends at the same head.)"""

    def validated() -> Iterator[list[tuple]]:
        # (runs inside the store's transaction, so what the validator reads of the ledger stays true)
        validator = ledger.validator(policy, roster, preload=True, allow_violations=admitted is not None)
        check, learn, let_in = validator.check, validator.learn, validator.admitted
        take_row, row_only = validator.take_row, Validator.ROW_ONLY
        found, nowhere, lines = [], Location(file), {}
        for run in runs:
            if len(found) >= MAX_PROBLEMS:
                continue  # every run is still prepared: a file with malformed events is refused for those
            for row, line, body in run:
                kind = row[1]
                try:
                    if kind in row_only:  # judged by its columns alone (most events of a long history)
                        if '"envelope":' in row[5]:  # (a signed one: its signature is checked too)
                            signed = body if body is not None else json.loads(row[5])
                            if "envelope" in signed:
                                validator.check_signed(signed, nowhere)
                        take_row(kind, row[2], row[3], row[5], nowhere)
                    else:
                        if kind == CHECKPOINT:
                            lines[id(body)] = line
                        learn(body, check(body, nowhere, row[5]))
                except TiergateError as exc:  # located only when refused: a Location per event costs 3%
                    found.extend(replace(d, location=Location(file, line)) if d.location is nowhere else d
                                 for d in exc.diagnostics)
                    if len(found) >= MAX_PROBLEMS:
                        break
                if let_in and let_in[-1].location is nowhere:  # warnings about this event, not located yet
                    i = len(let_in) - 1
                    while i >= 0 and let_in[i].location is nowhere:
                        let_in[i] = replace(let_in[i], location=Location(file, line))
                        i -= 1
            if not found:
                yield [row for row, _, _ in run]
                validator.stored()  # (the store writes each run before it asks for the next)
        for body in validator.deferred:  # (every run is written: the heads they name are chained now)
            try:
                validator.check_checkpoint(body, Location(file, lines.get(id(body), 0)))
            except TiergateError as exc:
                found.extend(exc.diagnostics)
        if found:
            raise TiergateError(found)
        if admitted is not None:
            admitted[:] = let_in

    return Imported(*ledger.append_runs(validated()))


class _Unprepared(Exception):
    """A worker could not prepare its run: the file takes the one-process path, which words why."""


def _prepared_on_every_core(data: bytes, file: str, policy: Policy, answers: dict[str, Answers],
                            workers: int) -> Iterator[list[tuple]]:
    import marshal
    from concurrent.futures.process import BrokenProcessPool

    from tiergate.ledger import parallel

    try:
        for packed in parallel.streamed(_prepare_run, _runs(data), (data, file, policy, answers), workers):
            if packed is None:
                raise _Unprepared
            yield marshal.loads(packed)
    except BrokenProcessPool:  # a worker was killed (out of memory, a signal): one process does it all
        raise _Unprepared from None


def _runs(data: bytes) -> list[tuple[int, int, int]]:
    """(start, end, number of the first line) of runs of about RUN_LINES whole lines of `data`."""
    sample = data[:1 << 20]
    step = max(1, len(sample) * RUN_LINES // max(1, sample.count(b"\n")))  # bytes, at the lines' usual length
    runs, start, line = [], 0, 1
    while start < len(data):
        end = data.find(b"\n", min(start + step, len(data)) - 1)
        end = len(data) if end < 0 else end + 1
        runs.append((start, end, line))
        line += data.count(b"\n", start, end)
        start = end
    return runs


#: what each worker keeps from run to run: answers already classified
_classifier: _Classifier | None = None


def _prepare_run(run: tuple[int, int, int], data: bytes, file: str, policy: Policy,
                 answers: dict[str, Answers]) -> bytes | None:
    """The prepared events of one run of lines (in a worker), packed; None when any of them cannot be prepared.
    The bodies of events the validator judges by their columns alone stay here."""
    import codecs
    import marshal

    from tiergate.inputs.events import json_lines
    from tiergate.jsoncodec import long_numbers, loads_utf8

    global _classifier
    if _classifier is None or _classifier.policy is not policy:
        _classifier = _Classifier(policy)
    start, end, first = run
    try:
        lines = data[start:end]
        if start == 0 and lines.startswith(codecs.BOM_UTF8):
            lines = lines[len(codecs.BOM_UTF8):]
        checked = not long_numbers(lines)
        records = [(loads_utf8(line, checked), number) for number, line in json_lines(lines, first)]
        prepared = prepare(records, file, answers, _classifier, yaml=False)
    except (ValueError, RecursionError, TiergateError):  # (JSONDecodeError and UnicodeDecodeError are ValueErrors)
        return None
    row_only = Validator.ROW_ONLY
    # (marshal's version 2 keeps no table of the objects written twice: a third of the cost of the newest)
    return marshal.dumps([(row, line, None if row[1] in row_only else body) for row, line, body in prepared], 2)
