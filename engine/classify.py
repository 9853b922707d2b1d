"""Answers -> tier: the rules that matched, the answers they rested on, forbids, and the tier's requirements."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .conditions import ConditionError, compile_many
from .errors import Diagnostic, Location, TiergateError
from .policy import Policy, Requirement, Rule
from .questionnaire import Answers


@dataclass(frozen=True)
class Match:
    """A rule (or forbid) that held, with the answer values it read."""

    tier: str
    because: str | None
    file: str
    line: int
    answers: dict
    id: str | None = None  # forbids only

    def to_dict(self) -> dict:
        out = {"tier": self.tier, "because": self.because, "file": self.file, "line": self.line, "answers": self.answers}
        if self.id is not None:
            out = {"id": self.id, **out}
        return out


class _Compiled:
    """Per-policy data prepared once: rule ranks and a forbid matcher per tier."""

    def __init__(self, policy: Policy):
        ranks = {t.name: t.rank for t in policy.tiers}
        self.rule_rank = [ranks[r.tier] for r in policy.rules]
        self.floor_rank = ranks[policy.floor]
        self.forbid_matchers = {
            t.name: (t.forbids, compile_many([f.condition.node for f in t.forbids])) for t in policy.tiers
        }


_compiled: dict[int, tuple[Policy, _Compiled]] = {}


def _prepared(policy: Policy) -> _Compiled:
    entry = _compiled.get(id(policy))
    if entry is None or entry[0] is not policy:
        entry = (policy, _Compiled(policy))
        _compiled[id(policy)] = entry
    return entry[1]


class Classification:
    """The outcome for one use case. Details are computed when first read, so bulk runs stay fast."""

    __slots__ = ("policy", "answers", "tier", "_matched", "_forbidden", "__dict__")

    def __init__(self, policy: Policy, answers: Answers, tier: str, matched: list[int], forbidden: tuple[Requirement, ...]):
        self.policy = policy
        self.answers = answers
        self.tier = tier
        self._matched = matched
        self._forbidden = forbidden

    @property
    def use_case(self) -> str:
        return self.answers.use_case

    @property
    def title(self) -> str:
        return self.answers.title

    @cached_property
    def matched(self) -> tuple[Match, ...]:
        """Every rule that held, highest tier first, then in policy order."""
        rules = [self.policy.rules[i] for i in self._matched]
        rank = {t.name: t.rank for t in self.policy.tiers}
        rules.sort(key=lambda r: (-rank[r.tier], r.index))
        return tuple(self._match(r) for r in rules)

    def _match(self, rule: Rule) -> Match:
        return Match(rule.tier, rule.because, rule.loc.file, rule.loc.line, rule.condition.values(self.answers.answers))

    @property
    def deciding(self) -> Match | None:
        """The rule that set the tier (None when no rule held and the floor applies)."""
        for m in self.matched:
            if m.tier == self.tier:
                return m
        return None

    @cached_property
    def forbidden(self) -> tuple[Match, ...]:
        return tuple(Match(self.tier, f.because, f.loc.file, f.loc.line, f.condition.values(self.answers.answers), f.id)
                     for f in self._forbidden)

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.policy.tier(self.tier).requirements if r.kind != "forbid")

    def to_dict(self) -> dict:
        return {
            "use_case": self.use_case,
            "title": self.title,
            "tier": self.tier,
            "policy": self.policy.identity(),
            "matched": [m.to_dict() for m in self.matched],
            "forbidden": [m.to_dict() for m in self.forbidden],
            "requirements": [requirement_dict(r) for r in self.requirements],
        }


def requirement_dict(r: Requirement) -> dict:
    return {"id": r.id, "kind": r.kind, "stage": r.stage, "severity": r.severity, "text": r.text, "line": r.loc.line}


def _missing_answer(policy: Policy, answers: Answers, conditions) -> TiergateError:
    for rule_loc, condition in conditions:
        try:
            condition(answers.answers)
        except ConditionError as exc:
            line = answers.line_of(exc.path.rsplit(".", 1)[0]) if "." in exc.path else answers.line_of("")
            return TiergateError(Diagnostic(
                "E310", f"the answer {exc.path} {exc.problem}, and the policy rule at {rule_loc.file}:{rule_loc.line} "
                f"needs it", Location(answers.file, line or 1),
                hint="answer every question the policy reads; a classification never guesses a missing answer"))
    return TiergateError(Diagnostic("E310", "the answers could not be classified", Location(answers.file, 1)))


def classify(policy: Policy, answers: Answers | dict[str, Any]) -> Classification:
    """Classify one use case. `answers` is an Answers (from load_answers) or a whole answers document."""
    if not isinstance(answers, Answers):
        doc = answers
        answers = Answers("<answers>", str(doc.get("use_case", "")), str(doc.get("title", "")),
                          str(doc.get("owner", "")), doc.get("answers") or {})
    prepared = _prepared(policy)
    values = answers.answers
    try:
        matched = policy.matcher(values)
    except (KeyError, TypeError, IndexError):
        raise _missing_answer(policy, answers, [(r.loc, r.condition) for r in policy.rules]) from None
    best = prepared.floor_rank
    rule_rank = prepared.rule_rank
    for index in matched:
        if rule_rank[index] > best:
            best = rule_rank[index]
    tier = policy.tiers[best].name
    forbids, matcher = prepared.forbid_matchers[tier]
    forbidden: tuple[Requirement, ...] = ()
    if forbids:
        try:
            hits = matcher(values)
        except (KeyError, TypeError, IndexError):
            raise _missing_answer(policy, answers, [(f.loc, f.condition) for f in forbids]) from None
        forbidden = tuple(forbids[i] for i in hits)
    return Classification(policy, answers, tier, matched, forbidden)
