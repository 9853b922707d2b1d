"""Classification results as text for people, JSON, CSV and Markdown."""
from __future__ import annotations

import json
from collections import Counter
from typing import Sequence

from tiergate.decide.classify import Classification
from tiergate.jsoncodec import readable
from tiergate.reports import escape
from tiergate.reports import tabular as tables


def _values(answers: dict) -> str:
    return ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in answers.items())


def _by_stage(requirements) -> dict[str, list]:
    groups: dict[str, list] = {}
    for r in requirements:
        groups.setdefault(r.stage or "not allowed when", []).append(r)
    return groups


def stage_order(policy, tier_name: str, requirements) -> list[tuple[str, list]]:
    """Requirements grouped by stage, in the order of the tier's workflow."""
    stages = list(policy.workflow_of(tier_name).stages)
    groups = _by_stage(requirements)
    ordered = [s for s in stages if s in groups] + [s for s in groups if s not in stages]
    return [(s, groups[s]) for s in ordered]


def requirement_line(r) -> str:
    return f"{r.text}  [{r.id}, line {r.loc.line}]"


def text_one(c: Classification) -> str:
    lines = [f"{c.use_case}: {c.tier}" + (f"  ({c.title})" if c.title else "")]
    deciding = c.deciding
    if deciding is not None:
        lines.append(f"  why: {deciding.because or 'rule matched'}")
        lines.append(f"       {deciding.file}:{deciding.line}  {_values(deciding.answers)}")
    else:
        lines.append(f"  why: no rule matched, so the floor tier `{c.tier}` applies "
                     f"({c.policy.floor_loc.file}:{c.policy.floor_loc.line})")
    others = [m for m in c.matched if m is not deciding]
    if others:
        lines.append("  also matched:")
        for m in others:
            lines.append(f"    {m.tier}: {m.because or 'rule matched'} ({m.file}:{m.line})")
    if c.forbidden:
        lines.append(f"  FORBIDDEN in tier {c.tier}:")
        for m in c.forbidden:
            lines.append(f"    {m.because or m.id} ({m.file}:{m.line})  {_values(m.answers)}")
    requirements = c.requirements
    lines.append(f"  requirements ({len(requirements)}):")
    for stage, group in stage_order(c.policy, c.tier, requirements):
        lines.append(f"    {stage}:")
        for r in group:
            lines.append(f"      {requirement_line(r)}")
    not_applying = c.not_applying
    if not_applying:
        lines.append(f"  not applying to this use case ({len(not_applying)}; their `when` does not hold):")
        for r in not_applying:
            lines.append(f"    {requirement_line(r)}")
    lines.append(f"  policy: {c.policy.name} {c.policy.version} (sha256 {c.policy.sha256[:12]})")
    return escape.lines(lines) + "\n"


def as_text(run) -> str:
    """One use case in full when a single file was asked for, else one line per use case."""
    if run.single and run.results:
        return text_one(run.results[0])
    return text_many(run.results)


def text_many(results: Sequence[Classification]) -> str:
    if not results:
        return ""
    width_tier = max(len(c.tier) for c in results)
    width_case = max(len(c.use_case) for c in results)
    lines = []
    for c in results:
        d = c.deciding
        why = (d.because or "rule matched") + f" ({d.file}:{d.line})" if d is not None else "no rule matched (floor tier)"
        flag = "  FORBIDDEN: " + "; ".join(m.because or m.id for m in c.forbidden) if c.forbidden else ""
        lines.append(f"{c.tier:<{width_tier}}  {c.use_case:<{width_case}}  {why}{flag}")
    return escape.lines(lines) + "\n"


def summary(run) -> str:
    """One line for standard error after the text report of many files."""
    results, policy = run.results, run.policy
    errors = len({d.location.file for d in run.errors})
    counts = Counter(c.tier for c in results)
    parts = [f"{counts[t.name]} {t.name}" for t in reversed(policy.tiers) if counts[t.name]]
    text = f"{len(results)} use case{'s' if len(results) != 1 else ''} classified"
    if parts:
        text += ": " + ", ".join(parts)
    forbidden = sum(1 for c in results if c.forbidden)
    if forbidden:
        text += f"; {forbidden} forbidden in their tier"
    if errors:
        text += f"; {errors} file{'s' if errors != 1 else ''} could not be classified"
    return text


def as_json(run) -> str:
    results, errors, single = run.results, run.errors, run.single
    if single and results and not errors:
        return escape.json_text(readable(results[0].to_dict())) + "\n"
    data = {"classifications": [c.to_dict() for c in results], "errors": [d.to_dict() for d in errors]}
    return escape.json_text(readable(data)) + "\n"


HEADERS = ["use_case", "title", "tier", "because", "rule", "forbidden", "requirements"]


def _rows(results: Sequence[Classification]):
    for c in results:
        d = c.deciding
        yield [c.use_case, c.title, c.tier, d.because if d else "no rule matched (floor tier)",
               f"{d.file}:{d.line}" if d else f"{c.policy.floor_loc.file}:{c.policy.floor_loc.line}",
               [m.id for m in c.forbidden], len(c.requirements)]


def as_csv(run) -> str:
    return tables.csv_text(HEADERS, list(_rows(run.results)))


def as_markdown(run) -> str:
    results, errors, policy = run.results, run.errors, run.policy
    out = [f"## Classification under {escape.markdown(policy.name)} {escape.markdown(policy.version)}\n",
           tables.markdown(HEADERS, list(_rows(results)))]
    if errors:
        out.append("\n### Could not be classified\n")
        out.extend(f"- `{escape.markdown(d.location)}` {d.code}: {escape.markdown(d.message)}\n" for d in errors)
    return "".join(out)
