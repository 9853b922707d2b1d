"""Shared pieces of the command line: options, diagnostic printing with colour on terminals, exits."""
from __future__ import annotations

import json
import sys
from typing import Iterable

import click

from ..errors import MAX_SHOWN, Diagnostic, TiergateError

EXIT_OK, EXIT_FINDING, EXIT_INPUT = 0, 1, 2


def _colour(text: str) -> str:
    head, _, rest = text.partition("\n")
    if "error[" in head:
        head = head.replace("error[", click.style("error", fg="red", bold=True) + "[", 1)
    elif "warning[" in head:
        head = head.replace("warning[", click.style("warning", fg="yellow", bold=True) + "[", 1)
    return head + ("\n" + rest if rest else "")


def echo_diagnostics(diagnostics: Iterable[Diagnostic], sources: dict | None = None, err: bool = False,
                     cap: int = MAX_SHOWN) -> None:
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    sources = sources or {}
    for d in ordered[:cap]:
        click.echo(_colour(d.render(sources.get(d.location.file))), err=err)
    if len(ordered) > cap:
        click.echo(f"... and {len(ordered) - cap} more problems not shown", err=err)


def echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def fail_input(exc: TiergateError) -> None:
    """Report unusable input on standard error and exit 2."""
    echo_diagnostics(exc.diagnostics, exc.sources, err=True)
    sys.exit(EXIT_INPUT)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


format_option = click.option
