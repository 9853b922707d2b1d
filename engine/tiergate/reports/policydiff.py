"""`tiergate diff` results: a summary first, then the details; text, JSON and Markdown."""
from __future__ import annotations

from tiergate.jsoncodec import readable
from tiergate.authoring.policydiff import DiffResult, plural
from tiergate.reports import escape
from tiergate.reports import tabular as tables


def _ident(p) -> str:
    return f"{p.name} {p.version} ({p.file}, sha256 {p.sha256[:12]})"


def _policy_lines(result: DiffResult, bullet: str) -> list[str]:
    pc = result.policy
    out = []
    for t in pc.tiers_added:
        out.append(f"{bullet}tier added: {t}")
    for t in pc.tiers_removed:
        out.append(f"{bullet}tier removed: {t}")
    for r in pc.rules_added:
        out.append(f"{bullet}rule added: {r}")
    for r in pc.rules_removed:
        out.append(f"{bullet}rule removed: {r}")
    for label, table in (("added", pc.requirements_added), ("removed", pc.requirements_removed),
                         ("changed", pc.requirements_changed)):
        for tier, ids in table.items():
            for rid in ids:
                out.append(f"{bullet}tier {tier}: requirement {label}: {rid}")
    out.extend(f"{bullet}{change}" for change in pc.other)
    return out


def as_text(result: DiffResult) -> str:
    out = [result.headline(), f"old: {_ident(result.old)}", f"new: {_ident(result.new)}"]
    policy_lines = _policy_lines(result, "  ")
    if policy_lines:
        out.append("policy changes:")
        out.extend(policy_lines)
    moved = [u for u in result.use_cases if u.old_tier != u.new_tier]
    if moved:
        out.append("tier changes:")
        for u in moved:
            out.append(f"  {u.use_case}: {u.old_tier} -> {u.new_tier} ({u.direction}); "
                       f"{plural(len(u.added), 'requirement')} added, {len(u.removed)} removed")
    same = [u for u in result.use_cases if u.old_tier == u.new_tier and (u.added or u.removed)]
    if same:
        out.append("requirement changes in the same tier:")
        for u in same:
            parts = [f"+{i}" for i in u.added] + [f"-{i}" for i in u.removed]
            out.append(f"  {u.use_case} ({u.new_tier}): {', '.join(parts)}")
    if result.versions:
        out.append("versions:")
        for v in result.versions:
            why = f" ({', '.join(v.reasons)})" if v.reasons else ""
            out.append(f"  {v.use_case} {v.version} in {v.stage}: {v.before} -> {v.after}{why}")
    unchanged = sum(1 for u in result.use_cases if not u.changed)
    if result.with_use_cases:
        out.append(f"{unchanged} use case{'s' if unchanged != 1 else ''} unchanged")
    return escape.lines(out) + "\n"  # each line is one line, whatever its values hold


def as_json(result: DiffResult) -> str:
    return escape.json_text(readable(result.to_dict())) + "\n"


def as_markdown(result: DiffResult) -> str:
    md = escape.markdown
    out = [f"### Policy impact: {md(result.headline())}\n\n",
           f"- old: `{md(result.old.name)}` {md(result.old.version)} (sha256 `{result.old.sha256[:12]}`)\n",
           f"- new: `{md(result.new.name)}` {md(result.new.version)} (sha256 `{result.new.sha256[:12]}`)\n"]
    policy_lines = _policy_lines(result, "- ")
    if policy_lines:
        out.append("\n**Policy changes**\n\n" + "\n".join(map(md, policy_lines)) + "\n")
    changed = [u for u in result.use_cases if u.changed]
    if changed:
        out.append("\n**Use cases**\n\n")
        out.append(tables.markdown(["use case", "old tier", "new tier", "added", "removed"],
                                   [[u.use_case, u.old_tier, u.new_tier, ", ".join(u.added), ", ".join(u.removed)]
                                    for u in changed]))
    if result.versions:
        out.append("\n**Versions**\n\n")
        out.append(tables.markdown(["use case", "version", "stage", "before", "after", "why"],
                                   [[v.use_case, v.version, v.stage, v.before, v.after, ", ".join(v.reasons)]
                                    for v in result.versions]))
    return "".join(out)
