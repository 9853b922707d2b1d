"""Shared pieces of the command line: options, diagnostic printing with colour on terminals, exits."""
from __future__ import annotations

import sys
from typing import Iterable

import click

from tiergate.errors import EXIT_FINDING, EXIT_INPUT, MAX_SHOWN, Diagnostic, TiergateError, render_all
from tiergate.jsoncodec import readable

#: Exit statuses; EXIT_FINDING and EXIT_INPUT come from tiergate.errors, whose registry gives each code its class.
EXIT_OK = 0


def _colour(text: str) -> str:
    head, _, rest = text.partition("\n")
    if "error[" in head:
        head = head.replace("error[", click.style("error", fg="red", bold=True) + "[", 1)
    elif "warning[" in head:
        head = head.replace("warning[", click.style("warning", fg="yellow", bold=True) + "[", 1)
    return head + ("\n" + rest if rest else "")


def echo_diagnostics(diagnostics: Iterable[Diagnostic], sources: dict | None = None, err: bool = False,
                     cap: int = MAX_SHOWN) -> None:
    """Print diagnostics as render_all words them, the severity in colour on a terminal."""
    text = render_all(diagnostics, sources, cap, paint=_colour)
    if text:
        click.echo(text, err=err)


def echo_json(data) -> None:
    click.echo(readable(data))


def fail_input(exc: TiergateError) -> None:
    """Report unusable input on standard error and exit 2."""
    echo_diagnostics(exc.diagnostics, exc.sources, err=True)
    sys.exit(EXIT_INPUT)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def policy_option(func):
    """--policy PATH, shared by every command that reads a policy (default: the shipped default pack)."""
    return click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=str), default=None,
                        envvar="TIERGATE_POLICY", show_envvar=True,
                        help="Policy file (default: the shipped mlops-default pack).")(func)


def load_policy_or_exit(path: str | None):
    from tiergate.language.load import load_policy

    try:
        return load_policy(path)
    except TiergateError as exc:
        click.echo("tiergate: the policy cannot be used:", err=True)
        fail_input(exc)


def format_choice(*choices: str, default: str | None = None):
    return click.option("--format", "fmt", type=click.Choice(choices), default=default or choices[0], show_default=True,
                        help="Output format.")


def emit(text: str, output: str | None = None) -> None:
    """Write a report to standard output, or atomically to a file: a new one, or a regular file it replaces (a
    link, a directory, a pipe or a device there is refused with exit 2, and nothing is written)."""
    if output:
        from tiergate.fileio import write_atomic
        from tiergate.reports.escape import text as shown

        try:
            write_atomic(output, text)
        except OSError as exc:
            click.echo(f"tiergate: cannot write {shown(output)}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_INPUT)
        click.echo(f"wrote {shown(output)}", err=True)
    else:
        click.echo(text, nl=False)


def time_value(ctx, param, value):
    """The callback of a time option (--at, --until): an RFC 3339 time with an offset, as a datetime."""
    if value is None:
        return None
    from tiergate.inputs.events import OUT_OF_RANGE, parse_time

    parsed = parse_time(value)
    if parsed is None:
        if parse_time(value, any_range=True) is not None:
            raise click.BadParameter(f"{value!r} {OUT_OF_RANGE}")
        raise click.BadParameter(f"{value!r} is not an RFC 3339 time with an offset (e.g. 2026-03-01T09:30:00Z)")
    return parsed
