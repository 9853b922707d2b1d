"""The canonical JSON the hash chain is computed over (one text per event, the same as json.dumps would give), and
the chain's one hash formula, as docs/ledger.md words it for auditors."""
from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiergate.ledger.chain import GENESIS, canonical, chained, event_hash

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


def documented_hash(previous: str, text: str) -> str:
    """docs/ledger.md: the SHA-256, in lowercase hex, of the previous hash, a newline and the canonical JSON."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + text.encode("utf-8")).hexdigest()


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(), values, max_size=8))
def test_an_events_hash_is_the_documented_one(body):
    text = canonical(body)
    assert event_hash(GENESIS, text.encode()) == documented_hash(GENESIS, text)
    assert event_hash("ab" * 32, text.encode()) == documented_hash("ab" * 32, text)


def test_rows_are_numbered_and_chained_after_the_head():
    rows = [("2026-01-01T00:00:00Z", "evidence", "u", "1", "dana", canonical({"n": n, "ü": "é"}), None, 0.0)
            for n in range(3)]
    chain, last = chained(rows, 7, "cd" * 32)
    assert [r[0] for r in chain] == [8, 9, 10]
    previous = "cd" * 32
    for row, (seq, *columns, prev_hash, digest) in zip(rows, chain):
        assert tuple(columns) == row[:6] and prev_hash == previous
        assert digest == documented_hash(previous, row[5])
        previous = digest
    assert last == previous
    assert chained([], 7, "cd" * 32) == ([], "cd" * 32)
