"""An event read from a ledger is named as the event it is, `ledger event #N`, in every report: a ledger has no
lines, so `ledger:N` would send a reader looking for line N of a file called `ledger`.

The golden files hold `tiergate check --ledger ... --replay` in every format, for a history that skipped a stage,
with a sign-off by someone outside the roster and a drift breach (tests/golden/check/ledger-replay.*). Its events
are #3 to #11: the policy in force is adopted as #1 when the roster is stored, as #2.
TIERGATE_UPDATE_GOLDEN=1 writes them again.
"""
from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from conftest import ROOT, check_golden, extra_module, reference_file, tiergate
from test_check_formats import REPLAY
from tiergate.errors import LEDGER, Diagnostic, Location, render_all

GOLDEN = ROOT / "tests" / "golden" / "check"
POLICY_FILE = "policies/mlops-default.policy"
FORMATS = {"text": "txt", "json": "json", "markdown": "md", "junit": "junit.xml", "sarif": "sarif.json",
           "github": "github.txt"}


def test_a_ledger_location_is_the_event_not_a_line():
    where = Location(LEDGER, 27)
    assert (str(where), where.place, where.event) == ("ledger event #27", "ledger event #27", 27)
    assert where.to_dict() == {"file": "ledger", "event": 27, "line": None, "column": None}
    in_file = Location("events.yaml", 27, 3)
    assert (str(in_file), in_file.place, in_file.event) == ("events.yaml:27:3", "line 27", None)
    assert in_file.to_dict() == {"file": "events.yaml", "line": 27, "column": 3}
    assert str(Location(LEDGER)) == "ledger"  # the ledger as a whole


def test_a_diagnostic_about_a_ledger_event_names_it():
    found = Diagnostic("E620", "the event does not fit the hash chain", Location(LEDGER, 7), hint="run audit verify")
    assert found.render() == ("ledger event #7: error[E620]: the event does not fit the hash chain\n"
                              "  hint: run audit verify")
    assert render_all([found], {LEDGER: "not a source"}) == found.render()  # no quoted line: a ledger has none
    assert found.to_dict() == {"code": "E620", "severity": "error", "file": "ledger", "event": 7, "line": None,
                               "column": None, "message": "the event does not fit the hash chain",
                               "hint": "run audit verify"}


@pytest.fixture(scope="module")
def reports(tmp_path_factory, at_root_module):
    """format -> (exit code, standard output) of `check --ledger --replay` over the REPLAY history."""
    folder = tmp_path_factory.mktemp("ledger")
    ledger, events = folder / "l.db", folder / "events.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in REPLAY), encoding="utf-8")
    stored = tiergate("roster", "import", "examples/roster.yaml", "--ledger", ledger, "--at", "2025-12-01T00:00:00Z")
    assert stored.exit_code == 0, stored.output
    imported = tiergate("import", events, "--answers", "examples/use-cases/loan-approval.yaml", "--allow-violations",
                        "--ledger", ledger, "--policy", POLICY_FILE)
    assert imported.exit_code == 0, imported.output
    out = {}
    for fmt in FORMATS:
        result = tiergate("check", "--ledger", ledger, "--use-case", "loan-approval", "--policy", POLICY_FILE,
                          "--replay", "--at", "2026-01-20T00:00:00Z", "--format", fmt)
        out[fmt] = (result.exit_code, result.stdout)
    return out


@pytest.fixture(scope="module")
def at_root_module():
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)  # so that the policy is shown as policies/mlops-default.policy
        yield


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_on_a_ledger_golden(reports, fmt):
    code, output = reports[fmt]
    assert code == 1
    check_golden(GOLDEN / f"ledger-replay.{FORMATS[fmt]}", output)
    assert "ledger:" not in output and '"uri": "ledger"' not in output and "file=ledger" not in output


def test_text_names_the_events(reports):
    text = reports["text"][1]
    assert "-> development [ledger event #6]: entered development while its gate was not met" in text
    assert "warning: ledger event #7: zoe is not in the roster" in text
    assert "the latest input_drift result (ledger event #11, 2026-01-19T13:00:00Z)" in text


def test_json_keeps_the_event_number_and_no_line(reports):
    data = json.loads(reports["json"][1])
    assert [(v["file"], v["event"], v["line"]) for v in data["violations"]] == [
        ("ledger", 6, None), ("ledger", 8, None), ("ledger", 8, None)]
    [warning] = data["warnings"]
    assert (warning["file"], warning["event"], warning["line"], warning["column"]) == ("ledger", 7, None, None)


def test_sarif_locates_the_events_logically_and_validates(reports):
    doc = json.loads(reports["sarif"][1])
    [run] = doc["runs"]
    related = [loc for r in run["results"] for loc in r.get("relatedLocations", ())]
    transitions = [loc for r in run["results"] if r["ruleId"] == "workflow-transition" for loc in r["locations"]]
    assert related and transitions
    for loc in related + transitions:
        assert "physicalLocation" not in loc
        [logical] = loc["logicalLocations"]
        assert logical["fullyQualifiedName"] == f"ledger event #{loc['properties']['event']}"
    assert {loc["properties"]["event"] for loc in transitions} == {8}
    path = reference_file("sarif-schema-2.1.0.json")
    import jsonschema

    validator = jsonschema.Draft4Validator(json.loads(path.read_text(encoding="utf-8")))
    assert [f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc)] == []


def test_github_annotates_the_run_not_a_file_called_ledger(reports):
    violations = [line for line in reports["github"][1].splitlines() if "title=violation" in line]
    assert violations and all(line.startswith("::error title=violation 1.0::ledger event #") for line in violations)


def test_junit_names_the_event_of_each_violation_and_validates(reports):
    xml = reports["junit"][1]
    root = ElementTree.fromstring(xml)
    events = [(s.get("name"), [p.get("value") for p in s.iter("property") if p.get("name") == "event"])
              for s in root.findall("testsuite") if s.get("name").startswith("violation")]
    assert [e for _, e in events] == [["ledger event #6"], ["ledger event #8"], ["ledger event #8"]]
    extra_module("xmlschema").XMLSchema(str(reference_file("JUnit.xsd"))).validate(xml)
