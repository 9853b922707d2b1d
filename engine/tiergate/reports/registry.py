"""The registry (`tiergate status`): every model version, for people and machines."""
from __future__ import annotations

import shutil

from tiergate.inputs.events import format_time
from tiergate.jsoncodec import readable
from tiergate.reports import escape
from tiergate.reports import tabular as tables

HEADERS = ["use_case", "version", "tier", "stage", "since", "next", "unmet", "obligations", "waivers expiring",
           "attention"]


def _cells(r) -> list:
    breached = {b["requirement"]: b for b in r.waiver_breaches}
    obligations = [f"{i} {s}" + (f" (waiver {b['event']} by {b['by']} expired {b['expires']})"
                                 if s == "breach" and (b := breached.get(i)) is not None else "")
                   for i, s, _ in r.obligations if s != "ok"]
    flags = [f"cannot be judged: {r.problem}"] if r.problem else []
    if r.stale:
        flags.append(f"classified under {r.classified_under}")
    if r.off_workflow:
        flags.append(f"off its workflow: {r.stage} is not a stage of {r.off_workflow}")
    if r.violations:
        flags.append(f"{r.violations} violation{'s' if r.violations != 1 else ''}")
    flags += [f"{o}" for o in obligations]
    flags += [f"waiver {req} ends {exp}" for req, exp in r.expiring_waivers]
    return [r.use_case, r.version, r.tier, r.stage, (format_time(r.since) or "")[:10], r.next_stage or "",
            r.unmet, obligations, [f"{req} until {exp}" for req, exp in r.expiring_waivers],
            "; ".join(flags) if r.attention else ""]


def as_text(status, width: int | None = None) -> str:
    rows = status.rows
    if not rows:
        return "no registered use cases\n"
    width = width or shutil.get_terminal_size((120, 24)).columns
    table = [["use case", "version", "tier", "stage", "since", "next gate", "attention"]]
    for r in rows:
        c = _cells(r)
        blocked = f"{c[5]} ({len(r.unmet)} unmet)" if r.unmet else c[5]
        table.append([escape.text(v) for v in (c[0], c[1], c[2], c[3], c[4], blocked, c[9])])
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    fixed = sum(widths[:-1]) + 2 * (len(widths) - 1)
    last = max(10, width - fixed)
    lines = []
    for row in table:
        cells = [str(v).ljust(widths[i]) for i, v in enumerate(row[:-1])]
        note = str(row[-1])
        if len(note) > last:
            note = note[: last - 1] + "…"
        lines.append("  ".join(cells + [note]).rstrip())
    attention = sum(1 for r in rows if r.attention)
    lines.append(f"{len(rows)} version{'s' if len(rows) != 1 else ''}; {attention} need{'s' if attention == 1 else ''} attention")
    return "\n".join(lines) + "\n"


def as_json(status) -> str:
    data = {"policy": status.policy.identity(), "versions": [r.to_dict() for r in status.rows]}
    return escape.json_text(readable(data)) + "\n"


def as_csv(status) -> str:
    return tables.csv_text(HEADERS, [_cells(r) for r in status.rows])


def as_markdown(status) -> str:
    policy = status.policy
    return (f"## Model registry under {escape.markdown(policy.name)} {escape.markdown(policy.version)}\n\n"
            + tables.markdown(HEADERS, [_cells(r) for r in status.rows]))


def as_html(status) -> str:
    policy = status.policy
    return tables.html_page("Model registry", HEADERS, [_cells(r) for r in status.rows],
                            f"Policy {policy.name} {policy.version}; click a column to sort.")
