"""Check results for people (text, Markdown) and machines (JSON)."""
from __future__ import annotations

from tiergate.decide.check import CheckResult, Violation
from tiergate.errors import Location
from tiergate.inputs.events import format_time
from tiergate.decide.gates.base import BREACH, DUE, MET, OK, OVERDUE, UNMET, WAIVED, Status
from tiergate.jsoncodec import readable
from tiergate.reports import escape
from tiergate.reports import tabular as tables

MARKS = {MET: "✓", OK: "✓", WAIVED: "~", DUE: "!", UNMET: "✗", OVERDUE: "✗", BREACH: "✗"}


def mark(s: Status) -> str:
    if s.status in (UNMET, OVERDUE, BREACH) and not s.requirement.blocking:
        return "!"
    return MARKS[s.status]


def verdict(result: CheckResult) -> str:
    """The one-line answer, first thing a person reads."""
    subject = f"{result.use_case} {result.version}"
    if result.target is not None:
        if result.allowed:
            head = f"ALLOWED: {subject} may enter {result.target}"
        else:
            head = f"BLOCKED: {subject} may not enter {result.target}"
        head += f" (tier {result.tier}, now in {result.stage})"
    else:
        head = f"{subject}: tier {result.tier}, now in {result.stage}"
    if result.replay:
        n = len(result.violations)
        head += "; history: " + (f"{n} violation{'s' if n != 1 else ''}" if n else "no violations")
    failing = [o for o in result.obligations if o.failing]
    if failing:
        head += f"; {len(failing)} obligation{'s' if len(failing) != 1 else ''} {'/'.join(sorted({o.status for o in failing}))}"
    return head


def transition_problem(result: CheckResult) -> str | None:
    """Why the asked-for move is impossible whatever its gate says: no such edge, or a retired version."""
    if result.target is None or result.transition_ok:
        return None
    from tiergate.decide.eras import may_move
    from tiergate.decide.workflow import graph_of

    workflow = result.policy.workflow_of(result.tier)
    graph = graph_of(workflow)
    if may_move(workflow, result.stage, result.target):  # (an edge, or a version off its workflow re-entering it)
        return f"version {result.version} is retired; a retired version may not enter {result.target}"
    nexts = ", ".join(graph.successors(result.stage)) or "none"
    return f"{result.stage} -> {result.target} is not an edge of the workflow (from {result.stage}: {nexts})"


def _where(result: CheckResult, s: Status, under: tuple | None = None) -> str:
    """The policy line of a requirement; of the version judged under (`under`, a violation's), when it is another:
    named by its name and version (`tiergate policy show SHA` prints its source), not by a file that may have
    changed since."""
    if under is not None and under[2] != result.policy.sha256:
        return f"{under[0]} {under[1]} line {s.requirement.loc.line}"
    return f"{result.policy.file}:{s.requirement.loc.line}"


def judged_under(result: CheckResult, v: Violation) -> str:
    """` (under NAME VERSION)` when a violation was judged under another policy version than the result (the one in
    force at its time, from a ledger's history); else nothing."""
    if v.policy is None or v.policy[2] == result.policy.sha256:
        return ""
    return f" (under {v.policy[0]} {v.policy[1]}, roster of {v.roster})" if v.roster else \
        f" (under {v.policy[0]} {v.policy[1]})"


def event_location(v: Violation) -> Location:
    """Where the event of a violation is: a line of an events file, or an event of a ledger (`ledger event #7`)."""
    return Location(v.file, v.line)


def _violation_dict(v: Violation) -> dict:
    """A violation as JSON; its event located as Location.to_dict says (in a ledger: `event`, and no line)."""
    data = v.to_dict()
    where = event_location(v).to_dict()
    out = {}
    for key, value in data.items():
        if key == "file":
            out.update({k: where[k] for k in where if k != "column"})
        elif key != "line":
            out[key] = value
    return out


def as_text(result: CheckResult) -> str:
    lines = [verdict(result)]
    if result.target is not None:
        if not result.transition_ok:
            lines.append(f"  ✗ {transition_problem(result)}")
        if not result.requirements:
            lines.append(f"  (no requirements for entering {result.target} in tier {result.tier})")
        for s in result.requirements:
            word = "" if s.requirement.blocking else " (recommended)"
            lines.append(f"  {mark(s)} {s.id}{word}: {s.reason}  [{_where(result, s)}]")
    if result.replay and result.violations:
        lines.append("violations:")
        for v in result.violations:
            lines.append(f"  ✗ {format_time(v.at)} version {v.version}: {v.from_stage} -> {v.to_stage}"
                         f"{' (' + v.mode + ')' if v.mode else ''} [{event_location(v)}]: {v.message}"
                         f"{judged_under(result, v)}")
            for s in v.unmet:
                lines.append(f"      ✗ {s.id}: {s.reason}  [{_where(result, s, v.policy)}]")
    if result.obligations:
        lines.append("obligations:")
        for o in result.obligations:
            due = f" (next due {format_time(o.next_due)})" if o.status in (OK, DUE) else ""
            lines.append(f"  {mark(o)} {o.id} {o.status}: {o.reason}{due}  [{_where(result, o)}]")
    for w in result.warnings:
        lines.append(f"warning: {w.location}: {w.message}")
    p = result.policy
    lines.append(f"policy {p.name} {p.version} (sha256 {p.sha256[:12]}), evaluated at {format_time(result.at)}")
    return escape.lines(lines) + "\n"  # each line is one line, whatever its values hold


def as_json(result: CheckResult) -> str:
    data = result.to_dict()
    data["violations"] = [_violation_dict(v) for v in result.violations]
    return escape.json_text(readable(data)) + "\n"


def as_markdown(result: CheckResult) -> str:
    icon = "✅" if not result.failing else "❌"
    out = [f"### {icon} {escape.markdown(verdict(result))}\n",
           f"Policy `{escape.markdown(result.policy.name)}` {escape.markdown(result.policy.version)}, "
           f"evaluated at {format_time(result.at)}.\n"]
    if result.target is not None and result.requirements:
        rows = [[mark(s), f"`{s.id}`", s.status, s.reason, f"line {s.requirement.loc.line}"] for s in result.requirements]
        out.append(f"\n**Gate into {escape.markdown(result.target)}**\n\n")
        out.append(tables.markdown(["", "requirement", "status", "reason", "policy"], rows))
    if result.violations:
        out.append("\n**Violations**\n\n")
        rows = [[format_time(v.at), v.version, f"{v.from_stage} → {v.to_stage}", v.message + judged_under(result, v),
                 str(event_location(v))] for v in result.violations]
        out.append(tables.markdown(["when", "version", "transition", "what", "event"], rows))
    if result.obligations:
        out.append("\n**Obligations**\n\n")
        rows = [[mark(o), f"`{o.id}`", o.status, o.reason, format_time(o.next_due)] for o in result.obligations]
        out.append(tables.markdown(["", "obligation", "status", "reason", "next due"], rows))
    return "".join(out)
