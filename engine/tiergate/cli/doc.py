"""`tiergate doc`: documentation generated from a policy, for every team to read."""
from __future__ import annotations

import click

from tiergate.reports.policydoc import build
from tiergate.reports import doc as render
from tiergate.cli.output import emit, format_choice, load_policy_or_exit


@click.command("doc")
@click.argument("policy", type=click.Path(dir_okay=False, path_type=str))
@format_choice("markdown", "html")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write to this file.")
def command(policy, fmt, output):
    """Documentation of POLICY: tiers, classification rules in words, requirements by stage, RACI, workflow."""
    compiled = load_policy_or_exit(policy)
    blocks = build(compiled)
    text = render.html_page(blocks, f"Policy {compiled.name} {compiled.version}") if fmt == "html" \
        else render.markdown(blocks)
    emit(text, output)
