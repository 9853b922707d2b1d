"""`tiergate check`: may this model version enter this stage now? And did its history follow the policy?"""
from __future__ import annotations

import sys

import click

from ..errors import TiergateError
from .output import EXIT_INPUT, echo_diagnostics, emit, format_choice, load_policy_or_exit, policy_option

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
    from ..events import parse_time

    parsed = parse_time(value)
    if parsed is None:
        raise click.BadParameter(f"{value!r} is not an RFC 3339 time with an offset (e.g. 2026-03-01T09:30:00Z)")
    return parsed


@click.command("check")
@policy_option
@click.option("--answers", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="The use case's answers file (decides its tier).")
@click.option("--events", "events_path", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="Events: a YAML list or JSON Lines (.jsonl).")
@click.option("--roster", "roster_path", required=True, envvar="TIERGATE_ROSTER", show_envvar=True,
              type=click.Path(dir_okay=False, path_type=str), help="Who holds which roles (YAML).")
@click.option("--version", "version", help="The model version (default: the latest registered).")
@click.option("--to", "to", help="The stage the version asks to enter.")
@click.option("--mode", help="The deployment mode of that transition (shadow, canary, ab_test, full, ...).")
@click.option("--at", "at", callback=_time, help="Evaluate at this time (RFC 3339; default: now).")
@click.option("--replay", is_flag=True, help="Judge every past transition and report violations.")
@click.option("--fail-on-warn", is_flag=True, help="Unmet recommendations and due obligations exit 1 too.")
@format_choice("text", "json", "junit", "sarif", "github", "markdown")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to a file.")
def command(policy_path, answers, events_path, roster_path, version, to, mode, at, replay, fail_on_warn, fmt, output):
    """May a model version enter a stage now? Verdict, every requirement with its reason, obligations.

    Exit 0 when allowed and compliant; 1 when blocked, when the history has a violation, or an
    obligation is overdue or breached; 2 when an input is invalid. Any internal failure exits 2:
    nothing is ever allowed by accident.
    """
    if to is None and mode is not None:
        raise click.UsageError("--mode goes with --to")
    try:
        import importlib

        from ..check import check
        from ..events import load_events, load_roster
        from ..questionnaire import load_answers

        policy = load_policy_or_exit(policy_path)
        problems, loaded = [], {}
        for name, loader, path in (("answers", lambda p: load_answers(p, policy), answers),
                                   ("events", load_events, events_path), ("roster", load_roster, roster_path)):
            try:
                loaded[name] = loader(path)
            except TiergateError as exc:
                problems.extend(exc.diagnostics)
        if problems:
            raise TiergateError(problems)
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
