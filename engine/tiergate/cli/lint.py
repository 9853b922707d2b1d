"""`tiergate lint`: parse and compile policies, print every problem sorted by location."""
from __future__ import annotations

import sys

import click

from tiergate.language.load import lint_file
from tiergate.errors import CODES, TiergateError
from tiergate.cli.output import EXIT_FINDING, EXIT_INPUT, EXIT_OK, echo_diagnostics, echo_json, plural


@click.command("lint")
@click.argument("policies", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json: a list of {code, severity, file, line, column, message, hint}.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
def command(policies: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check POLICIES and report every problem as file:line:col: severity[CODE]: message."""
    results, unreadable = [], []
    for path in policies:
        try:
            results.append(lint_file(path))
        except TiergateError as exc:
            unreadable.extend(exc.diagnostics)
    diagnostics = [d for r in results for d in r.diagnostics] + unreadable
    if fmt == "json":
        echo_json([d.to_dict() for d in sorted(diagnostics, key=lambda d: d.sort_key())])
    else:
        echo_diagnostics(diagnostics, {r.file: r.source for r in results if r.source is not None})
        errors = sum(1 for d in diagnostics if d.is_error)
        warnings = len(diagnostics) - errors
        if diagnostics:
            click.echo(f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in {plural(len(policies), 'policy file')}",
                       err=True)
        else:
            click.echo(f"{plural(len(policies), 'policy file')}: no problems", err=True)
    if unreadable or any(_unusable(d.code) for d in diagnostics):
        sys.exit(EXIT_INPUT)
    if any(d.is_error for d in diagnostics) or (strict and diagnostics):
        sys.exit(EXIT_FINDING)
    sys.exit(EXIT_OK)


def _unusable(code: str) -> bool:
    """A code of a file that is no policy text at all (E001, E105, E106): exit 2, as for any unusable input."""
    registered = CODES.get(code)
    return registered is not None and registered.exit_class == EXIT_INPUT
