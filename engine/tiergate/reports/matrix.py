"""The tier x consideration matrix, the RACI matrix and per-use-case matrices, as tables."""
from __future__ import annotations

from typing import Sequence

from tiergate.language.policy import Policy, Requirement, Tier


def short(r: Requirement) -> str:
    """A requirement's text without the leading `require` (recommendations keep their word)."""
    return r.text[len("require "):] if r.text.startswith("require ") else r.text


def _columns(policy: Policy) -> list[tuple[str, str, set[str]]]:
    """(id, title, covered kinds) per consideration, plus `other` when a requirement is covered by none."""
    columns = [(c.id, c.title, set(c.kinds)) for c in policy.considerations]
    covered = set().union(*(kinds for _, _, kinds in columns)) if columns else set()
    used = {r.covers for t in policy.tiers for r in t.requirements}
    if used - covered - {"forbid"}:
        columns.append(("other", "Other", used - covered - {"forbid"}))
    if "forbid" in used:
        columns.append(("forbidden", "Not allowed when", {"forbid"}))
    return columns


def attribute_keys(policy: Policy) -> list[str]:
    keys: dict[str, None] = {}
    for tier in policy.tiers:
        for key in tier.attributes:
            keys.setdefault(key, None)
    return list(keys)


def cells(tier: Tier, kinds: set[str]) -> list[Requirement]:
    return [r for r in tier.requirements if r.covers in kinds]


def tier_matrix(policy: Policy, attributes: bool = False) -> tuple[list[str], list[list]]:
    columns = _columns(policy)
    keys = attribute_keys(policy) if attributes else []
    headers = ["tier", *keys, *(title for _, title, _ in columns)]
    rows = []
    for tier in policy.tiers:
        row: list = [tier.name, *(tier.attributes.get(k) for k in keys)]
        row.extend([short(r) for r in cells(tier, kinds)] for _, _, kinds in columns)
        rows.append(row)
    return headers, rows


def tier_matrix_json(policy: Policy, attributes: bool = False) -> dict:
    columns = _columns(policy)
    keys = attribute_keys(policy) if attributes else []
    return {
        "policy": policy.identity(),
        "considerations": [{"id": cid, "title": title} for cid, title, _ in columns],
        "tiers": [
            {"tier": t.name,
             **({"attributes": {k: t.attributes.get(k) for k in keys}} if attributes else {}),
             "cells": {cid: [{"id": r.id, "severity": r.severity, "text": r.text, "line": r.loc.line,
                             **({"signed": True} if r.signed else {}),
                             **({"independent_of": list(r.independent_of)} if r.independent_of else {}),
                             **({"recorded_by": list(r.recorded_by)} if r.recorded_by else {})}
                             for r in cells(t, kinds)] for cid, _, kinds in columns}}
            for t in policy.tiers
        ],
    }


def use_case_matrix(policy: Policy, classifications: Sequence) -> tuple[list[str], list[list]]:
    columns = _columns(policy)
    headers = ["use_case", "tier", "because", "rule", *(title for _, title, _ in columns)]
    rows = []
    for c in classifications:
        d = c.deciding
        tier = policy.tier(c.tier)
        rows.append([c.use_case, c.tier, d.because if d else "no rule matched (floor tier)",
                     f"{d.file}:{d.line}" if d else f"{policy.floor_loc.file}:{policy.floor_loc.line}",
                     *(len(cells(tier, kinds)) for _, _, kinds in columns)])
    return headers, rows


def raci_roles(policy: Policy) -> list[str]:
    used = {role for row in policy.raci for role, _ in row.cells}
    return [r for r in policy.roles if r in used]


def raci_matrix(policy: Policy) -> tuple[list[str], list[list]]:
    roles = raci_roles(policy)
    rows = []
    for row in policy.raci:
        letters = dict(row.cells)
        rows.append([row.task, *(letters.get(role, "") for role in roles)])
    return ["task", *roles], rows
