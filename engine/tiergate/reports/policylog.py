"""The policy versions a ledger holds (`tiergate policy log`): who adopted which version when, and which is in force."""
from __future__ import annotations

import json

from tiergate.inputs.events import format_time
from tiergate.reports import escape


def as_text(log) -> str:
    if not log.adoptions:
        return "no policy version adopted yet: the first recording command adopts its policy\n"
    lines = []
    for a in log.adoptions:
        mark = "  (in force)" if a is log.in_force else ""
        lines.append(f"{format_time(a.at)}  #{a.seq:<5} {a.name} {a.version}  "
                     f"sha256 {a.sha256[:12]}  questionnaire {a.questionnaire_sha256[:12]}  by {a.actor}{mark}")
    return escape.lines(lines) + "\n"


def as_json(log) -> str:
    document = [{**a.to_dict(), "in_force": a is log.in_force} for a in log.adoptions]
    return escape.json_text(json.dumps(document, ensure_ascii=False, indent=2)) + "\n"
