"""`classify`: use cases from their answers files into the policy's tiers, every file reported."""
from __future__ import annotations

from typing import Callable, Sequence

from tiergate.app.results import Classified
from tiergate.language.policy import Policy


def answer_files(paths: Sequence[str]) -> list:
    """The answers files named, and every *.yaml / *.yml under the directories named, sorted."""
    from tiergate.inputs.answers import find_answer_files

    return find_answer_files(paths)


def classify_files(policy: Policy, files: Sequence, *, single: bool = False,
                   progress: Callable[[int], None] | None = None) -> Classified:
    """Read, validate and classify each file; a file that cannot be classified is reported, the others still are."""
    from tiergate.decide.classify import classify_all
    from tiergate.inputs.answers import load_answer_files

    loaded, errors = load_answer_files(files, policy, progress)
    results, unclassified = classify_all(policy, loaded)
    return Classified(policy, results, tuple(errors) + tuple(unclassified), single)


def classify_document(policy: Policy, document) -> Classified:
    """One answers document (a mapping, as a request body carries it), checked against the policy's questionnaire
    and classified; every problem raises TiergateError naming the answer (`$.answers.audience`)."""
    from tiergate.decide.classify import classify
    from tiergate.errors import Diagnostic, Location, TiergateError
    from tiergate.inputs.answers import validate_answers

    if not isinstance(document, dict):
        raise TiergateError(Diagnostic("E301", "an answers document is a mapping with use_case, title, owner and "
                                               "answers", Location("<request>")))
    answers = validate_answers(document, policy.questionnaire, "<request>")
    return Classified(policy, [classify(policy, answers)], (), single=True)
