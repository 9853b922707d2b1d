"""Answers -> tier: the rules that matched, the answers they rested on, forbids, and the tier's requirements that
hold for the use case."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tiergate.language.conditions import ConditionError, compile_many
from tiergate.errors import LEDGER, Diagnostic, Location, TiergateError
from tiergate.language.policy import Policy, Requirement, Rule
from tiergate.inputs.answers import Answers


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
    """Per-policy code prepared once: every rule, the pick of the tier and that tier's forbids, as one function."""

    def __init__(self, policy: Policy):
        ranks = {t.name: t.rank for t in policy.tiers}
        self.tier_names = [t.name for t in policy.tiers]
        self.forbids = [t.forbids for t in policy.tiers]
        #: the requirements of each tier that hold only for some use cases: their `when` is decided with the forbids
        self.conditional = [t.conditional for t in policy.tiers]
        self.matcher = compile_many([r.condition.node for r in policy.rules], [ranks[r.tier] for r in policy.rules],
                                    ranks[policy.floor],
                                    then={t.rank: [f.condition.node for f in t.forbids]
                                          + [r.when.node for r in t.conditional]
                                          for t in policy.tiers if t.forbids or t.conditional})


def _prepared(policy: Policy) -> _Compiled:
    return policy.compiled("classify", _Compiled)


class Classification:
    """The outcome for one use case. Details are computed when first read, so bulk runs stay fast."""

    __slots__ = ("policy", "_answers", "tier", "_matched", "_forbidden", "_left_out", "__dict__")

    def __init__(self, policy: Policy, answers: Answers | dict, tier: str, matched: list[int],
                 forbidden: tuple[Requirement, ...], left_out: frozenset[str] = frozenset()):
        self.policy = policy
        self._answers = answers  # an Answers, or the answers document it is made from on first use
        self.tier = tier
        self._matched = matched
        self._forbidden = forbidden
        self._left_out = left_out  # ids of the tier's requirements whose `when` the answers do not meet

    @cached_property
    def answers(self) -> Answers:
        a = self._answers
        if isinstance(a, Answers):
            return a
        return Answers("<answers>", str(a.get("use_case", "")), str(a.get("title", "")), str(a.get("owner", "")),
                       a.get("answers") or {})

    @property
    def use_case(self) -> str:
        a = self._answers
        return a.use_case if isinstance(a, Answers) else str(a.get("use_case", ""))

    @property
    def values(self) -> dict:
        """The answers the rules read (`answers.answers`, without making an Answers of a document)."""
        a = self._answers
        return a.answers if isinstance(a, Answers) else (a.get("answers") or {})

    @property
    def forbidding(self) -> tuple[Requirement, ...]:
        """The forbids that hold, as the tier's requirements (`forbidden` gives them as Matches, with the answers
        they read)."""
        return self._forbidden

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
        """The tier's requirements that hold for this use case: one whose `when` its answers do not meet is left out
        (`not_applying` lists those)."""
        left_out = self._left_out
        return tuple(r for r in self.policy.tier(self.tier).requirements
                     if r.kind != "forbid" and r.id not in left_out)

    @property
    def not_applying(self) -> tuple[Requirement, ...]:
        """The tier's requirements whose `when` this use case's answers do not meet."""
        left_out = self._left_out
        return tuple(r for r in self.policy.tier(self.tier).requirements if r.id in left_out)

    def to_dict(self) -> dict:
        return {
            "use_case": self.use_case,
            "title": self.title,
            "tier": self.tier,
            "policy": self.policy.identity(),
            "matched": [m.to_dict() for m in self.matched],
            "forbidden": [m.to_dict() for m in self.forbidden],
            "requirements": [requirement_dict(r) for r in self.requirements],
            "not_applying": [requirement_dict(r) for r in self.not_applying],
        }


def requirement_dict(r: Requirement) -> dict:
    out = {"id": r.id, "kind": r.kind, "stage": r.stage, "severity": r.severity, "text": r.text, "line": r.loc.line}
    if r.signed:  # (only then: the output of a policy without `signed` stays as it was)
        out["signed"] = True
    if r.independent_of:  # (likewise)
        out["independent_of"] = list(r.independent_of)
    if r.recorded_by:
        out["recorded_by"] = list(r.recorded_by)
    return out


def _missing_answer(policy: Policy, answers: Answers, conditions) -> TiergateError:
    for rule_loc, condition in conditions:
        try:
            condition(answers.answers)
        except ConditionError as exc:
            line = answers.line_of(exc.path.rsplit(".", 1)[0]) if "." in exc.path else answers.line_of("")
            return TiergateError(Diagnostic(
                "E310", f"the answer {exc.path} {exc.problem}, and the policy rule at {rule_loc.file}:{rule_loc.line} "
                f"needs it", _where(answers, line),
                hint="answer every question the policy reads; a classification never guesses a missing answer"))
    return TiergateError(Diagnostic("E310", "the answers could not be classified", _where(answers, None)))


def _where(answers: Answers, line: int | None) -> Location:
    """Where the answers are: a line of their file; for answers a ledger holds (file LEDGER, which has no lines, and
    whose event these answers do not know), the use case whose registered answers they are."""
    if answers.file == LEDGER:
        return Location(f"{LEDGER} (the answers registered for {answers.use_case})")
    return Location(answers.file, line or 1)


def classify(policy: Policy, answers: Answers | dict[str, Any]) -> Classification:
    """Classify one use case. `answers` is an Answers (from load_answers) or a whole answers document."""
    try:
        prepared = policy.artifacts["classify"]
    except KeyError:
        prepared = _prepared(policy)
    values = answers.answers if isinstance(answers, Answers) else (answers.get("answers") or {})
    try:
        best, matched, hits = prepared.matcher(values)
    except (KeyError, TypeError, IndexError):
        needed = [(r.loc, r.condition) for r in policy.rules]
        needed += [(f.loc, f.condition) for forbids in prepared.forbids for f in forbids]
        needed += [(r.loc, r.when) for conditional in prepared.conditional for r in conditional]
        raise _missing_answer(policy, _as_answers(answers), needed) from None
    forbids = prepared.forbids[best]
    conditional = prepared.conditional[best]
    if not conditional:
        forbidden = tuple(forbids[i] for i in hits) if hits else ()
        return Classification(policy, answers, prepared.tier_names[best], matched, forbidden)
    n = len(forbids)
    forbidden = tuple(forbids[i] for i in hits if i < n)
    held = {i - n for i in hits if i >= n}
    left_out = frozenset(r.id for i, r in enumerate(conditional) if i not in held)
    return Classification(policy, answers, prepared.tier_names[best], matched, forbidden, left_out)


def _as_answers(answers) -> Answers:
    if isinstance(answers, Answers):
        return answers
    return Classification(None, answers, "", [], ()).answers


def classify_all(policy: Policy, answers: list[Answers]) -> tuple[list[Classification], list[Diagnostic]]:
    """Classify many use cases; one that cannot be classified is reported and the others still are."""
    results, problems = [], []
    for a in answers:
        try:
            results.append(classify(policy, a))
        except TiergateError as exc:
            problems.extend(exc.diagnostics)
    return results, problems
