"""The registry of diagnostic codes (tiergate.errors.CODES) is complete, used, and what docs/errors.md says.

The engine's source is read with `ast`: every string that is a whole code ("E211", "W260") is a code
written somewhere (passed to Diagnostic, to a helper such as Compilation.error, as a default argument,
in a table), and each must be registered. docs/errors.md is written by hand, with an explanation and a
fix for each code; its tables, headings and statements about exit statuses are checked here against
the registry.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tiergate.errors import CODES, ERROR, EXIT_FINDING, EXIT_INPUT, WARNING, Diagnostic, Location

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine" / "tiergate"
DOCS = ROOT / "docs" / "errors.md"
CODE = re.compile(r"[EW]\d{3}")
SEVERITY_NAMES = {"ERROR": ERROR, "WARNING": WARNING}


def sources() -> list[tuple[str, ast.Module]]:
    """(path from the checkout, syntax tree) of every module of the engine but the registry itself."""
    out = []
    for path in sorted(ENGINE.rglob("*.py")):
        if path != ENGINE / "errors.py":
            out.append((path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))))
    return out


def written_codes() -> dict[str, list[str]]:
    """Code -> the places (file:line) where the engine writes it."""
    found: dict[str, list[str]] = {}
    for name, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value):
                found.setdefault(node.value, []).append(f"{name}:{node.lineno}")
    return found


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _argument(node: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(node.args) > position and not any(isinstance(a, ast.Starred) for a in node.args[:position + 1]):
        return node.args[position]
    return next((k.value for k in node.keywords if k.arg == keyword), None)


def diagnostic_calls() -> list[tuple[str, ast.Call]]:
    return [(f"{name}:{node.lineno}", node) for name, tree in sources() for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _called(node) == "Diagnostic"]


def test_every_code_written_is_registered():
    unknown = {code: places for code, places in written_codes().items() if code not in CODES}
    assert not unknown, f"codes not registered in tiergate.errors.CODES: {unknown}"


def test_every_registered_code_is_used():
    unused = sorted(set(CODES) - set(written_codes()))
    assert not unused, f"registered codes the engine never writes (remove them, and their part of docs/errors.md): {unused}"


def test_diagnostics_name_their_code_where_it_can_be_read():
    """A code is a literal, or a parameter of a helper whose callers pass literals: never built from parts."""
    calls = diagnostic_calls()
    assert len(calls) > 50, "the engine's diagnostics were not found"
    built = [where for where, call in calls
             if not isinstance(_argument(call, 0, "code"), (ast.Constant, ast.Name))]
    assert not built, f"Diagnostic codes built at run time, which no test can check: {built}"


def test_a_severity_written_at_the_call_is_the_registered_one():
    wrong = []
    for name, tree in sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = _called(node)
            if called == "Diagnostic":
                code, severity = _argument(node, 0, "code"), _argument(node, 3, "severity")
                severity = SEVERITY_NAMES.get(getattr(severity, "id", None))
            elif called in ("error", "warn"):  # the compiler's helpers: Compilation.error and .warn
                code, severity = _argument(node, 0, "code"), ERROR if called == "error" else WARNING
            else:
                continue
            if isinstance(code, ast.Constant) and code.value in CODES and severity is not None:
                if CODES[code.value].severity != severity:
                    wrong.append(f"{name}:{node.lineno}: {code.value} is registered as {CODES[code.value].severity}")
    assert not wrong, "\n".join(wrong)


def test_diagnostic_takes_its_severity_from_the_registry():
    assert Diagnostic("W260", "m").severity == WARNING
    assert Diagnostic("E211", "m", Location("p.policy", 3, 4)).severity == ERROR
    assert Diagnostic("W260", "m", Location(), ERROR).severity == ERROR  # as written, when written
    assert Diagnostic("X000", "m").severity == ERROR  # an unregistered code (a test's own) is an error


def test_codes_are_well_formed():
    for code, entry in CODES.items():
        assert entry.code == code and CODE.fullmatch(code)
        assert entry.severity == (WARNING if code.startswith("W") else ERROR), code
        assert entry.exit_class in (EXIT_FINDING, EXIT_INPUT), code
        assert entry.title and entry.title == entry.title.strip() and not entry.title.endswith("."), code
        assert entry.title[0] in "`" or entry.title[0].islower(), f"{code}: a title is lower case, as in a sentence"
    assert list(CODES) == sorted(CODES, key=lambda c: (c[1:], c[0])), "keep the registry in the order of the numbers"


# --- docs/errors.md --------------------------------------------------------------------------

#: A row of a table of codes: `| CODE | severity | **Title.** ... |`, or with one column before the code.
ROW = re.compile(r"^\|(?: [^|\n]+ \|)? ([EW]\d{3}) \| (\w+) \| \*\*(.+?)\*\* ", re.MULTILINE)
HEADING = re.compile(r"^### ([EW]\d{3}): (.+)$", re.MULTILINE)
MENTION = re.compile(r"\b[EW]\d{3}\b")
OTHER_COMMANDS = "## Codes of the other commands"


def doc() -> str:
    return DOCS.read_text(encoding="utf-8")


def sentence(title: str) -> str:
    return title[0].upper() + title[1:] + "."


def table_rows() -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for code, severity, title in ROW.findall(doc()):
        assert code not in rows, f"docs/errors.md lists {code} twice"
        rows[code] = (severity, title)
    return rows


def test_doc_lists_every_code_with_its_severity_and_title():
    rows = table_rows()
    missing = sorted(set(CODES) - set(rows))
    assert not missing, f"codes without a row in the tables of docs/errors.md: {missing}"
    for code, (severity, title) in rows.items():
        if code in CODES:
            assert (severity, title) == (CODES[code].severity, sentence(CODES[code].title)), code


def test_doc_headings_are_the_registered_titles():
    headings = HEADING.findall(doc())
    assert headings, "docs/errors.md has no `### CODE: title` sections"
    for code, title in headings:
        assert code in CODES and title == CODES[code].title, f"### {code}: {title}"


def test_doc_names_no_code_the_registry_lacks():
    unknown = sorted(set(MENTION.findall(doc())) - set(CODES))
    assert not unknown, f"docs/errors.md names codes that are not registered: {unknown}"


@pytest.mark.parametrize("page", sorted((ROOT / "docs").rglob("*.md")), ids=lambda p: p.name)
def test_other_pages_name_only_registered_codes(page: Path):
    unknown = sorted(set(MENTION.findall(page.read_text(encoding="utf-8"))) - set(CODES))
    assert not unknown, f"{page.relative_to(ROOT)} names codes that are not registered: {unknown}"


def test_doc_says_the_exit_status_of_each_code():
    """The lint section: 2 only for a file that is no policy text at all (E001, E105, E106), else 1; the others:
    every error exits 2."""
    lint, _, others = doc().partition(OTHER_COMMANDS)
    assert others, f"docs/errors.md has no section `{OTHER_COMMANDS}`"
    assert ("2 when a file cannot be used at all: it cannot be read (E001), is not text (E105) or is too large (E106)"
            in " ".join(lint.split()))
    assert "every error listed here ends the command with exit status 2" in others
    in_lint = {code for code, _, _ in ROW.findall(lint)}
    for code, entry in CODES.items():
        assert (code in in_lint) == (code[1:] < "300"), f"{code} is listed in the wrong section"
        if entry.severity == WARNING:
            assert entry.exit_class == EXIT_FINDING, code
        elif code in in_lint:
            assert entry.exit_class == (EXIT_INPUT if code in ("E001", "E105", "E106") else EXIT_FINDING), code
        else:  # (E660, a gate not met, is a finding, as a blocked `promote` is)
            assert entry.exit_class == (EXIT_FINDING if code == "E660" else EXIT_INPUT), code
