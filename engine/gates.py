"""Gate evaluation: each requirement kind's evaluator, waivers, obligations, and replay of a history."""
from __future__ import annotations

import json
from functools import lru_cache, partial
from datetime import datetime, timedelta
from typing import Callable

from .conditions import CompiledCondition, ConditionError
from .events import Event, Roster, format_time, parse_time
from .policy import Policy, Requirement, Tier
from .workflow import VersionState

MET, UNMET, WAIVED = "met", "unmet", "waived"
OK, DUE, OVERDUE, BREACH = "ok", "due", "overdue", "breach"
DUE_WINDOW = 0.10  # an obligation is `due` in the last 10% of its period


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
                 "plan", "_names")

    def __init__(self, policy: Policy, tier: Tier, roster: Roster, forbidden: tuple = (), answers: dict | None = None):
        self.policy = policy
        self.tier = tier
        self.roster = roster
        self.forbidden = forbidden  # classification Matches of triggered forbids
        self.answers = answers  # the use case's answers (for `for` clauses naming a list question)
        self.always = roster._always  # person -> roles held with no period (a set lookup decides)
        self.timed = roster._timed  # people with a role held for a period (the roster decides at the time)
        #: the triggered forbids, worded once: they are the same at every gate
        self.forbids = tuple(Status(req, UNMET, f"forbidden in tier {tier.name}: {f.because or req.text}")
                             for f, req in ((f, tier.requirement(f.id)) for f in forbidden))
        self.forbid_blocks = any(s.failing for s in self.forbids)
        self.plan = _plan(tier)
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


# --- deciders: the evaluators' outcome without their reasons, compiled once per requirement -------

def _decide_signoff(req: Requirement) -> Callable[[VersionState, str | None, Context], bool]:
    count = req.count
    keys = tuple(((req.stage, role), role) for role in req.roles)

    def met(state: VersionState, mode: str | None, ctx: Context) -> bool:
        author = state.author
        always, timed = ctx.always, ctx.timed
        for key, role in keys:
            approvers: list[str] = []
            for e in state.signoffs.get(key, ()):
                actor = e.actor
                held = always.get(actor)
                holds = (held is not None and role in held) or (actor in timed and ctx.roster.holds(actor, role, e.at))
                if e.data["decision"] == "reject":
                    if holds:
                        approvers = []
                elif holds and actor != author and actor not in approvers:
                    approvers.append(actor)
            if len(approvers) < count:
                return False
        return True

    return met


def _metrics_hold(fn: Callable[[dict], bool], metrics) -> bool:
    """`_holds` with the condition's own callable: a missing or mistyped metric does not hold."""
    if not isinstance(metrics, dict):
        return False
    try:
        return bool(fn(metrics))
    except (KeyError, TypeError, IndexError, ConditionError):
        return False


def _decide_evidence(req: Requirement) -> Callable[[VersionState, str | None, Context], bool]:
    subject, condition = req.subject, req.condition
    if condition is None:
        def recorded(state: VersionState, mode: str | None, ctx: Context) -> bool:
            return subject in state.evidence
        recorded.evidence = subject  # met by the mere record: a gate tests all such at once (_TierPlan)
        return recorded
    fn = condition.fn
    if req.for_names:
        def met(state: VersionState, mode: str | None, ctx: Context) -> bool:
            e = state.evidence.get(subject)
            if e is None:
                return False
            attributes = e.data.get("attributes") or {}
            return all(_metrics_hold(fn, attributes.get(name)) for name in ctx.attributes(req))
        return met

    def met_plain(state: VersionState, mode: str | None, ctx: Context) -> bool:
        e = state.evidence.get(subject)
        return e is not None and _metrics_hold(fn, e.data.get("metrics"))

    return met_plain


def _decide_deployment(req: Requirement) -> Callable[[VersionState, str | None, Context], bool]:
    modes = frozenset(req.modes)
    return lambda state, mode, ctx: mode is not None and mode in modes


#: requirement kind -> decider factory: from a requirement, a callable (state, mode, ctx) -> met?
#: that decides exactly as the kind's evaluator does (tests hold the two in agreement), without wording
#: a reason; replay decides every transition this way and explains only the requirements that failed
GATE_DECIDERS: dict[str, Callable[[Requirement], Callable[[VersionState, str | None, Context], bool]]] = {
    "signoff": _decide_signoff,
    "evidence": _decide_evidence,
    "deployment": _decide_deployment,
}


class _TierPlan:
    """A tier's gates, compiled once: for each stage, every requirement with its decider.

    To decide whether a gate passes, the blocking requirements that a record of evidence meets and no waiver
    can stand in for are tested together, as one subset test of the version's evidence kinds.
    """

    __slots__ = ("tier", "gates", "blocking", "recorded", "judged")

    def __init__(self, tier: Tier):
        self.tier = tier
        self.gates: dict[str, tuple[tuple[Requirement, Callable], ...]] = {}
        self.blocking: dict[str, tuple[tuple[Requirement, Callable], ...]] = {}
        self.recorded: dict[str, frozenset[str]] = {}  # evidence kinds that must simply be recorded
        self.judged: dict[str, tuple[tuple[Requirement, Callable], ...]] = {}  # the other blocking requirements
        for stage, requirements in tier._gates.items():
            decided = tuple((req, GATE_DECIDERS[req.kind](req)) for req in requirements)
            self.gates[stage] = decided
            self.blocking[stage] = tuple((req, met) for req, met in decided if req.blocking)
            together = [(req, met) for req, met in self.blocking[stage]
                        if getattr(met, "evidence", None) is not None and not req.waivable_by]
            self.recorded[stage] = frozenset(met.evidence for _, met in together)
            self.judged[stage] = tuple(pair for pair in self.blocking[stage] if pair not in together)


_plans: dict[int, _TierPlan] = {}


def _plan(tier: Tier) -> _TierPlan:
    plan = _plans.get(id(tier))
    if plan is None or plan.tier is not tier:
        if len(_plans) >= 256:  # a long-lived process that compiles policy after policy
            _plans.clear()
        plan = _plans[id(tier)] = _TierPlan(tier)
    return plan


def _obligation_monitoring(req: Requirement, state: VersionState, ctx: Context, at: datetime, explain: bool = True):
    last = state.monitoring.get(req.subject)
    if last is not None and last.at > at:
        last = None
    if last is None:
        return None, f"no {req.subject} result yet" if explain else "", None
    if req.condition is not None and not _metrics_hold(req.condition.fn, last.data.get("metrics")):
        if not explain:
            return BREACH, "", last.at
        return BREACH, _check_condition(req.condition, last.data.get("metrics"), f"the latest {req.subject} result "
                                        f"(line {last.line}, {format_time(last.at)})"), last.at
    return None, f"latest {req.subject} result {format_time(last.at)}" if explain else "", last.at


def _obligation_review(req: Requirement, state: VersionState, ctx: Context, at: datetime, explain: bool = True):
    valid = [e for e in state.reviews if e.at <= at and e.data.get("role") in req.roles
             and ctx.holds(e.actor, e.data["role"], e.at)]
    last = valid[-1] if valid else None
    if last is not None and last.data.get("decision") == "reject":
        if not explain:
            return BREACH, "", last.at
        return BREACH, f"the latest review, by {last.actor} at {format_time(last.at)} (line {last.line}), rejected it", last.at
    if not explain:
        return None, "", last.at if last else None
    return None, (f"latest review by {last.actor} {format_time(last.at)}" if last else "no review yet"), \
        (last.at if last else None)


#: requirement kind -> evaluator, for obligations that hold once a version has entered a stage
#: (with explain=False they decide only, and leave the reason empty: it is worded when first read)
OBLIGATION_EVALUATORS = {
    "monitoring": _obligation_monitoring,
    "review": _obligation_review,
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


# --- gates and obligations ------------------------------------------------------------------

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


def gate_passes(ctx: Context, state: VersionState, stage: str, mode: str | None, at: datetime) -> bool:
    """No requirement for entering `stage` fails: what `evaluate_gate` decides, with nothing worded."""
    if ctx.forbid_blocks:
        return False
    plan = ctx.plan
    recorded = plan.recorded.get(stage)
    if recorded and not state.evidence.keys() >= recorded:
        return False
    for req, met in plan.judged.get(stage, ()):
        if not met(state, mode, ctx) and not (req.waivable_by and is_waived(req, state, ctx, at)):
            return False
    return True


def failing_requirements(ctx: Context, state: VersionState, stage: str, mode: str | None,
                         at: datetime) -> tuple[Status, ...]:
    """The statuses of `evaluate_gate` that fail (none when `gate_passes`). Each reason is worded when first
    read, from a snapshot of the version's state now: a replay decides every transition, and words only the
    reasons someone reads."""
    if gate_passes(ctx, state, stage, mode, at):
        return ()
    failing = [req for req, met in ctx.plan.blocking.get(stage, ())
               if not met(state, mode, ctx) and not (req.waivable_by and is_waived(req, state, ctx, at))]
    if not failing:
        return tuple(s for s in ctx.forbids if s.failing)
    now = state.snapshot()
    return (*(s for s in ctx.forbids if s.failing),
            *(Status(req, UNMET, partial(_word_failing, req, now, ctx, mode, at)) for req in failing))


def _word_failing(req: Requirement, state: VersionState, ctx: Context, mode: str | None, at: datetime) -> str:
    status, reason = GATE_EVALUATORS[req.kind](req, state, ctx, mode, True)
    return _apply_waiver(Status(req, status, reason), state, ctx, at).reason


@lru_cache(maxsize=256)
def _period(seconds: int) -> tuple[timedelta, timedelta]:
    """An obligation's period, and the last part of it in which the next result is due."""
    period = timedelta(seconds=seconds)
    return period, period * DUE_WINDOW


def evaluate_obligations(ctx: Context, state: VersionState, at: datetime) -> list[Status]:
    """Each obligation of the stages the version has entered, decided now; reasons are worded when first read."""
    out: list[Status] = []
    if (state.retired is not None and state.retired.at <= at) or not state.entered:
        return out
    for req in ctx.tier.obligations():
        entered = state.entered.get(req.stage)
        if entered is None or entered > at:
            continue
        status, _, last = OBLIGATION_EVALUATORS[req.kind](req, state, ctx, at, False)
        period, window = _period(req.period)
        next_due = (last if last is not None and last > entered else entered) + period  # the clock starts at entry
        if status is None:
            status = OVERDUE if at > next_due else DUE if at >= next_due - window else OK
        waivable = (status == OVERDUE or status == BREACH) and req.id in state.waivers
        if waivable and is_waived(req, state, ctx, at):
            status = WAIVED
        out.append(Status(req, status, partial(_word_obligation, req, state, ctx, at, waivable, next_due),
                          last, next_due))
    return out


def _word_obligation(req: Requirement, state: VersionState, ctx: Context, at: datetime, waivable: bool,
                     next_due: datetime) -> str:
    """The reason of an obligation's status (evaluate_obligations decided it)."""
    status, reason, last = OBLIGATION_EVALUATORS[req.kind](req, state, ctx, at, True)
    if status is None:
        if at > next_due:
            reason = f"{reason}; the next was due {format_time(next_due)}"
        elif at >= next_due - _period(req.period)[1]:
            reason = f"{reason}; the next is due {format_time(next_due)}"
    if waivable:
        return _apply_waiver(Status(req, status or OVERDUE, reason, last, next_due), state, ctx, at).reason
    return reason
