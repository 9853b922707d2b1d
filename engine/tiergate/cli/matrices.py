"""`tiergate matrix`, `tiergate raci`, `tiergate requirements` and `tiergate graph`: what a policy asks, as tables."""
from __future__ import annotations

import sys

import click

from tiergate.errors import did_you_mean
from tiergate.jsoncodec import readable
from tiergate.reports import graph as graph_report
from tiergate.reports import matrix as matrix_report
from tiergate.reports import tabular as tables
from tiergate.cli.output import EXIT_INPUT, emit, format_choice, load_policy_or_exit, policy_option

output_option = click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str),
                             help="Write the report to a file.")


def _table(fmt: str, title: str, headers, rows, meta: str, json_data=None) -> str:
    if fmt == "csv":
        return tables.csv_text(headers, rows)
    if fmt == "json":
        return readable(json_data if json_data is not None else tables.records(headers, rows)) + "\n"
    if fmt == "html":
        return tables.html_page(title, headers, rows, meta)
    return f"## {title}\n\n{meta}\n\n" + tables.markdown(headers, rows)


def _meta(policy) -> str:
    return f"Policy {policy.name} {policy.version} ({policy.file}, sha256 {policy.sha256[:12]})"


@click.command("matrix")
@policy_option
@format_choice("markdown", "csv", "json", "html")
@click.option("--attributes", is_flag=True, help="Add the tiers' attributes (key: value lines) as columns.")
@click.option("--use-cases", "use_cases", type=click.Path(exists=True, path_type=str),
              help="One row per use case in this directory instead of one per tier.")
@output_option
def matrix(policy_path, fmt, attributes, use_cases, output):
    """The matrix of tiers x governance considerations: the measures each tier requires."""
    policy = load_policy_or_exit(policy_path)
    if use_cases:
        from tiergate.decide.classify import classify_all
        from tiergate.inputs.answers import find_answer_files, load_answer_files
        from tiergate.cli.output import echo_diagnostics

        loaded, errors = load_answer_files(find_answer_files([use_cases]), policy)
        results, unclassified = classify_all(policy, loaded)
        errors += unclassified
        headers, rows = matrix_report.use_case_matrix(policy, results)
        emit(_table(fmt, "Use cases by tier and consideration", headers, rows, _meta(policy)), output)
        if errors:
            echo_diagnostics(errors, err=True)
            sys.exit(EXIT_INPUT)
        return
    headers, rows = matrix_report.tier_matrix(policy, attributes)
    data = matrix_report.tier_matrix_json(policy, attributes) if fmt == "json" else None
    emit(_table(fmt, "Governance measures by tier", headers, rows, _meta(policy), data), output)


@click.command("raci")
@policy_option
@format_choice("markdown", "csv", "json", "html")
@output_option
def raci(policy_path, fmt, output):
    """The policy's RACI matrix: tasks x roles (A accountable, R responsible, C consulted, I informed)."""
    policy = load_policy_or_exit(policy_path)
    headers, rows = matrix_report.raci_matrix(policy)
    emit(_table(fmt, "RACI matrix", headers, rows, _meta(policy)), output)


def _tier_or_exit(policy, name):
    if name not in policy.tier_names:
        hint = did_you_mean(name, policy.tier_names, "tiers")
        click.echo(f"tiergate: unknown tier `{name}`" + (f"; {hint}" if hint else ""), err=True)
        sys.exit(EXIT_INPUT)
    return policy.tier(name)


@click.command("requirements")
@click.argument("tier")
@policy_option
@format_choice("text", "json", "markdown")
def requirements(tier, policy_path, fmt):
    """Every requirement of TIER, inheritance resolved, grouped by stage, with ids and source lines."""
    from tiergate.decide.classify import requirement_dict
    from tiergate.reports.classification import stage_order

    policy = load_policy_or_exit(policy_path)
    t = _tier_or_exit(policy, tier)
    groups = stage_order(policy, t.name, t.requirements)
    if fmt == "json":
        data = {"policy": policy.identity(), "tier": t.name, "workflow": t.workflow,
                "requirements": [{**requirement_dict(r), "declared_in": r.tier} for r in t.requirements]}
        click.echo(readable(data))
        return
    md = fmt == "markdown"
    out = [f"## Tier {t.name}\n" if md else f"tier {t.name} (workflow {t.workflow}): {len(t.requirements)} requirements"]
    for stage, group in groups:
        out.append(f"\n### {stage}\n" if md else f"  {stage}:")
        for r in group:
            origin = f", from tier {r.tier}" if r.tier != t.name else ""
            if md:
                out.append(f"- `{r.id}` — {r.text} (line {r.loc.line}{origin})")
            else:
                out.append(f"    {r.text}  [{r.id}, line {r.loc.line}{origin}]")
    click.echo("\n".join(out))


@click.command("graph")
@click.argument("workflow", required=False)
@policy_option
@click.option("--tier", help="Show this tier's gates (default: the highest tier that uses the workflow).")
@format_choice("mermaid", "dot")
@output_option
def graph(workflow, policy_path, tier, fmt, output):
    """The WORKFLOW (default: the policy's first) with each gate's requirements on the edges into its stage."""
    policy = load_policy_or_exit(policy_path)
    name = workflow or policy.default_workflow
    if name not in policy.workflows:
        hint = did_you_mean(name, list(policy.workflows), "workflows")
        click.echo(f"tiergate: unknown workflow `{name}`" + (f"; {hint}" if hint else ""), err=True)
        sys.exit(EXIT_INPUT)
    wf = policy.workflows[name]
    t = _tier_or_exit(policy, tier) if tier else graph_report.default_tier(policy, wf)
    render = graph_report.dot if fmt == "dot" else graph_report.mermaid
    emit(render(policy, wf, t), output)
