"""The regulatory policy packs: policies/eu-ai-act.policy and policies/model-risk.policy.

Each pack lints clean with --strict and is in the canonical layout; every example under
examples/eu-ai-act/ and examples/model-risk/ is pinned to its tier and to the citation (EU AI Act)
or materiality reason (model risk) of the rule that decides it; the Article 6(3) derogation is checked
for every Annex III area; and the engine stays generic: nothing under engine/ names a pack.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import tiergate
from tiergate import load_policy
from tiergate.decide.classify import classify
from tiergate.cli import COMMANDS
from tiergate.inputs.answers import find_answer_files, load_answers

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
EU_POLICY = POLICIES / "eu-ai-act.policy"
MRM_POLICY = POLICIES / "model-risk.policy"
EU_EXAMPLES = ROOT / "examples" / "eu-ai-act"
MRM_EXAMPLES = ROOT / "examples" / "model-risk"
PACKS = {"eu-ai-act": (EU_POLICY, EU_EXAMPLES), "model-risk": (MRM_POLICY, MRM_EXAMPLES)}

#: example -> (tier, a part of the deciding rule's `because`, forbidden in its tier)
EU_EXPECTED = {
    "benefit-fraud-scoring.yaml": ("high", "Article 6(2) and Annex III point 5(a) (public assistance benefits)", False),
    "card-fraud-detection.yaml": ("minimal", "Annex III point 5(b) excludes AI systems used to detect financial fraud",
                                  False),
    "citizen-social-scoring.yaml": ("prohibited", "Article 5(1)(c)", True),
    "customer-service-chatbot.yaml": ("limited", "Article 50(1)", False),
    "cv-profiler.yaml": ("high", "Article 6(2) and Annex III point 4 (employment)", False),
    "cv-reformatter.yaml": ("minimal", "Article 6(3): an Annex III use that meets a derogation condition", False),
    "cv-screening.yaml": ("high", "Article 6(2) and Annex III point 4 (employment)", False),
    "defence-target-recognition.yaml": ("out_of_scope", "Article 2(3)", False),
    "insulin-dose-advisor.yaml": ("high", "Article 6(1) and Annex I Section A", False),
    "newsroom-text-generator.yaml": ("limited", "Article 50(2)", False),
    "retail-credit-scoring.yaml": ("high", "Article 6(2) and Annex III point 5(b) (creditworthiness)", False),
    "spam-filter.yaml": ("minimal", "Article 6 does not apply", False),
    "vehicle-emergency-braking.yaml": ("high_annex_i_section_b", "Article 6(1) and Annex I Section B", False),
}
MRM_EXPECTED = {
    "capital-stress-testing.yaml": ("tier1", "Materiality, regulatory use: the output feeds regulatory capital or "
                                             "stress testing", False),
    "collections-prioritisation.yaml": ("tier2", "Materiality, customers affected", False),
    "credit-decision-scorecard.yaml": ("tier1", "Materiality, financial exposure: a model error could cause a loss, "
                                                "mispricing or misstatement of more than $100 million", False),
    "marketing-propensity.yaml": ("tier3", "Low materiality", False),
    "overdraft-fee-calculator.yaml": ("not_a_model", "Not a model: it applies fixed arithmetic or business rules",
                                      False),
    "collections-challenger.yaml": ("challenger", "Challenger: the model runs beside the model in use", False),
    "vendor-aml-screening.yaml": ("tier1", "Materiality, regulatory compliance: the model is the main or only control",
                                  False),
}
EXAMPLES = [pytest.param(pack, name, *row, id=f"{pack}/{name}")
            for pack, expected in (("eu-ai-act", EU_EXPECTED), ("model-risk", MRM_EXPECTED))
            for name, row in sorted(expected.items())]

#: what no file of the engine may mention: the engine knows no pack
PACK_WORDS = ("eu-ai-act", "model-risk", "Annex", "SR 11-7")








@pytest.fixture(scope="module")
def policies():
    return {name: load_policy(policy) for name, (policy, _) in PACKS.items()}


# --- lint and fmt ---------------------------------------------------------------------------

@pytest.mark.parametrize("pack", sorted(PACKS))
def test_pack_lints_clean_with_strict(pack):
    result = tiergate("lint", "--strict", PACKS[pack][0])
    assert result.exit_code == 0, result.output + result.stderr
    assert "no problems" in result.stderr


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_pack_is_in_the_canonical_layout(pack):
    result = tiergate("fmt", "--check", PACKS[pack][0])
    assert result.exit_code == 0, result.output + result.stderr


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_pack_compiles_without_warnings_and_names_its_own_questionnaire(policies, pack):
    policy = policies[pack]
    assert policy.name == pack
    assert policy.warnings == ()
    assert Path(policy.questionnaire_file).name == f"{pack}.questionnaire.schema.json"


# --- the examples ---------------------------------------------------------------------------

@pytest.mark.parametrize("pack,expected", [("eu-ai-act", EU_EXPECTED), ("model-risk", MRM_EXPECTED)])
def test_every_example_is_pinned_and_every_tier_is_shown(policies, pack, expected):
    on_disk = sorted(p.name for p in find_answer_files([PACKS[pack][1]]))
    assert on_disk == sorted(expected)
    assert {tier for tier, _, _ in expected.values()} == set(policies[pack].tier_names)


@pytest.mark.parametrize("pack,name,tier,because,forbidden", EXAMPLES)
def test_example_tier_and_deciding_rule(policies, pack, name, tier, because, forbidden):
    policy_file, examples = PACKS[pack]
    policy = policies[pack]
    c = classify(policy, load_answers(examples / name, policy))
    assert c.tier == tier
    d = c.deciding
    assert d is not None, f"{name} fell to the floor: no rule gives its reason"
    assert d.tier == tier
    assert because in d.because
    assert Path(d.file).resolve() == policy_file.resolve()
    assert bool(c.forbidden) is forbidden


@pytest.mark.parametrize("pack,name,tier,because,forbidden", EXAMPLES)
def test_example_comment_states_its_tier(pack, name, tier, because, forbidden):
    text = (PACKS[pack][1] / name).read_text(encoding="utf-8")
    stated = re.search(r"^# expected tier: (\w+)", text, re.MULTILINE)
    assert stated is not None, f"{name} has no `# expected tier:` comment"
    assert stated.group(1) == tier


@pytest.mark.parametrize("name", sorted(EU_EXPECTED))
def test_eu_reasons_cite_the_act(policies, name):
    """Every EU rule that holds for an example cites an Article or an Annex of the Act."""
    policy = policies["eu-ai-act"]
    c = classify(policy, load_answers(EU_EXAMPLES / name, policy))
    for m in c.matched:
        assert re.match(r"(Article \d+|Annex (I|III) )", m.because), m.because


@pytest.mark.parametrize("name", sorted(MRM_EXPECTED))
def test_model_risk_reasons_name_materiality_complexity_or_reliance(policies, name):
    policy = policies["model-risk"]
    c = classify(policy, load_answers(MRM_EXAMPLES / name, policy))
    for m in c.matched:
        assert m.because.startswith(("Materiality, ", "Low materiality, ", "Complexity and reliance: ", "Challenger: ",
                                     "Not a model: ")), m.because
        assert "(SR 11-7 section " in m.because, m.because


def test_classify_command_exits_1_for_the_prohibited_example_and_0_for_model_risk():
    eu = tiergate("classify", "--policy", EU_POLICY, EU_EXAMPLES, "--format", "json")
    assert eu.exit_code == 1, eu.stderr
    report = json.loads(eu.output)
    assert report["errors"] == []
    assert {c["use_case"] for c in report["classifications"] if c["forbidden"]} == {"citizen-social-scoring"}
    mrm = tiergate("classify", "--policy", MRM_POLICY, MRM_EXAMPLES)
    assert mrm.exit_code == 0, mrm.stderr


# --- the Article 6(3) derogation, for every Annex III area --------------------------------------

def _eu_answers(use: str | None, derogation: str | None, profiling: bool, fraud: bool = False) -> dict:
    """The spam filter's answers moved into an Annex III use (point 1(c), emotion recognition, is a question of
    its own), with at most one derogation condition."""
    doc = yaml_load(EU_EXAMPLES / "spam-filter.yaml")
    answers = doc["answers"]
    answers["annex_iii_uses"] = [] if use in (None, "emotion_recognition") else [use]
    answers["emotion_recognition_system"] = use == "emotion_recognition"
    answers["detects_financial_fraud"] = fraud
    for condition in answers["derogation"]:
        answers["derogation"][condition] = condition == derogation
    answers["profiling_of_natural_persons"] = profiling
    doc["use_case"] = "derogation-probe"
    return doc


def yaml_load(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _annex_iii_uses() -> list[str]:
    schema = json.loads((ROOT / "schemas" / "eu-ai-act.questionnaire.schema.json").read_text(encoding="utf-8"))
    props = schema["properties"]["answers"]["properties"]
    return [*props["annex_iii_uses"]["items"]["enum"], "emotion_recognition"]


DEROGATIONS = ("narrow_procedural_task", "improves_completed_human_activity", "detects_decision_patterns",
               "preparatory_task")


@pytest.mark.parametrize("use", _annex_iii_uses())
def test_annex_iii_use_without_derogation_is_high(policies, use):
    c = classify(policies["eu-ai-act"], _eu_answers(use, None, profiling=False))
    assert c.tier == "high"
    assert "Annex III point" in c.deciding.because


@pytest.mark.parametrize("derogation", DEROGATIONS)
@pytest.mark.parametrize("use", _annex_iii_uses())
def test_annex_iii_derogation_applies_only_without_profiling(policies, use, derogation):
    policy = policies["eu-ai-act"]
    without = classify(policy, _eu_answers(use, derogation, profiling=False))
    # an emotion recognition system keeps its Article 50(3) duty when the derogation applies
    assert without.tier == ("limited" if use == "emotion_recognition" else "minimal")
    assert any(m.tier == "minimal" and m.because.startswith("Article 6(3)") for m in without.matched)
    assert not without.forbidden  # the assessment is documented
    profiled = classify(policy, _eu_answers(use, derogation, profiling=True))
    assert profiled.tier == "high"


def test_fraud_detection_is_excluded_from_point_5b_only(policies):
    """Annex III point 5(b) excludes systems used to detect financial fraud from the credit score use only: a
    fraud detector without an Annex III use is minimal; one that keeps an Annex III use (5(a), 5(b)...) is high."""
    policy = policies["eu-ai-act"]
    for profiling in (False, True):
        c = classify(policy, _eu_answers(None, None, profiling, fraud=True))
        assert c.tier == "minimal"
        assert c.deciding.because.startswith("Annex III point 5(b) excludes")
        assert not c.forbidden
        for use in _annex_iii_uses():
            assert classify(policy, _eu_answers(use, None, profiling, fraud=True)).tier == "high", use


@pytest.mark.parametrize("exclusion", ["military_defence_national_security", "third_country_public_authority",
                                       "scientific_research", "pre_market_research_testing", "personal_non_professional",
                                       "free_open_source"])
@pytest.mark.parametrize("name", sorted(n for n in EU_EXPECTED if n != "defence-target-recognition.yaml"))
def test_eu_article_2_exclusions(policies, exclusion, name):
    """Each Article 2 exclusion takes every example out of scope, except that Article 2(12) (free and open-source)
    leaves a prohibited, high-risk or Article 50 system where it was."""
    policy = policies["eu-ai-act"]
    doc = yaml_load(EU_EXAMPLES / name)
    doc["answers"]["article_2_exclusion"] = exclusion
    c = classify(policy, doc)
    tier = EU_EXPECTED[name][0]
    expected = tier if exclusion == "free_open_source" and tier != "minimal" else "out_of_scope"
    assert c.tier == expected
    assert c.deciding is not None
    if expected == "out_of_scope":
        assert c.deciding.because.startswith("Article 2(") and not c.forbidden


# --- the packs' own policy tests ----------------------------------------------------------------

@pytest.mark.parametrize("pack", sorted(PACKS))
def test_pack_policy_tests_pass_with_full_coverage(pack):
    if "test" not in COMMANDS:
        pytest.skip("this build has no `tiergate test`")
    result = tiergate("test", POLICIES / f"{pack}_test.yaml", "--coverage-min", "100")
    assert result.exit_code == 0, result.output + result.stderr
    assert re.search(rf"coverage of \S*policies/{pack}\.policy: 100%", result.output), result.output


# --- the engine stays generic -------------------------------------------------------------------

def test_no_engine_file_names_a_pack():
    found = []
    for path in sorted((ROOT / "engine" / "tiergate").rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace").lower()
        for word in PACK_WORDS:
            if word.lower() in text:
                found.append(f"{path.relative_to(ROOT)}: {word}")
    assert not found, "the engine must not know about a pack: " + "; ".join(found)
