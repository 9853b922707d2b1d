"""Replay against a straightforward reference, on generated histories.

`check` decides each gate with deciders compiled once per tier (each kind's `decide` in
tiergate.decide.gates.registry) and words reasons only for what failed. The reference here walks the same events
the plain way: a VersionState per version, and at every transition the explained evaluators (each kind's
`evaluate`, find_waiver) of the whole gate.
Hypothesis generates histories over the gate test policy (separation of duties, counted and time-bound
roles, `for` attributes, waivers valid, expired, over-long and unauthorised, deployment modes, forbids,
obligations) and both must agree on every violation, its reasons, the standing gate and the obligations;
each decider must agree with its evaluator wherever a gate is judged.
"""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiergate.decide.check import check
from tiergate.decide.classify import classify
from tiergate.inputs.events import format_time, parse_events, parse_time
from tiergate.decide.gates.base import BREACH, DUE, MET, OK, OVERDUE, WAIVED, Context, Status
from tiergate.decide.gates.evaluate import evaluate_gate
from tiergate.decide.gates.plan import plan_of
from tiergate.decide.gates.registry import REGISTRY
from tiergate.decide.gates.waivers import find_waiver, is_waived
from tiergate.decide.workflow import VersionState
from test_gates import ANSWERS, T0, ev

STAGES = ["draft", "build", "staging", "live", "watch"]
PEOPLE = ["alice", "bob", "carol", "rick", "tess", "mallory"]  # mallory is not in the roster
ROLES = ["builder", "reviewer", "risk", "ops"]
REQUIREMENTS = ["signoff:reviewer+risk@staging", "signoff:2xreviewer@live", "evidence:bias_test@staging",
                "evidence:fairness@staging", "evidence:tests@staging", "evidence:metrics_record@live",
                "evidence:load_test@live", "deployment@live", "monitoring:input_drift@live"]
VERSIONS = ["1", "2"]


def _answers(kind: str) -> dict:
    answers = copy.deepcopy(ANSWERS)
    if kind == "forbidden":
        answers["answers"].update(availability="ad_hoc", audience="self")
    elif kind == "low":
        answers["answers"].update(availability="scheduled")
    elif kind == "one-attribute":
        answers["answers"].update(protected_attributes=["age"])
    return answers


ANSWER_KINDS = ["high", "forbidden", "low", "one-attribute"]

_metric = st.one_of(st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 2)), st.integers(0, 3),
                    st.sampled_from(["n/a", True]))
_metrics = st.dictionaries(st.sampled_from(["failed", "disparate_impact", "gap", "psi", "auc"]), _metric, max_size=3)
_attributes = st.dictionaries(st.sampled_from(["age", "gender", "region"]), st.one_of(
    _metrics, st.fixed_dictionaries({"disparate_impact": _metric, "gap": _metric})), max_size=3)


#: (role, gate) of most sign-offs: the ones the policy asks for; the others are noise
_SIGNOFFS = [("reviewer", "staging"), ("risk", "staging"), ("reviewer", "live"), ("reviewer", "live"), ("risk", "watch")]


@st.composite
def _event(draw, version: str, stage: str) -> tuple[str, str, dict]:
    """(type, actor, fields) of one event of `version`, which is in `stage` (as far as the generator knows)."""
    kind = draw(st.sampled_from(["signoff", "signoff", "signoff", "evidence", "evidence", "transition",
                                 "transition", "waiver", "monitoring", "review", "retired"]))
    actor = draw(st.sampled_from(PEOPLE))
    if kind == "signoff":
        role, gate = draw(st.one_of(st.sampled_from(_SIGNOFFS), st.tuples(st.sampled_from(ROLES),
                                                                          st.sampled_from(STAGES))))
        return kind, actor, {"role": role, "gate": gate,
                             "decision": draw(st.sampled_from(["approve", "approve", "approve", "reject"]))}
    if kind == "evidence":
        subject = draw(st.sampled_from(["bias_test", "fairness", "tests", "metrics_record", "load_test"]))
        fields = {"kind": subject, "metrics": draw(_metrics)}
        if subject == "tests" and draw(st.booleans()):
            fields["metrics"] = {"failed": draw(st.sampled_from([0, 0, 1, "0"]))}
        if subject in ("bias_test", "fairness") or draw(st.booleans()):
            fields["attributes"] = draw(_attributes)
        return kind, actor, fields
    if kind == "transition":
        nexts = {"draft": "build", "build": "staging", "staging": "live", "live": "watch", "watch": "build"}
        to = draw(st.sampled_from([nexts[stage]] * 3 + STAGES))
        mode = draw(st.sampled_from([None, "shadow", "canary", "full"]))
        return kind, actor, {"to": to} if mode is None else {"to": to, "mode": mode}
    if kind == "waiver":
        return kind, draw(st.sampled_from(["rick", "rick", "tess", "bob"])), {
            "requirement": draw(st.sampled_from(["evidence:tests@staging"] * 3 + ["monitoring:input_drift@live"] * 2
                                                + REQUIREMENTS)),
            "justification": "generated", "expires": draw(st.sampled_from([-1, 1, 3, 7, 7, 8, 12]))}  # days, resolved below
    if kind == "monitoring":
        return kind, actor, {"kind": "input_drift", "metrics": draw(_metrics)}
    if kind == "review":
        return kind, actor, {"role": draw(st.sampled_from(["risk", "reviewer"])),
                             "decision": draw(st.sampled_from(["approve", "reject"]))}
    return kind, actor, {}


@st.composite
def histories(draw):
    """An events file (YAML text) of one or two versions, and the time of the check."""
    lines, when = [], T0
    versions = VERSIONS[:draw(st.integers(1, 2))]
    stages = {}
    for version in versions:
        lines.append(ev(when, "registered", draw(st.sampled_from(["alice", "bob"])), version))
        stages[version] = "draft"
    for _ in range(draw(st.integers(0, 40))):
        when += timedelta(hours=draw(st.sampled_from([0, 1, 7, 30])))
        version = draw(st.sampled_from(versions))
        kind, actor, fields = draw(_event(version, stages[version]))
        if kind == "waiver":
            fields["expires"] = format_time(when + timedelta(days=fields["expires"], seconds=draw(st.integers(-1, 1))))
        elif kind == "transition":
            stages[version] = fields["to"]
        lines.append(ev(when, kind, actor, version, **fields))
    at = max(T0, when + timedelta(hours=draw(st.sampled_from([-50, 0, 1, 30, 300, 2000]))))
    return "\n".join(lines) + "\n", at


def _status(s) -> tuple:
    return (s.id, s.status, s.reason, s.last, s.next_due)


def _reference(policy, roster, answers, log, at, version):
    """Violations, the standing gate and the obligations, walking the events the plain way."""
    classification = classify(policy, answers)
    tier = policy.tier(classification.tier)
    workflow = policy.workflow_of(tier)
    ctx = Context(policy, plan_of(tier), roster, classification.forbidden, classification.answers.answers)
    states: dict[str, VersionState] = {}
    violations = []
    for e in log.events:
        if e.at > at:
            continue
        state = states.setdefault(e.version, VersionState("uc", e.version, workflow.start))
        if e.type == "transition":
            to, mode = e.data["to"], e.data.get("mode")
            if state.retired is not None:
                violations.append(("transition", e.version, e.at, state.stage, to, f"transition to {to} after the "
                                   "version was retired", ()))
            elif (state.stage, to) not in workflow.edges:
                nexts = ", ".join(b for a, b in workflow.edges if a == state.stage) or "none"
                violations.append(("transition", e.version, e.at, state.stage, to, f"{state.stage} -> {to} is not "
                                   f"an edge of the workflow (from {state.stage}: {nexts})", ()))
            gate = evaluate_gate(ctx, state, to, mode, e.at)
            for stage in workflow.stages:
                _decisions_agree(ctx, state, stage, mode, e.at)
            unmet = tuple(_status(s) for s in gate if s.failing)
            if unmet:
                violations.append(("gate", e.version, e.at, state.stage, to, f"entered {to} while its gate was not "
                                   f"met: {', '.join(s[0] for s in unmet)}", unmet))
        state.apply(e)
    state = states[version]
    standing = ()
    if state.last_transition is not None:
        stage_mode = state.last_transition.data.get("mode")
        standing = tuple((s.id, s.status) for s in evaluate_gate(ctx, state, state.stage, stage_mode, at)
                         if s.status != MET)
        for stage in workflow.stages:
            _decisions_agree(ctx, state, stage, stage_mode, at)
    return violations, standing, tuple(_status(o) for o in _obligations(ctx, state, at))


def _obligations(ctx, state, at) -> list:
    """Each obligation decided and worded at once, the plain way."""
    out = []
    if state.retired is not None and state.retired.at <= at:
        return out
    for req in ctx.tier.obligations():
        entered = state.entered.get(req.stage)
        if entered is None or entered > at:
            continue
        status, reason, last = REGISTRY[req.kind].obligation(req, state, ctx, at)
        period = timedelta(seconds=req.period)
        next_due = max(last or entered, entered) + period
        if status is None:
            if at > next_due:
                status, reason = OVERDUE, f"{reason}; the next was due {format_time(next_due)}"
            elif at >= next_due - period * 0.1:
                status, reason = DUE, f"{reason}; the next is due {format_time(next_due)}"
            else:
                status = OK
        if status in (OVERDUE, BREACH):
            waiver, notes = find_waiver(req, state, ctx, at)
            if waiver is not None:
                status, reason = WAIVED, (f"waived by {waiver.actor} until {waiver.data['expires']} (line "
                                          f"{waiver.line}): {waiver.data.get('justification', '')}; otherwise: {reason}")
            elif notes:
                reason = reason + "; " + "; ".join(notes)
        out.append(Status(req, status, reason, last, next_due))
    return out


def _decisions_agree(ctx, state, stage, mode, at) -> None:
    """Each requirement's decider decides as its evaluator; is_waived finds what find_waiver finds."""
    for req in ctx.tier.gate(stage):
        decided = REGISTRY[req.kind].decide(req)(state, mode, ctx)
        evaluated, reason = REGISTRY[req.kind].evaluate(req, state, ctx, mode, True)
        assert decided == (evaluated == MET), (req.id, reason)
        # at `at`, and where a waiver's outcome turns: the moment it expires, and a second either side
        times = [at] + [parse_time(w.data["expires"]) + timedelta(seconds=d) for w in state.waivers.get(req.id, ())
                        for d in (-1, 0, 1)]
        for when in times:
            assert is_waived(req, state, ctx, when) == (find_waiver(req, state, ctx, when)[0] is not None), req.id


@pytest.fixture(scope="module")
def gates_policy():
    from test_gates import GATES_POLICY, ROOT
    from tiergate.language.load import compile_policy

    # one more gate, of a single role that tess holds only for a while; and an obligation that can be waived;
    # a sign-off any of two roles may give, and evidence required only of use cases that declare gender (`when`)
    text = GATES_POLICY.replace("  require deployment in", "  require signoff from risk before watch\n"
                                "  require signoff from any of reviewer, risk before build\n"
                                '  require evidence load_test before build when protected_attributes contains "gender"\n'
                                "  require deployment in")
    text = text.replace("every 10d after live\n", "every 10d after live waivable by risk up to 7d\n", 1)
    return compile_policy(text, "gates.policy", ROOT / "policies")


@pytest.fixture(scope="module")
def gates_roster():
    from test_gates import ROSTER
    from tiergate.inputs.events import parse_roster

    return parse_roster(ROSTER, "roster.yaml")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(history=histories(), answers_kind=st.sampled_from(ANSWER_KINDS))
def test_replay_agrees_with_the_reference(gates_policy, gates_roster, history, answers_kind):
    text, at = history
    log = parse_events(text, "events.yaml")
    answers = _answers(answers_kind)
    result = check(gates_policy, answers, log, gates_roster, replay=True, at=at, version="1")
    violations, standing, obligations = _reference(gates_policy, gates_roster, answers, log, at, "1")
    assert [(v.kind, v.version, v.at, v.from_stage, v.to_stage, v.message, tuple(_status(s) for s in v.unmet))
            for v in result.violations] == violations
    assert tuple((s.id, s.status) for s in result.standing if s.status != MET) == standing
    assert tuple(_status(o) for o in result.obligations) == obligations


#: waivers of the drift obligation (waivable by risk up to 7d in this file's policy), days after live:
#: (recorded, expires, by) -> the drift obligation's status 3 days after a failing result on day 2
@pytest.mark.parametrize("waivers, expected", [
    ([], BREACH),
    ([(2.5, 6, "rick")], WAIVED),
    ([(2.5, 3, "rick")], BREACH),    # expired
    ([(2.5, 12, "rick")], BREACH),   # longer than 7 days
    ([(2.5, 6, "bob")], BREACH),     # bob may not waive it
    ([(2.5, 4, "rick"), (2.6, 9, "rick")], WAIVED),
    ([(2.5, 30, "rick"), (2.6, 9, "bob")], BREACH),
])
def test_a_waived_obligation_agrees_with_the_reference(gates_policy, gates_roster, waivers, expected):
    from test_gates import LIVE, drift, live_log, waiver

    lines = [drift(2, 0.5), ev(LIVE + timedelta(days=2.1), "review", "rick", role="risk", decision="reject")]
    lines += [waiver(LIVE + timedelta(days=d), who, "monitoring:input_drift@live", LIVE + timedelta(days=until))
              for d, until, who in waivers]
    log = live_log(*lines)
    at = LIVE + timedelta(days=3)
    result = check(gates_policy, ANSWERS, log, gates_roster, replay=True, at=at)
    drift_status = [o for o in result.obligations if o.id == "monitoring:input_drift@live"][0]
    assert drift_status.status == expected
    assert [_status(o) for o in result.obligations] == list(_reference(gates_policy, gates_roster, ANSWERS, log, at,
                                                                           "1")[2])
