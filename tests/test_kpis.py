"""Governance KPIs (`tiergate kpis`, app/kpis.py) against a plain loop over generated histories, and their reports.

Each history is seeded random use cases, versions, registrations, transitions (some off the workflow's edges, some
through unmet gates), sign-offs (some rejections), evidence, waivers, monitoring, reviews, retirements,
reclassifications and decision-log entries, imported into a ledger (kpihistory.py). `expected` reads the same events
with nothing of tiergate's, and says what each KPI must be, rule by rule, as docs/kpis.md defines it.
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from conftest import ROOT, STORY_USE_CASE, check_golden, tiergate
from kpihistory import POLICY, ROSTER, START, expected, generate, spread

ENV = {"TIERGATE_LEDGER": None, "TIERGATE_POLICY": None, "TIERGATE_ROSTER": None, "TIERGATE_ACTOR": None,
       "COLUMNS": "200"}

# --- the library against the loop --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    """seed -> (its events, a ledger holding them)."""
    from tiergate.app.recording import import_events, store_roster
    from tiergate.language.load import load_policy
    from tiergate.ledger.service import Ledger

    folder = tmp_path_factory.mktemp("kpis")
    (folder / "kpis.policy").write_text(POLICY)
    (folder / "roster.yaml").write_text(yaml.safe_dump(ROSTER))
    policy = load_policy(str(folder / "kpis.policy"))
    made = {}

    def make(seed: int):
        if seed not in made:
            events = generate(seed)
            path = folder / f"events-{seed}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in events))
            with Ledger(folder / f"ledger-{seed}.db") as ledger:
                store_roster(ledger, policy, str(folder / "roster.yaml"), actor="olive", at=START)
                import_events(ledger, policy, None, str(path))
            made[seed] = (events, folder / f"ledger-{seed}.db")
        return made[seed]
    return make


def library(ledger_path: Path, at: datetime, since: datetime | None):
    from tiergate.app.kpis import kpis
    from tiergate.ledger.service import Ledger

    with Ledger(ledger_path, create=False, readonly=True) as ledger:
        return kpis(ledger, None, at, since)


def close(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


AT = [datetime(2025, 4, 15, tzinfo=timezone.utc), datetime(2025, 9, 1, tzinfo=timezone.utc)]
SINCE = [None, datetime(2025, 3, 1, tzinfo=timezone.utc)]


@pytest.mark.parametrize("since", SINCE, ids=["whole-history", "since-march"])
@pytest.mark.parametrize("at", AT, ids=["mid-april", "september"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_every_kpi_is_what_the_plain_loop_finds(histories, seed, at, since):
    events, ledger = histories(seed)
    want = expected(events, at, since)
    got = library(ledger, at, since).summary
    assert not got.unjudged
    assert {(t, st): n for t, stages in got.tier_stage.items() for st, n in stages.items()} == dict(want["tier_stage"])
    assert got.versions == sum(want["tier_stage"].values())
    for tier in ("low", "high"):
        g, w = got.to_production[tier], spread(want["production"][tier])
        assert g.count == w[0] and close(g.median, w[1]) and close(g.p90, w[2]), tier
    every = [d for values in want["production"].values() for d in values]
    assert close(got.to_production["all"].median, spread(every)[1]) and got.to_production["all"].count == len(every)
    for role in ("reviewer", "auditor"):
        g = got.signoff_waits[role]
        for part, values in ((g.answered, want["answered"][role]), (g.pending, want["pending"][role])):
            w = spread(values)
            assert (part.count, close(part.median, w[1]), close(part.p90, w[2])) == (w[0], True, True), role
    assert {t: (p.total, p.blocked) for t, p in got.promotions.items() if p.total} == want["promotions"]
    assert {(t, k): n for t, kinds in got.violations.items() for k, n in kinds.items() if n} == \
        {k: n for k, n in want["violations"].items() if n}
    assert {(t, s): n for t, states in got.obligations.items() for s, n in states.items() if n} == \
        dict(want["obligations"])
    assert {r: (w.granted, w.active, w.expiring) for r, w in got.waivers.items()} == \
        {r: tuple(c) for r, c in want["waivers"].items()}
    assert {(p, True): r.changed for p, r in got.reclassifications.items() if r.changed} | \
        {(p, False): r.confirmed for p, r in got.reclassifications.items() if r.confirmed} == want["reclassified"]
    assert sorted((u.use_case, u.version) for u in got.unreviewed) == sorted(want["unreviewed"])
    assert got.in_production == want["in_production"]


def test_the_generated_histories_exercise_every_kpi(histories):
    """The seeds above reach each rule at least once (else a KPI's comparison would prove nothing)."""
    seen = Counter()
    for seed in (1, 2, 3, 4, 5):
        for at in AT:
            want = expected(histories(seed)[0], at, None)
            seen.update({"violations": sum(want["violations"].values()), "answered": len(want["answered"]),
                         "pending": len(want["pending"]), "promotions": len(want["promotions"]),
                         "waivers": len(want["waivers"]), "reclassified": len(want["reclassified"]),
                         "unreviewed": len(want["unreviewed"]), "production": len(want["production"])})
            seen.update(s for (_, s) in want["obligations"])
    assert all(seen[k] for k in ("violations", "answered", "pending", "promotions", "waivers", "reclassified",
                                 "unreviewed", "production", "ok", "overdue", "breach")), seen


def test_kpis_agree_with_status(histories):
    """Versions by tier and stage are the registry's rows counted: the same judging."""
    from tiergate.app.registry import status
    from tiergate.ledger.service import Ledger

    _, path = histories(2)
    at = AT[1]
    with Ledger(path, create=False, readonly=True) as ledger:
        rows = status(ledger, None, None, at).rows
    assert Counter((r.tier, r.stage) for r in rows) == \
        Counter({(t, s): n for t, stages in library(path, at, None).summary.tier_stage.items()
                 for s, n in stages.items()})


def test_the_parallel_pass_gives_what_one_process_gives(histories, monkeypatch):
    from tiergate.ledger import kpifacts

    _, path = histories(3)
    alone = library(path, AT[1], SINCE[1])
    monkeypatch.setattr(kpifacts, "PARALLEL_FROM", 1)
    monkeypatch.setattr("tiergate.ledger.parallel.cores", lambda: 2)
    assert library(path, AT[1], SINCE[1]).summary == alone.summary


# --- the pieces by themselves ------------------------------------------------------------------------------------

@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=40))
def test_spread_is_the_median_and_the_nearest_rank_90th_percentile(values):
    from tiergate.ledger.kpis import spread as library_spread

    got = library_spread(values)
    assert (got.count, got.median, got.p90) == spread(values)
    if values:
        assert sum(v <= got.p90 for v in values) >= 0.9 * len(values)
        assert sum(v < got.p90 for v in values) < 0.9 * len(values)


@pytest.mark.parametrize("policy_file, production", [
    ("policies/mlops-default.policy", {"default": {"deployment", "monitoring"}}),
    ("policies/model-risk.policy", {"model_lifecycle": {"production"}}),
    ("policies/eu-ai-act.policy", {"ai_act": {"market", "post_market_monitoring"}}),
    ("examples/policy-evolution/triage-0.4.policy", {"release": {"operate"}, "lite": {"operate"}})])
def test_production_is_where_obligations_start(policy_file, production):
    from tiergate.language.load import load_policy
    from tiergate.ledger.kpifacts import production_stages

    assert production_stages(load_policy(str(ROOT / policy_file))) == production


def test_since_later_than_at_is_refused_with_the_times(histories):
    from tiergate.errors import TiergateError

    _, path = histories(1)
    with pytest.raises(TiergateError) as caught:
        library(path, AT[0], AT[1])
    [problem] = caught.value.diagnostics
    assert problem.code == "E632" and problem.location.file == "--since"
    assert "2025-09-01T00:00:00Z is later than the time asked about (2025-04-15T00:00:00Z)" in problem.message


# --- the command line, its formats and golden files --------------------------------------------------------------

@pytest.fixture(scope="module")
def stories(tmp_path_factory) -> Path:
    """The example roster and every story of examples/events/ in one ledger (those refused whole, as they happened)."""
    ledger = tmp_path_factory.mktemp("stories") / "ledger.db"
    assert tiergate("roster", "import", ROOT / "examples" / "roster.yaml", "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z", env=ENV).exit_code == 0
    for name, use_case in STORY_USE_CASE.items():
        extra = ["--allow-violations"] if name in ("over-long-waiver.yaml", "skipped-stage.yaml") else []
        result = tiergate("import", ROOT / "examples" / "events" / name, "--answers",
                          ROOT / "examples" / "use-cases" / f"{use_case}.yaml", "--ledger", ledger, *extra, env=ENV)
        assert result.exit_code == 0, result.stderr
    return ledger


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("markdown", "md")])
def test_the_examples_match_the_golden_files(stories, fmt, suffix):
    result = tiergate("kpis", "--ledger", stories, "--at", "2026-12-01T00:00:00Z", "--format", fmt, env=ENV)
    assert result.exit_code == 0, result.stderr
    check_golden(ROOT / "tests" / "golden" / "kpis" / f"examples.{suffix}", result.stdout)


def test_json_has_the_documented_keys_and_agrees_with_the_text(stories):
    out = json.loads(tiergate("kpis", "--ledger", stories, "--at", "2026-12-01T00:00:00Z", "--format", "json",
                              env=ENV).stdout)
    assert list(out) == ["policy", "at", "since", "versions", "in_production", "unjudged", "summary", "kpis"]
    from tiergate.reports.kpis import NAMES

    assert tuple(out["kpis"]) == NAMES
    assert out["versions"] == sum(r["versions"] for r in out["kpis"]["versions_by_tier_stage"])
    assert out["summary"]["unreviewed_in_production"] == len(out["kpis"]["unreviewed_in_production"])


def test_the_long_csv_holds_every_value_of_every_kpi(stories):
    out = tiergate("kpis", "--ledger", stories, "--at", "2026-12-01T00:00:00Z", "--format", "csv", env=ENV).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["kpi", "group", "subgroup", "measure", "value"]
    data = json.loads(tiergate("kpis", "--ledger", stories, "--at", "2026-12-01T00:00:00Z", "--format", "json",
                               env=ENV).stdout)["kpis"]
    assert {r[0] for r in rows[1:]} == {name for name, records in data.items() if records}
    assert ["versions_by_tier_stage", "critical", "deployment", "versions", "2"] in rows


@pytest.mark.parametrize("args, code, message", [
    (["--at", "2020-01-01T00:00:00Z"], 2, "error[E632]: --at 2020-01-01T00:00:00Z is before the ledger's first"),
    (["--at", "2026-06-01T00:00:00Z", "--since", "2026-07-01T00:00:00Z"], 2, "--since: error[E632]"),
    (["--at", "yesterday"], 2, "is not an RFC 3339 time"),
    (["--format", "html"], 2, "'html' is not one of"),
    (["--since", "2026-06-01T00:00:00Z"], 0, ""),
])
def test_exit_codes(stories, args, code, message):
    result = tiergate("kpis", "--ledger", stories, *args, env=ENV)
    assert result.exit_code == code, result.output
    assert message in result.stderr


def test_a_missing_ledger_is_located_and_exits_2(tmp_path):
    result = tiergate("kpis", "--ledger", tmp_path / "none.db", env=ENV)
    assert result.exit_code == 2 and "none.db: error[E600]" in result.stderr and not result.stdout


def test_a_file_that_is_no_ledger_and_a_policy_that_is_no_policy_exit_2(tmp_path, stories):
    junk = tmp_path / "junk.db"
    junk.write_bytes(bytes(range(256)) * 64)
    result = tiergate("kpis", "--ledger", junk, env=ENV)
    assert result.exit_code == 2 and "junk.db: error[E600]" in result.stderr
    bad = tmp_path / "bad.policy"
    bad.write_text("policy oops\n")
    result = tiergate("kpis", "--ledger", stories, "--policy", bad, env=ENV)
    assert result.exit_code == 2 and "bad.policy:1" in result.stderr and not result.stdout


def test_a_postgresql_ledger_gives_what_a_sqlite_one_gives(postgres_server):
    """The same stories on PostgreSQL: the same report, to the character."""
    ledger = postgres_server.fresh()
    assert tiergate("roster", "import", ROOT / "examples" / "roster.yaml", "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z", env=ENV).exit_code == 0
    for name, use_case in STORY_USE_CASE.items():
        extra = ["--allow-violations"] if name in ("over-long-waiver.yaml", "skipped-stage.yaml") else []
        assert tiergate("import", ROOT / "examples" / "events" / name, "--answers",
                        ROOT / "examples" / "use-cases" / f"{use_case}.yaml", "--ledger", ledger, *extra,
                        env=ENV).exit_code == 0
    result = tiergate("kpis", "--ledger", ledger, "--at", "2026-12-01T00:00:00Z", env=ENV)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (ROOT / "tests" / "golden" / "kpis" / "examples.txt").read_text()


def test_an_empty_ledger_counts_nothing(tmp_path):
    from tiergate.app.kpis import kpis
    from tiergate.ledger.service import Ledger

    with Ledger(tmp_path / "empty.db") as ledger:
        result = kpis(ledger)
    assert result.summary.versions == 0 and result.summary.violation_count == 0
    from tiergate.reports import render

    for fmt in ("text", "json", "csv", "markdown"):
        assert render(result, fmt)
    assert "nothing needs attention" in render(result, "text")


def test_kpi_csv_gives_one_kpi_as_its_own_table(stories):
    from tiergate.app.kpis import kpis
    from tiergate.inputs.events import parse_time
    from tiergate.ledger.service import Ledger
    from tiergate.reports.kpis import NAMES, kpi_csv

    with Ledger(stories, create=False, readonly=True) as ledger:
        result = kpis(ledger, at=parse_time("2026-12-01T00:00:00Z"))
    assert kpi_csv(result, "waivers").splitlines() == [
        "requirement,granted,active,expiring_14d", "evidence:lineage_review@preproduction,1,0,0",
        "evidence:red_team@deployment,2,2,1"]
    for name in NAMES:
        assert kpi_csv(result, name).count("\n") >= 1
    with pytest.raises(KeyError):
        kpi_csv(result, "no-such-kpi")


# --- hostile values ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", ['=HYPERLINK("https://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3+cmd",
                                     "@SUM(1+1)", "\t=1+1", "\r=1+1"])
def test_no_csv_cell_begins_like_a_formula(payload):
    """Every value from input (tiers, stages, roles, requirements, policies, use cases, versions) in every CSV."""
    from test_output_injection import kpi_results
    from tiergate.language.load import load_policy
    from tiergate.reports.kpis import NAMES, as_csv, kpi_csv

    for result in kpi_results(load_policy(), payload):
        for out in [as_csv(result), *(kpi_csv(result, n) for n in NAMES)]:
            cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
            assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
            assert any(c in ("'" + payload, payload.replace("\t", "\\t").replace("\r", "\\r")) for c in cells)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_any_names_make_well_formed_csv_without_formulas(tier, requirement):
    """Whatever a policy names its tiers and stages and a waiver its requirement: one row per value, no formula."""
    from test_output_injection import AT as WHEN
    from tiergate.app.kpis import Kpis
    from tiergate.language.load import load_policy
    from tiergate.ledger.kpis import Promotions, Spread, Summary, WaiverCounts
    from tiergate.reports.kpis import as_csv, kpi_csv

    summary = Summary((tier,), (requirement,), (), 2, (), {tier: {requirement: 2}}, {tier: Spread(2, 1.0, 2.0)}, {},
                      {"all": Promotions()}, {tier: {"gate": 1}}, {tier: {"ok": 2}},
                      {requirement: WaiverCounts(1, 0, 0)}, {})
    result = Kpis(load_policy(), WHEN, None, summary)
    rows = list(csv.reader(io.StringIO(as_csv(result))))
    # the header; tier x stage; days (3 measures); promotions (3); violations; obligations; waivers (3)
    assert len(rows) == 1 + 1 + 3 + 3 + 1 + 1 + 3
    for row in rows:
        assert len(row) == 5 and not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in row)
    assert len(list(csv.reader(io.StringIO(kpi_csv(result, "waivers"))))) == 2


def test_a_signed_sign_off_requirement_is_answered_by_a_signed_approval_only(tmp_path):
    """Under `require signed signoff from risk_audit before deployment`, rita's unsigned approval (a day after the
    request) answers nothing; raj's signed one (four days after) is the answer the wait is timed by."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tiergate.app.recording import signed
    from tiergate.inputs.dsse import public_key_of, roster_line

    key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "raj.key"
    from cryptography.hazmat.primitives import serialization

    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    roster = tmp_path / "roster.yaml"
    roster.write_text("people:\n  dana: [data_scientist]\n  rita: [risk_audit]\n  raj: [risk_audit]\n"
                      f"keys:\n  raj:\n    - {roster_line(public_key_of(key))}\n")
    base = {"use_case": "loan-approval", "version": "1"}
    events = [
        {**base, "at": "2026-03-01T09:00:00Z", "type": "registered", "actor": "dana"},
        {**base, "at": "2026-03-02T09:00:00Z", "type": "transition", "actor": "dana", "to": "validation"},
        {**base, "at": "2026-03-03T09:00:00Z", "type": "signoff", "actor": "rita", "role": "risk_audit",
         "gate": "deployment", "decision": "approve"},
        signed({**base, "at": "2026-03-06T09:00:00Z", "type": "signoff", "actor": "raj", "role": "risk_audit",
                "gate": "deployment", "decision": "approve"}, str(key_file)),
    ]
    file = tmp_path / "events.jsonl"
    file.write_text("".join(json.dumps(e) + "\n" for e in events))
    policy = ROOT / "examples" / "signing" / "signed.policy"
    answers = ROOT / "examples" / "use-cases" / "loan-approval.yaml"
    ledger = tmp_path / "ledger.db"
    common = ("--ledger", ledger, "--policy", policy)
    assert tiergate("roster", "import", roster, *common, "--actor", "dana", "--at", "2026-03-01T08:00:00Z",
                    env=ENV).exit_code == 0
    done = tiergate("import", file, "--answers", answers, "--allow-violations", *common, env=ENV)
    assert done.exit_code == 0, done.stderr
    result = tiergate("kpis", "--ledger", ledger, "--format", "json", "--at", "2026-03-10T00:00:00Z", env=ENV)
    assert result.exit_code == 0, result.stderr
    (waits,) = json.loads(result.stdout)["kpis"]["signoff_waits"]
    assert (waits["role"], waits["answered"], waits["median_days"]) == ("risk_audit", 1, 4.0)
