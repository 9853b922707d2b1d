"""`tiergate key`: signing keys (generate)."""
from __future__ import annotations

import click

from tiergate.cli.output import fail_input
from tiergate.errors import TiergateError


@click.group("key")
def key():
    """Ed25519 signing keys: a person signs approvals with their private key; the roster holds the public key."""


@key.command("generate")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The file to write the private key to (PEM, mode 0600); never overwritten.")
def generate(out):
    """Make a key pair: write the private key to --out and print the public key's line for the roster's `keys:`."""
    from tiergate.app.keys import generate_key
    from tiergate.inputs.dsse import roster_line

    try:
        public = generate_key(out)
    except TiergateError as exc:
        fail_input(exc)
    click.echo(f"wrote the private key to {out} (mode 0600; keep it to yourself)", err=True)
    click.echo(roster_line(public))
