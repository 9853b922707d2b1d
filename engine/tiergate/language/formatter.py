"""Canonical printing of a policy (`tiergate fmt`): two-space blocks, one statement a line, comments kept."""
from __future__ import annotations

import re
from dataclasses import dataclass

from tiergate.language import conditions
from tiergate.language.requirements import drop_text, line_text
from tiergate.language import ast

INDENT = "  "


@dataclass
class _Out:
    depth: int
    text: str
    line: int  # the source line it came from
    top: bool = False  # starts a top-level statement


def find_comments(source: str) -> dict[int, tuple[str, bool]]:
    """line number -> (comment text, whether it stands alone on its line)."""
    found = {}
    for number, line in enumerate(source.split("\n"), 1):
        in_string = escaped = False
        for i, ch in enumerate(line):
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "#":
                found[number] = (line[i:].rstrip(), not line[:i].strip())
                break
    return found


#: The pieces of a line that spacing cannot change: strings, comments, operators, words and numbers, other characters.
_PIECE = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|->|==|!=|<=|>=|[A-Za-z0-9_]+|\S')
_CLOSERS = (")", "]")
_OPENERS = ("(", "[")


def _kept_breaks(item: _Out, source_lines: list[str], comments: dict[int, tuple[str, bool]]) -> tuple[str, set[int]] | None:
    """A statement written over several lines (inside brackets) with a comment before its last line, laid out with the
    author's line breaks, so each comment stays on the line it explains: (the text, the source lines of the comments
    it holds). None when the statement is on one line, or holds no such comment (it is then printed on one line)."""
    canonical = [(m.start(), m.group()) for m in _PIECE.finditer(item.text)]
    found: list[tuple[int, str]] = []  # (source line, piece) of the statement's pieces, comments left out
    number = item.line
    while len(found) < len(canonical) and number <= len(source_lines):
        for m in _PIECE.finditer(source_lines[number - 1]):
            if not m.group().startswith("#"):
                found.append((number, m.group()))
        number += 1
    found = found[: len(canonical)]
    if len(found) != len(canonical) or found[-1][0] == item.line:
        return None
    if [piece for _, piece in found] != [piece for _, piece in canonical]:
        return None  # (not reached: printing changes spacing only)
    last = found[-1][0]
    inside = {line for line in range(item.line, last) if line in comments}
    if not inside:
        return None
    lines, depth, start = [], 0, 0
    for k in range(1, len(found) + 1):
        if k < len(found) and found[k][0] == found[k - 1][0]:
            continue
        segment = item.text[canonical[start][0]: canonical[k][0] if k < len(canonical) else len(item.text)].rstrip()
        opened = depth - (1 if segment.startswith(_CLOSERS) else 0)
        indent = INDENT * (item.depth + opened) if start else ""
        line = found[start][0]
        text = indent + segment
        if line in comments and not comments[line][1] and line != last:
            text += "  " + comments[line][0]
        lines.append(text)
        for _, piece in canonical[start:k]:
            depth += (piece in _OPENERS) - (piece in _CLOSERS)
        if k < len(found):  # comments on lines of their own before the next piece, at its indentation
            nxt = item.text[canonical[k][0]:]
            inner = INDENT * (item.depth + depth - (1 if nxt.startswith(_CLOSERS) else 0))
            lines += [inner + comments[n][0] for n in range(line + 1, found[k][0]) if n in comments]
        start = k
    return "\n".join(lines), inside


def _statement_lines(st) -> list[_Out]:
    out: list[_Out] = []
    add = lambda depth, text, node: out.append(_Out(depth, text, node.loc.line))  # noqa: E731
    if isinstance(st, ast.PolicyDecl):
        add(0, f"policy {st.name.text} version {st.version.text}:", st)
        for s in st.settings:
            add(1, f"{s.key}: {s.value.text}", s)
    elif isinstance(st, ast.TiersDecl):
        add(0, "tiers " + " < ".join(str(n) for n in st.names), st)
    elif isinstance(st, ast.RolesDecl):
        add(0, "roles " + ", ".join(str(n) for n in st.names), st)
    elif isinstance(st, ast.WorkflowDecl):
        add(0, f"workflow {st.name}:", st)
        for chain in st.chains:
            out.append(_Out(1, " -> ".join(str(n) for n in chain), chain[0].loc.line))
    elif isinstance(st, ast.ConsiderationDecl):
        add(0, f"consideration {st.name} {st.title.text}: " + ", ".join(str(k) for k in st.kinds), st)
    elif isinstance(st, ast.ClassifyDecl):
        add(0, "classify:", st)
        for line in st.lines:
            if isinstance(line, ast.Otherwise):
                add(1, f"otherwise {line.tier}", line)
            else:
                because = f" because {line.because.text}" if line.because is not None else ""
                add(1, f"{line.tier} when {conditions.to_text(line.condition)}{because}", line)
    elif isinstance(st, ast.TierDecl):
        parent = f" extends {st.parent}" if st.parent is not None else ""
        add(0, f"tier {st.name}{parent}:", st)
        for item in st.items:
            if isinstance(item, ast.Setting):
                add(1, f"{item.key}: {item.value.text}", item)
            elif isinstance(item, ast.Drop):
                add(1, drop_text(item), item)
            else:
                add(1, line_text(item), item)
    elif isinstance(st, ast.RaciDecl):
        add(0, "raci:", st)
        for row in st.rows:
            cells = ", ".join(f"{cell.role} {cell.letters}" for cell in row.cells)
            add(1, f"{row.task.text}: {cells}", row)
    if out:
        out[0].top = True
    return out


def format_module(module: ast.Module) -> str:
    source_lines = module.source.split("\n")
    comments = find_comments(module.source)
    items: list[_Out] = []
    previous = None
    for st in module.statements:
        lines = _statement_lines(st)
        if isinstance(st, ast.ConsiderationDecl) and isinstance(previous, ast.ConsiderationDecl):
            lines[0].top = False  # a run of considerations reads as a table; keep the author's spacing
        items.extend(lines)
        previous = st
    # a statement over several lines keeps its line breaks when a comment sits inside it
    kept: set[int] = set()  # lines of the comments such statements hold
    for item in items:
        laid_out = _kept_breaks(item, source_lines, comments) if comments else None
        if laid_out is not None:
            item.text, inside = laid_out
            kept |= inside
    # trailing comments go to the item that starts on (or most recently before) their line
    trailing: dict[int, list[str]] = {}
    standalone = sorted((line, text) for line, (text, alone) in comments.items() if alone and line not in kept)
    starts = sorted({item.line for item in items})
    for line, (text, alone) in comments.items():
        if alone or line in kept:
            continue
        owner = max((s for s in starts if s <= line), default=None)
        if owner is None:
            standalone.append((line, text))
        else:
            trailing.setdefault(owner, []).append(text)
    standalone.sort()

    def blank_before(line: int) -> bool:
        return line >= 2 and not source_lines[line - 2].strip()

    out: list[str] = []
    pending = list(standalone)
    used_trailing: set[int] = set()
    for index, item in enumerate(items):
        lead = []
        while pending and pending[0][0] < item.line:
            lead.append(pending.pop(0))
        first_line = lead[0][0] if lead else item.line
        if out and (item.top or blank_before(first_line)) and out[-1] != "":
            out.append("")
        prefix = INDENT * item.depth
        for k, (line, text) in enumerate(lead):
            if k and blank_before(line) and out and out[-1] != "":
                out.append("")
            out.append(prefix + text)
        if lead and blank_before(item.line) and out[-1] != "":
            out.append("")
        text = prefix + item.text
        if item.line in trailing and item.line not in used_trailing:
            text += "  " + "  ".join(trailing[item.line])
            used_trailing.add(item.line)
        out.append(text)
    if pending:  # comments after the last statement, with a blank line where the author left one between them
        if out:
            out.append("")
        for k, (line, text) in enumerate(pending):
            if k and blank_before(line) and out[-1] != "":
                out.append("")
            out.append(text)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""
