"""`tiergate doc`: documentation generated from a policy, for every team to read."""
from __future__ import annotations

import click

from tiergate.app.policies import doc
from tiergate.reports import formats, render
from tiergate.cli.output import emit, format_choice, load_policy_or_exit


@click.command("doc")
@click.argument("policy", type=click.Path(dir_okay=False, path_type=str))
@format_choice(*formats("PolicyDoc"))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write to this file.")
def command(policy, fmt, output):
    """Documentation of POLICY: tiers, classification rules in words, requirements by stage, RACI, workflow."""
    emit(render(doc(load_policy_or_exit(policy)), fmt), output)
