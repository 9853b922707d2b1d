"""Property tests of the parser and compiler.

Whatever text or bytes come in, linting reports problems as diagnostics and never raises; compiling
raises nothing but TiergateError, whose diagnostics all say what and where. Every policy built by
the generator in policygen.py compiles with no problem at all.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tiergate
from tiergate import TiergateError
from tiergate.errors import ERROR, WARNING
from policygen import DEFAULT_POLICY, MUTATION_WORDS, ROOT, expected_ids, mutations, valid_policies

POLICIES = ROOT / "policies"
DEFAULT_TEXT = DEFAULT_POLICY.read_text(encoding="utf-8")
CODE = re.compile(r"[EW]\d{3}")

PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Text made of the language's own words and punctuation reaches deeper into the grammar than
# arbitrary characters do.
policy_like_text = st.lists(
    st.one_of(st.sampled_from(MUTATION_WORDS), st.sampled_from(["\n  ", "\n    ", "x", "a.b", "1", "7d"]),
              st.text(max_size=4)),
    max_size=80,
).map("".join)


def check_diagnostic(d, filename: str) -> None:
    assert CODE.fullmatch(d.code), d
    assert d.message and d.message.strip(), d
    assert d.severity in (ERROR, WARNING), d
    assert d.location.file == filename, d
    assert d.location.line >= 0 and d.location.column >= 0, d
    d.render(None)
    d.to_dict()


def check_lint_and_compile(data, base_dir=None) -> None:
    """lint_source returns diagnostics and never raises; compile_policy raises only TiergateError."""
    result = tiergate.lint_source(data, "x.policy", base_dir)
    for d in result.diagnostics:
        check_diagnostic(d, "x.policy")
        d.render(result.source)
    assert (result.policy is None) == any(d.is_error for d in result.diagnostics)
    try:
        policy = tiergate.compile_policy(data, "x.policy", base_dir)
    except TiergateError as exc:
        assert exc.diagnostics, "a TiergateError without diagnostics"
        assert any(d.is_error for d in exc.diagnostics)
        for d in exc.diagnostics:
            check_diagnostic(d, "x.policy")
        exc.render()
        str(exc)
    else:
        assert result.policy is not None
        assert policy.name == result.policy.name


@PROPERTY
@given(policy_like_text, st.booleans())
@example("", False)
@example("\ufeff", False)
@example("policy", False)
@example("(" * 200, False)
@example("\n" * 50 + "  x", False)
def test_random_text_is_reported_not_raised(text, with_base):
    check_lint_and_compile(text, POLICIES if with_base else None)


@PROPERTY
@given(st.binary(max_size=400))
@example(b"\xff\xfe")
@example(b"\xef\xbb\xbf")
@example(b"policy \x00")
@example("policy \"é\"".encode("latin-1"))
def test_random_bytes_are_reported_not_raised(data):
    check_lint_and_compile(data)


@PROPERTY
@given(mutations(DEFAULT_TEXT), st.booleans(), st.booleans())
def test_mutated_default_pack_is_reported_not_raised(text, with_base, as_bytes):
    check_lint_and_compile(text.encode("utf-8") if as_bytes else text, POLICIES if with_base else None)


def _expected_ids(generated, tier: str) -> list[str]:
    """A tier's requirement ids: its parent's, less those it drops or redefines, then its own in written order."""
    return expected_ids(generated, tier)


@PROPERTY
@given(valid_policies())
def test_generated_policies_compile_cleanly(generated):
    text = generated.canonical()
    result = tiergate.lint_source(text, "gen.policy", POLICIES)
    assert result.diagnostics == (), "\n".join(d.render(text) for d in result.diagnostics) + "\n\n" + text
    policy = tiergate.compile_policy(text, "gen.policy", POLICIES)
    assert list(policy.tier_names) == generated.tiers
    for tier in generated.tiers:
        assert [r.id for r in policy.tier(tier).requirements] == _expected_ids(generated, tier), tier
        assert policy.tier(tier).parent == generated.parents.get(tier)
    # every rule compiles into a callable
    assert all(callable(rule.condition.fn) for rule in policy.rules)


@pytest.mark.parametrize("depth", [1, 30, 63])
def test_deep_but_allowed_nesting_compiles(depth, small_policy):
    condition = "(" * depth + 'availability == "realtime"' + ")" * depth
    text = small_policy.replace('availability == "realtime"', condition)
    policy = tiergate.compile_policy(text)
    assert policy.rules[0].condition.text == condition


@pytest.mark.parametrize("condition", ["(" * 65 + "regulations.pii" + ")" * 65, "not " * 65 + "regulations.pii"])
def test_too_deep_nesting_is_e107(condition, small_policy):
    text = small_policy.replace('availability == "realtime"', condition)
    with pytest.raises(TiergateError) as info:
        tiergate.compile_policy(text)
    assert [d.code for d in info.value.diagnostics] == ["E107"]


def test_own_requirement_replaces_inherited_one_in_place_of_order(small_policy):
    """A child's requirement with an inherited id replaces it; inherited ones keep their order, own ones follow."""
    text = small_policy.replace(
        "tier low:\n  require evidence unit_tests before release\n",
        "tier low:\n  require evidence unit_tests before release\n"
        '  require signoff from owner before build as "r1"\n'
        '  require signoff from owner before release as "r2"\n'
        '  require signoff from owner before release as "r3"\n',
    ).replace(
        "tier high extends low:\n  require signoff from reviewer before release\n",
        "tier high extends low:\n"
        '  require signoff from reviewer before release as "r2"\n'
        '  require signoff from reviewer before build as "r4"\n',
    )
    policy = tiergate.compile_policy(text)
    assert [r.id for r in policy.tier("low").requirements] == ["evidence:unit_tests@release", "r1", "r2", "r3"]
    high = policy.tier("high").requirements
    assert [(r.id, r.tier) for r in high] == [
        ("evidence:unit_tests@release", "low"), ("r1", "low"), ("r3", "low"), ("r2", "high"), ("r4", "high")]
    assert high[3].roles == ("reviewer",)
