"""`tiergate classify`: classify use cases from their answers files."""
from __future__ import annotations

import sys

import click

from tiergate.app.classifying import answer_files, classify_files
from tiergate.reports import formats, render
from tiergate.cli.output import (
    EXIT_INPUT,
    echo_diagnostics,
    emit,
    format_choice,
    load_policy_or_exit,
    policy_option,
)

PROGRESS_FROM = 50  # files; fewer finish before a bar would be worth drawing


@click.command("classify")
@click.argument("answers", nargs=-1, required=True, type=click.Path(path_type=str))
@policy_option
@format_choice(*formats("Classified"))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to a file.")
def command(answers: tuple[str, ...], policy_path: str | None, fmt: str, output: str | None) -> None:
    """Classify the use cases in ANSWERS (files, or directories of *.yaml) into the policy's tiers.

    Exit 0 when all are classified and allowed, 1 when a use case is forbidden in its tier,
    2 when a file could not be classified (the others are still classified and reported).
    """
    policy = load_policy_or_exit(policy_path)
    files = answer_files(answers)
    if not files:
        click.echo(f"tiergate: no answers files (*.yaml, *.yml) in {', '.join(answers)}", err=True)
        sys.exit(EXIT_INPUT)
    single = len(answers) == 1 and len(files) == 1
    if sys.stderr.isatty() and len(files) >= PROGRESS_FROM:
        with click.progressbar(length=len(files), label="classifying", file=sys.stderr, show_pos=True) as bar:
            run = classify_files(policy, files, single=single, progress=bar.update)
    else:
        run = classify_files(policy, files, single=single)
    emit(render(run, fmt), output)
    if run.errors:
        echo_diagnostics(run.errors, {}, err=True)
    if fmt == "text" and not single:
        from tiergate.reports.classification import summary

        click.echo(summary(run), err=True)
    sys.exit(run.exit_code)
