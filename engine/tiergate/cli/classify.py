"""`tiergate classify`: classify use cases from their answers files."""
from __future__ import annotations

import sys

import click

from tiergate.decide.classify import classify_all
from tiergate.inputs.answers import find_answer_files, load_answer_files
from tiergate.reports import classification as report
from tiergate.cli.output import (
    EXIT_FINDING,
    EXIT_INPUT,
    EXIT_OK,
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
@format_choice("text", "json", "csv", "markdown")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to a file.")
def command(answers: tuple[str, ...], policy_path: str | None, fmt: str, output: str | None) -> None:
    """Classify the use cases in ANSWERS (files, or directories of *.yaml) into the policy's tiers.

    Exit 0 when all are classified and allowed, 1 when a use case is forbidden in its tier,
    2 when a file could not be classified (the others are still classified and reported).
    """
    policy = load_policy_or_exit(policy_path)
    files = find_answer_files(answers)
    if not files:
        click.echo(f"tiergate: no answers files (*.yaml, *.yml) in {', '.join(answers)}", err=True)
        sys.exit(EXIT_INPUT)
    sources: dict = {}
    if sys.stderr.isatty() and len(files) >= PROGRESS_FROM:
        with click.progressbar(length=len(files), label="classifying", file=sys.stderr, show_pos=True) as bar:
            loaded, errors = load_answer_files(files, policy, bar.update)
    else:
        loaded, errors = load_answer_files(files, policy)
    results, unclassified = classify_all(policy, loaded)
    errors += unclassified
    single = len(answers) == 1 and len(files) == 1
    if fmt == "json":
        emit(report.json_report(results, errors, single), output)
    elif fmt == "csv":
        emit(report.csv_report(results), output)
    elif fmt == "markdown":
        emit(report.markdown_report(results, errors, policy), output)
    else:
        emit((report.text_one(results[0]) if single and results else report.text_many(results)), output)
    if errors:
        echo_diagnostics(errors, sources, err=True)
    if fmt == "text" and not single:
        click.echo(report.summary(results, len({d.location.file for d in errors}), policy), err=True)
    if errors:
        sys.exit(EXIT_INPUT)
    sys.exit(EXIT_FINDING if any(c.forbidden for c in results) else EXIT_OK)
