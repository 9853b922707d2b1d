"""What every requirement kind at a gate shares: the statuses, a requirement's outcome, the context of a check,
and the helpers that read metrics against a condition."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Callable

from tiergate.inputs.events import Roster, format_time
from tiergate.language.conditions import CompiledCondition, ConditionError
from tiergate.language.policy import Policy, Requirement

#: the outcomes of a requirement at a gate
MET, UNMET, WAIVED = "met", "unmet", "waived"
#: the states of an obligation (WAIVED too, when a waiver counts for an overdue or breached one)
OK, DUE, OVERDUE, BREACH = "ok", "due", "overdue", "breach"


class Status:
    """One requirement's outcome at a gate, or one obligation's state. (Slots, not a dataclass: replay makes many.)"""

    __slots__ = ("requirement", "status", "_reason", "last", "next_due")

    def __init__(self, requirement: Requirement, status: str, reason: str | Callable[[], str],
                 last: datetime | None = None, next_due: datetime | None = None):
        self.requirement = requirement
        self.status = status
        self._reason = reason  # the text, or what words it when first read (a bulk replay decides many)
        self.last = last
        self.next_due = next_due

    @property
    def reason(self) -> str:
        reason = self._reason
        if not isinstance(reason, str):
            reason = self._reason = reason()
        return reason

    def _key(self) -> tuple:
        return (self.requirement.id, self.requirement.loc, self.status, self.reason, self.last, self.next_due)

    def __eq__(self, other) -> bool:
        return isinstance(other, Status) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Status({self.requirement.id!r}, {self.status!r}, {self.reason!r})"

    @property
    def id(self) -> str:
        return self.requirement.id

    @property
    def failing(self) -> bool:
        """Blocks or breaks the policy: an unmet blocking requirement, or an overdue or breached obligation."""
        if not self.requirement.blocking:
            return False
        return self.status in (UNMET, OVERDUE, BREACH)

    @property
    def warning(self) -> bool:
        """Worth a look but not blocking: an unmet recommendation, or an obligation that is due soon."""
        if self.status == DUE:
            return True
        return not self.requirement.blocking and self.status in (UNMET, OVERDUE, BREACH)

    def to_dict(self) -> dict:
        r = self.requirement
        out = {"id": r.id, "kind": r.kind, "severity": r.severity, "status": self.status, "reason": self.reason,
               "line": r.loc.line}
        if r.relation == "after":
            out.update({"last": format_time(self.last), "next_due": format_time(self.next_due)})
        return out


class Context:
    """What judging one use case's gates needs besides a version's state: its policy, its tier's plan, the roster
    and the use case's answers."""

    __slots__ = ("policy", "tier", "roster", "forbidden", "answers", "always", "timed", "forbids", "forbid_blocks",
                 "failing_forbids", "plan", "_names")

    def __init__(self, policy: Policy, plan, roster: Roster, forbidden: tuple = (), answers: dict | None = None):
        """`plan`: the tier's compiled plan (plan.plan_of(tier): its gates, deciders and obligations); the use case is
        judged by the plan for its answers, without the requirements whose `when` they do not meet.
        `forbidden`: the forbids the use case triggers, as classification Matches or the tier's requirements."""
        plan = plan.for_answers(answers)
        self.policy = policy
        self.tier = plan.tier
        self.roster = roster
        self.forbidden = forbidden
        self.answers = answers  # the use case's answers (for `for` clauses naming a list question)
        self.always = roster.roles_always_held  # person -> roles held with no period (a set lookup decides)
        self.timed = roster.people_with_periods  # people with a role held for a period (the roster decides then)
        self.plan = plan
        #: the triggered forbids, worded once per tier: they are the same at every gate
        self.forbids, self.failing_forbids = plan.forbid_statuses(forbidden) if forbidden else ((), ())
        self.forbid_blocks = bool(self.failing_forbids)
        self._names: dict[str, list[str]] = {}

    def holds(self, person: str, role: str, at: datetime) -> bool:
        held = self.always.get(person)
        if held is not None and role in held:
            return True
        return person in self.timed and self.roster.holds(person, role, at)

    def attributes(self, req: Requirement) -> list[str]:
        """The attributes `req`'s `for` clause names for this use case (worked out once per check)."""
        names = self._names.get(req.id)
        if names is None:
            names = self._names[req.id] = for_attributes(req, self.answers or {})
        return names


def for_attributes(req: Requirement, answers: dict) -> list[str]:
    """The attributes a `for` clause names; a list question stands for the use case's answers to it."""
    names: list[str] = []
    for name in req.for_names:
        values = answers.get(name, []) if name in req.for_answers else [name]
        names.extend(str(v) for v in values if str(v) not in names)
    return names


# --- metrics against a condition ----------------------------------------------------------------

#: json.dumps(value, ensure_ascii=False, default=str), with the encoder built once rather than per value
_show = json.JSONEncoder(ensure_ascii=False, default=str).encode


def describe_values(condition: CompiledCondition, values: dict) -> str:
    """The values the condition reads, as `name = value, ...`."""
    shown = condition.values(values)
    return ", ".join(f"{k} = {_show(v)}" for k, v in shown.items())


def condition_problem(condition: CompiledCondition, metrics: dict, what: str) -> str | None:
    """None when the condition holds on `metrics`, else the reason it does not (`what` names the result)."""
    if not isinstance(metrics, dict):
        return f"{what} has no metrics"
    try:
        if condition(metrics):
            return None
    except ConditionError as exc:
        return f"{what}: metric {exc.path} {exc.problem}"
    return f"{what}: `{condition.text}` does not hold ({describe_values(condition, metrics)})"


def condition_holds(condition: CompiledCondition, metrics) -> bool:
    """Whether the condition holds on `metrics`: a metric missing or of the wrong type does not hold."""
    if not isinstance(metrics, dict):
        return False
    try:
        return bool(condition(metrics))
    except ConditionError:
        return False


def metrics_hold(fn: Callable[[dict], bool], metrics) -> bool:
    """`condition_holds` with the condition's own callable: a missing or mistyped metric does not hold."""
    if not isinstance(metrics, dict):
        return False
    try:
        return bool(fn(metrics))
    except (KeyError, TypeError, IndexError, ConditionError):
        return False
