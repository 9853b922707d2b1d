"""A model's timeline (`tiergate history`): who did what, when, under which policy version."""
from __future__ import annotations

import json

from tiergate.jsoncodec import readable
from tiergate.reports import escape


def as_text(history) -> str:
    lines = []
    for e in history.entries:
        detail = {k: v for k, v in e.items() if k not in ("seq", "hash", "recorded_at", "at", "type", "use_case",
                                                           "version", "actor", "answers")}
        if e["type"] == "registered":
            detail = {k: detail[k] for k in ("tier", "policy", "because", "artifact", "sha256") if k in detail}
        elif e["type"] == "reclassified":  # (the tier's history: from, to, under which policy, and why)
            detail = {k: detail[k] for k in ("from_tier", "to_tier", "policy", "because") if k in detail}
        elif e["type"] == "policy_adopted":  # (its sources are for `tiergate policy show`)
            detail = {"policy": detail.get("policy"), "questionnaire": (detail.get("questionnaire") or {}).get("sha256",
                                                                                                         "")[:12]}
        if "policy" in detail and isinstance(detail["policy"], dict):
            detail["policy"] = f"{detail['policy'].get('name')} {detail['policy'].get('version')}"
        shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
                          for k, v in detail.items())
        lines.append(f"{e['at']}  #{e['seq']:<5} {e['version']:<8} {e['type']:<11} by {e['actor']}: {shown}")
    return escape.lines(lines) + ("\n" if lines else "no events\n")  # each line one line, whatever its values hold


def as_json(history) -> str:
    return escape.json_text(readable(list(history.entries))) + "\n"
