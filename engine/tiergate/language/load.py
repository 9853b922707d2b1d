"""Loading policies: lint, compile, load and format policy text, each problem a located diagnostic."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tiergate.errors import Diagnostic, TiergateError
from tiergate.fileio import POLICY_LIMIT, read_source
from tiergate.language.policy import Policy


@dataclass(frozen=True)
class LintResult:
    file: str
    source: str | None
    diagnostics: tuple[Diagnostic, ...]
    policy: Policy | None

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if not d.is_error)


def lint_source(data: bytes | str, filename: str = "<string>", base_dir: Path | None = None,
                schema_source: str | None = None) -> LintResult:
    """Parse and compile; every problem comes back as diagnostics, nothing is raised for bad policy text.
    `schema_source`: the questionnaire's text, when it is not read from the file the policy names (a stored policy)."""
    from tiergate.language.compiler import compile_module
    from tiergate.language.parser import parse

    try:
        module = parse(data, filename)
    except TiergateError as exc:
        return LintResult(filename, exc.sources.get(filename), tuple(exc.diagnostics), None)
    policy, diagnostics = compile_module(module, base_dir, schema_source)
    return LintResult(filename, module.source, tuple(diagnostics), policy)


def lint_file(path: str | Path) -> LintResult:
    """Lint one policy file. Raises TiergateError (E001) only when the file cannot be read."""
    path = Path(path)
    try:
        data = read_policy(path)
    except TiergateError as exc:
        if any(d.code == "E001" for d in exc.diagnostics):
            raise
        return LintResult(str(path), None, tuple(exc.diagnostics), None)  # too large: a finding, as lint_source says
    return lint_source(data, str(path), path.parent)


def compile_policy(text: str | bytes, filename: str = "<string>", base_dir: str | Path | None = None,
                   schema_source: str | None = None) -> Policy:
    """Compile policy text; raises TiergateError carrying every diagnostic when it has errors. `schema_source`: the
    questionnaire's text, when it is not read from the file the policy names (a policy stored in a ledger)."""
    if base_dir is None and filename != "<string>":
        base_dir = Path(filename).parent
    result = lint_source(text, filename, Path(base_dir) if base_dir is not None else None, schema_source)
    if result.policy is None:
        raise TiergateError(list(result.diagnostics), {filename: result.source} if result.source else None)
    return result.policy


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and compile a policy file (the shipped default pack when no path is given)."""
    if path is None:
        from tiergate.resources import default_policy_path, display

        path = display(default_policy_path())
    path = Path(path)
    return compile_policy(read_policy(path), str(path), path.parent)


def read_policy(path: str | Path) -> bytes:
    """The bytes of a policy file: a regular file of at most 4 MB, checked before it is read (E001, E106)."""
    return read_source(path, POLICY_LIMIT, what="a policy", code="E106", subject="policy file",
                       hint="split the policy, or check that this is the file you meant")


def format_source(data: bytes | str, filename: str = "<string>") -> str:
    """The canonical layout of a policy. Raises TiergateError when it does not parse."""
    from tiergate.language.formatter import format_module
    from tiergate.language.parser import parse

    return format_module(parse(data, filename))
