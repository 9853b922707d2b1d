"""`tiergate serve`: the HTTP API on this machine (the `server` extra: Starlette and uvicorn)."""
from __future__ import annotations

import sys

import click

from tiergate.cli.output import EXIT_INPUT, echo_diagnostics
from tiergate.errors import TiergateError


class _Duration(click.ParamType):
    """A time span written as a number and a unit: 30s, 15m, 1h, 1d."""

    name = "duration"
    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip()
        unit = self.UNITS.get(text[-1:]) if text else None
        try:
            amount = float(text[:-1]) if unit is not None else None
        except ValueError:
            amount = None
        if unit is None or amount is None or not 0 < amount * unit < 10 ** 9:
            self.fail(f"{value!r} is not a duration: write a number and s, m, h or d (e.g. 1h)", param, ctx)
        return amount * unit


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (loopback by default: put a reverse proxy that terminates TLS in front).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", show_envvar=True, default=".tiergate/ledger.db",
              show_default=True, help="The ledger: a path, sqlite:///PATH or postgresql://…")
@click.option("--policy", "policy_path", envvar="TIERGATE_POLICY", show_envvar=True,
              type=click.Path(dir_okay=False, path_type=str),
              help="The policy (default: the one the ledger holds in force, else the shipped default pack).")
@click.option("--admin-role", default="governance_admin", show_default=True,
              help="The role whose holders may administer the service over the API.")
@click.option("--max-body", default=1 << 20, show_default=True, type=click.IntRange(1),
              help="The largest request body read, in bytes (413 past it).")
@click.option("--connections", default=10, show_default=True, type=click.IntRange(1),
              help="The most connections to the ledger the server keeps open; requests beyond them wait (on "
                   "PostgreSQL, every server's share of max_connections).")
@click.option("--checkpoint-every", "checkpoint_every", type=_Duration(), metavar="DURATION",
              help="Record a signed checkpoint of the ledger at this interval (e.g. 1h, 15m, 1d) when anything was "
                   "recorded since the last; needs --checkpoint-key.")
@click.option("--checkpoint-key", "checkpoint_key", envvar="TIERGATE_CHECKPOINT_KEY", show_envvar=True,
              type=click.Path(dir_okay=False, path_type=str), metavar="KEYFILE",
              help="The operator's private key the checkpoints are signed with (its public key in the roster).")
def command(host, port, ledger_path, policy_path, admin_role, max_body, connections, checkpoint_every,
            checkpoint_key):
    """Serve the HTTP API: every /v1 request carries a bearer token from `tiergate token create`."""
    if (checkpoint_every is None) != (checkpoint_key is None):
        raise click.UsageError("--checkpoint-every and --checkpoint-key go together")
    try:
        import uvicorn

        from tiergate.server import Settings, create_app
    except ImportError as exc:
        click.echo(f"tiergate: the service needs the `server` extra ({exc.name} is missing): "
                   "pip install 'tiergate[server]'", err=True)
        sys.exit(EXIT_INPUT)
    try:
        app = create_app(Settings(ledger_path, policy_path, admin_role, max_body, connections, checkpoint_every,
                                  checkpoint_key))
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, exc.sources, err=True)
        click.echo("tiergate: the service did not start", err=True)
        sys.exit(EXIT_INPUT)
    if checkpoint_every is not None:  # (what the server says of its checkpoints goes beside uvicorn's log)
        import logging

        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        logging.getLogger("tiergate.server.checkpoints").addHandler(handler)
        logging.getLogger("tiergate.server.checkpoints").setLevel(logging.INFO)
    uvicorn.run(app, host=host, port=port, log_level="info")
