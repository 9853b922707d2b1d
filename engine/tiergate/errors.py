"""Source locations, diagnostics, the registry of diagnostic codes, and the one error type the engine raises."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

ERROR = "error"
WARNING = "warning"

#: Exit statuses of the command line beyond 0: a policy finding (a lint error, a blocked gate, a
#: violation, a failing test), and input that cannot be used (or a command used wrongly).
EXIT_FINDING, EXIT_INPUT = 1, 2

#: Diagnostics shown per file before the rest are summarised.
MAX_SHOWN = 50


@dataclass(frozen=True)
class Code:
    """A diagnostic code: its severity, its exit class, and a few words that name the problem.

    The exit class is the status a command ends with when the code fails it: EXIT_FINDING for a policy
    finding, EXIT_INPUT for input that cannot be used. Policy codes (E0xx to E2xx) are findings as
    `tiergate lint` reports them, except the three that say a file is no policy text at all: unreadable
    (E001), not text (E105), too large (E106); a command that only loads the policy stops with EXIT_INPUT on
    any of them. A warning fails a command only where warnings are made to (`lint --strict`): its input can be
    used, so its class is EXIT_FINDING.
    """

    code: str
    severity: str
    exit_class: int
    title: str


def _registry(*codes: Code) -> dict[str, Code]:
    registry = {}
    for c in codes:
        if c.code in registry:
            raise ValueError(f"{c.code} is registered twice")
        if c.severity != {"E": ERROR, "W": WARNING}.get(c.code[:1]):
            raise ValueError(f"{c.code}: an E code is an error, a W code a warning")
        if c.exit_class not in (EXIT_FINDING, EXIT_INPUT):
            raise ValueError(f"{c.code}: the exit class is EXIT_FINDING or EXIT_INPUT")
        registry[c.code] = c
    return registry


#: Every code a diagnostic may have, in the order of docs/errors.md (which explains each one).
CODES: dict[str, Code] = _registry(
    # E0xx: the file itself
    Code("E001", ERROR, EXIT_INPUT, "the file cannot be read"),
    # E1xx: the text does not follow the policy language
    Code("E100", ERROR, EXIT_FINDING, "the text does not fit the policy language"),
    Code("E101", ERROR, EXIT_FINDING, "a character the language does not accept"),
    Code("E102", ERROR, EXIT_FINDING, "the file ends too early"),
    Code("E103", ERROR, EXIT_FINDING, "a tab is used for indentation"),
    Code("E104", ERROR, EXIT_FINDING, "the indentation does not fit"),
    Code("E105", ERROR, EXIT_INPUT, "the file is not text"),
    Code("E106", ERROR, EXIT_INPUT, "the file is too large"),
    Code("E107", ERROR, EXIT_FINDING, "a condition nests too deeply"),
    Code("E108", ERROR, EXIT_FINDING, "a number is too large"),
    # E2xx and W2xx: the policy does not make sense
    Code("E200", ERROR, EXIT_FINDING, "the `policy` header is missing or not first"),
    Code("E201", ERROR, EXIT_FINDING, "a statement that may appear once appears twice"),
    Code("E202", ERROR, EXIT_FINDING, "a name is declared twice"),
    Code("E203", ERROR, EXIT_FINDING, "a required part of the policy is missing"),
    Code("E204", ERROR, EXIT_FINDING, "unknown policy setting"),
    Code("E210", ERROR, EXIT_FINDING, "unknown tier"),
    Code("E211", ERROR, EXIT_FINDING, "unknown role"),
    Code("E212", ERROR, EXIT_FINDING, "unknown stage"),
    Code("E213", ERROR, EXIT_FINDING, "unknown workflow"),
    Code("E215", ERROR, EXIT_FINDING, "unknown parent tier"),
    Code("E220", ERROR, EXIT_FINDING, "`classify` has no `otherwise` line"),
    Code("E221", ERROR, EXIT_FINDING, "a second `otherwise`"),
    Code("E222", ERROR, EXIT_FINDING, "`otherwise` is not the last line"),
    Code("E230", ERROR, EXIT_FINDING, "tiers extend each other in a circle"),
    Code("E231", ERROR, EXIT_FINDING, "a requirement id is used twice in one tier"),
    Code("E232", ERROR, EXIT_FINDING, "tiers inherit too much"),
    Code("E233", ERROR, EXIT_FINDING, "a `drop` names nothing the tier inherits"),
    Code("E234", ERROR, EXIT_FINDING, "a measure is dropped twice, or dropped and stated again"),
    Code("E240", ERROR, EXIT_FINDING, "a workflow needs exactly one start stage"),
    Code("E241", ERROR, EXIT_FINDING, "a stage cannot be reached"),
    Code("E242", ERROR, EXIT_FINDING, "a stage is not in the workflow the tier uses"),
    Code("E250", ERROR, EXIT_FINDING, "a condition asks about something the questionnaire does not have"),
    Code("E251", ERROR, EXIT_FINDING, "a value the question does not allow"),
    Code("E252", ERROR, EXIT_FINDING, "a value of the wrong kind"),
    Code("E253", ERROR, EXIT_FINDING, "the questionnaire schema cannot be used"),
    Code("W260", WARNING, EXIT_FINDING, "a measure is covered by no consideration"),
    Code("E270", ERROR, EXIT_FINDING, "a RACI task needs exactly one accountable role"),
    Code("W271", WARNING, EXIT_FINDING, "a RACI task has no responsible role"),
    Code("E280", ERROR, EXIT_FINDING, "a waiver role is not a declared role"),
    Code("E281", ERROR, EXIT_FINDING, "`waivable` has no time limit"),
    Code("E283", ERROR, EXIT_FINDING, "a sign-off requirement asks for no sign-off"),
    Code("E284", ERROR, EXIT_FINDING, "a duration is zero or longer than 100 years"),
    Code("E286", ERROR, EXIT_FINDING, "the `workflow` attribute is quoted"),
    Code("E287", ERROR, EXIT_FINDING, "`signed` on a requirement kind no one signs"),
    Code("E288", ERROR, EXIT_FINDING, "a sign-off is required independent of its own role"),
    Code("E289", ERROR, EXIT_FINDING, "a role is named twice in `independent of` or `recorded by`"),
    # E3xx: answers files (and any YAML file)
    Code("E300", ERROR, EXIT_INPUT, "the file is not usable YAML"),
    Code("E301", ERROR, EXIT_INPUT, "the answers are not a mapping"),
    Code("E302", ERROR, EXIT_INPUT, "a required answer is missing"),
    Code("E303", ERROR, EXIT_INPUT, "an answer the question does not allow"),
    Code("E304", ERROR, EXIT_INPUT, "an unknown question"),
    Code("E305", ERROR, EXIT_INPUT, "an answer of the wrong type"),
    Code("E306", ERROR, EXIT_INPUT, "an answer breaks a rule of the questionnaire"),
    Code("E307", ERROR, EXIT_INPUT, "a YAML anchor or alias"),
    Code("E308", ERROR, EXIT_INPUT, "a key is written twice"),
    Code("E309", ERROR, EXIT_INPUT, "the YAML holds too many values"),
    Code("E310", ERROR, EXIT_INPUT, "a rule needs a missing answer"),
    Code("E311", ERROR, EXIT_INPUT, "a number that is not finite"),
    # E4xx and W4xx: events, the roster, and what `check` makes of them
    Code("E400", ERROR, EXIT_INPUT, "an event cannot be read"),
    Code("E401", ERROR, EXIT_INPUT, "a time without a UTC offset"),
    Code("W402", WARNING, EXIT_FINDING, "events are not in time order"),
    Code("W403", WARNING, EXIT_FINDING, "an event is written twice"),
    Code("E410", ERROR, EXIT_INPUT, "the roster cannot be read"),
    Code("E420", ERROR, EXIT_INPUT, "an event of a version that is not registered"),
    Code("E421", ERROR, EXIT_INPUT, "a stage the workflow does not have"),
    Code("E422", ERROR, EXIT_INPUT, "the version to check is not registered"),
    Code("W423", WARNING, EXIT_FINDING, "a role the policy does not declare"),
    Code("W424", WARNING, EXIT_FINDING, "a waiver for no requirement of the policy"),
    Code("W425", WARNING, EXIT_FINDING, "a person who is not in the roster"),
    Code("W426", WARNING, EXIT_FINDING, "an event names a stage the workflow does not have"),
    Code("W427", WARNING, EXIT_FINDING, "the version is off its workflow"),
    # E5xx: policy tests
    Code("E500", ERROR, EXIT_INPUT, "a policy test file cannot be used"),
    # E6xx and W6xx: the ledger
    Code("E600", ERROR, EXIT_INPUT, "the ledger cannot be used"),
    Code("E610", ERROR, EXIT_INPUT, "the ledger refuses the event"),
    Code("W610", WARNING, EXIT_FINDING, "an event that breaks the policy is recorded"),
    Code("E611", ERROR, EXIT_INPUT, "the person may not do this"),
    Code("E612", ERROR, EXIT_INPUT, "it is recorded already"),
    Code("E620", ERROR, EXIT_INPUT, "an event the decision relies on breaks the hash chain"),
    Code("E621", ERROR, EXIT_INPUT, "a stored event cannot be read"),
    Code("E630", ERROR, EXIT_INPUT, "the ledger decides who may do what"),
    Code("E631", ERROR, EXIT_INPUT, "the event's time is refused"),
    Code("W631", WARNING, EXIT_FINDING, "events were recorded out of time order"),
    Code("E632", ERROR, EXIT_INPUT, "the ledger cannot answer for that time"),
    Code("E640", ERROR, EXIT_INPUT, "a stored policy source does not match its hash"),
    Code("E641", ERROR, EXIT_INPUT, "a policy version's source is missing"),
    Code("E642", ERROR, EXIT_INPUT, "no policy version, or several, match"),
    # E65x: the service's requests
    Code("E650", ERROR, EXIT_INPUT, "the request carries no valid token"),
    Code("E651", ERROR, EXIT_INPUT, "the request is too large"),
    Code("E652", ERROR, EXIT_INPUT, "the request is not a JSON object"),
    Code("E653", ERROR, EXIT_INPUT, "the operation needs the service's admin role"),
    Code("E654", ERROR, EXIT_INPUT, "no such resource"),
    Code("E655", ERROR, EXIT_INPUT, "the server failed inside"),
    Code("E656", ERROR, EXIT_INPUT, "a request says who acts"),
    Code("E657", ERROR, EXIT_INPUT, "the server is busy"),
    Code("E658", ERROR, EXIT_INPUT, "a form did not come from this site's page"),
    Code("E659", ERROR, EXIT_INPUT, "a page's parameter cannot be used"),
    Code("E660", ERROR, EXIT_FINDING, "the gate is not met"),
    # E69x: signing keys, signed envelopes and statements
    Code("E690", ERROR, EXIT_INPUT, "a signing key cannot be used"),
    Code("E691", ERROR, EXIT_INPUT, "a signed envelope cannot be read"),
    Code("E692", ERROR, EXIT_INPUT, "the signature does not verify"),
    Code("E693", ERROR, EXIT_INPUT, "the statement is not about this version"),
    Code("E694", ERROR, EXIT_INPUT, "the checkpoint is not of this ledger"),
    Code("E695", ERROR, EXIT_INPUT, "a checkpoint or bundle file cannot be read"),
    Code("E696", ERROR, EXIT_INPUT, "no bundle can be made"),
)


#: The file name of a place in a ledger. An event read from a ledger is located as Location(LEDGER, seq): a ledger
#: has no lines, so such a location is shown as the event it is, `ledger event #seq`, never as `ledger:seq`.
LEDGER = "ledger"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; line and column count from 1 (0 when unknown). In a ledger (file LEDGER), `line`
    holds the event's sequence number."""

    file: str = "<string>"
    line: int = 0
    column: int = 0
    end_column: int = 0

    @property
    def event(self) -> int | None:
        """The sequence number of the ledger event this location names; None for a place in a file."""
        return self.line if self.file == LEDGER and self.line > 0 else None

    @property
    def place(self) -> str:
        """The place in words where the file is named elsewhere (a reason about an event): `line 12`, or for an event
        of a ledger `ledger event #12`."""
        return f"ledger event #{self.line}" if self.file == LEDGER and self.line > 0 else f"line {self.line}"

    def to_dict(self) -> dict:
        """{file, line, column}; a ledger event as {file: "ledger", event: N, line: None, column: None}."""
        event = self.event
        if event is not None:
            return {"file": self.file, "event": event, "line": None, "column": None}
        return {"file": self.file, "line": self.line, "column": self.column}

    def __str__(self) -> str:
        if self.file == LEDGER and self.line > 0:
            return f"ledger event #{self.line}"
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in an input: a stable code, a severity, where, what, and how to fix it."""

    code: str
    message: str
    location: Location = field(default_factory=Location)
    severity: str | None = None  # None: the code's registered severity
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.severity is None:
            registered = CODES.get(self.code)
            object.__setattr__(self, "severity", registered.severity if registered else ERROR)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def sort_key(self):
        loc = self.location
        return (loc.file, loc.line, loc.column, self.code, self.message)

    def to_dict(self) -> dict:
        """{code, severity, file, line, column, message, hint}; a ledger event's location as Location.to_dict
        gives it (with `event`, and no line)."""
        return {"code": self.code, "severity": self.severity, **self.location.to_dict(), "message": self.message,
                "hint": self.hint}

    def headline(self) -> str:
        return f"{self.location}: {self.severity}[{self.code}]: {self.message}"

    def render(self, source: str | None = None) -> str:
        """The headline, the source line with a caret under the spot, and the hint. What came from input cannot
        forge a line or reach the terminal as a control sequence: in the headline and the hint a `CONTROL`
        character is shown escaped (`visible`), in the source line as U+FFFD (so the caret stays under its
        column)."""
        lines = [visible(self.headline())]
        loc = self.location
        if source is not None and loc.line:
            text_lines = source.splitlines()
            if 0 < loc.line <= len(text_lines):
                text = _blanked(text_lines[loc.line - 1].rstrip("\r\n"))
                shown = text if len(text) <= 200 else text[:200] + "…"
                gutter = str(loc.line)
                lines.append(f" {gutter} | {shown}")
                if loc.column:
                    width = max(1, (loc.end_column or loc.column + 1) - loc.column)
                    width = min(width, max(1, len(shown) - loc.column + 1))
                    pad = "".join("\t" if ch == "\t" else " " for ch in shown[: loc.column - 1])
                    lines.append(f" {' ' * len(gutter)} | {pad}{'^' * width}")
        if self.hint:
            lines.append(f"  hint: {visible(self.hint)}")
        return "\n".join(lines)


#: the characters no output writes raw and no id may hold (a regex character class body): control characters
#: (U+0000-U+001F, the line feed, carriage return and tab among them; U+007F-U+009F), the line and paragraph
#: separators, the bidirectional embeddings, overrides and isolates (they reorder what a reader sees) and lone
#: surrogates (no UTF-8 carries them). Reports (reports/escape.py), diagnostics and the id checks share it.
CONTROL = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff"
UNPRINTABLE = re.compile(f"[{CONTROL}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped(match: re.Match) -> str:
    """One `CONTROL` character as a reader recognises it: `\\n`, `\\r`, `\\t`, else `\\x1b` below U+0100 and
    `\\u2028` above."""
    c = match.group()
    named = _NAMED.get(c)
    if named is not None:
        return named
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """`value` as text with every `CONTROL` character shown escaped: always one line, no terminal escape sequence.
    A printable value (nearly every one: every `CONTROL` character is one `str.isprintable` refuses) is returned
    as it is."""
    if type(value) is not str:
        value = "" if value is None else str(value)
    if value.isprintable() or UNPRINTABLE.search(value) is None:
        return value
    return UNPRINTABLE.sub(escaped, value)


def _blanked(line: str) -> str:
    """A source line with each `CONTROL` character but the tab replaced by U+FFFD, one for one (the caret below
    stays under its column)."""
    if line.isprintable():
        return line
    return UNPRINTABLE.sub(lambda m: m.group() if m.group() == "\t" else "\ufffd", line)


class TiergateError(Exception):
    """Raised by the library when an input cannot be used; carries every diagnostic found."""

    def __init__(self, diagnostics: Sequence[Diagnostic] | Diagnostic, sources: dict | None = None):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        #: file name -> source text, for rendering carets
        self.sources = dict(sources or {})
        first = self.diagnostics[0].headline() if self.diagnostics else "unknown error"
        more = len(self.diagnostics) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))

    def __reduce__(self):  # whole, when it comes back from a worker process
        return type(self), (self.diagnostics, self.sources)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def render(self) -> str:
        return render_all(self.diagnostics, self.sources)


def render_all(diagnostics: Iterable[Diagnostic], sources: dict | None = None, cap: int = MAX_SHOWN,
               paint: Callable[[str], str] | None = None) -> str:
    """Render diagnostics sorted by location, at most `cap` of them, then a count of the rest.

    `paint` is given each rendered diagnostic and returns it as shown (the command line colours the severity).
    """
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    sources = sources or {}
    out = [d.render(sources.get(d.location.file)) for d in ordered[:cap]]
    if paint is not None:
        out = [paint(text) for text in out]
    if len(ordered) > cap:
        out.append(f"... and {len(ordered) - cap} more problems not shown")
    return "\n".join(out)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `name`, if one is close enough to be a likely typo."""
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(name: str, candidates: Iterable[str], what: str = "") -> str | None:
    candidates = list(candidates)
    best = closest(name, candidates)
    if best:
        return f"did you mean `{best}`?"
    if candidates and len(candidates) <= 12:
        listed = ", ".join(f"`{c}`" for c in candidates)
        return f"declared {what}: {listed}" if what else f"expected one of {listed}"
    return None
