"""What a policy asks, for the people who read it: its documentation, its matrices, a tier's requirements, a
workflow's graph; and for its authors: the impact of a change (`diff`) and its test cases (`test`)."""
from __future__ import annotations

from datetime import datetime

from tiergate.app.results import PolicyDoc, Table, TierRequirements, WorkflowGraph
from tiergate.errors import TiergateError, did_you_mean
from tiergate.language.policy import Policy


class UnknownName(ValueError):
    """A tier or workflow the policy does not have; the message names the closest one."""


def _meta(policy: Policy) -> str:
    return f"Policy {policy.name} {policy.version} ({policy.file}, sha256 {policy.sha256[:12]})"


def tier_of(policy: Policy, name: str):
    if name not in policy.tier_names:
        hint = did_you_mean(name, policy.tier_names, "tiers")
        raise UnknownName(f"unknown tier `{name}`" + (f"; {hint}" if hint else ""))
    return policy.tier(name)


def doc(policy: Policy) -> PolicyDoc:
    """The policy in plain words: tiers, rules, requirements by stage, matrices, workflows."""
    from tiergate.reports.policydoc import build

    return PolicyDoc(f"Policy {policy.name} {policy.version}", build(policy))


def tier_matrix(policy: Policy, attributes: bool = False) -> Table:
    """Tiers x governance considerations: the measures each tier requires (with the tiers' attributes)."""
    from tiergate.reports import matrix

    headers, rows = matrix.tier_matrix(policy, attributes)
    return Table("Governance measures by tier", headers, rows, _meta(policy),
                 matrix.tier_matrix_json(policy, attributes))


def use_case_matrix(policy: Policy, directory: str) -> tuple[Table, list]:
    """One row per use case in `directory`, by tier and consideration; with the files that could not be used."""
    from tiergate.decide.classify import classify_all
    from tiergate.inputs.answers import find_answer_files, load_answer_files
    from tiergate.reports import matrix

    loaded, errors = load_answer_files(find_answer_files([directory]), policy)
    results, unclassified = classify_all(policy, loaded)
    headers, rows = matrix.use_case_matrix(policy, results)
    return Table("Use cases by tier and consideration", headers, rows, _meta(policy)), errors + unclassified


def raci(policy: Policy) -> Table:
    """Tasks x roles: A accountable, R responsible, C consulted, I informed."""
    from tiergate.reports import matrix

    headers, rows = matrix.raci_matrix(policy)
    return Table("RACI matrix", headers, rows, _meta(policy))


def requirements(policy: Policy, tier: str) -> TierRequirements:
    """Every requirement of a tier, inheritance resolved, grouped by stage; UnknownName for a tier not in the policy."""
    from tiergate.reports.classification import stage_order

    t = tier_of(policy, tier)
    return TierRequirements(policy, t, stage_order(policy, t.name, t.requirements))


def graph(policy: Policy, workflow: str | None = None, tier: str | None = None) -> WorkflowGraph:
    """A workflow (default: the policy's first) with the gates of `tier` (default: the highest tier using it)."""
    from tiergate.reports.graph import default_tier

    name = workflow or policy.default_workflow
    if name not in policy.workflows:
        hint = did_you_mean(name, list(policy.workflows), "workflows")
        raise UnknownName(f"unknown workflow `{name}`" + (f"; {hint}" if hint else ""))
    wf = policy.workflows[name]
    return WorkflowGraph(policy, wf, tier_of(policy, tier) if tier else default_tier(policy, wf))


def diff(old: Policy, new: Policy, *, use_cases: str | None = None, events: str | None = None,
         roster: str | None = None, at: datetime | None = None):
    """What changing `old` into `new` does: to the policy, to each use case's tier, to deployed versions.
    Every unusable input is reported at once (one TiergateError)."""
    from tiergate.authoring.policydiff import diff as compare
    from tiergate.inputs.answers import find_answer_files, load_answer_files
    from tiergate.inputs.events import load_events, load_roster

    answers, problems = None, []
    if use_cases:
        answers, problems = load_answer_files(find_answer_files([use_cases]), new)
    loaded_events = loaded_roster = None
    if events:
        try:
            loaded_events, loaded_roster = load_events(events), load_roster(roster)
        except TiergateError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise TiergateError(problems)
    return compare(old, new, answers, loaded_events, loaded_roster, at)


def test(paths: list[str]):
    """Run the policies' YAML test cases found under `paths` (default: the working directory)."""
    from tiergate.authoring.policytest import run_tests

    return run_tests(paths)
