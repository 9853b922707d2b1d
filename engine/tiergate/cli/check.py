"""`tiergate check`: may this model version enter this stage now? And did its history follow the policy?"""
from __future__ import annotations

import sys

import click

from tiergate.cli.remote import server_option
from tiergate.errors import TiergateError
from tiergate.reports import formats, render
from tiergate.cli.output import (
    EXIT_INPUT,
    echo_diagnostics,
    emit,
    format_choice,
    load_policy_or_exit,
    policy_option,
    time_value,
)


@click.command("check")
@server_option
@policy_option
@click.option("--answers", type=click.Path(dir_okay=False, path_type=str),
              help="The use case's answers file (decides its tier; with --ledger, default: the registered answers).")
@click.option("--events", "events_path", type=click.Path(dir_okay=False, path_type=str),
              help="Events: a YAML list or JSON Lines (.jsonl).")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=str),
              help="Read events (and the roster, and the answers) from this ledger instead of --events.")
@click.option("--use-case", "use_case", help="With --ledger and no --answers: the use case to check.")
@click.option("--roster", "roster_path", envvar="TIERGATE_ROSTER", show_envvar=True,
              type=click.Path(dir_okay=False, path_type=str), help="Who holds which roles (YAML).")
@click.option("--version", "version", help="The model version (default: the latest registered).")
@click.option("--to", "to", help="The stage the version asks to enter.")
@click.option("--mode", help="The deployment mode of that transition (shadow, canary, ab_test, full, ...).")
@click.option("--at", "at", callback=time_value, help="Evaluate at this time (RFC 3339; default: now).")
@click.option("--replay", is_flag=True, help="Judge every past transition and report violations.")
@click.option("--fail-on-warn", is_flag=True, help="Unmet recommendations and due obligations exit 1 too.")
@format_choice(*formats("CheckResult"))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to a file.")
def command(policy_path, answers, events_path, ledger_path, use_case, roster_path, version, to, mode, at, replay,
            fail_on_warn, fmt, output):
    """May a model version enter a stage now? Verdict, every requirement with its reason, obligations.

    Exit 0 when allowed and compliant; 1 when blocked, when the history has a violation, or an
    obligation is overdue or breached; 2 when an input is invalid. Any internal failure exits 2:
    nothing is ever allowed by accident.
    """
    if to is None and mode is not None:
        raise click.UsageError("--mode goes with --to")
    from tiergate.cli.remote import server_of

    remote = server_of()
    if remote is not None:
        _check_remote(remote, use_case, version, to, mode, at, replay, fail_on_warn, fmt, output)
    if bool(events_path) == bool(ledger_path):
        raise click.UsageError("give either --events FILE or --ledger FILE")
    if ledger_path is None and (answers is None or roster_path is None):
        raise click.UsageError("--events needs --answers and --roster")
    if ledger_path is not None and answers is None and use_case is None:
        raise click.UsageError("with --ledger, give --answers or --use-case")
    try:
        from tiergate.app.checking import check

        # (reading a ledger with no policy named: the one it holds in force judges)
        policy = load_policy_or_exit(policy_path) if policy_path or not ledger_path else None
        result = check(policy, answers=answers, events=events_path, roster=roster_path, ledger=ledger_path,
                       use_case=use_case, version=version, to=to, mode=mode, at=at, replay=replay)
        emit(render(result, fmt), output)
        code = result.exit_code(fail_on_warn)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, exc.sources, err=True)
        click.echo("tiergate: nothing was checked, so nothing is allowed", err=True)
        sys.exit(EXIT_INPUT)
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001 - fail closed: an internal error must never let a version through
        click.echo(f"tiergate: internal error during the check: {type(exc).__name__}: {exc}", err=True)
        click.echo("tiergate: nothing was decided, so nothing is allowed", err=True)
        sys.exit(EXIT_INPUT)
    sys.exit(code)


def _check_remote(remote, use_case, version, to, mode, at, replay, fail_on_warn, fmt, output) -> None:
    """`check --server URL`: the service judges from its ledger, logs the decision, and writes the report this
    command would; the exit code is the one it would end with."""
    from tiergate.cli.ledger import _local_only
    from tiergate.cli.remote import problem_exit
    from tiergate.inputs.events import format_time

    _local_only("--policy", "--answers", "--events", "--ledger", "--roster")
    if use_case is None:
        raise click.UsageError("with --server, give --use-case")
    body = {"use_case": use_case, "version": version, "to": to, "mode": mode,
            "at": format_time(at) if at else None, "replay": replay or None}
    status, answer = remote.call("POST", "/v1/check", {k: v for k, v in body.items() if v is not None},
                                 {"format": fmt, "fail_on_warn": "true" if fail_on_warn else None})
    if status != 200 or not isinstance(answer, dict) or "report" not in answer:
        problem_exit(answer, f"the server answered {status}", written="nothing was checked, so nothing is allowed")
    emit(answer["report"], output)
    code = answer.get("exit_code")
    sys.exit(code if code in (0, 1) else EXIT_INPUT)

