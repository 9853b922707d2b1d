"""The canonical JSON the hash chain is computed over: one text per event, the same as json.dumps would give."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiergate.ledger.chain import canonical

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=20)


def reference(body) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(), values, max_size=8))
def test_canonical_is_sorted_compact_json(body):
    assert canonical(body) == reference(body)
    assert canonical(json.loads(canonical(body))) == canonical(body)  # stable through a round trip


@pytest.mark.parametrize("body, error", [({"x": float("nan")}, ValueError), ({"x": float("inf")}, ValueError),
                                         ({"x": object()}, TypeError), ({"x": {1j: 2}}, TypeError)])
def test_what_json_cannot_hold_is_refused(body, error):
    with pytest.raises(error):
        canonical(body)
    assert canonical({"x": 1}) == '{"x":1}'  # and the encoder is none the worse for it
