"""`tiergate test`: run the YAML test cases of policies."""
from __future__ import annotations

import sys

import click

from tiergate.app.policies import test
from tiergate.reports import formats, render
from tiergate.cli.output import EXIT_FINDING, EXIT_INPUT, EXIT_OK, echo_diagnostics, emit, format_choice


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=str))
@format_choice(*formats("TestRun"))
@click.option("--coverage", is_flag=True, help="List the classify rules and requirements no case exercised.")
@click.option("--coverage-min", type=click.FloatRange(0, 100), help="Fail (exit 1) when coverage is below PCT.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to a file.")
def command(paths, fmt, coverage, coverage_min, output):
    """Run policy tests: *_test.yaml files found under PATHS (default: the working directory).

    Exit 0 when every case passes, 1 when one fails (or coverage is below --coverage-min),
    2 when a test file or a case's inputs cannot be used (the other files and cases still run).
    """
    run = test(list(paths))
    emit(render(run, fmt, coverage=coverage or coverage_min is not None), output)
    if run.errors:
        echo_diagnostics(run.errors, err=True)
    if not run.results and not run.errors:
        click.echo("tiergate: no *_test.yaml files found", err=True)
        sys.exit(EXIT_INPUT)
    if run.unusable:
        sys.exit(EXIT_INPUT)
    if run.failed:
        sys.exit(EXIT_FINDING)
    if coverage_min is not None:
        low = {f: c["percent"] for f, c in run.coverage().items() if c["percent"] < coverage_min}
        if low:
            for f, pct in low.items():
                click.echo(f"coverage of {f} is {pct:.0f}%, below the {coverage_min:g}% required", err=True)
            sys.exit(EXIT_FINDING)
    sys.exit(EXIT_OK)
