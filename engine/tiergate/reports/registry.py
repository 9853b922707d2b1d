"""The registry (`tiergate status`) and a model's timeline (`tiergate history`), for people and machines."""
from __future__ import annotations

import json
import shutil
from typing import Sequence

from tiergate.inputs.events import format_time
from tiergate.jsoncodec import readable
from tiergate.reports import tabular as tables

HEADERS = ["use_case", "version", "tier", "stage", "since", "next", "unmet", "obligations", "waivers expiring",
           "attention"]


def _cells(r) -> list:
    obligations = [f"{i} {s}" for i, s, _ in r.obligations if s != "ok"]
    flags = [f"cannot be judged: {r.problem}"] if r.problem else []
    if r.stale:
        flags.append(f"classified under {r.classified_under}")
    if r.violations:
        flags.append(f"{r.violations} violation{'s' if r.violations != 1 else ''}")
    flags += [f"{o}" for o in obligations]
    flags += [f"waiver {req} ends {exp}" for req, exp in r.expiring_waivers]
    return [r.use_case, r.version, r.tier, r.stage, (format_time(r.since) or "")[:10], r.next_stage or "",
            r.unmet, obligations, [f"{req} until {exp}" for req, exp in r.expiring_waivers],
            "; ".join(flags) if r.attention else ""]


def text(rows: Sequence, width: int | None = None) -> str:
    if not rows:
        return "no registered use cases\n"
    width = width or shutil.get_terminal_size((120, 24)).columns
    table = [["use case", "version", "tier", "stage", "since", "next gate", "attention"]]
    for r in rows:
        c = _cells(r)
        blocked = f"{c[5]} ({len(r.unmet)} unmet)" if r.unmet else c[5]
        table.append([c[0], c[1], c[2], c[3], c[4], blocked, c[9]])
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


def json_report(rows: Sequence, policy) -> str:
    return readable({"policy": policy.identity(), "versions": [r.to_dict() for r in rows]}) + "\n"


def csv_report(rows: Sequence) -> str:
    return tables.csv_text(HEADERS, [_cells(r) for r in rows])


def markdown(rows: Sequence, policy) -> str:
    return f"## Model registry under {policy.name} {policy.version}\n\n" + tables.markdown(HEADERS, [_cells(r) for r in rows])


def html(rows: Sequence, policy) -> str:
    return tables.html_page("Model registry", HEADERS, [_cells(r) for r in rows],
                            f"Policy {policy.name} {policy.version}; click a column to sort.")


def history_text(entries: Sequence[dict]) -> str:
    lines = []
    for e in entries:
        detail = {k: v for k, v in e.items() if k not in ("seq", "hash", "recorded_at", "at", "type", "use_case",
                                                           "version", "actor", "answers")}
        if e["type"] == "registered":
            detail = {k: detail[k] for k in ("tier", "policy", "artifact", "sha256") if k in detail}
        if "policy" in detail and isinstance(detail["policy"], dict):
            detail["policy"] = f"{detail['policy'].get('name')} {detail['policy'].get('version')}"
        shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
                          for k, v in detail.items())
        lines.append(f"{e['at']}  #{e['seq']:<5} {e['version']:<8} {e['type']:<11} by {e['actor']}: {shown}")
    return "\n".join(lines) + ("\n" if lines else "no events\n")
