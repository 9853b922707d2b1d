"""Lifecycle events and the roster: loading (YAML list or JSON Lines), validation, time order."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from tiergate.errors import UNPRINTABLE, WARNING, Diagnostic, Location, TiergateError
from tiergate.inputs.yamlsource import NON_FINITE_HINT, all_finite, json_path, load_yaml, non_finite, show_number

EVENT_TYPES = ("registered", "evidence", "signoff", "transition", "waiver", "monitoring", "review", "retired")
_COMMON = ("at", "type", "use_case", "version", "actor")
_validators: dict[str, Any] = {}


def parse_time(text: Any, *, any_range: bool = False) -> datetime | None:
    """An RFC 3339 timestamp with an offset, as an aware datetime; None when it is not one, or when its UTC time
    falls outside the years 1 to 9999, where no time can be computed from it (with `any_range`, it is returned)."""
    if isinstance(text, datetime):
        value = text if text.tzinfo is not None else None
    elif not isinstance(text, str) or len(text) < 16:
        return None
    else:
        try:
            value = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            return None
        if value.tzinfo is None:
            return None
    if value is not None and not 1 < value.year < 9999 and not any_range and not in_utc_range(value):
        return None
    return value


def in_utc_range(value: datetime) -> bool:
    """Whether an aware time, moved to UTC, is still a time (9999-12-31T23:59:59-01:00 is not)."""
    try:
        value.astimezone(timezone.utc)
    except OverflowError:
        return False
    return True


#: the words for a time whose UTC value is outside the times there are
OUT_OF_RANGE = "lies outside the times tiergate can use: in UTC it falls before the year 1 or after 9999"


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _format_time(value)


@lru_cache(maxsize=8192)
def _format_time(value: datetime) -> str:
    """UTC, RFC 3339 with `Z`; cached, because reasons quote the same event times again and again."""
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Event:
    """One lifecycle event. `data` holds the type's own fields (kind, metrics, role, gate, to, ...)."""

    at: datetime
    type: str
    use_case: str
    version: str
    actor: str
    data: dict = field(default_factory=dict, compare=False)
    file: str = "<events>"
    line: int = 0
    seq: int = 0  # position in the input, to keep equal timestamps in written order

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def location(self) -> Location:
        return Location(self.file, self.line)

    def to_dict(self) -> dict:
        return {"at": format_time(self.at), "type": self.type, "use_case": self.use_case, "version": self.version,
                "actor": self.actor, **self.data}


def _event_maker():
    """Event(at, type, use_case, version, actor, data, file, line, seq) for bulk reads: the same event, made by
    setting its slots directly, at half the cost of the frozen dataclass's __init__ (reading a ledger's
    standing events makes hundreds of thousands)."""
    new = object.__new__
    s_at, s_type, s_use_case, s_version, s_actor, s_data, s_file, s_line, s_seq = (
        getattr(Event, name).__set__ for name in ("at", "type", "use_case", "version", "actor", "data", "file",
                                                  "line", "seq"))

    def make(at, type_, use_case, version, actor, data, file, line, seq) -> Event:
        e = new(Event)
        s_at(e, at), s_type(e, type_), s_use_case(e, use_case), s_version(e, version), s_actor(e, actor)
        s_data(e, data), s_file(e, file), s_line(e, line), s_seq(e, seq)
        return e
    return make


make_event = _event_maker()


@dataclass(frozen=True)
class EventLog:
    events: tuple[Event, ...]
    warnings: tuple[Diagnostic, ...] = ()
    #: the use case each warning is about, in the same order as `warnings`
    warning_use_cases: tuple[str, ...] = ()

    def warnings_for(self, use_case: str) -> list[Diagnostic]:
        return [w for w, case in zip(self.warnings, self.warning_use_cases) if case == use_case]


def _schema(name: str) -> dict:
    from tiergate.resources import schema_path

    return json.loads(schema_path(name).read_text(encoding="utf-8"))


def _validator(name: str):
    """The jsonschema validator of a shipped schema, built on first need (importing jsonschema is slow)."""
    validator = _validators.get(name)
    if validator is None:
        import jsonschema

        validator = jsonschema.Draft202012Validator(_schema(name))
        _validators[name] = validator
    return validator


def _fast(name: str):
    """A yes/no check compiled from a shipped schema (see schemacheck); None when unsupported."""
    key = "fast:" + name
    if key not in _validators:
        from tiergate.inputs.schemacheck import compile_schema

        _validators[key] = compile_schema(_schema(name))
    return _validators[key]


def _schema_problem(error, file: str, line: int, what: str) -> Diagnostic:
    path = json_path(error.absolute_path)
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        message = f"{what} {path} is {json.dumps(error.instance, default=str)}; allowed: {allowed}"
    elif error.validator == "required":
        message = f"{what} misses {error.message.split(chr(39))[1] if chr(39) in error.message else 'a field'}"
    elif error.validator == "not" and path in ("$.use_case", "$.version"):
        message = f"{what} {path} is {json.dumps(error.instance)}: an id holds no line break or control character"
    elif error.validator == "pattern" and path.endswith(("at", "expires")):
        message = f"{what} {path} is {json.dumps(error.instance)}, not an RFC 3339 time with an offset"
    else:
        message = f"{what} {path}: {error.message}"
    hint = "write times like 2026-03-01T09:30:00Z or 2026-03-01T09:30:00+01:00" if "RFC 3339" in message else None
    return Diagnostic("E400", message, Location(file, line), hint=hint)


#: the endings of the names of JSON Lines files (any other events file is read as YAML)
JSON_LINES = (".jsonl", ".ndjson")


def json_lines(text: str | bytes, first: int = 1) -> Iterator[tuple[int, str | bytes]]:
    """(number, line) of the lines of JSON Lines text (or its UTF-8 bytes) that are not blank, numbered from
    `first`. Lines end at \n only: a JSON string may hold the other line breaks Python knows (U+2028, U+0085...).
    (In bytes, only ASCII white space makes a line blank: a line of other white space is then no JSON.)"""
    for number, line in enumerate(text.split("\n" if isinstance(text, str) else b"\n"), first):
        if line and not line.isspace():
            yield number, line


def _records(data: bytes, file: str) -> list[tuple[Any, int]]:
    """(record, line) pairs from JSON Lines or a YAML list."""
    if file.endswith(JSON_LINES):
        from tiergate.jsoncodec import loads

        out = []
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TiergateError(Diagnostic("E400", f"the file is not UTF-8 text (bad byte at offset {exc.start})",
                                           Location(file))) from None
        problems = []
        for number, line in json_lines(text):
            try:
                out.append((loads(line), number))
            except json.JSONDecodeError as exc:
                problems.append(Diagnostic("E400", f"this line is not a JSON object: {exc.msg}",
                                           Location(file, number, exc.colno), hint="one JSON object per line"))
            except RecursionError:
                problems.append(Diagnostic("E400", "this line nests too deeply to be read", Location(file, number),
                                           hint="one JSON object per line"))
        if problems:
            raise TiergateError(problems)
        return out
    document = load_yaml(data, file, code="E400")
    if document.data is None:
        return []
    if isinstance(document.data, dict) and isinstance(document.data.get("events"), list):
        items, prefix = document.data["events"], "$.events"
    elif isinstance(document.data, list):
        items, prefix = document.data, "$"
    else:
        raise TiergateError(Diagnostic("E400", "an events file is a YAML list of events (or JSON Lines)",
                                       Location(file, 1), hint="start each event with `- at: ...`"))
    return [(item, document.line_of(f"{prefix}[{i}]")) for i, item in enumerate(items)]


def parse_events(data: bytes | str, file: str = "<events>") -> EventLog:
    """Parse and validate events; sort them by time (warning when they were not in order)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")  # a lone surrogate is then reported as a bad byte
    return events_from_records(_records(data, file), file)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_USE_CASE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")
_SHA = re.compile(r"[0-9a-f]{64}\Z")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:[0-9]{2})\Z")
#: the form of nearly every time written by a program: _TIME's commonest case, matched at half its cost
_UTC_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_REQUIRED = {"registered": (), "evidence": ("kind", "metrics"), "signoff": ("role", "gate", "decision"),
             "transition": ("to",), "waiver": ("requirement", "justification", "expires"),
             "monitoring": ("kind", "metrics"), "review": ("role", "decision"), "retired": ()}
_STRINGS = ("artifact", "parent", "uri", "role", "gate", "comment", "to", "mode", "requirement", "justification")


#: the types a metric may have (bool is not an int here: type() is compared, not isinstance)
_METRIC_TYPES = frozenset((int, float, bool, str))
_INF = float("inf")


def _metrics_ok(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for v in value.values():
        if type(v) not in _METRIC_TYPES:
            return False
    return True


_STRING_FIELDS = frozenset(_STRINGS)
#: use case ids and kinds seen to match their patterns (an events file repeats them thousands of times)
_GOOD_USE_CASES: set[str] = set()
_GOOD_NAMES: set[str] = set()
#: versions seen to hold no character an id may not hold (errors.UNPRINTABLE)
_GOOD_VERSIONS: set[str] = set()


def _matches(pattern: re.Pattern, good: set[str], text: str) -> bool:
    """pattern.match(text), remembered in `good` (callers look there first)."""
    if not pattern.match(text):
        return False
    if len(good) > 100_000:
        good.clear()
    good.add(text)
    return True


def _times_as_text(record: dict) -> dict:
    """YAML reads an unquoted time as a datetime (or a date): give it back as text, which the schema then judges."""
    if not isinstance(record.get("at"), date) and not isinstance(record.get("expires"), date):
        return record
    out = dict(record)
    for key in ("at", "expires"):
        if isinstance(out.get(key), date):
            out[key] = out[key].isoformat()
    return out


def fast_valid(record: dict) -> bool:
    """True when the record certainly satisfies events.schema.json (checked without jsonschema, for speed).

    False means "ask jsonschema": it then finds and words the problem, or finds none (a subclass of str, say,
    is judged there). Tests hold the two in agreement.
    """
    get = record.get
    kind, at, use_case, version, actor = get("type"), get("at"), get("use_case"), get("version"), get("actor")
    if type(kind) is not str or type(at) is not str or type(use_case) is not str or type(version) is not str or \
            type(actor) is not str or not version or not actor:
        return False
    required = _REQUIRED.get(kind)
    if required is None or (not _UTC_TIME.fullmatch(at) and not _TIME.match(at)) or \
            (use_case not in _GOOD_USE_CASES and not _matches(_USE_CASE, _GOOD_USE_CASES, use_case)):
        return False
    if version not in _GOOD_VERSIONS:
        if UNPRINTABLE.search(version) is not None:
            return False
        if len(_GOOD_VERSIONS) > 100_000:
            _GOOD_VERSIONS.clear()
        _GOOD_VERSIONS.add(version)
    for key in required:
        if key not in record:
            return False
    if not _STRING_FIELDS.isdisjoint(record):
        for key in _STRING_FIELDS.intersection(record):
            if type(record[key]) is not str:
                return False
    if "answers" in record and type(record["answers"]) is not dict:
        return False
    if "sha256" in record and kind in ("registered", "evidence") and not (
            type(record["sha256"]) is str and _SHA.match(record["sha256"])):
        return False
    if kind in ("evidence", "monitoring"):
        name = record["kind"]
        if type(name) is not str or (name not in _GOOD_NAMES and not _matches(_NAME, _GOOD_NAMES, name)) or \
                not _metrics_ok(record["metrics"]):
            return False
        if "attributes" in record:
            attributes = record["attributes"]
            if type(attributes) is not dict or not all(_metrics_ok(m) for m in attributes.values()):
                return False
    elif kind in ("signoff", "review"):
        if record["decision"] not in ("approve", "reject"):
            return False
    elif kind == "waiver" and (type(record["expires"]) is not str or not _TIME.match(record["expires"])
                               or not record["justification"]):
        return False
    for value in record.values():  # a number that is not finite, anywhere: events_from_records says where
        kind = type(value)
        if kind is str:
            continue
        if kind is dict:
            for item in value.values():
                kind = type(item)
                if kind is float:
                    if not -_INF < item < _INF:
                        return False
                elif (kind is dict or kind is list) and not all_finite(item):
                    return False
        elif not all_finite(value):
            return False
    return True


def events_from_records(records: list[tuple[Any, int]], file: str) -> EventLog:
    """Validate (record, line) pairs as events; sort them by time (warning when they were not in order)."""
    problems: list[Diagnostic] = []
    events: list[Event] = []
    for seq, (record, line) in enumerate(records):
        if not isinstance(record, dict):
            problems.append(Diagnostic("E400", "an event must be a mapping of fields", Location(file, line)))
            continue
        record = _times_as_text(record)
        if fast_valid(record):
            errors = []
        else:
            bad = non_finite(record)
            if bad is not None:
                path, value = bad
                problems.append(Diagnostic("E311", f"event {record.get('type', '?')} {path} is {show_number(value)}, "
                                           "which is not a finite number", Location(file, line), hint=NON_FINITE_HINT))
                continue
            errors = sorted(_validator("events.schema.json").iter_errors(record),
                            key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            problems.extend(_schema_problem(e, file, line, f"event {record.get('type', '?')}") for e in errors[:3])
            continue
        at = parse_time(record["at"])
        if at is None:
            wrong = "has no UTC offset or is not a valid time"
            if parse_time(record["at"], any_range=True) is not None:
                wrong = OUT_OF_RANGE
            problems.append(Diagnostic("E401", f"time {record['at']!r} {wrong}",
                                       Location(file, line), hint="write times like 2026-03-01T09:30:00Z"))
            continue
        if record["type"] == "waiver" and parse_time(record.get("expires")) is None:
            problems.append(Diagnostic("E401", f"waiver expiry {record.get('expires')!r} is not a time with an offset",
                                       Location(file, line)))
            continue
        extra = {k: v for k, v in record.items() if k not in _COMMON}
        events.append(Event(at, record["type"], record["use_case"], str(record["version"]), record["actor"],
                            extra, file, line, seq))
    if problems:
        raise TiergateError(problems)
    return order_events(events)


def _identity(data: dict) -> str:
    """Event data as comparable text; YAML allows keys that are not text, which json.dumps cannot sort."""
    try:
        return json.dumps(data, sort_keys=True, default=str)
    except TypeError:
        return json.dumps(_text_keys(data), sort_keys=True, default=str)


def _text_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {json.dumps(k, default=str) if not isinstance(k, str) else k: _text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_keys(v) for v in value]
    return value


def order_events(events: list[Event]) -> EventLog:
    warnings: list[tuple[str, Diagnostic]] = []
    for previous, current in zip(events, events[1:]):
        if current.at < previous.at:
            warnings.append((current.use_case, Diagnostic(
                "W402", "events are not in time order; they were sorted by time", current.location, WARNING,
                hint=f"this event is earlier than the one at line {previous.line}")))
            break
    ordered = sorted(events, key=lambda e: (e.at, e.seq))
    seen: dict[tuple, Event] = {}
    unique = []
    for event in ordered:
        key = (event.at, event.type, event.use_case, event.version, event.actor, _identity(event.data))
        if key in seen:
            warnings.append((event.use_case, Diagnostic(
                "W403", f"duplicate of the event at line {seen[key].line}; it is counted once", event.location,
                WARNING)))
            continue
        seen[key] = event
        unique.append(event)
    return EventLog(tuple(unique), tuple(w for _, w in warnings), tuple(c for c, _ in warnings))


def read_events(path: str | Path) -> bytes:
    """The bytes of an events file, checked before they are read: a regular file, of at most 2 MB in YAML or
    1 GB in JSON Lines (a ledger's whole history, exported)."""
    from tiergate.fileio import EVENT_LINES_LIMIT, INPUT_LIMIT, read_source

    limit = EVENT_LINES_LIMIT if str(path).endswith(JSON_LINES) else INPUT_LIMIT
    return read_source(path, limit, what="events (a YAML list or JSON Lines)", code="E400")


def load_events(path: str | Path) -> EventLog:
    path = Path(path)
    return parse_events(read_events(path), str(path))


# --- roster ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Holding:
    role: str
    since: datetime | None = None
    until: datetime | None = None

    def active(self, at: datetime) -> bool:
        return (self.since is None or self.since <= at) and (self.until is None or at < self.until)


@dataclass(frozen=True)
class Roster:
    people: dict[str, tuple[Holding, ...]]
    file: str = "<roster>"
    #: person (as `people` spells them) -> the public keys they sign with (PublicKey of inputs/dsse.py); most
    #: rosters give none
    keys: dict[str, tuple] = field(default_factory=dict)

    def holds(self, person: str, role: str, at: datetime) -> bool:
        if person not in self.people:
            person = self.identities.get(identity(person), person)
        if role in self.roles_always_held.get(person, ()):
            return True
        return any(h.role == role and h.active(at) for h in self.people.get(person, ())
                   if h.since is not None or h.until is not None)

    @cached_property
    def roles_always_held(self) -> dict[str, frozenset[str]]:
        """Person -> the roles held with no period: the common case, answered by a set lookup."""
        return {p: frozenset(h.role for h in hs if h.since is None and h.until is None) for p, hs in self.people.items()}

    @cached_property
    def people_with_periods(self) -> frozenset[str]:
        """The people who hold some role only for a period: for them, `holds` looks at the time."""
        return frozenset(p for p, hs in self.people.items() if any(h.since is not None or h.until is not None for h in hs))

    @cached_property
    def identities(self) -> dict[str, str]:
        """identity(name) -> the name as the roster writes it: people are told apart by their trimmed, case-folded
        names (`Raj`, ` raj ` and `RAJ` are one person)."""
        return {identity(p): p for p in self.people}

    def person(self, name: str) -> str | None:
        """The roster's spelling of `name`, or None when nobody in the roster has that identity."""
        return name if name in self.people else self.identities.get(identity(name))

    def roles_of(self, person: str, at: datetime) -> list[str]:
        return [h.role for h in self.people.get(self.person(person) or person, ()) if h.active(at)]

    def knows(self, person: str) -> bool:
        return self.person(person) is not None

    def keys_of(self, person: str, at: datetime) -> list:
        """The public keys (inputs/dsse.py PublicKey) the roster gives `person` that are valid at `at`."""
        return [k for k in self.keys.get(self.person(person) or person, ()) if k.active(at)]


def identity(name: str) -> str:
    """What a person's name is compared by: trimmed and case-folded."""
    return name.strip().casefold()


def parse_roster(data: bytes | str, file: str = "<roster>") -> Roster:
    return roster_from_document(load_yaml(data, file, code="E410"))


def roster_times_as_text(data: Any) -> Any:
    """YAML reads an unquoted `since` or `until` as a datetime (or a date): give it back as text, as for events."""
    people = data.get("people") if isinstance(data, dict) else None
    if not isinstance(people, dict):
        return data
    keys = data.get("keys")

    def as_text(item: Any) -> Any:
        if not isinstance(item, dict) or not any(isinstance(item.get(k), date) for k in ("since", "until")):
            return item
        return {k: v.isoformat() if k in ("since", "until") and isinstance(v, date) else v for k, v in item.items()}

    data = {**data, "people": {person: [as_text(i) for i in items] if isinstance(items, list) else items
                               for person, items in people.items()}}
    if isinstance(keys, dict):
        data["keys"] = {person: [as_text(i) for i in items] if isinstance(items, list) else items
                        for person, items in keys.items()}
    return data


def roster_from_document(document) -> Roster:
    """A roster from parsed YAML (a YamlDocument), every problem located in it."""
    data = roster_times_as_text(document.data)
    where = document.location
    file = document.file
    fast = _fast("roster.schema.json")
    errors = [] if fast is not None and fast(data) else sorted(_validator("roster.schema.json").iter_errors(data),
                                                                key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise TiergateError([Diagnostic("E410", f"roster {json_path(e.absolute_path)}: {e.message}",
                                        where(json_path(e.absolute_path))) for e in errors[:10]])
    people: dict[str, tuple[Holding, ...]] = {}
    problems = []
    named: dict[str, str] = {}
    for person, items in data["people"].items():
        twin = named.setdefault(identity(str(person)), str(person))
        if twin != str(person):
            problems.append(Diagnostic("E410", f"roster: `{person}` and `{twin}` are one person (names are compared "
                                               "trimmed and case-folded)", where(f"$.people.{person}")))
        holdings = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                holdings.append(Holding(item))
                continue
            since, until = parse_time(item.get("since")), parse_time(item.get("until"))
            for key, value in (("since", since), ("until", until)):
                if key in item and value is None:
                    problems.append(Diagnostic("E410", f"roster: {person}'s `{key}` is not a time with an offset",
                                               where(f"$.people.{person}[{i}].{key}")))
            holdings.append(Holding(item["role"], since, until))
        people[str(person)] = tuple(holdings)
    keys = roster_keys(data.get("keys") or {}, people, where, problems)
    if problems:
        raise TiergateError(problems)
    return Roster(people, file, keys)


def roster_keys(data: dict, people: dict, where, problems: list[Diagnostic]) -> dict[str, tuple]:
    """The roster's `keys:` (person -> [{id, ed25519, since?, until?}], shaped as the schema says) as PublicKeys
    under the person's name as `people` writes it; every problem appended to `problems`, located by `where`."""
    import base64
    import binascii

    from tiergate.inputs.dsse import PublicKey, key_id

    spelled = {identity(p): p for p in people}
    owner_of: dict[str, str] = {}
    keys: dict[str, tuple] = {}
    for person, items in data.items():
        name = spelled.get(identity(str(person)))
        if name is None:
            problems.append(Diagnostic("E410", f"roster: `{person}` has keys but is not in `people`",
                                       where(f"$.keys.{person}"), hint="list the person under `people` too"))
            continue
        found = []
        for i, item in enumerate(items):
            at = f"$.keys.{person}[{i}]"
            text = item["ed25519"]
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raw = None
            if raw is None or len(raw) != 32 or base64.b64encode(raw).decode("ascii") != text:
                problems.append(Diagnostic("E410", f"roster: {person}'s key {i + 1} is not an Ed25519 public key: "
                                           "`ed25519` must be the standard base64 of 32 bytes", where(f"{at}.ed25519"),
                                           hint="paste the line `tiergate key generate` printed"))
                continue
            if item["id"] != key_id(raw):
                problems.append(Diagnostic("E410", f"roster: {person}'s key {i + 1} has the id `{item['id']}`; its "
                                           f"public key's id is `{key_id(raw)}`", where(f"{at}.id"),
                                           hint="a key's id is the first 16 hex digits of the SHA-256 of its 32 "
                                                "bytes: paste the line `tiergate key generate` printed"))
                continue
            times = {k: parse_time(item.get(k)) for k in ("since", "until")}
            bad = [k for k in ("since", "until") if k in item and times[k] is None]
            for k in bad:
                problems.append(Diagnostic("E410", f"roster: {person}'s key `{k}` is not a time with an offset",
                                           where(f"{at}.{k}")))
            if bad:
                continue
            other = owner_of.setdefault(item["id"], name)
            if other != name:
                problems.append(Diagnostic("E410", f"roster: the key `{item['id']}` is given to `{other}` and to "
                                           f"`{person}`: a key is one person's", where(f"{at}.id")))
                continue
            found.append(PublicKey(item["id"], raw, times["since"], times["until"]))
        keys[name] = keys.get(name, ()) + tuple(found)
    return keys


def keys_from_body(data: dict | None, people: dict) -> dict[str, tuple]:
    """The `keys` of a roster stored in a ledger (checked when it was recorded), as Roster.keys; ValueError when
    they are not keys (the ledger was changed outside tiergate)."""
    if not data:
        return {}
    problems: list[Diagnostic] = []
    keys = roster_keys(roster_times_as_text({"people": {}, "keys": data})["keys"], people,
                       lambda path: Location("ledger roster"), problems)
    if problems:
        raise ValueError(problems[0].message)
    return keys


def read_roster(path: str | Path) -> bytes:
    """The bytes of a roster file (YAML), checked before they are read: a regular file of at most 2 MB."""
    from tiergate.fileio import INPUT_LIMIT, read_source

    return read_source(path, INPUT_LIMIT, what="a roster", code="E410")


def load_roster(path: str | Path) -> Roster:
    path = Path(path)
    return parse_roster(read_roster(path), str(path))


def roster_from_body(body: dict) -> Roster:
    """The roster a stored roster event's body gives (its people, their roles' periods, their keys)."""
    people = {}
    for person, items in body.get("people", {}).items():
        holdings = []
        for item in items:
            if isinstance(item, str):
                holdings.append(Holding(item))
            else:
                holdings.append(Holding(item["role"], parse_time(item.get("since")), parse_time(item.get("until"))))
        people[person] = tuple(holdings)
    return Roster(people, "ledger roster", keys_from_body(body.get("keys"), people))
