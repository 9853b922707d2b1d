"""Source locations, diagnostics, and the one error type the engine raises."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

ERROR = "error"
WARNING = "warning"

#: Diagnostics shown per file before the rest are summarised.
MAX_SHOWN = 50


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; line and column count from 1 (0 when unknown)."""

    file: str = "<string>"
    line: int = 0
    column: int = 0
    end_column: int = 0

    def __str__(self) -> str:
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
    severity: str = ERROR
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def sort_key(self):
        loc = self.location
        return (loc.file, loc.line, loc.column, self.code, self.message)

    def to_dict(self) -> dict:
        loc = self.location
        return {
            "code": self.code,
            "severity": self.severity,
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "message": self.message,
            "hint": self.hint,
        }

    def headline(self) -> str:
        return f"{self.location}: {self.severity}[{self.code}]: {self.message}"

    def render(self, source: str | None = None) -> str:
        """The headline, the source line with a caret under the spot, and the hint."""
        lines = [self.headline()]
        loc = self.location
        if source is not None and loc.line:
            text_lines = source.splitlines()
            if 0 < loc.line <= len(text_lines):
                text = text_lines[loc.line - 1].rstrip("\r\n")
                shown = text if len(text) <= 200 else text[:200] + "…"
                gutter = str(loc.line)
                lines.append(f" {gutter} | {shown}")
                if loc.column:
                    width = max(1, (loc.end_column or loc.column + 1) - loc.column)
                    width = min(width, max(1, len(shown) - loc.column + 1))
                    pad = "".join("\t" if ch == "\t" else " " for ch in shown[: loc.column - 1])
                    lines.append(f" {' ' * len(gutter)} | {pad}{'^' * width}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


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


def render_all(diagnostics: Iterable[Diagnostic], sources: dict | None = None, cap: int = MAX_SHOWN) -> str:
    """Render diagnostics sorted by location, at most `cap` of them, then a count of the rest."""
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    sources = sources or {}
    out = [d.render(sources.get(d.location.file)) for d in ordered[:cap]]
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
