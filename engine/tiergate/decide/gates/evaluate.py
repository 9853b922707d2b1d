"""Gate evaluation: each requirement kind's evaluator, with its reasons worded, and waivers.

Replay decides gates without wording them (gateplan.py); obligations are evaluated in obligations.py."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from tiergate.language.conditions import CompiledCondition, ConditionError
from tiergate.inputs.events import Event, Roster, format_time, parse_time
from tiergate.language.policy import Policy, Requirement, Tier
from tiergate.decide.workflow import VersionState

if TYPE_CHECKING:
    from tiergate.decide.gates.plan import TierPlan

MET, UNMET, WAIVED = "met", "unmet", "waived"
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
    """What judging one use case's gates needs besides a version's state: its policy, tier, roster and answers."""

    __slots__ = ("policy", "tier", "roster", "forbidden", "answers", "always", "timed", "forbids", "forbid_blocks",
                 "failing_forbids", "plan", "_names")

    def __init__(self, policy: Policy, tier: Tier, roster: Roster, forbidden: tuple = (), answers: dict | None = None,
                 plan: TierPlan | None = None):
        """`forbidden`: the forbids the use case triggers, as classification Matches or the tier's requirements.
        `plan`: gateplan.plan_of(tier), when the caller has it at hand (importing it here costs a few µs a check)."""
        if plan is None:
            from tiergate.decide.gates.plan import plan_of

            plan = plan_of(tier)
        self.policy = policy
        self.tier = tier
        self.roster = roster
        self.forbidden = forbidden
        self.answers = answers  # the use case's answers (for `for` clauses naming a list question)
        self.always = roster._always  # person -> roles held with no period (a set lookup decides)
        self.timed = roster._timed  # people with a role held for a period (the roster decides at the time)
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


#: json.dumps(value, ensure_ascii=False, default=str), with the encoder built once rather than per value
_show = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _describe_values(condition: CompiledCondition, values: dict) -> str:
    shown = condition.values(values)
    return ", ".join(f"{k} = {_show(v)}" for k, v in shown.items())


def _check_condition(condition: CompiledCondition, metrics: dict, what: str) -> str | None:
    """None when the condition holds, else the reason it does not."""
    if not isinstance(metrics, dict):
        return f"{what} has no metrics"
    try:
        if condition(metrics):
            return None
    except ConditionError as exc:
        return f"{what}: metric {exc.path} {exc.problem}"
    return f"{what}: `{condition.text}` does not hold ({_describe_values(condition, metrics)})"


def for_attributes(req: Requirement, answers: dict) -> list[str]:
    """The attributes a `for` clause names; a list question stands for the use case's answers to it."""
    names: list[str] = []
    for name in req.for_names:
        values = answers.get(name, []) if name in req.for_answers else [name]
        names.extend(str(v) for v in values if str(v) not in names)
    return names


# --- evaluators, one per requirement kind ------------------------------------------------------

def _eval_signoff(req: Requirement, state: VersionState, ctx: Context, mode: str | None,
                  explain: bool = True) -> tuple[str, str]:
    missing, granted = [], []
    for role in req.roles:
        approvers: list[str] = []
        notes: list[str] = []
        for e in state.signoffs.get((req.stage, role), ()):
            holds = ctx.roster.holds(e.actor, role, e.at)
            if e.data["decision"] == "reject":
                if holds:
                    approvers = []
                    if explain:
                        notes = [f"rejected by {e.actor} at {format_time(e.at)} (line {e.line})"]
                continue
            if e.actor == state.author:
                if explain:
                    notes.append(f"{e.actor}'s sign-off does not count: {e.actor} registered this version "
                                 f"(separation of duties)")
            elif not holds:
                if explain:
                    held = ", ".join(ctx.roster.roles_of(e.actor, e.at)) or "no role"
                    known = "" if ctx.roster.knows(e.actor) else " and is not in the roster"
                    notes.append(f"{e.actor}'s sign-off does not count: {e.actor} held {held} at "
                                 f"{format_time(e.at)}, not {role}{known}")
            elif e.actor not in approvers:
                approvers.append(e.actor)
        if len(approvers) >= req.count:
            granted.append((role, approvers))
        else:
            missing.append((role, approvers, notes))
    if not explain:
        return (UNMET if missing else MET), ""
    if missing:
        texts = []
        for role, approvers, notes in missing:
            need = f"{req.count} approving sign-offs" if req.count > 1 else "an approving sign-off"
            have = f"{len(approvers)} so far" if approvers else "none recorded"
            texts.append(f"needs {need} from {role} for {req.stage} ({have})" + "".join(f"; {n}" for n in notes))
        return UNMET, "; ".join(texts)
    return MET, "approved by " + "; ".join(f"{role}: {', '.join(approvers)}" for role, approvers in granted)


def _holds(condition: CompiledCondition, metrics) -> bool:
    if not isinstance(metrics, dict):
        return False
    try:
        return bool(condition(metrics))
    except ConditionError:
        return False


def metrics_hold(fn: Callable[[dict], bool], metrics) -> bool:
    """`_holds` with the condition's own callable: a missing or mistyped metric does not hold."""
    if not isinstance(metrics, dict):
        return False
    try:
        return bool(fn(metrics))
    except (KeyError, TypeError, IndexError, ConditionError):
        return False


def _eval_evidence(req: Requirement, state: VersionState, ctx: Context, mode: str | None,
                   explain: bool = True) -> tuple[str, str]:
    e = state.evidence.get(req.subject)
    if e is None:
        return UNMET, f"no {req.subject} evidence recorded for version {state.version}" if explain else ""
    if req.condition is None:
        return MET, f"the latest {req.subject} (line {e.line}, {format_time(e.at)}) is recorded" if explain else ""
    if req.for_names:
        attributes = e.data.get("attributes") or {}
        names = for_attributes(req, ctx.answers or {})
        checked = [(name, attributes.get(name)) for name in names]
    else:
        names = []
        checked = [(None, e.data.get("metrics"))]
    failed = [(name, metrics) for name, metrics in checked if not _holds(req.condition, metrics)]
    if not explain:
        return (UNMET if failed else MET), ""
    where = f"the latest {req.subject} (line {e.line}, {format_time(e.at)})"
    if req.for_names and not names:
        return MET, f"{where} is recorded (the use case names no {', '.join(req.for_names)} to test)"
    if failed:
        problems = []
        for name, metrics in failed:
            if name is not None and metrics is None:
                problems.append(f"{where} has no metrics for {name}")
            else:
                problems.append(_check_condition(req.condition, metrics, where if name is None else f"{where}, for {name}"))
        return UNMET, "; ".join(problems)
    if req.for_names:
        return MET, f"{where} satisfies `{req.condition.text}` for {', '.join(names)}"
    return MET, f"{where} satisfies `{req.condition.text}` ({_describe_values(req.condition, e.data['metrics'])})"


def _eval_deployment(req: Requirement, state: VersionState, ctx: Context, mode: str | None,
                     explain: bool = True) -> tuple[str, str]:
    if mode is not None and mode in req.modes:
        return MET, f"deployment mode {mode}" if explain else ""
    if not explain:
        return UNMET, ""
    allowed = ", ".join(req.modes)
    if mode is None:
        return UNMET, f"the transition declares no deployment mode; allowed: {allowed}"
    return UNMET, f"deployment mode {mode} is not allowed here; allowed: {allowed}"


#: requirement kind -> evaluator, for requirements checked when a version enters a stage
#: (with explain=False they decide only, and leave the reason empty: replay explains only what failed)
GATE_EVALUATORS: dict[str, Callable[..., tuple[str, str]]] = {
    "signoff": _eval_signoff,
    "evidence": _eval_evidence,
    "deployment": _eval_deployment,
}


# --- waivers --------------------------------------------------------------------------------

def find_waiver(req: Requirement, state: VersionState, ctx: Context, at: datetime) -> tuple[Event | None, list[str]]:
    """The waiver that counts for `req` at `at`, and why each other waiver does not."""
    notes: list[str] = []
    waivers = state.waivers.get(req.id)
    if not waivers:
        return None, notes
    for w in reversed(waivers):
        if w.at > at:
            continue
        expires = parse_time(w.data.get("expires"))
        by = f"the waiver by {w.actor} (line {w.line})"
        if not req.waivable_by:
            notes.append(f"{by} does not count: {req.id} is not waivable")
        elif not any(ctx.roster.holds(w.actor, role, w.at) for role in req.waivable_by):
            notes.append(f"{by} does not count: only {', '.join(req.waivable_by)} may waive {req.id}")
        elif expires is None or expires <= at:
            notes.append(f"{by} expired at {format_time(expires)}")
        elif req.waiver_max is not None and expires - w.at > timedelta(seconds=req.waiver_max):
            days = (expires - w.at).total_seconds() / 86400
            notes.append(f"{by} does not count: it runs {days:g} days, longer than the "
                         f"{req.waiver_max / 86400:g} days the policy allows")
        else:
            return w, notes
    return None, notes


def is_waived(req: Requirement, state: VersionState, ctx: Context, at: datetime) -> bool:
    """Whether a waiver counts for `req` at `at`: find_waiver's outcome, without the notes."""
    waivers = state.waivers.get(req.id)
    if not waivers or not req.waivable_by:
        return False
    for w in reversed(waivers):
        if w.at > at or not any(ctx.holds(w.actor, role, w.at) for role in req.waivable_by):
            continue
        expires = parse_time(w.data.get("expires"))
        if expires is None or expires <= at:
            continue
        if req.waiver_max is None or expires - w.at <= timedelta(seconds=req.waiver_max):
            return True
    return False


def _apply_waiver(status: Status, state: VersionState, ctx: Context, at: datetime) -> Status:
    waiver, notes = find_waiver(status.requirement, state, ctx, at)
    if waiver is not None:
        reason = (f"waived by {waiver.actor} until {waiver.data['expires']} (line {waiver.line}): "
                  f"{waiver.data.get('justification', '')}; otherwise: {status.reason}")
        return Status(status.requirement, WAIVED, reason, status.last, status.next_due)
    if notes:
        return Status(status.requirement, status.status, status.reason + "; " + "; ".join(notes), status.last,
                      status.next_due)
    return status


# --- gates ------------------------------------------------------------------

def evaluate_gate(ctx: Context, state: VersionState, stage: str, mode: str | None, at: datetime,
                  explain: bool = True) -> list[Status]:
    """Every requirement for entering `stage`, plus any forbid the use case triggers.

    With explain=False the outcome is decided but reasons are left empty, and met requirements are left out.
    """
    out = list(ctx.forbids)
    if explain:
        for req in ctx.tier.gate(stage):
            status, reason = GATE_EVALUATORS[req.kind](req, state, ctx, mode, True)
            result = Status(req, status, reason)
            out.append(_apply_waiver(result, state, ctx, at) if status == UNMET else result)
        return out
    for req, met in ctx.plan.gates.get(stage, ()):
        if not met(state, mode, ctx):
            out.append(_apply_waiver(Status(req, UNMET, ""), state, ctx, at))
    return out


def forbid_status(tier: Tier, forbid) -> Status:
    """The status of a forbid the use case triggers (a Match or the requirement itself), at every gate."""
    req = tier.requirement(forbid.id)
    return Status(req, UNMET, f"forbidden in tier {tier.name}: {forbid.because or req.text}")
