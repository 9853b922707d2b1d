"""The public API (`import tiergate`): what it exports, that it validates what it is given as the command line
does, that it is safe from several threads at once, and that no call switches the garbage collector."""
from __future__ import annotations

import copy
import gc
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

import tiergate
from tiergate.cli import main

ROOT = Path(__file__).resolve().parent.parent
USE_CASES = ROOT / "examples" / "use-cases"
STORIES = ROOT / "examples" / "events"
ROSTER = ROOT / "examples" / "roster.yaml"
FRAUD = USE_CASES / "card-fraud-scoring.yaml"
AT = datetime(2026, 4, 17, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def policy():
    return tiergate.load_policy()


def test_every_public_name_resolves():
    for name in tiergate.__all__:
        assert getattr(tiergate, name) is not None, name
    with pytest.raises(AttributeError):
        tiergate.no_such_name  # noqa: B018


def test_importing_the_facade_loads_no_heavy_dependency():
    probe = subprocess.run([sys.executable, "-c", "import sys, tiergate; print(sorted(m for m in "
                            "('lark', 'jsonschema', 'networkx', 'yaml', 'click') if m in sys.modules))"],
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"


def test_the_readme_example_runs(policy):
    answers = tiergate.load_answers(FRAUD, policy)
    assert tiergate.classify(policy, answers).tier == "critical"


def _document(policy, **changes):
    doc = copy.deepcopy(tiergate.load_answers(FRAUD, policy).to_dict())
    doc["answers"].update(changes)
    return doc


@pytest.mark.parametrize("changes, where", [
    ({"audience": "publik"}, "audience"),          # not one of the questionnaire's values
    ({"pii": 1.0}, "pii"),                          # a number is not a yes/no answer
    ({"availability": None}, "availability"),
])
def test_classify_refuses_what_the_questionnaire_does_not_allow(policy, changes, where):
    with pytest.raises(tiergate.TiergateError) as caught:
        tiergate.classify(policy, _document(policy, **changes))
    assert any(where in d.message for d in caught.value.diagnostics), caught.value.diagnostics


def test_validated_answers_skip_the_check(policy):
    """The documented escape hatch: a caller that has validated already is believed."""
    doc = _document(policy, pii=1.0)
    assert tiergate.classify(policy, doc, validated=True).tier == "critical"


def test_classify_takes_a_document_a_path_or_loaded_answers_alike(policy):
    loaded = tiergate.load_answers(FRAUD, policy)
    tiers = {tiergate.classify(policy, x).tier for x in (loaded, FRAUD, str(FRAUD), _document(policy))}
    assert tiers == {"critical"}


def test_classify_many_reports_the_bad_and_classifies_the_rest(policy):
    good = [tiergate.load_answers(p, policy) for p in sorted(USE_CASES.glob("*.yaml"))]
    results, problems = tiergate.classify_many(policy, [*good, _document(policy, audience="publik")])
    assert [c.use_case for c in results] == [a.use_case for a in good]
    assert [d.code for d in problems] == ["E303"]


def test_check_through_the_facade_matches_the_command(policy):
    result = tiergate.check(policy, FRAUD, STORIES / "fraud-promotion.yaml", ROSTER, version="2026.03",
                            to="deployment", mode="canary", at=AT, replay=True)
    cli = CliRunner().invoke(main, ["check", "--answers", str(FRAUD), "--events",
                                    str(STORIES / "fraud-promotion.yaml"), "--roster", str(ROSTER), "--version",
                                    "2026.03", "--to", "deployment", "--mode", "canary", "--replay", "--at",
                                    "2026-04-17T12:00:00Z", "--format", "json"])
    assert cli.exit_code == result.exit_code() == 0
    assert json.loads(cli.stdout) == json.loads(json.dumps(result.to_dict(), default=str))


# --- threads ------------------------------------------------------------------------------------

def _classify_all(policy) -> list:
    return [tiergate.classify(policy, p).to_dict() for p in sorted(USE_CASES.glob("*.yaml"))]


def _check_all(policy) -> list:
    out = []
    for story in sorted(STORIES.glob("*.yaml")):
        events = tiergate.load_events(story)
        use_case = events.events[0].use_case
        answers = USE_CASES / f"{use_case}.yaml"
        latest = max(e.at for e in events.events)  # each story judged at its own end
        result = tiergate.check(policy, answers, events, ROSTER, at=latest, replay=True)
        out.append(json.dumps(result.to_dict(), default=str, sort_keys=True))
    return out


def test_classify_and_check_from_eight_threads_give_the_serial_results():
    """Fresh policies, so that the compiled artifacts are built while the threads race for them."""
    serial_policy = tiergate.load_policy()
    expected = (_classify_all(serial_policy), _check_all(serial_policy))
    shared = tiergate.load_policy()

    def work(index: int):
        policy = shared if index % 2 else tiergate.load_policy()
        return _classify_all(policy), _check_all(policy)

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(work, range(16)))
    for outcome in outcomes:
        assert outcome == expected


def test_syntax_errors_from_eight_threads_are_each_worded_for_their_own_file():
    """The reference parser that words syntax errors keeps state while it parses (its indenter, the file being
    read): each thread has its own. A long policy with its mistake at the end keeps each parse busy long enough
    for the threads to interleave."""
    pack = (ROOT / "policies" / "mlops-default.policy").read_text(encoding="utf-8")
    texts = [pack + "\n" * (i % 5) + "tier oops extends:\n" for i in range(32)]
    serial = [tiergate.lint_source(text, f"p{i}.policy").diagnostics[0].render() for i, text in enumerate(texts)]

    def lint(i: int) -> str:
        return tiergate.lint_source(texts[i], f"p{i}.policy").diagnostics[0].render()

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lint, range(32))) == serial
    assert len(set(serial)) == 32


def test_compiled_artifacts_live_with_their_policy(policy):
    """Nothing is keyed by id(): two policies from the same text each keep their own classifier."""
    tiergate.classify(policy, FRAUD)
    other = tiergate.load_policy()
    assert "classify" not in other.artifacts
    tiergate.classify(other, FRAUD)
    assert other.artifacts["classify"] is not policy.artifacts["classify"]


def test_no_library_call_switches_the_garbage_collector(monkeypatch, tmp_path):
    def refuse():
        raise AssertionError("a library call switched the garbage collector off for the whole process")

    monkeypatch.setattr(gc, "disable", refuse)
    policy = tiergate.compile_policy((ROOT / "policies" / "mlops-default.policy").read_text(), "p.policy",
                                     ROOT / "policies")
    tiergate.classify(policy, FRAUD)
    _check_all(policy)
    with tiergate.open_ledger(str(tmp_path / "l.db")) as ledger:
        from tiergate.app.recording import register

        register(ledger, policy, None, "card-fraud-scoring", "1", str(FRAUD), actor="dana")
    assert gc.isenabled()
