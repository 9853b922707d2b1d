"""`tiergate diff`: the impact of a policy change, before it is merged."""
from __future__ import annotations

import sys

import click

from tiergate.errors import TiergateError
from tiergate.reports import formats, render
from tiergate.cli.output import (
    EXIT_FINDING,
    EXIT_INPUT,
    EXIT_OK,
    echo_diagnostics,
    emit,
    format_choice,
    load_policy_or_exit,
    time_value,
)


@click.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, path_type=str))
@click.argument("new", type=click.Path(dir_okay=False, path_type=str))
@click.option("--use-cases", "use_cases", type=click.Path(exists=True, path_type=str),
              help="Answers files (a directory): every use case's tier and requirements, old against new.")
@click.option("--events", "events_path", type=click.Path(dir_okay=False, path_type=str),
              help="Events: which versions become non-compliant (needs --use-cases and --roster).")
@click.option("--roster", "roster_path", envvar="TIERGATE_ROSTER", type=click.Path(dir_okay=False, path_type=str),
              help="Who holds which roles (with --events).")
@click.option("--at", "at", callback=time_value, help="Judge versions at this time (default: now).")
@click.option("--fail-on-change", is_flag=True, help="Exit 1 when anything changed.")
@format_choice(*formats("DiffResult"))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to a file.")
def command(old, new, use_cases, events_path, roster_path, at, fail_on_change, fmt, output):
    """Compare policy OLD with NEW: the policy change, and with --use-cases its impact on each use case."""
    from tiergate.app.policies import diff

    if events_path and not (use_cases and roster_path):
        raise click.UsageError("--events needs --use-cases and --roster")
    old_policy, new_policy = load_policy_or_exit(old), load_policy_or_exit(new)
    try:
        result = diff(old_policy, new_policy, use_cases=use_cases, events=events_path, roster=roster_path, at=at)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, exc.sources, err=True)
        sys.exit(EXIT_INPUT)
    emit(render(result, fmt), output)
    sys.exit(EXIT_FINDING if fail_on_change and result.changed else EXIT_OK)
