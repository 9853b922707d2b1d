"""The shortcuts a replay takes, each held to the plain way.

- A replay passes monitoring results by; the version judged finds the latest of each kind by reading the events
  backward (workflow.LatestMonitoring). It must hold what applying every event forward leaves in
  VersionState.monitoring, on generated histories of several use cases and versions, with results after the
  time of the check and in any order.
- Results and violations are made by setting their fields at once (check._result, check._violation): they must
  be what the dataclasses' constructors make, field by field.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from tiergate.decide.check import CheckResult, Violation, _result, _violation
from tiergate.inputs.events import Event
from tiergate.decide.workflow import LatestMonitoring, VersionState

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
KINDS = ["input_drift", "performance", "alerts", "latency"]

_event = st.builds(
    lambda hours, type_, use_case, version, kind, n: Event(T0 + timedelta(hours=hours), type_, use_case, version, "p",
                                                          {"kind": kind, "metrics": {"n": n}}),
    st.integers(0, 60), st.sampled_from(["monitoring"] * 4 + ["evidence", "review"]), st.sampled_from(["uc", "other"]),
    st.sampled_from(["1", "2"]), st.sampled_from(KINDS), st.integers(0, 9))


def _forward(events, use_case: str, version: str, at: datetime) -> dict:
    """VersionState.monitoring after applying, in order, every monitoring result of the version by `at`."""
    state = VersionState(use_case, version, "start")
    for e in events:
        if e.type == "monitoring" and e.use_case == use_case and e.version == version and e.at <= at:
            state.apply(e)
    return state.monitoring


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_event, max_size=40), hours=st.integers(-1, 61), asked=st.lists(st.sampled_from(KINDS + ["x"])),
       as_tuple=st.booleans())
def test_the_latest_monitoring_read_backward_is_what_applying_forward_leaves(events, hours, asked, as_tuple):
    at = T0 + timedelta(hours=hours)
    if as_tuple:
        events = tuple(events)
    forward = _forward(events, "uc", "1", at)
    latest = LatestMonitoring(events, "uc", "1", at)
    for kind in asked:  # asked one kind at a time, in any order, then as a whole
        assert latest.get(kind) is forward.get(kind)
        assert (kind in latest) == (kind in forward)
    assert dict(latest) == forward and len(latest) == len(forward)
    assert all(latest[k] is forward[k] for k in forward)


def test_a_kind_never_reported_reads_every_event_once():
    events = [Event(T0 + timedelta(hours=i), "monitoring", "uc", "1", "p", {"kind": "a", "metrics": {}})
              for i in range(5)]
    latest = LatestMonitoring(events, "uc", "1", T0 + timedelta(days=1))
    assert latest.get("b") is None and latest.get("a") is events[-1] and latest.get("b", 7) == 7
    assert list(latest) == ["a"]


def test_a_result_made_at_once_is_the_one_its_constructor_makes():
    values = [f"v{i}" for i in range(len(dataclasses.fields(CheckResult)))]
    made, built = _result(*values), CheckResult(*values)
    assert made == built and repr(made) == repr(built)
    assert all(getattr(made, f.name) == getattr(built, f.name) for f in dataclasses.fields(CheckResult))
    assert [f.name for f in dataclasses.fields(CheckResult)] == list(vars(made))


def test_a_violation_made_at_once_is_the_one_its_constructor_makes():
    values = [f"v{i}" for i in range(len(dataclasses.fields(Violation)))]
    made, built = _violation(*values), Violation(*values)
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert [f.name for f in dataclasses.fields(Violation)] == list(vars(made))
    try:
        made.kind = "changed"
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a violation made at once is still frozen")
