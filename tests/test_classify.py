"""Classification: the library API (`classify`, `load_answers`) and the `tiergate classify` command.

Text, directory and Markdown reports are compared with files in tests/golden/classify/.
Set TIERGATE_UPDATE_GOLDEN=1 to rewrite them, then read every changed one by eye.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import check_golden, tiergate
from tiergate import load_policy
from tiergate.decide.classify import Classification, classify
from tiergate import TiergateError
from tiergate.inputs.answers import Answers, load_answers

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "use-cases"
GOLDEN = ROOT / "tests" / "golden" / "classify"
DEFAULT = ROOT / "policies" / "mlops-default.policy"
UPDATE = os.environ.get("TIERGATE_UPDATE_GOLDEN") == "1"


# --- helpers --------------------------------------------------------------------------------










@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def policy():
    return load_policy(DEFAULT)


def example(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))


def summary(c: Classification) -> list[tuple[str, int, dict]]:
    return [(m.tier, m.line, m.answers) for m in c.matched]


# A small policy of its own: two tiers, an `or` rule, forbids in both tiers, and a questionnaire
# schema with no `required`, so that answers can be missing when classification reads them.
SMALL_SCHEMA = {
    "type": "object",
    "properties": {
        "use_case": {"type": "string"}, "title": {"type": "string"}, "owner": {"type": "string"},
        "answers": {"type": "object", "properties": {
            "audience": {"type": "string", "enum": ["public", "internal"]},
            "availability": {"type": "string", "enum": ["hourly", "daily", "ad_hoc"]},
            "impact": {"type": "object", "properties": {"legal": {"type": "string"}}},
        }},
    },
}
SMALL_POLICY = '''\
policy "small" version "0.1.0":
  questionnaire: "schema.json"

tiers low < high

roles owner

workflow default:
  build -> live

consideration basics "Basics": metrics_record, signoff

classify:
  high when audience == "public" or impact.legal == "high" because "Seen by the public or legally risky"
  otherwise low

tier low:
  require evidence metrics_record before live
  forbid when availability == "hourly" because "Hourly runs need the support of the high tier" as "no-hourly-low"

tier high extends low:
  require signoff from owner before live
  forbid when availability == "ad_hoc" because "A high-tier use case cannot be run by hand" as "no-adhoc-high"
'''
RULE_LINE, FLOOR_LINE, LOW_FORBID_LINE, HIGH_FORBID_LINE = 14, 15, 19, 23


def small_answers(use_case: str, **answers) -> str:
    return yaml.safe_dump({"use_case": use_case, "title": use_case.title(), "owner": "me", "answers": answers},
                          sort_keys=False)


@pytest.fixture
def small(tmp_path, monkeypatch):
    """A directory holding the small policy, its schema and a few answers files; the working directory."""
    (tmp_path / "schema.json").write_text(json.dumps(SMALL_SCHEMA), encoding="utf-8")
    (tmp_path / "small.policy").write_text(SMALL_POLICY, encoding="utf-8")
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "a.yaml").write_text(small_answers("a", audience="internal", availability="ad_hoc",
                                                impact={"legal": "low"}), encoding="utf-8")
    (cases / "b.yaml").write_text(small_answers("b", audience="public", availability="ad_hoc",
                                                impact={"legal": "low"}), encoding="utf-8")
    (cases / "c.yaml").write_text(small_answers("c", audience="internal", availability="daily",
                                                impact={"legal": "high"}), encoding="utf-8")
    (cases / "d.yaml").write_text(small_answers("d", audience="public", availability="hourly",
                                                impact={"legal": "high"}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def small_policy(small):
    p = load_policy("small.policy")
    assert [r.loc.line for r in p.rules] == [RULE_LINE] and p.floor_loc.line == FLOOR_LINE
    assert {f.id: f.loc.line for t in p.tiers for f in t.forbids} == {
        "no-hourly-low": LOW_FORBID_LINE, "no-adhoc-high": HIGH_FORBID_LINE}
    return p


# --- the library API -------------------------------------------------------------------------

def test_load_answers_reads_a_file(policy):
    a = load_answers(EXAMPLES / "churn-dashboard.yaml", policy)
    assert isinstance(a, Answers)
    assert (a.use_case, a.title, a.owner) == ("churn-dashboard", "Customer churn dashboard", "Customer Insights team")
    assert a.answers["availability"] == "scheduled" and a.answers["regulations"]["regions"] == ["eu"]
    assert a.line_of("availability") == 12 and a.line_of("regulations.pii") == 10
    # the default pack is used when no policy is given
    assert load_answers(EXAMPLES / "churn-dashboard.yaml").answers == a.answers


def test_highest_tier_wins(policy):
    c = classify(policy, load_answers(EXAMPLES / "loan-approval.yaml", policy))
    assert {m.tier for m in c.matched} == {"critical", "monitored", "scheduled"}
    assert c.tier == "critical"
    # a scheduled use case whose quality decays fast: monitored beats scheduled
    doc = example("churn-dashboard")
    doc["answers"]["quality_decay"] = "fast"
    c = classify(policy, doc)
    assert summary(c) == [("monitored", 41, {"availability": "scheduled", "quality_decay": "fast"}),
                          ("scheduled", 45, {"availability": "scheduled"})]
    assert c.tier == "monitored" and c.deciding.line == 41


def test_rule_order_does_not_matter_only_rank(policy):
    """Every rule is evaluated; the tier is the highest whose rule held, whatever the rule order."""
    doc = example("predictive-maintenance")
    c = classify(policy, doc)
    assert c.tier == "monitored"
    doc["answers"]["availability"] = "realtime"
    doc["answers"]["audience"] = "internal_many"
    assert classify(policy, doc).tier == "critical"


def test_floor_when_nothing_matches(policy):
    c = classify(policy, load_answers(EXAMPLES / "adhoc-analysis.yaml", policy))
    assert c.tier == policy.floor == "ad_hoc"
    assert c.matched == () and c.deciding is None and c.forbidden == ()
    assert [r.id for r in c.requirements] == ["evidence:metrics_record@deployment",
                                              "evidence:automated_checks@deployment"]


def test_matched_lists_every_rule_with_the_answers_it_rested_on(policy):
    c = classify(policy, load_answers(EXAMPLES / "loan-approval.yaml", policy))
    assert summary(c) == [
        ("critical", 35, {"availability": "realtime", "audience": "public"}),
        # `or`: only the branches that held (public_trust is medium, so it is not listed)
        ("critical", 36, {"availability": "realtime", "impact.legal": "high", "impact.financial": "high",
                          "impact.personal": "high"}),
        ("critical", 37, {"decisions_about_people": True, "audience": "public"}),
        ("critical", 38, {"decisions_about_people": True, "regulations.sector": "finance",
                          "impact.legal": "high", "impact.personal": "high"}),
        ("monitored", 39, {"availability": "realtime", "decisions_about_people": True}),
        ("monitored", 40, {"availability": "realtime", "impact.legal": "high", "impact.financial": "high",
                           "impact.personal": "high", "impact.public_trust": "medium"}),
        ("monitored", 42, {"availability": "realtime", "regulations.pii": True}),
        ("monitored", 44, {"availability": "realtime", "protected_attributes": ["age"]}),
        ("scheduled", 45, {"availability": "realtime"}),
    ]
    assert all(m.because for m in c.matched)
    assert all(Path(m.file).resolve() == DEFAULT.resolve() for m in c.matched)


def test_or_lists_only_the_branches_that_held(policy):
    c = classify(policy, load_answers(EXAMPLES / "predictive-maintenance.yaml", policy))
    rule40 = [m for m in c.matched if m.line == 40]
    assert rule40[0].answers == {"availability": "scheduled", "impact.financial": "medium"}


def test_or_in_a_small_policy(small_policy):
    b = classify(small_policy, load_answers("cases/b.yaml", small_policy))
    c = classify(small_policy, load_answers("cases/c.yaml", small_policy))
    d = classify(small_policy, load_answers("cases/d.yaml", small_policy))
    assert summary(b) == [("high", RULE_LINE, {"audience": "public"})]
    assert summary(c) == [("high", RULE_LINE, {"impact.legal": "high"})]
    assert summary(d) == [("high", RULE_LINE, {"audience": "public", "impact.legal": "high"})]


def test_classify_accepts_a_whole_answers_document(policy):
    doc = example("card-fraud-scoring")
    from_dict = classify(policy, copy.deepcopy(doc))
    from_file = classify(policy, load_answers(EXAMPLES / "card-fraud-scoring.yaml", policy))
    assert (from_dict.use_case, from_dict.title, from_dict.tier) == ("card-fraud-scoring",
                                                                     "Real-time card fraud scoring", "critical")
    assert summary(from_dict) == summary(from_file)
    assert from_dict.to_dict() == from_file.to_dict()


def test_requirements_are_the_tiers_without_forbids(policy):
    c = classify(policy, load_answers(EXAMPLES / "churn-dashboard.yaml", policy))
    tier = policy.tier("scheduled")
    assert c.requirements == tuple(r for r in tier.requirements if r.kind != "forbid")
    assert len(c.requirements) == 7


# --- forbids -----------------------------------------------------------------------------

def test_forbid_of_the_use_cases_tier_triggers(small_policy):
    b = classify(small_policy, load_answers("cases/b.yaml", small_policy))
    assert b.tier == "high"
    assert [(m.id, m.tier, m.because, m.line, m.answers) for m in b.forbidden] == [
        ("no-adhoc-high", "high", "A high-tier use case cannot be run by hand", HIGH_FORBID_LINE,
         {"availability": "ad_hoc"})]


def test_forbid_of_a_higher_tier_does_not_apply(small_policy):
    a = classify(small_policy, load_answers("cases/a.yaml", small_policy))
    assert a.tier == "low" and a.deciding is None and a.forbidden == ()


def test_forbids_are_inherited(small_policy):
    d = classify(small_policy, load_answers("cases/d.yaml", small_policy))
    assert d.tier == "high"
    assert [m.id for m in d.forbidden] == ["no-hourly-low"]


def test_default_pack_forbids_decisions_about_people_made_ad_hoc(policy):
    doc = example("adhoc-analysis")
    doc["answers"]["decisions_about_people"] = True
    c = classify(policy, doc)
    assert c.tier == "ad_hoc"
    assert [(m.id, m.line, m.answers) for m in c.forbidden] == [
        ("no-ad-hoc-decisions-about-people", 60, {"decisions_about_people": True, "availability": "ad_hoc"})]


def test_forbidden_use_case_makes_classify_exit_1(small):
    result = tiergate("classify", "--policy", "small.policy", "cases/b.yaml")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("b: high  (B)\n")
    assert ("  FORBIDDEN in tier high:\n    A high-tier use case cannot be run by hand "
            f'(small.policy:{HIGH_FORBID_LINE})  availability = "ad_hoc"\n') in result.stdout
    assert result.stderr == ""
    # allowed use cases exit 0
    assert tiergate("classify", "--policy", "small.policy", "cases/c.yaml").exit_code == 0


def test_forbidden_in_a_directory_exits_1(small):
    result = tiergate("classify", "--policy", "small.policy", "cases")
    assert result.exit_code == 1
    assert result.stdout == (
        "low   a  no rule matched (floor tier)\n"
        f"high  b  Seen by the public or legally risky (small.policy:{RULE_LINE})  FORBIDDEN: A high-tier use case "
        "cannot be run by hand\n"
        f"high  c  Seen by the public or legally risky (small.policy:{RULE_LINE})\n"
        f"high  d  Seen by the public or legally risky (small.policy:{RULE_LINE})  FORBIDDEN: Hourly runs need the "
        "support of the high tier\n")
    assert result.stderr == "4 use cases classified: 3 high, 1 low; 2 forbidden in their tier\n"


# --- missing answers ------------------------------------------------------------------------

def test_missing_answer_a_rule_needs_is_e310(small_policy):
    Path("cases/e.yaml").write_text(small_answers("e", audience="internal", availability="daily"), encoding="utf-8")
    with pytest.raises(TiergateError) as info:
        classify(small_policy, load_answers("cases/e.yaml", small_policy))
    [d] = info.value.diagnostics
    assert d.code == "E310"
    assert d.message == f"the answer impact.legal is missing, and the policy rule at small.policy:{RULE_LINE} needs it"
    assert (d.location.file, d.location.line) == ("cases/e.yaml", 5)
    assert d.hint == "answer every question the policy reads; a classification never guesses a missing answer"


def test_missing_answer_a_forbid_needs_is_e310(small_policy):
    # the rule holds on `audience` alone, but the high tier's forbids read `availability`
    Path("cases/f.yaml").write_text(small_answers("f", audience="public"), encoding="utf-8")
    with pytest.raises(TiergateError) as info:
        classify(small_policy, load_answers("cases/f.yaml", small_policy))
    [d] = info.value.diagnostics
    assert (d.code, d.message) == (
        "E310", f"the answer availability is missing, and the policy rule at small.policy:{LOW_FORBID_LINE} needs it")


def test_missing_answer_in_answers_a_ledger_holds_names_their_use_case(small_policy):
    """Registered answers read back from a ledger have no file and no line: E310 names whose answers they are,
    not a made-up `ledger event #1`."""
    from tiergate.ledger.actions import answers_of

    registration = {"use_case": "e", "answers": {"use_case": "e", "title": "E", "owner": "Team",
                                                 "answers": {"audience": "internal", "availability": "daily"}}}
    with pytest.raises(TiergateError) as info:
        classify(small_policy, answers_of(registration))
    [d] = info.value.diagnostics
    assert d.code == "E310" and str(d.location) == "ledger (the answers registered for e)"
    assert d.location.event is None


def test_missing_answer_in_a_dict_is_e310(policy):
    doc = example("churn-dashboard")
    del doc["answers"]["availability"]
    with pytest.raises(TiergateError) as info:
        classify(policy, doc)
    [d] = info.value.diagnostics
    assert d.code == "E310" and d.message.startswith("the answer availability is missing")
    assert d.location.file == "<answers>"


def test_missing_answer_at_the_command_line_exits_2(small):
    Path("cases/e.yaml").write_text(small_answers("e", audience="internal", availability="daily"), encoding="utf-8")
    result = tiergate("classify", "--policy", "small.policy", "cases/e.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("cases/e.yaml:5: error[E310]: the answer impact.legal is missing, and the "
                                    f"policy rule at small.policy:{RULE_LINE} needs it\n")


# --- JSON ----------------------------------------------------------------------------------

def test_json_shape_for_one_file(at_root, policy):
    result = tiergate("classify", "examples/use-cases/loan-approval.yaml", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["use_case", "title", "tier", "policy", "matched", "forbidden", "requirements", "not_applying"]
    assert data["not_applying"] == []  # the default pack states no requirement with `when`
    assert (data["use_case"], data["title"], data["tier"]) == ("loan-approval", "Consumer loan approval", "critical")
    assert data["policy"] == {"name": "mlops-default", "version": policy.version, "sha256": policy.sha256}
    assert len(data["policy"]["sha256"]) == 64
    assert data["forbidden"] == []
    for m in data["matched"]:
        assert list(m) == ["tier", "because", "file", "line", "answers"]
        assert m["file"] == "policies/mlops-default.policy"
    assert data["matched"][0] == {
        "tier": "critical",
        "because": "Results are served live to customers or to many colleagues, so an outage or a wrong answer "
                   "is felt straight away",
        "file": "policies/mlops-default.policy", "line": 35,
        "answers": {"availability": "realtime", "audience": "public"}}
    assert [m["line"] for m in data["matched"]] == [35, 36, 37, 38, 39, 40, 42, 44, 45]
    for r in data["requirements"]:
        assert list(r) == ["id", "kind", "stage", "severity", "text", "line"]
    assert data["requirements"][0] == {"id": "evidence:metrics_record@deployment", "kind": "evidence",
                                       "stage": "deployment", "severity": "require",
                                       "text": "require evidence metrics_record before deployment", "line": 57}
    assert len(data["requirements"]) == len(policy.tier("critical").requirements) - len(policy.tier("critical").forbids)
    # the same as the library's dictionary
    shipped = load_policy()  # the default pack, named relative to the working directory as the command does
    expected = classify(shipped, load_answers("examples/use-cases/loan-approval.yaml", shipped)).to_dict()
    assert data == json.loads(json.dumps(expected))


def test_json_forbidden_entries(small):
    result = tiergate("classify", "--policy", "small.policy", "cases/b.yaml", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["forbidden"] == [{"id": "no-adhoc-high", "tier": "high",
                                  "because": "A high-tier use case cannot be run by hand", "file": "small.policy",
                                  "line": HIGH_FORBID_LINE, "answers": {"availability": "ad_hoc"}}]


def test_json_shape_for_several_files(at_root):
    result = tiergate("classify", "examples/use-cases", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["classifications", "errors"]
    assert data["errors"] == []
    assert [(c["use_case"], c["tier"]) for c in data["classifications"]] == [
        ("adhoc-analysis", "ad_hoc"), ("card-fraud-scoring", "critical"), ("churn-dashboard", "scheduled"),
        ("ecommerce-recommender", "critical"), ("inflight-meal-counts", "monitored"), ("loan-approval", "critical"),
        ("plane-fuelling", "critical"), ("predictive-maintenance", "monitored")]
    for c in data["classifications"]:
        assert list(c) == ["use_case", "title", "tier", "policy", "matched", "forbidden", "requirements",
                           "not_applying"]
    # two files named one by one are "several" too
    two = tiergate("classify", "examples/use-cases/loan-approval.yaml", "examples/use-cases/adhoc-analysis.yaml",
                   "--format", "json")
    assert [c["use_case"] for c in json.loads(two.stdout)["classifications"]] == ["loan-approval", "adhoc-analysis"]


def test_json_errors_for_several_files(tmp_path, monkeypatch):
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(EXAMPLES / "churn-dashboard.yaml", cases / "churn.yaml")
    (cases / "bad.yaml").write_text((EXAMPLES / "churn-dashboard.yaml").read_text(encoding="utf-8")
                                    .replace("availability: scheduled", "availability: nightly"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = tiergate("classify", "cases", "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [c["use_case"] for c in data["classifications"]] == ["churn-dashboard"]
    assert data["errors"] == [{
        "code": "E303", "severity": "error", "file": "cases/bad.yaml", "line": 12, "column": 0,
        "message": '$.answers.availability is "nightly"; allowed: "realtime", "scheduled", "ad_hoc"', "hint": None}]


# --- text, CSV and Markdown ------------------------------------------------------------------

def test_text_for_one_file(at_root):
    result = tiergate("classify", "examples/use-cases/loan-approval.yaml")
    assert result.exit_code == 0 and result.stderr == ""
    check_golden(GOLDEN / "loan-approval.txt", result.stdout)


def test_text_for_a_floor_use_case(at_root):
    result = tiergate("classify", "examples/use-cases/adhoc-analysis.yaml")
    assert result.exit_code == 0
    check_golden(GOLDEN / "adhoc-analysis.txt", result.stdout)


def test_text_for_a_directory(at_root):
    result = tiergate("classify", "examples/use-cases")
    assert result.exit_code == 0
    check_golden(GOLDEN / "examples.txt", result.stdout)
    assert result.stderr == "8 use cases classified: 4 critical, 2 monitored, 1 scheduled, 1 ad_hoc\n"


def test_markdown(at_root):
    result = tiergate("classify", "examples/use-cases", "--format", "markdown")
    assert result.exit_code == 0 and result.stderr == ""
    check_golden(GOLDEN / "examples.md", result.stdout)


def test_csv(at_root, policy):
    result = tiergate("classify", "examples/use-cases", "--format", "csv")
    assert result.exit_code == 0 and result.stderr == ""
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["use_case", "title", "tier", "because", "rule", "forbidden", "requirements"]
    body = {r[0]: r for r in rows[1:]}
    assert len(body) == 8
    assert body["adhoc-analysis"] == ["adhoc-analysis", "Self-service sales trend analysis", "ad_hoc",
                                      "no rule matched (floor tier)", "policies/mlops-default.policy:46", "", "2"]
    assert body["churn-dashboard"] == [
        "churn-dashboard", "Customer churn dashboard", "scheduled",
        "It runs regularly or as a live service, so people rely on it being available and repeatable",
        "policies/mlops-default.policy:45", "", "7"]
    assert {r[2] for r in body.values()} == set(policy.tier_names)
    # the requirement count is the tier's, without its forbids
    for r in body.values():
        tier = policy.tier(r[2])
        assert int(r[6]) == len(tier.requirements) - len(tier.forbids)


def test_csv_lists_forbidden_ids(small):
    result = tiergate("classify", "--policy", "small.policy", "cases", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["use_case"]: r["forbidden"] for r in rows} == {"a": "", "b": "no-adhoc-high", "c": "",
                                                             "d": "no-hourly-low"}
    assert result.exit_code == 1


def test_output_file(at_root, tmp_path):
    out = tmp_path / "report.json"
    result = tiergate("classify", "examples/use-cases/churn-dashboard.yaml", "--format", "json", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["tier"] == "scheduled"


# --- a directory with some bad files -----------------------------------------------------------

@pytest.fixture
def mixed(tmp_path, monkeypatch):
    cases = tmp_path / "cases"
    cases.mkdir()
    for name in ("churn-dashboard", "loan-approval", "adhoc-analysis"):
        shutil.copy(EXAMPLES / f"{name}.yaml", cases / f"{name}.yaml")
    churn = (EXAMPLES / "churn-dashboard.yaml").read_text(encoding="utf-8")
    (cases / "bad-enum.yaml").write_text(churn.replace("audience: internal_few", "audience: everyone"),
                                         encoding="utf-8")
    (cases / "not-yaml.yaml").write_text("use_case: broken\ntitle: [unclosed\nowner: me\n", encoding="utf-8")
    (cases / "notes.txt").write_text("not an answers file", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return cases


def test_directory_with_bad_files_classifies_the_rest(mixed):
    result = tiergate("classify", "cases")
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["ad_hoc", "adhoc-analysis"], ["scheduled", "churn-dashboard"],
                                                   ["critical", "loan-approval"]]
    assert result.stderr == (
        'cases/bad-enum.yaml:11: error[E303]: $.answers.audience is "everyone"; allowed: "public", "internal_many", '
        '"internal_few", "self"\n'
        "cases/not-yaml.yaml:3:6: error[E300]: this is not valid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence)\n"
        "  hint: check the indentation and quoting on this line and the one above\n"
        "3 use cases classified: 1 critical, 1 scheduled, 1 ad_hoc; 2 files could not be classified\n")


def test_directory_with_bad_files_in_every_format(mixed):
    for fmt in ("json", "csv", "markdown"):
        result = tiergate("classify", "cases", "--format", fmt)
        assert result.exit_code == 2, fmt
        assert "cases/bad-enum.yaml:11: error[E303]" in result.stderr
        assert "cases/not-yaml.yaml:" in result.stderr
        for name in ("adhoc-analysis", "churn-dashboard", "loan-approval"):
            assert name in result.stdout
    md = tiergate("classify", "cases", "--format", "markdown").stdout
    assert "### Could not be classified" in md
    assert '- `cases/bad-enum.yaml:11` E303: $.answers.audience is "everyone"' in md


def test_missing_file_is_reported_and_exits_2(at_root):
    result = tiergate("classify", "examples/use-cases/loan-approval.yaml", "examples/use-cases/nope.yaml")
    assert result.exit_code == 2
    assert "examples/use-cases/nope.yaml: error[E001]: file not found" in result.stderr
    assert result.stdout.startswith("critical  loan-approval")


# --- no progress bar when standard error is not a terminal ------------------------------------

def test_no_progress_bar_when_not_a_tty(tmp_path, monkeypatch):
    cases = tmp_path / "many"
    cases.mkdir()
    text = (EXAMPLES / "churn-dashboard.yaml").read_text(encoding="utf-8")
    for i in range(60):  # more than the command's threshold for drawing a bar
        (cases / f"case-{i:02d}.yaml").write_text(text.replace("use_case: churn-dashboard", f"use_case: case-{i:02d}"),
                                                  encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = tiergate("classify", "many")
    assert result.exit_code == 0
    assert result.stderr == "60 use cases classified: 60 scheduled\n"
    for bar in ("classifying", "[#", "#-", "█", "\r", "\x1b["):
        assert bar not in result.stderr and bar not in result.stdout
    assert len(result.stdout.splitlines()) == 60


# --- the documentation shows real output -------------------------------------------------------

def console_examples(doc: Path) -> list[tuple[list[str], str]]:
    """(arguments, expected output) for every `$ tiergate ...` in the doc's console blocks that runs as is."""
    import shlex

    examples = []
    for block in re.findall(r"```console\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL):
        for chunk in re.split(r"^(?=\$ )", block, flags=re.MULTILINE):
            if not chunk.startswith("$ tiergate "):
                continue
            command, _, output = chunk.partition("\n")
            args = shlex.split(command[2:])[1:]
            if any(a in ("|", ">", "-o") or a.startswith("my-") for a in args) or not output:
                continue  # pipes, files written, and files that are not in the repository
            examples.append((args, output))
    return examples


DOC_EXAMPLES = [(doc.name, args, output) for doc in (ROOT / "docs" / "commands-classify.md",
                                                     ROOT / "docs" / "default-pack.md")
                for args, output in console_examples(doc)]


def test_docs_have_examples():
    assert len(DOC_EXAMPLES) >= 10


@pytest.mark.parametrize("doc, args, output", DOC_EXAMPLES, ids=[f"{d}: {' '.join(a)}" for d, a, _ in DOC_EXAMPLES])
def test_docs_examples_are_real_output(at_root, doc, args, output):
    result = tiergate(*args)
    assert result.stdout + result.stderr == output, f"{doc}: rerun `tiergate {' '.join(args)}` and paste its output"


def test_default_pack_doc_shows_the_real_graph_and_raci(at_root):
    text = (ROOT / "docs" / "default-pack.md").read_text(encoding="utf-8")
    [mermaid] = re.findall(r"```mermaid\n(.*?)```", text, re.DOTALL)
    assert mermaid == tiergate("graph").stdout
    table = tiergate("raci").stdout.split("\n\n", 2)[2]  # after the title and the policy line
    assert table in text
