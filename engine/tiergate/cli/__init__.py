"""The `tiergate` command line: a thin layer that parses options, calls the library and sets exit codes.

Commands are imported only when run, so that `tiergate lint` does not pay for what `check` needs.
"""
from __future__ import annotations

import importlib
import os
import sys

import click

from tiergate.version import __version__

#: command name -> (module under tiergate.cli, one-line help)
COMMANDS = {
    "lint": ("lint", "Check policy files and report every problem with its location."),
    "fmt": ("fmt", "Print policy files in the canonical layout, or rewrite them."),
    "classify": ("classify", "Classify use cases into tiers from their answers files, with reasons."),
    "requirements": ("matrices:requirements", "Every requirement of a tier, grouped by stage."),
    "matrix": ("matrices:matrix", "The tier x governance-consideration matrix of required measures."),
    "raci": ("matrices:raci", "The policy's RACI matrix (tasks x roles)."),
    "graph": ("matrices:graph", "A workflow with its gates, as Mermaid or Graphviz dot."),
    "check": ("check", "May a model version enter a stage now? Verdict, reasons, exit code for CI."),
    "doc": ("doc", "Documentation generated from a policy (Markdown or HTML)."),
    "diff": ("policydiff", "The impact of a policy change on use cases and deployed versions."),
    "register": ("ledger:register", "Register a model version in the ledger (classified under the policy)."),
    "evidence": ("ledger:evidence", "Record evidence (metrics) for a model version."),
    "signoff": ("ledger:signoff", "Record a sign-off (approve or reject) for a gate."),
    "waive": ("ledger:waive", "Record a waiver of a requirement, until a time."),
    "monitor": ("ledger:monitor", "Record a monitoring result."),
    "review": ("ledger:review", "Record a periodic review."),
    "retire": ("ledger:retire", "Retire a model version."),
    "promote": ("ledger:promote", "Move a version into a stage, only when its gate is met."),
    "import": ("ledger:import_", "Import an events file into the ledger, whole or not at all."),
    "export": ("ledger:export", "Export the ledger's events (JSON Lines or YAML)."),
    "status": ("ledger:status", "The registry: every model version, where it stands, what needs attention."),
    "history": ("ledger:history", "The timeline of a model in the ledger."),
    "kpis": ("kpis", "Governance KPIs of the ledger: tiers x stages, time to production, waits, violations..."),
    "reclassify": ("ledger:reclassify", "Classify every registered use case again under the current policy."),
    "roster": ("ledger:roster", "The roster stored in the ledger (import)."),
    "policy": ("ledger:policy", "The policy versions the ledger holds (adopt, log, show)."),
    "key": ("keys:key", "Ed25519 signing keys (generate): approvals signed by their approver."),
    "attest": ("attest:attest", "Offline bundles of a version's signed approvals (export, verify)."),
    "token": ("tokens:token", "Access tokens of the service (create, revoke, list)."),
    "serve": ("serve", "Serve the HTTP API (the `server` extra): many teams, one ledger, people by their tokens."),
    "audit": ("ledger:audit", "Verify the ledger's hash chain, print its head, or record a signed checkpoint."),
    "test": ("policytest", "Run a policy's YAML test cases (classification and gates), with coverage."),
    "report": ("report", "The auditor's report of a model version: one self-contained HTML file to print."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module_name, _, attribute = COMMANDS[name][0].partition(":")
        module = importlib.import_module(f"{__name__}.{module_name}")
        return getattr(module, attribute or "command")

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tiergate")
def main() -> None:
    """tiergate: policy-as-code governance for machine-learning use cases.

    Exit codes: 0 success or allowed, 1 a policy finding (lint error, blocked gate,
    violation, failing test), 2 unusable input or usage.
    """


def run() -> None:
    """Entry point: any unexpected failure exits 2 with a short message, never 0 (fail closed)."""
    from tiergate.language.gcpause import allow_pauses

    allow_pauses()  # one command in one thread: reading a large policy may pause the collector
    try:
        main.main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("tiergate: interrupted", err=True)
        sys.exit(130)
    except BaseException as exc:  # noqa: BLE001 - the last line of defence: never exit 0 on a crash
        if os.environ.get("TIERGATE_DEBUG"):
            raise
        click.echo(f"tiergate: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("tiergate: nothing was decided; set TIERGATE_DEBUG=1 to see where it failed", err=True)
        sys.exit(2)
