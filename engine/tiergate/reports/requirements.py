"""A tier's requirements (`tiergate requirements`), inheritance resolved, grouped by stage."""
from __future__ import annotations

from tiergate.jsoncodec import readable


def as_json(listing) -> str:
    from tiergate.decide.classify import requirement_dict

    policy, t = listing.policy, listing.tier
    data = {"policy": policy.identity(), "tier": t.name, "workflow": t.workflow,
            "requirements": [{**requirement_dict(r), "declared_in": r.tier} for r in t.requirements]}
    return readable(data) + "\n"


def as_text(listing, markdown: bool = False) -> str:
    t = listing.tier
    out = [f"## Tier {t.name}\n" if markdown else
           f"tier {t.name} (workflow {t.workflow}): {len(t.requirements)} requirements"]
    for stage, group in listing.groups:
        out.append(f"\n### {stage}\n" if markdown else f"  {stage}:")
        for r in group:
            origin = f", from tier {r.tier}" if r.tier != t.name else ""
            if markdown:
                out.append(f"- `{r.id}` — {r.text} (line {r.loc.line}{origin})")
            else:
                out.append(f"    {r.text}  [{r.id}, line {r.loc.line}{origin}]")
    return "\n".join(out) + "\n"


def as_markdown(listing) -> str:
    return as_text(listing, markdown=True)
