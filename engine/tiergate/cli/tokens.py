"""`tiergate token`: issue, revoke and list the access tokens of the service (run where the ledger is)."""
from __future__ import annotations

from datetime import timedelta

import click

from tiergate.cli.ledger import _Context, ledger_options, reading
from tiergate.cli.output import emit, format_choice
from tiergate.reports import formats, render


def _lifetime(ctx, param, value: str | None) -> timedelta | None:
    """`90d`, `12h`, `2w`: a number and a unit (m, h, d, w, y), as the policy language writes durations."""
    if value is None:
        return None
    from tiergate.language.builder import DURATION_UNITS

    text = value.strip()
    if len(text) < 2 or text[-1] not in DURATION_UNITS or not text[:-1].isdigit() or int(text[:-1]) == 0:
        raise click.BadParameter(f"{value!r} is not a duration: write a whole number and a unit, such as 90d, 12h, "
                                 "2w (units m, h, d, w, y)")
    return timedelta(seconds=int(text[:-1]) * DURATION_UNITS[text[-1]])


@click.group("token")
def token():
    """Access tokens of the service: each names one person of the roster; the ledger keeps only its hash."""


@token.command("create")
@click.argument("person")
@click.option("--expires", callback=_lifetime, help="How long it is valid, e.g. 90d (default: until revoked).")
@ledger_options
def create(person, expires, ledger_path, policy_path, roster_path, actor, at):
    """Issue a token to PERSON and print it, this once: it is not stored and cannot be shown again."""
    from tiergate.app.tokens import issue

    ctx = _Context(ledger_path, policy_path, roster_path, actor, at, create=False)
    done = issue(ctx.ledger, ctx.policy, person, actor=ctx.actor, at=ctx.at, expires=expires)
    body = done.recorded.body
    until = f"until {body['expires']}" if "expires" in body else "until revoked"
    click.echo(f"token {body['token_id']} for {body['person']}, {until} (#{done.recorded.seq}); it is shown once:",
               err=True)
    click.echo(done.token)


@token.command("revoke")
@click.argument("token_id")
@ledger_options
def revoke(token_id, ledger_path, policy_path, roster_path, actor, at):
    """Withdraw the token TOKEN_ID (from `tiergate token list`): from now on it authenticates nobody."""
    from tiergate.app.tokens import revoke as do

    ctx = _Context(ledger_path, policy_path, roster_path, actor, at, create=False)
    done = do(ctx.ledger, ctx.policy, token_id, actor=ctx.actor, at=ctx.at)
    click.echo(f"token {done.body['token_id']} revoked (#{done.seq}, {done.hash[:12]})")


@token.command("list")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
@format_choice(*formats("TokenList"))
def list_(ledger_path, fmt):
    """Every token issued: its id, person, who issued it, when it expires or was revoked (never the token)."""
    from tiergate.app.results import TokenList
    from tiergate.app.tokens import tokens

    with reading(ledger_path) as ledger:
        emit(render(TokenList(tuple(tokens(ledger))), fmt))
