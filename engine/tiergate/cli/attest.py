"""`tiergate attest`: offline bundles of a version's signed approvals (export, verify)."""
from __future__ import annotations

import sys

import click

from tiergate.cli.output import EXIT_OK, echo_diagnostics, emit, plural
from tiergate.errors import EXIT_FINDING, EXIT_INPUT, TiergateError


@click.group("attest")
def attest():
    """Bundles that prove a version's signed approvals to someone with no access to the ledger."""


@attest.command("export")
@click.argument("use_case")
@click.argument("version")
@click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="The bundle file to write (JSON).")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
def export(use_case, version, out, ledger_path):
    """Write the bundle of a version: its signed envelopes, the policy and roster in force, the run of the chain
    they are in, and the signed checkpoint it ends at."""
    from tiergate.app.attest import export_bundle
    from tiergate.app.recording import open_ledger

    try:
        with open_ledger(ledger_path, create=False, readonly=True) as ledger:
            done = export_bundle(ledger, use_case, version)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, err=True)
        sys.exit(EXIT_INPUT)
    emit(done.text, out)
    others = done.last - done.first + 1 - done.own
    click.echo(f"the bundle holds events {done.first} to {done.last} ({plural(done.own, 'event')} of {use_case} "
               f"{version}, {plural(others, 'other')}: a hash chain proves an event only with every one between) "
               f"and the checkpoint of {done.checkpoint['at']} signed by {done.checkpoint['actor']}", err=True)


@attest.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=str))
@click.option("--roster", "roster_path", type=click.Path(dir_okay=False, path_type=str),
              help="A roster whose keys you trust: every signature must be by a key it gives that person.")
def verify(bundle, roster_path):
    """Check a bundle with no ledger: the chain to its checkpoint, the checkpoint's signature, every signed event;
    say which requirements each signed approval counts for. Exit 1 on any failure."""
    from tiergate.app.attest import verify_bundle

    try:
        verdict = verify_bundle(bundle, roster_path)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, err=True)
        sys.exit(EXIT_INPUT)
    name = f"{verdict.use_case} {verdict.version}"
    if not verdict.ok:
        click.echo(f"BUNDLE REFUSED: {name}: {plural(len(verdict.problems), 'problem')}")
        for problem in verdict.problems:
            click.echo(f"  - {problem}")
        sys.exit(EXIT_FINDING)
    click.echo(f"bundle verified: {name}, {plural(len(verdict.approvals), 'signed event')}, "
               f"{plural(verdict.count, 'event')} chained to a signed checkpoint")
    click.echo(f"  {verdict.checkpoint}")
    click.echo(f"  keys: {verdict.keys_from}")
    for a in verdict.approvals:
        click.echo(f"  #{a.seq} {a.what}, signed by {a.signer} (key {a.key_id})")
        for requirement in a.counts_for:
            click.echo(f"      counts for {requirement}")
        if not a.counts_for:
            click.echo("      counts for no requirement of the version's tier")
    sys.exit(EXIT_OK)
