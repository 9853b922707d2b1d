"""`tiergate fmt`: print policies in the canonical layout, rewrite them, or check them."""
from __future__ import annotations

import sys

import click

from tiergate.language.load import format_source, read_policy
from tiergate.errors import TiergateError
from tiergate.fileio import write_atomic
from tiergate.cli.output import EXIT_FINDING, EXIT_INPUT, EXIT_OK, echo_diagnostics, plural


@click.command("fmt")
@click.argument("policies", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--write", "-w", is_flag=True, help="Rewrite the files in place (atomically).")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 when a file is not in the canonical layout.")
def command(policies: tuple[str, ...], write: bool, check: bool) -> None:
    """Print POLICIES in the canonical layout (two-space blocks, comments kept, meaning unchanged)."""
    if write and check:
        raise click.UsageError("--write and --check cannot be used together")
    unusable = False
    changed = []
    for path in policies:
        try:
            data = read_policy(path)
            formatted = format_source(data, path)
        except TiergateError as exc:
            echo_diagnostics(exc.diagnostics, exc.sources, err=True)
            unusable = True
            continue
        original = data.decode("utf-8", errors="replace").lstrip("\ufeff")
        if formatted != original:
            changed.append(path)
        if check:
            if formatted != original:
                click.echo(f"{path}: not formatted (run `tiergate fmt --write {path}`)")
        elif write:
            if formatted != original:
                try:
                    write_atomic(path, formatted)
                except OSError as exc:  # a link, a pipe, a device, a full disk: nothing written, said plainly
                    click.echo(f"tiergate: cannot rewrite {path}: {exc.strerror or exc}", err=True)
                    unusable = True
                    continue
                click.echo(f"reformatted {path}", err=True)
        else:
            click.echo(formatted, nl=False)
    if check and not unusable:
        if changed:
            click.echo(f"{plural(len(changed), 'file')} would be reformatted", err=True)
        else:
            click.echo(f"{plural(len(policies), 'file')} already formatted", err=True)
    if unusable:
        sys.exit(EXIT_INPUT)
    sys.exit(EXIT_FINDING if check and changed else EXIT_OK)
