"""Canonical printing of a policy (`tiergate fmt`): two-space blocks, one statement a line, comments kept."""
from __future__ import annotations

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
    # trailing comments go to the item that starts on (or most recently before) their line
    trailing: dict[int, list[str]] = {}
    standalone = sorted((line, text) for line, (text, alone) in comments.items() if alone)
    starts = sorted({item.line for item in items})
    for line, (text, alone) in comments.items():
        if alone:
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
    if pending:
        if out:
            out.append("")
        out.extend(text for _, text in pending)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""
