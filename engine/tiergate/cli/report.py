"""`tiergate report`: the auditor's report of a model version, as one self-contained HTML file (or JSON)."""
from __future__ import annotations

import sys

import click

from tiergate.cli.output import EXIT_INPUT, echo_diagnostics, emit, format_choice, load_policy_or_exit, time_value
from tiergate.errors import TiergateError
from tiergate.reports import formats, render


@click.command("report")
@click.argument("use_case")
@click.argument("version")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", show_envvar=True,
              type=click.Path(dir_okay=False, path_type=str),
              help="Ledger file or URL (default .tiergate/ledger.db).")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=str),
              help="Judge the present under this policy (default: the one the ledger holds in force at --at).")
@click.option("--at", "at", callback=time_value,
              help="The report as of this time (RFC 3339; default: now), between the ledger's first event and now.")
@format_choice(*formats("AuditReport"))
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False, path_type=str),
              help="Write the report to this file, atomically (default: standard output).")
def command(use_case, version, ledger_path, policy_path, at, fmt, out):
    """The auditor's report of VERSION of USE_CASE: one HTML file that needs nothing else, to read or print to PDF.

    Verdict first; then its classification and why, the policy versions in force over its life (with their
    SHA-256), every gate it passed with the evidence and sign-offs that met it then, waivers, obligations, the
    violations a replay of its history finds, and the ledger's head with how to verify it.

    Exit 0 when the report is written, whatever it finds; 2 when an input is unusable (a use case or version
    not registered, a ledger or policy that cannot be read).
    """
    from tiergate.app.auditreport import audit_report
    from tiergate.app.recording import open_ledger

    policy = load_policy_or_exit(policy_path) if policy_path else None
    try:
        with open_ledger(ledger_path, create=False, readonly=True) as ledger:
            report = audit_report(ledger, policy, use_case, version, at)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, exc.sources, err=True)
        click.echo("tiergate: no report was written", err=True)
        sys.exit(EXIT_INPUT)
    emit(render(report, fmt), out)
