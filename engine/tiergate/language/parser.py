"""Policy text -> syntax tree (ast.Module), with friendly syntax errors.

A policy is read once, by reader.py (the grammar's LALR tables run without Lark). When it does not
parse, the reader says where and what came before, and lark_parser.py words the error as Lark's own
parse of the text would, so every syntax error is the reference parser's without a second reading.
"""
from __future__ import annotations

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.fileio import POLICY_LIMIT
from tiergate.language import ast
from tiergate.language.builder import NestingTooDeep, NumberTooLarge
from tiergate.language.lexer import Refused
from tiergate.language.reader import reader

#: Largest policy file accepted (bytes); larger files get a clear error instead of a long wait.
MAX_BYTES = POLICY_LIMIT


def _decode(data: bytes | str, file: str) -> str:
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise TiergateError(Diagnostic(
                "E106", f"policy file is {len(data) / 1048576:.1f} MB; the largest accepted is {MAX_BYTES // 1048576} MB",
                Location(file), hint="split the policy, or check that this is the file you meant"))
        if b"\x00" in data:
            raise TiergateError(Diagnostic("E105", "this is a binary file, not policy text", Location(file),
                                           hint="a policy is UTF-8 text; check the file name"))
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise TiergateError(Diagnostic(
                "E105", f"the file is not UTF-8 text (bad byte 0x{data[exc.start]:02x})", Location(file, line),
                hint="save the policy as UTF-8")) from None
    elif len(data) > MAX_BYTES:
        raise TiergateError(Diagnostic("E106", f"policy text is larger than {MAX_BYTES // 1048576} MB", Location(file)))
    elif not data.isascii():
        _check_unicode(data, file)
    if data.startswith("\ufeff"):
        data = data[1:]
    return data


def _check_unicode(text: str, file: str) -> None:
    """Refuse text given as str that no UTF-8 file could hold: a lone surrogate (half of a UTF-16 pair)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        column = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
        raise TiergateError(Diagnostic(
            "E105", f"the text is not valid Unicode (a lone surrogate, U+{ord(text[exc.start]):04X})",
            Location(file, line, column, column + 1),
            hint="a policy is UTF-8 text: remove the character, or give the file's bytes")) from None


def _check_tabs(text: str, file: str) -> list[Diagnostic]:
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            column = indent.index("\t") + 1
            found.append(Diagnostic("E103", "a tab is used for indentation", Location(file, number, column, column + 1),
                                    hint="indent with spaces (two per level is the canonical layout)"))
    return found


def parse(data: bytes | str, file: str = "<string>") -> ast.Module:
    """Parse policy text into a syntax tree. Raises TiergateError with located diagnostics."""
    text = _decode(data, file)
    sources = {file: text}
    tabs = _check_tabs(text, file)
    if tabs:
        raise TiergateError(tabs, sources)
    read = text if text.endswith("\n") else text + "\n"
    try:
        statements = reader().read(read, file)
    except (Refused, NestingTooDeep, NumberTooLarge) as problem:  # worded from this reading
        from tiergate.language import lark_parser

        if isinstance(problem, Refused):
            found = lark_parser.refusal_diagnostic(problem, read, file)
        else:
            found = lark_parser.builder_diagnostic(problem, file)
        raise TiergateError(found, sources) from None
    except Exception:  # what the reader cannot vouch for (not expected): the reference parser reads it and words it
        from tiergate.language import lark_parser

        return lark_parser.parse(text, file, sources)
    return ast.Module(file, text, tuple(statements))
