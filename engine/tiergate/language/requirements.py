"""Requirement kinds as data: how each kind is named, identified, written and which measure it covers."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable

from tiergate.language import conditions
from tiergate.language import ast


def _names(names) -> str:
    return ", ".join(str(n) for n in names)


def _where(node: ast.RequirementNode) -> str:
    return f" where {conditions.to_text(node.where)}" if node.where is not None else ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "rule"


def _signoff_id(node) -> str:
    roles = ("|" if node.any_of else "+").join(str(r) for r in node.roles)
    return f"signoff:{node.count}x{roles}@{node.stage}" if node.count > 1 else f"signoff:{roles}@{node.stage}"


def _signoff_text(node) -> str:
    independent = f" independent of {_names(node.independent_of)}" if node.independent_of else ""
    if node.count > 1:
        return f"{node.count} signoffs from {_names(node.roles)} before {node.stage}{independent}"
    any_of = "any of " if node.any_of else ""
    return f"signoff from {any_of}{_names(node.roles)} before {node.stage}{independent}"


def _evidence_text(node) -> str:
    for_part = f" for {_names(node.for_names)}" if node.for_names else ""
    recorded_by = f" recorded by {_names(node.recorded_by)}" if node.recorded_by else ""
    return f"evidence {node.subject}{_where(node)}{for_part}{recorded_by} before {node.stage}"


def _forbid_id(node) -> str:
    if node.because is not None:
        return f"forbid:{_slug(node.because.value)}"
    digest = hashlib.sha256(conditions.to_text(node.where).encode()).hexdigest()[:8]
    return f"forbid:{digest}"


def _forbid_text(node) -> str:
    because = f" because {node.because.text}" if node.because is not None else ""
    return f"when {conditions.to_text(node.where)}{because}"


@dataclass(frozen=True)
class Kind:
    """One requirement kind, as the language knows it. Deciding registers each kind's evaluator, decider and code by
    the same name (decide/gates/registry.py), with the hooks its `relation` needs."""

    name: str
    relation: str | None  # "before": a gate on entering the stage; "after": an obligation once there
    derive_id: Callable[[ast.RequirementNode], str]
    body_text: Callable[[ast.RequirementNode], str]
    covers: Callable[[ast.RequirementNode], str]  # the measure kind a consideration lists
    summary: str  # one line, for docs and help
    keyword: str = "require"  # forbid lines start with their own keyword
    #: what `signed` asks to be signed, in plain words ("sign-offs"); None: `signed` means nothing for the kind (its
    #: events are not signed by a person: a transition's mode, automated monitoring results, a forbid)
    signs: str | None = None


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("signoff", "before", _signoff_id, _signoff_text, lambda n: "signoff",
             "approving sign-offs by people holding the roles, before the version may enter the stage",
             signs="sign-offs"),
        Kind("evidence", "before", lambda n: f"evidence:{n.subject}@{n.stage}", _evidence_text, lambda n: str(n.subject),
             "recorded evidence whose metrics satisfy the condition, before the version may enter the stage",
             signs="evidence"),
        Kind("deployment", "before", lambda n: f"deployment@{n.stage}",
             lambda n: f"deployment in [{_names(n.modes)}] before {n.stage}", lambda n: "deployment",
             "the transition into the stage declares one of these deployment modes"),
        Kind("monitoring", "after", lambda n: f"monitoring:{n.subject}@{n.stage}",
             lambda n: f"monitoring {n.subject}{_where(n)} every {n.period.text} after {n.stage}", lambda n: str(n.subject),
             "monitoring results that arrive at least every period and satisfy the condition, once in the stage"),
        Kind("review", "after", lambda n: f"review:{'+'.join(str(r) for r in n.roles)}@{n.stage}",
             lambda n: f"review by {_names(n.roles)} every {n.period.text} after {n.stage}", lambda n: "review",
             "periodic re-validation by the roles, once in the stage", signs="reviews"),
        Kind("forbid", None, _forbid_id, _forbid_text, lambda n: "forbid",
             "a use case whose answers satisfy the condition is not allowed in this tier", keyword="forbid"),
    )
}


def requirement_id(node: ast.RequirementNode) -> str:
    """The id of a requirement: the one given with `as "ID"`, else derived from its content. A `when` condition
    takes part (`evidence:vendor_documentation@validation/when-1a2b3c4d`), so that the same measure under two
    conditions makes two requirements, and changing the condition changes the id."""
    if node.explicit_id is not None:
        return node.explicit_id.value
    derived = KINDS[node.kind].derive_id(node)
    if node.when is None:
        return derived
    return f"{derived}/when-{hashlib.sha256(conditions.to_text(node.when).encode()).hexdigest()[:8]}"


def when_text(node: ast.RequirementNode) -> str:
    return f" when {conditions.to_text(node.when)}" if node.when is not None else ""


def clauses_text(node: ast.RequirementNode) -> str:
    parts = []
    order = node.clause_order or tuple(c for c, v in (("waivable", node.waivable), ("as", node.explicit_id)) if v)
    for clause in order:
        if clause == "waivable" and node.waivable is not None:
            up_to = f" up to {node.waivable.up_to.text}" if node.waivable.up_to is not None else ""
            parts.append(f"waivable by {_names(node.waivable.roles)}{up_to}")
        elif clause == "as" and node.explicit_id is not None:
            parts.append(f"as {node.explicit_id.text}")
    return "".join(" " + p for p in parts)


def line_text(node: ast.RequirementNode) -> str:
    """The canonical source line of a requirement (without indentation)."""
    kind = KINDS[node.kind]
    lead = kind.keyword if kind.keyword == "forbid" else node.severity
    if node.signed is not None:
        lead += " signed"
    return f"{lead} {kind.body_text(node)}{when_text(node)}{clauses_text(node)}"


def drop_text(node: ast.Drop) -> str:
    return f"drop {node.target.text} because {node.because.text}"
