"""A workflow with each gate's requirements on the edges into its stage, as Mermaid or Graphviz dot."""
from __future__ import annotations

import re

from tiergate.language.policy import Policy, Tier, Workflow
from tiergate.reports import escape


def _node_id(stage: str) -> str:
    """`s_` and the stage's name (the prefix keeps Mermaid keywords such as `end` usable as stage names); a
    character outside [A-Za-z0-9_], which the policy language does not allow in a name, as `_<hex>_`."""
    if _NOT_ID.search(stage) is not None:
        stage = _NOT_ID.sub(lambda m: f"_{ord(m.group()):x}_", stage)
    return f"s_{stage}"


_NOT_ID = re.compile(r"[^A-Za-z0-9_]")


def mermaid(policy: Policy, workflow: Workflow, tier: Tier | None) -> str:
    """Mermaid; names in labels go through escape.mermaid (stage names in node ids are the grammar's names)."""
    label_text = escape.mermaid
    lines = ["flowchart LR"]
    for stage in workflow.stages:
        after = [label_text(r.id) for r in tier.requirements if r.relation == "after" and r.stage == stage] \
            if tier else []
        label = label_text(stage) + ("<br/><i>" + "<br/>".join(after) + "</i>" if after else "")
        shape = f'(["{label}"])' if stage == workflow.start else f'["{label}"]'
        lines.append(f"  {_node_id(stage)}{shape}")
    for a, b in workflow.edges:
        gate = tier.gate(b) if tier else ()
        if gate:
            text = "<br/>".join(("~ " if not r.blocking else "") + label_text(r.id) for r in gate)
            lines.append(f'  {_node_id(a)} -->|"{text}"| {_node_id(b)}')
        else:
            lines.append(f"  {_node_id(a)} --> {_node_id(b)}")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    """A dot string of our own text joining values escaped by escape.text (whose line breaks are ours)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(policy: Policy, workflow: Workflow, tier: Tier | None) -> str:
    text = escape.text
    title = text(f"{policy.name} {policy.version}: workflow {workflow.name}" + (f", tier {tier.name}" if tier else ""))
    lines = [f"digraph {escape.dot(workflow.name)} {{", "  rankdir=LR;", f"  label={_dot_quote(title)};",
             "  node [shape=box, style=rounded];"]
    for stage in workflow.stages:
        after = [text(r.id) for r in tier.requirements if r.relation == "after" and r.stage == stage] if tier else []
        label = text(stage) + ("\n" + "\n".join(after) if after else "")
        extra = ", peripheries=2" if stage == workflow.start else ""
        lines.append(f"  {escape.dot(stage)} [label={_dot_quote(label)}{extra}];")
    for a, b in workflow.edges:
        gate = tier.gate(b) if tier else ()
        label = "\n".join(("~ " if not r.blocking else "") + text(r.id) for r in gate)
        attr = f" [label={_dot_quote(label)}]" if label else ""
        lines.append(f"  {escape.dot(a)} -> {escape.dot(b)}{attr};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def default_tier(policy: Policy, workflow: Workflow) -> Tier | None:
    """The highest tier that uses the workflow: its gates are the fullest picture."""
    users = [t for t in policy.tiers if (t.workflow or policy.default_workflow) == workflow.name]
    return users[-1] if users else None


def as_mermaid(g) -> str:
    """A WorkflowGraph result as Mermaid."""
    return mermaid(g.policy, g.workflow, g.tier)


def as_dot(g) -> str:
    """A WorkflowGraph result as Graphviz dot."""
    return dot(g.policy, g.workflow, g.tier)
