"""A tier's requirements (`tiergate requirements`), inheritance resolved, grouped by stage."""
from __future__ import annotations

from tiergate.jsoncodec import readable
from tiergate.reports import escape


def as_json(listing) -> str:
    from tiergate.decide.classify import requirement_dict

    policy, t = listing.policy, listing.tier
    data = {"policy": policy.identity(), "tier": t.name, "workflow": t.workflow,
            "requirements": [{**requirement_dict(r), "declared_in": r.tier} for r in t.requirements],
            "dropped": [{**requirement_dict(d.requirement), "declared_in": d.requirement.tier, "dropped_by": d.tier,
                         "because": d.because, "drop_line": d.loc.line} for d in t.dropped]}
    return escape.json_text(readable(data)) + "\n"


def as_text(listing, markdown: bool = False) -> str:
    t = listing.tier
    esc = escape.markdown if markdown else escape.text  # each line's text, before the Markdown's own line breaks
    out = [f"## Tier {esc(t.name)}\n" if markdown else
           esc(f"tier {t.name} (workflow {t.workflow}): {len(t.requirements)} requirements")]
    for stage, group in listing.groups:
        out.append(f"\n### {esc(stage)}\n" if markdown else esc(f"  {stage}:"))
        for r in group:
            origin = f", from tier {r.tier}" if r.tier != t.name else ""
            if markdown:
                out.append(esc(f"- `{r.id}` — {r.text} (line {r.loc.line}{origin})"))
            else:
                out.append(esc(f"    {r.text}  [{r.id}, line {r.loc.line}{origin}]"))
    if t.dropped:
        out.append("\n### Dropped\n" if markdown else esc("  dropped (inherited, left out):"))
        for d in t.dropped:
            r = d.requirement
            by = f"tier {d.tier}" if d.tier != t.name else "this tier"
            if markdown:
                out.append(esc(f"- `{r.id}` — {r.text} (from tier {r.tier}); dropped by {by} at line {d.loc.line}: "
                               f"{d.because}"))
            else:
                out.append(esc(f"    {r.text}  [{r.id}, from tier {r.tier}; dropped by {by}, line {d.loc.line}: "
                               f"{d.because}]"))
    return "\n".join(out) + "\n"


def as_markdown(listing) -> str:
    return as_text(listing, markdown=True)
