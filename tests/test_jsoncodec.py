"""engine/jsoncodec.py reads and writes JSON exactly as the standard library does, with orjson and without it.

The ledger's hashes are taken over canonical JSON: a byte that depended on the library would break every
chain recorded before. So every value is compared with json's own answer, type for type."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiergate import jsoncodec


@pytest.fixture(params=["orjson", "json alone"])
def codec(request, monkeypatch):
    if request.param == "orjson":
        assert jsoncodec.orjson is not None, "orjson is a dependency: pip install -e '.[test]'"
    else:
        monkeypatch.setattr(jsoncodec, "orjson", None)
    return jsoncodec


def both_ways():
    """The codec with orjson, then without (for property tests, where a fixture cannot vary per example)."""
    yield jsoncodec
    with patch.object(jsoncodec, "orjson", None):
        yield jsoncodec


def reference(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def same(a, b) -> bool:
    """Equal values of the same types all the way down (1 is not 1.0; -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a == b or a != a and b != b) and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


#: floats of every size (Python writes an exponent below 1e-4 and from 1e16; orjson elsewhere)
floats = st.floats(allow_nan=False, allow_infinity=False) | st.builds(
    lambda m, e: m * 10.0 ** e, st.floats(-10, 10, allow_nan=False), st.integers(-320, 300)).filter(math.isfinite)
#: integers around 64 bits (orjson reads those beyond as floats, and cannot write them)
integers = st.integers() | st.integers(-2 ** 66, 2 ** 66) | st.sampled_from(
    [2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64, -2 ** 63, -2 ** 63 - 1, 10 ** 18, 10 ** 19, -10 ** 19])
texts = st.text() | st.text(st.characters(min_codepoint=0, max_codepoint=0x2FFF)) | st.sampled_from(
    ["", ":1e16", ",0.00001", "[2e-7", "\u2028\u2029\x85\ufeff", "\x00\x1f\x7f", "\\\"/", "😀é"])
scalars = st.none() | st.booleans() | integers | floats | texts
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                      max_leaves=24)


@settings(max_examples=400, deadline=None)
@given(values)
def test_canonical_is_what_json_writes(value):
    for codec in both_ways():
        assert codec.canonical(value) == reference(value)


@settings(max_examples=400, deadline=None)
@given(values, st.booleans())
def test_reading_gives_what_json_reads(value, spaced):
    text = json.dumps(value, ensure_ascii=spaced, indent=1 if spaced else None)
    for codec in both_ways():
        assert same(codec.loads(text), json.loads(text))
        assert same(codec.loads_utf8(text.encode("utf-8")), json.loads(text))
        if not codec.long_numbers(text.encode("utf-8")):
            assert same(codec.loads_utf8(text.encode("utf-8"), no_long_numbers=True), json.loads(text))


@pytest.mark.parametrize("value, text", [
    (1e16, "1e+16"), (1.5e16, "1.5e+16"), (1e-5, "1e-05"), (2.5e-7, "2.5e-07"), (1e-4, "0.0001"),
    (9999999999999998.0, "9999999999999998.0"), (-0.0, "-0.0"), (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (2 ** 64, "18446744073709551616"),
    (-2 ** 63 - 1, "-9223372036854775809"),
    ({"b": [1e16, {"a": 1e-5}], "a": "x:1e16"}, '{"a":"x:1e16","b":[1e+16,{"a":1e-05}]}'),
    ({2: "int keys", 1: 2}, '{"1":2,"2":"int keys"}'), ({"s": "\ud800"}, '{"s":"\ud800"}'),
])
def test_where_orjson_writes_otherwise_json_is_followed(codec, value, text):
    assert codec.canonical({"v": value}) == '{"v":' + text + '}'


class Text(str):
    pass


@dataclass
class Point:
    x: int


@pytest.mark.parametrize("value, error", [
    (float("nan"), ValueError), (float("inf"), ValueError), (datetime(2026, 1, 1, tzinfo=timezone.utc), TypeError),
    (date(2026, 1, 1), TypeError), (Point(1), TypeError), (object(), TypeError), ({1j: 2}, TypeError),
])
def test_what_json_refuses_is_refused(codec, value, error):
    with pytest.raises(error):
        json.dumps({"v": value}, sort_keys=True, allow_nan=False)
    with pytest.raises(error):
        codec.canonical({"v": value})


def test_subclasses_are_written_as_json_writes_them(codec):
    assert codec.canonical({"v": Text("x"), "n": True}) == reference({"v": Text("x"), "n": True})


@pytest.mark.parametrize("text", [
    '{"n": 123456789012345678901234567890}', '{"n": -9223372036854775809}', '{"n": 18446744073709551615}',
    '{"n": 1234567890123456789}', '{"f": 0.1234567890123456789012}', '{"f": 1e400}', '{"f": 1.5e-400}',
    '{"f": NaN, "g": -Infinity}', '{"s": "\\ud800"}', '{"a": 1, "b": 2, "a": 3}', '{"n": -0, "f": -0.0}',
    pytest.param('[' * 2000 + ']' * 2000, id="deep"), pytest.param('[' * 150 + ']' * 150, id="nested"),
    ' {"a": 1}\r', '"text"', '12',
])
def test_edge_inputs_read_as_json_reads_them(codec, text):
    def outcome(read, data):
        try:
            return read(data)
        except RecursionError:
            return RecursionError

    expected = outcome(json.loads, text)
    assert same(outcome(codec.loads, text), expected)
    assert same(outcome(codec.loads_utf8, text.encode("utf-8")), expected)


@pytest.mark.parametrize("text", ['{"a": 1', '{"a": 1}}', '\ufeff{"a": 1}', '{"a": "\x01"}', "", "{'a': 1}"])
def test_bad_json_raises_what_json_raises(codec, text):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        codec.loads(text)
    assert (got.value.msg, got.value.pos) == (expected.value.msg, expected.value.pos)


def test_a_line_that_is_not_utf8_raises_a_decode_error(codec):
    with pytest.raises(UnicodeDecodeError):
        codec.loads_utf8(b'{"a": "\xff"}')


def readable_reference(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(values | st.lists(floats | st.sampled_from([float("nan"), float("inf"), -float("inf")]), max_size=4))
def test_readable_is_what_json_writes_indented(value):
    for codec in both_ways():
        assert codec.readable(value) == readable_reference(value)


@pytest.mark.parametrize("value", [
    {"v": 1e16, "w": [1e-5, {"x": 2.5e-7}]}, {"n": None, "f": float("nan")}, {"i": float("-inf"), "n": None},
    {"n": None, "f": 1.5}, {2: "int keys", 1: 2}, {"s": "\ud800"}, {"b": 2 ** 64}, {"t": Text("x")},
    ("a", ("tuple",), []), {"e": {}, "l": [], "s": "é\u2028\x1f\\\"/"},
])
def test_readable_follows_json_where_orjson_writes_otherwise(codec, value):
    assert codec.readable(value) == readable_reference(value)
