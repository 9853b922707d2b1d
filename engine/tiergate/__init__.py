"""tiergate: policy-as-code governance for machine-learning use cases.

The public API, in one place. Everything else in the package is internal and may change.

    import tiergate

    policy = tiergate.load_policy("policies/mlops-default.policy")
    answers = tiergate.load_answers("examples/use-cases/card-fraud-scoring.yaml", policy)
    print(tiergate.classify(policy, answers).tier)                    # critical

Names load on first use (PEP 562), so `import tiergate` costs little and a program pays only for what it calls.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Iterable

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.version import __version__

#: public name -> the module that defines it (loaded when the name is first used)
_LAZY = {
    # policies
    "Policy": "tiergate.language.policy",
    "LintResult": "tiergate.language.load",
    "load_policy": "tiergate.language.load",
    "compile_policy": "tiergate.language.load",
    "lint_file": "tiergate.language.load",
    "lint_source": "tiergate.language.load",
    "format_source": "tiergate.language.load",
    # inputs
    "Answers": "tiergate.inputs.answers",
    "load_answers": "tiergate.inputs.answers",
    "Event": "tiergate.inputs.events",
    "EventLog": "tiergate.inputs.events",
    "Roster": "tiergate.inputs.events",
    "load_events": "tiergate.inputs.events",
    "load_roster": "tiergate.inputs.events",
    # decisions
    "Classification": "tiergate.decide.classify",
    "CheckResult": "tiergate.decide.check",
    # the ledger
    "Ledger": "tiergate.ledger.service",
    # reports
    "render": "tiergate.reports",
    "formats": "tiergate.reports",
}

__all__ = sorted([*_LAZY, "Diagnostic", "Location", "TiergateError", "__version__", "classify", "classify_many",
                  "check", "open_ledger"])

if TYPE_CHECKING:  # for type checkers and editors; at run time the names load lazily
    from tiergate.decide.check import CheckResult
    from tiergate.decide.classify import Classification
    from tiergate.inputs.answers import Answers, load_answers
    from tiergate.inputs.events import Event, EventLog, Roster, load_events, load_roster
    from tiergate.language.load import LintResult, compile_policy, format_source, lint_file, lint_source, load_policy
    from tiergate.language.policy import Policy
    from tiergate.ledger.service import Ledger
    from tiergate.reports import formats, render


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tiergate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _answers(policy, answers, validated: bool):
    """An Answers object from an Answers, a whole answers document (a mapping) or a path; validated against the
    policy's questionnaire unless the caller says it has been."""
    from pathlib import Path

    from tiergate.inputs.answers import Answers, load_answers, validate_answers

    if isinstance(answers, (str, Path)):
        return load_answers(answers, policy)  # validated as it is read
    if not isinstance(answers, Answers):
        if not isinstance(answers, dict):
            raise TiergateError(Diagnostic("E301", f"answers must be an Answers, a mapping or a path, not "
                                                   f"{type(answers).__name__}", Location("<answers>")))
        answers = validate_answers(answers, policy.questionnaire) if not validated else Answers(
            "<answers>", str(answers.get("use_case", "")), str(answers.get("title", "")),
            str(answers.get("owner", "")), answers.get("answers") or {})
    elif not validated:
        validate_answers(answers.to_dict(), policy.questionnaire, answers.file, answers.document)
    return answers


def classify(policy, answers, *, validated: bool = False):
    """The tier of one use case, the rules that decided it, its forbids and requirements (a Classification).

    `answers` is what `load_answers` returns, a whole answers document (`{"use_case": …, "answers": {…}}`) or the
    path of an answers file. It is checked against the policy's questionnaire first, as the command line does: a
    value the questionnaire does not allow raises TiergateError naming the answer, never gives a tier.
    `validated=True` skips that check for answers the caller has validated already.
    """
    from tiergate.decide.classify import classify as decide

    return decide(policy, _answers(policy, answers, validated))


def classify_many(policy, answers: Iterable, *, validated: bool = False) -> tuple[list, list[Diagnostic]]:
    """Classify many use cases: (classifications, diagnostics). One that cannot be used or classified is reported
    in the diagnostics and the others are still classified."""
    from tiergate.decide.classify import classify_all

    usable, problems = [], []
    for item in answers:
        try:
            usable.append(_answers(policy, item, validated))
        except TiergateError as exc:
            problems.extend(exc.diagnostics)
    results, unclassified = classify_all(policy, usable)
    return results, problems + unclassified


def check(policy, answers, events, roster, *, version: str | None = None, to: str | None = None,
          mode: str | None = None, at=None, replay: bool = False, validated: bool = False):
    """May `version` of the use case enter stage `to` at time `at` (default now)? With `replay`, every past
    transition is judged too. Returns a CheckResult (`verdict`, `failing`, `exit_code()`, `to_dict()`).

    `answers` as for `classify`; `events` an EventLog (`load_events`) or the path of an events file; `roster` a
    Roster (`load_roster`) or the path of a roster file. Answers are validated unless `validated=True`.
    """
    from pathlib import Path

    from tiergate.decide.check import check as judge
    from tiergate.inputs.events import load_events, load_roster

    if isinstance(events, (str, Path)):
        events = load_events(events)
    if isinstance(roster, (str, Path)):
        roster = load_roster(roster)
    return judge(policy, _answers(policy, answers, validated), events, roster, version=version, to=to, mode=mode,
                 at=at, replay=replay)


def open_ledger(where: str | None = None, *, create: bool = True, readonly: bool = False):
    """The ledger at a path or URL (default: $TIERGATE_LEDGER, else .tiergate/ledger.db); use it in a `with`."""
    from tiergate.app.recording import open_ledger as opened

    return opened(where, create=create, readonly=readonly)
