"""A large JSON Lines import, prepared on every core, stores and reports exactly what one process does.

`import_file` hands runs of lines to forked workers from PARALLEL_FROM lines on. Here both thresholds
are set low, so that every example story, mixed together, goes through many runs of a few lines; each
file is imported both ways into fresh ledgers and everything is compared: the rows (bodies and hashes),
the warnings of `--allow-violations`, and the refusals with their lines. Files a worker cannot prepare (a
line that is not JSON, an event the schema refuses, answers that do not classify) fall back to one
process, which words the problems; they must still be worded the same.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import STORY_USE_CASE
from tiergate.errors import TiergateError
from tiergate.inputs import events
from tiergate.inputs.events import _records
from tiergate.ledger import importing, parallel
from tiergate.ledger.importing import import_file
from tiergate.ledger.service import Ledger
from tiergate.inputs.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "examples" / "events"
USE_CASES = ROOT / "examples" / "use-cases"
ROSTER = ROOT / "examples" / "roster.yaml"


def _text(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def story_lines() -> list[str]:
    """Every example story as JSON Lines, answers embedded, after a roster record."""
    roster = load_yaml(ROSTER.read_bytes(), str(ROSTER)).data
    lines = [json.dumps({"at": "2025-12-01T00:00:00Z", "type": "roster", "use_case": "-", "version": "-",
                         "actor": "admin", "people": roster["people"]})]
    for name, use_case in sorted(STORY_USE_CASE.items()):
        doc = load_yaml((USE_CASES / f"{use_case}.yaml").read_bytes(), use_case).data
        for record, _ in _records((STORIES / name).read_bytes(), name):
            if record["type"] == "registered":
                record = dict(record, answers=doc)
            lines.append(json.dumps(record, default=_text, ensure_ascii=False))
    return lines


LINES = story_lines()


def outcome(tmp_path: Path, policy, data: bytes, on_every_core: bool, allow: bool, monkeypatch) -> dict:
    """What importing `data` gives: the stored rows, the warnings, or the refusal."""
    monkeypatch.setattr(importing, "PARALLEL_FROM", 1 if on_every_core else 10 ** 9)
    monkeypatch.setattr(importing, "RUN_LINES", 3)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    path = tmp_path / f"{'cores' if on_every_core else 'one'}-{allow}.db"
    admitted = [] if allow else None
    with Ledger(path) as led:
        try:
            done = import_file(led, policy, None, data, "events.jsonl", {}, admitted)
        except TiergateError as exc:
            result = {"refused": [d.render() for d in exc.diagnostics]}
        else:
            result = {"count": done.count, "head": done.head}
        result["rows"] = [(r.seq, r.body, r.prev_hash, r.hash) for r in led.store.rows()]
        result["standing"] = list(led.store.standing())
    result["admitted"] = [d.render() for d in admitted or []]
    return result


def both_ways(tmp_path, policy, data: bytes, allow: bool, monkeypatch, falls_back: bool = False) -> dict:
    one = outcome(tmp_path, policy, data, False, allow, monkeypatch)
    in_one_process = []
    read = events._records  # what the one-process path starts with
    monkeypatch.setattr(events, "_records", lambda *args: in_one_process.append(1) or read(*args))
    every = outcome(tmp_path, policy, data, True, allow, monkeypatch)
    assert every == one
    assert bool(in_one_process) is falls_back  # whether the workers prepared it all, or handed it back
    return one


def test_every_story_imports_the_same_on_every_core(tmp_path, policy, monkeypatch):
    result = both_ways(tmp_path, policy, "\n".join(LINES).encode() + b"\n", True, monkeypatch)
    assert result["count"] == len(LINES) == len(result["rows"])
    assert len(result["admitted"]) == 3  # the two waivers and the step after retirement
    assert all(": warning[W610]: " in w for w in result["admitted"])


def test_refusals_are_the_same_on_every_core_and_nothing_is_written(tmp_path, policy, monkeypatch):
    result = both_ways(tmp_path, policy, "\n".join(LINES).encode(), False, monkeypatch)
    assert len(result["refused"]) == 3 and result["rows"] == []
    assert "events.jsonl:" in result["refused"][0]


@pytest.mark.parametrize("allow", [True, False])
def test_an_import_holds_more_pages_in_memory_only_while_it_writes(tmp_path, policy, allow):
    """The larger page cache of a bulk write (store.BULK_CACHE_KIB) is given back after the import, imported or
    refused, so a long-lived connection does not keep it."""
    with Ledger(tmp_path / "ledger.db") as led:
        usual = led.store.db.execute("PRAGMA cache_size").fetchone()[0]
        try:
            import_file(led, policy, None, "\n".join(LINES).encode(), "events.jsonl", {}, [] if allow else None)
        except TiergateError:
            assert not allow
        assert led.store.db.execute("PRAGMA cache_size").fetchone()[0] == usual
        assert len(list(led.store.rows())) == (len(LINES) if allow else 0)


@pytest.mark.parametrize("damage", ["not json", "schema", "answers", "late schema"])
def test_files_a_worker_cannot_prepare_are_worded_as_by_one_process(tmp_path, policy, monkeypatch, damage):
    lines = list(LINES)
    at = 7 if damage != "late schema" else len(lines) - 2
    if damage == "not json":
        lines[at] = lines[at][:-1]
    elif damage in ("schema", "late schema"):
        lines[at] = json.dumps(dict(json.loads(lines[at]), at="yesterday"))
    else:
        first = next(i for i, line in enumerate(lines) if '"registered"' in line)
        record = json.loads(lines[first])
        record["answers"]["answers"] = dict(record["answers"]["answers"], audience="everyone")
        lines[first] = json.dumps(record)
    result = both_ways(tmp_path, policy, "\n".join(lines).encode(), True, monkeypatch, falls_back=True)
    assert result["rows"] == [] and result["refused"]


def test_line_ends_byte_order_mark_blank_lines_and_unicode_line_separators(tmp_path, policy, monkeypatch):
    lines = list(LINES)
    registered = next(i for i, line in enumerate(lines) if '"registered"' in line)
    # JSON strings may hold U+2028, U+2029 and U+0085 as they are: they do not end a line
    lines[registered] = json.dumps(dict(json.loads(lines[registered]), artifact="s3://a\u2028b\u2029c\x85d"),
                                   ensure_ascii=False)
    text = "\ufeff" + "\r\n".join(lines[:20]) + "\n\n  \n" + "\n".join(lines[20:]) + "\n"
    result = both_ways(tmp_path, policy, text.encode(), True, monkeypatch)
    assert result["count"] == len(lines)
    assert any("a\u2028b\u2029c\x85d" in body for _, body, _, _ in result["rows"])


ODD_NUMBERS = {"huge": 123456789012345678901234567890, "big": 2 ** 63, "tiny": 1e-05, "vast": 1e16,
               "negative_zero": -0.0, "third": 1 / 3, "small": 2.5e-07, "text": "1e16"}


def test_numbers_orjson_would_read_or_write_otherwise_are_stored_as_json_has_them(tmp_path, policy, monkeypatch):
    """The workers read and write JSON with orjson (engine/jsoncodec.py): every number must still be stored,
    and hashed, exactly as json reads and writes it."""
    lines = list(LINES)
    changed = []
    for i, line in enumerate(lines):
        record = json.loads(line)
        if record["type"] in ("evidence", "monitoring") and len(changed) < 6:
            record["metrics"] = dict(record["metrics"], **ODD_NUMBERS)
            lines[i] = json.dumps(record)
            changed.append(record)
    result = both_ways(tmp_path, policy, "\n".join(lines).encode(), True, monkeypatch)
    bodies = [json.loads(body) for _, body, _, _ in result["rows"]]
    for record in changed:
        [stored] = [body for body in bodies if body == record]
        assert json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False) in \
            [body for _, body, _, _ in result["rows"]]
    assert any('"huge":123456789012345678901234567890' in body and '"vast":1e+16' in body and '"tiny":1e-05' in body
               for _, body, _, _ in result["rows"])


@pytest.mark.parametrize("on_every_core", [True, False])
def test_duplicates_are_found_by_their_text_even_when_every_hash_collides(tmp_path, policy, monkeypatch,
                                                                          on_every_core):
    """The validator remembers bodies by their hash and holds the text only until the store has written it:
    with every body hashing alike, the same events go in and the same duplicates are refused."""
    from tiergate.ledger.service import Validator

    lines = list(LINES)
    doubled = lines + [lines[5]]  # one event again, many runs later
    early = lines[:9] + [lines[8]] + lines[9:]  # one event again in the same run
    validators = []
    make = Ledger.validator
    monkeypatch.setattr(Ledger, "validator", lambda *args, **kw: validators.append(make(*args, **kw)) or validators[-1])
    results = []
    for collide in (False, True):
        if collide:
            monkeypatch.setattr(Validator, "digest", staticmethod(lambda text: 0))
        results.append([outcome(tmp_path / f"{collide}-{i}", policy, "\n".join(data).encode(), on_every_core,
                                True, monkeypatch) for i, data in enumerate((lines, doubled, early))])
    assert results[0] == results[1]
    # what an import that goes in holds of the bodies' texts at the end: one run's at most
    held = [len(v.unstored) for v, result in zip(validators, results[0] + results[1]) if "count" in result]
    assert len(held) == 2 and max(held) <= importing.RUN_LINES
    good, late, same_run = results[1]
    assert good["count"] == len(lines)
    assert late["refused"] == [f"events.jsonl:{len(lines) + 1}: error[E612]: this exact event is already in the "
                               "ledger"]
    assert same_run["refused"] == ["events.jsonl:10: error[E612]: this exact event is already in the ledger"]


def test_a_refusal_in_a_late_run_leaves_the_ledger_as_it_was(tmp_path, policy, monkeypatch):
    lines = list(LINES)
    keep = 40
    monkeypatch.setattr(importing, "PARALLEL_FROM", 1)
    monkeypatch.setattr(importing, "RUN_LINES", 3)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    with Ledger(tmp_path / "ledger.db") as led:
        first = import_file(led, policy, None, "\n".join(lines[:keep]).encode(), "a.jsonl", {}, [])
        rows = list(led.store.rows())
        with pytest.raises(TiergateError, match="already in the ledger"):  # the last line imported twice
            import_file(led, policy, None, "\n".join(lines[keep:] + [lines[keep - 1]]).encode(), "b.jsonl", {}, [])
        assert led.head() == first.head and list(led.store.rows()) == rows


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab\n", max_size=30), max_size=40), st.integers(1, 5))
def test_runs_are_whole_lines_that_cover_the_file(pieces, run_lines):
    data = "\n".join(pieces).encode()
    importing.RUN_LINES, saved = run_lines, importing.RUN_LINES
    try:
        runs = importing._runs(data)
    finally:
        importing.RUN_LINES = saved
    assert b"".join(data[a:b] for a, b, _ in runs) == data
    for start, end, line in runs:
        assert line == data.count(b"\n", 0, start) + 1
        assert start == 0 or data[start - 1:start] == b"\n"
        assert start < end


def test_runs_are_prepared_in_order_however_long_each_takes():
    def slow_square(job, jitter):
        import time

        time.sleep(jitter[job % len(jitter)])
        return job * job

    jitter = [random.Random(n).random() / 200 for n in range(7)]
    assert list(parallel.streamed(slow_square, range(30), (jitter,), 2)) == [n * n for n in range(30)]
