"""`tiergate kpis`: the governance KPIs of a ledger at a time (app/kpis.py), in the format asked for."""
from __future__ import annotations

import click

from tiergate.cli.ledger import reading
from tiergate.cli.output import emit, format_choice, load_policy_or_exit, time_value
from tiergate.reports import formats, render


@click.command("kpis")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", show_envvar=True,
              type=click.Path(dir_okay=False, path_type=str), help="Ledger file or URL (default .tiergate/ledger.db).")
@click.option("--policy", "policy_path", envvar="TIERGATE_POLICY", type=click.Path(dir_okay=False, path_type=str),
              help="Policy file (default: the one the ledger holds in force at --at).")
@click.option("--at", "at", callback=time_value, help="The time asked about (RFC 3339; default: now).")
@click.option("--since", "since", callback=time_value,
              help="Count what happened from this time on (RFC 3339; default: the whole history).")
@format_choice(*formats("Kpis"))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write to this file.")
def command(ledger_path, policy_path, at, since, fmt, output):
    """Governance KPIs: versions by tier and stage, days to production, sign-off waits, blocked promotions,
    violations, obligations, waivers, reclassifications, versions in production without a current review.

    Exit codes: 0 the KPIs were computed, 2 unusable input (no ledger, a time it cannot answer for)."""
    from tiergate.app.kpis import kpis

    policy = load_policy_or_exit(policy_path) if policy_path else None
    with reading(ledger_path) as ledger:
        result = kpis(ledger, policy, at, since)
    emit(render(result, fmt), output)
