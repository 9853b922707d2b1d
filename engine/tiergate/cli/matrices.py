"""`tiergate matrix`, `tiergate raci`, `tiergate requirements` and `tiergate graph`: what a policy asks, as tables."""
from __future__ import annotations

import sys

import click

from tiergate.app import policies
from tiergate.cli.output import EXIT_INPUT, emit, format_choice, load_policy_or_exit, policy_option
from tiergate.reports import formats, render

output_option = click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str),
                             help="Write the report to a file.")


def _or_exit(lookup, *args):
    """A tier or workflow looked up by name; an unknown name exits 2 with the closest one named."""
    try:
        return lookup(*args)
    except policies.UnknownName as exc:
        click.echo(f"tiergate: {exc}", err=True)
        sys.exit(EXIT_INPUT)


@click.command("matrix")
@policy_option
@format_choice(*formats("Table"))
@click.option("--attributes", is_flag=True, help="Add the tiers' attributes (key: value lines) as columns.")
@click.option("--use-cases", "use_cases", type=click.Path(exists=True, path_type=str),
              help="One row per use case in this directory instead of one per tier.")
@output_option
def matrix(policy_path, fmt, attributes, use_cases, output):
    """The matrix of tiers x governance considerations: the measures each tier requires."""
    policy = load_policy_or_exit(policy_path)
    if use_cases:
        from tiergate.cli.output import echo_diagnostics

        table, errors = policies.use_case_matrix(policy, use_cases)
        emit(render(table, fmt), output)
        if errors:
            echo_diagnostics(errors, err=True)
            sys.exit(EXIT_INPUT)
        return
    emit(render(policies.tier_matrix(policy, attributes), fmt), output)


@click.command("raci")
@policy_option
@format_choice(*formats("Table"))
@output_option
def raci(policy_path, fmt, output):
    """The policy's RACI matrix: tasks x roles (A accountable, R responsible, C consulted, I informed)."""
    emit(render(policies.raci(load_policy_or_exit(policy_path)), fmt), output)


@click.command("requirements")
@click.argument("tier")
@policy_option
@format_choice(*formats("TierRequirements"))
def requirements(tier, policy_path, fmt):
    """Every requirement of TIER, inheritance resolved, grouped by stage, with ids and source lines."""
    policy = load_policy_or_exit(policy_path)
    emit(render(_or_exit(policies.requirements, policy, tier), fmt))


@click.command("graph")
@click.argument("workflow", required=False)
@policy_option
@click.option("--tier", help="Show this tier's gates (default: the highest tier that uses the workflow).")
@format_choice(*formats("WorkflowGraph"))
@output_option
def graph(workflow, policy_path, tier, fmt, output):
    """The WORKFLOW (default: the policy's first) with each gate's requirements on the edges into its stage."""
    policy = load_policy_or_exit(policy_path)
    emit(render(_or_exit(policies.graph, policy, workflow, tier), fmt), output)
