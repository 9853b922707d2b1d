"""JSON read and written at C speed: by orjson wherever it gives exactly what the standard library gives.

The ledger's hashes are taken over canonical JSON, so that text must never depend on which library wrote
it. The functions here return what `json` returns, byte for byte and value for value, and fall back to
`json` for the few inputs where orjson differs:

* reading: an integer of 19 digits or more (orjson reads one beyond 64 bits as a float), 200 brackets or
  more (json gives up on deep nesting, orjson goes on), anything orjson refuses (NaN, lone surrogates):
  `json` then reads it or words the error;
* writing: a float Python writes with an exponent (orjson writes `1e16` where Python writes `1e+16`, and
  `0.00001` where Python writes `1e-05`), anything orjson refuses or would write where `json` raises
  (times and dates, dataclasses, subclasses of the JSON types, integers beyond 64 bits, lone surrogates),
  and NaN and infinities (orjson writes them as null).
  orjson also writes UUIDs and enums, which json refuses; neither JSON nor YAML reads into one.

Canonical JSON (`canonical`) is the ledger's; indented JSON (`readable`) is the reports'. Without orjson
installed, all are the standard library alone. tests/test_jsoncodec.py holds the two ways to each other.
"""
from __future__ import annotations

import json
import re
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; without it, json does everything
    orjson = None

#: canonical JSON: sorted keys, no spaces, UTF-8 (not \\u escapes), no NaN
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
try:
    from _json import encode_basestring as _encode_text
    from _json import make_encoder as _make_encoder
except ImportError:  # pragma: no cover - a Python without the C accelerator
    _encode_chunks = None
else:
    # (markers, default, encoder, indent, key_separator, item_separator, sort_keys, skipkeys, allow_nan):
    # the C encoder called directly, which is what JSONEncoder.encode does, less a third of its time. No
    # circular-reference markers: bodies come from JSON or YAML (aliases refused), which cannot hold a cycle
    _encode_chunks = _make_encoder(None, _ENCODER.default, _encode_text, None, ":", ",", True, False, False)

_SCAN = json.JSONDecoder().scan_once
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19
_DEEP = 200
#: what orjson writes for a float that Python writes with an exponent: a number (it follows `:`, `,` or `[`
#: in compact JSON) with an `e`, or below 1e-4. Text in a string may match too; then json writes it all
_EXPONENT_FLOAT = re.compile(rb"(?:\A|[:,\[])-?(?:0\.0000|[0-9][0-9.]*e)")
if orjson is not None:
    _OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | \
        orjson.OPT_PASSTHROUGH_SUBCLASS
    _READABLE = (_OPTIONS & ~orjson.OPT_SORT_KEYS) | orjson.OPT_INDENT_2
    _dumps, _loads, _Error = orjson.dumps, orjson.loads, orjson.JSONDecodeError


def loads(text: str) -> Any:
    """json.loads(text)."""
    if orjson is not None:
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: json reads it
            return json.loads(text)
        if _orjson_reads_it(raw):
            try:
                return _loads(raw)
            except _Error:
                pass
        return json.loads(text)
    try:  # the decoder's scanner alone reads one JSON object at half the cost of json.loads
        value, end = _SCAN(text, 0)
    except (ValueError, StopIteration, RecursionError):
        return json.loads(text)
    if end != len(text) or type(value) is not dict:
        return json.loads(text)
    return value


def loads_utf8(line: bytes, no_long_numbers: bool = False) -> Any:
    """json.loads(line.decode("utf-8")): a line of a UTF-8 file, read without decoding it first.

    `no_long_numbers`: the caller found none in the text that holds the line (see `long_numbers`), which is
    cheaper to ask of a whole run of lines than of each."""
    if orjson is not None and (no_long_numbers or not long_numbers(line)) and not _deep(line):
        try:
            return _loads(line)
        except _Error:
            pass
    return loads(line.decode("utf-8"))


def long_numbers(data: bytes) -> bool:
    """Whether `data` holds a run of 19 digits or more (perhaps an integer orjson would read as a float)."""
    return data.translate(_DIGITS_AS_ZERO).find(_LONG_NUMBER) >= 0


def _orjson_reads_it(raw: bytes) -> bool:
    """Whether orjson reads `raw` as json does: no integer of 19 digits or more, and no nesting deep enough for
    json to give up (it may at a depth of some hundreds, where orjson goes on)."""
    return not long_numbers(raw) and not _deep(raw)


def _deep(raw: bytes) -> bool:
    """Whether `raw` may nest _DEEP levels (it takes twice as many bytes, so most lines are answered by length)."""
    return len(raw) >= 2 * _DEEP and raw.count(b"[") + raw.count(b"{") >= _DEEP


def canonical(value: Any) -> str:
    """One text per value, whatever order its keys came in: sorted keys, no spaces, UTF-8.

    The same text as json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False), and its errors (TypeError, ValueError).
    """
    out = _fast_canonical(value)
    return out.decode("utf-8") if out is not None else _canonical(value)


def _fast_canonical(value: Any) -> bytes | None:
    """canonical(value) in UTF-8 by orjson; None where json must write it."""
    if orjson is None:
        return None
    try:
        out = _dumps(value, option=_OPTIONS)
    except TypeError:  # (orjson.JSONEncodeError)
        return None
    # (bytes.find, not `in`: `in` first tries the text as a byte's number, at the cost of an exception)
    if out.find(b"null") >= 0:  # orjson writes NaN and infinities as null, which json refuses: let json judge
        return None
    return None if _exponent_floats(out) else out


def _exponent_floats(out: bytes) -> bool:
    """Whether orjson's `out` may hold a float Python writes otherwise (with an exponent)."""
    return _exponent_float_may_be(out) and _EXPONENT_FLOAT.search(out) is not None


def _exponent_float_may_be(out: bytes) -> bool:
    """A cheap test first: whether `out` holds `0.0000` or a digit followed by `e` anywhere (most texts do not)."""
    return out.find(b"0.0000") >= 0 or out.translate(_DIGITS_AS_ZERO).find(b"0e") >= 0


def readable(value: Any) -> str:
    """json.dumps(value, indent=2, ensure_ascii=False): JSON for people and reports, a large report in a fraction
    of json's time (json writes indented JSON in Python)."""
    if orjson is not None:
        try:
            out = _dumps(value, option=_READABLE)
        except TypeError:  # (orjson.JSONEncodeError)
            out = None
        # (most reports hold neither null nor anything like an exponent float; the others' values are looked at)
        if out is not None and ((out.find(b"null") < 0 and not _exponent_float_may_be(out)) or
                                not _floats_written_otherwise(value)):
            return out.decode("utf-8")
    return json.dumps(value, indent=2, ensure_ascii=False)


def _floats_written_otherwise(value: Any) -> bool:
    """Whether `value` holds a float orjson writes otherwise than json: NaN and the infinities (orjson writes null,
    json NaN and Infinity), and those json writes with an exponent (below 1e-4 and from 1e16)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if not 1e-4 <= abs(item) < 1e16 and item != 0.0:  # (NaN fails every comparison)
                return True
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
    return False


def _canonical(value: Any) -> str:
    if _encode_chunks is None or not isinstance(value, dict):
        return _ENCODER.encode(value)
    return "".join(_encode_chunks(value, 0))
