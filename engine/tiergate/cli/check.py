"""`tiergate check`: may this model version enter this stage now? And did its history follow the policy?"""
from __future__ import annotations

import sys

import click

from tiergate.errors import TiergateError
from tiergate.cli.output import EXIT_INPUT, echo_diagnostics, emit, format_choice, load_policy_or_exit, policy_option

RENDERERS = {
    "text": ("check", "text"),
    "json": ("check", "json_report"),
    "markdown": ("check", "markdown"),
    "junit": ("ci", "junit"),
    "sarif": ("ci", "sarif"),
    "github": ("ci", "github"),
}


def _time(ctx, param, value):
    if value is None:
        return None
    from tiergate.inputs.events import parse_time

    parsed = parse_time(value)
    if parsed is None:
        raise click.BadParameter(f"{value!r} is not an RFC 3339 time with an offset (e.g. 2026-03-01T09:30:00Z)")
    return parsed


@click.command("check")
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
@click.option("--at", "at", callback=_time, help="Evaluate at this time (RFC 3339; default: now).")
@click.option("--replay", is_flag=True, help="Judge every past transition and report violations.")
@click.option("--fail-on-warn", is_flag=True, help="Unmet recommendations and due obligations exit 1 too.")
@format_choice("text", "json", "junit", "sarif", "github", "markdown")
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
    if bool(events_path) == bool(ledger_path):
        raise click.UsageError("give either --events FILE or --ledger FILE")
    if ledger_path is None and (answers is None or roster_path is None):
        raise click.UsageError("--events needs --answers and --roster")
    if ledger_path is not None and answers is None and use_case is None:
        raise click.UsageError("with --ledger, give --answers or --use-case")
    try:
        import importlib

        from tiergate.decide.check import check
        from tiergate.inputs.events import load_events, load_roster
        from tiergate.inputs.answers import load_answers

        policy = load_policy_or_exit(policy_path)
        problems, loaded = [], {}
        for name, loader, path in (("answers", lambda p: load_answers(p, policy), answers),
                                   ("events", load_events, events_path), ("roster", load_roster, roster_path)):
            if path is None:
                continue
            try:
                loaded[name] = loader(path)
            except TiergateError as exc:
                problems.extend(exc.diagnostics)
        if problems:
            raise TiergateError(problems)
        if ledger_path is not None:
            loaded.update(_from_ledger(ledger_path, use_case or loaded["answers"].use_case, loaded))
        result = check(policy, loaded["answers"], loaded["events"], loaded["roster"], version=version, to=to,
                       mode=mode, at=at, replay=replay)
        module, function = RENDERERS[fmt]
        render = getattr(importlib.import_module(f"..reports.{module}", __package__), function)
        emit(render(result), output)
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


def _from_ledger(path: str, use_case: str, loaded: dict) -> dict:
    """Events, and unless given, the roster and the registered answers, from a ledger."""
    from tiergate.errors import Diagnostic, Location
    from tiergate.ledger.actions import answers_of
    from tiergate.ledger.service import Ledger

    out = {}
    with Ledger(path, create=False, readonly=True) as ledger:
        out["events"] = ledger.events(use_case)
        if "roster" not in loaded:
            roster = ledger.roster()
            if roster is None:
                raise TiergateError(Diagnostic("E600", "the ledger holds no roster", Location(path),
                                               hint="give --roster FILE, or `tiergate roster import FILE`"))
            out["roster"] = roster
        if "answers" not in loaded:
            registration = ledger.registration(use_case)
            if registration is None:
                raise TiergateError(Diagnostic("E600", f"{use_case} is not registered in the ledger", Location(path)))
            out["answers"] = answers_of(registration)
    return out
