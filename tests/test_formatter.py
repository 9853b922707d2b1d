"""`tiergate fmt`: one canonical layout, reached in one step, keeping every comment and the meaning.

The golden pair tests/golden/fmt/messy.policy -> messy.expected pins the canonical layout exactly;
the property tests check it on policies built by policygen.py and on mutations of the default pack.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiergate
from tiergate import TiergateError
from tiergate.cli import main
from tiergate.language.formatter import find_comments
from policygen import DEFAULT_POLICY, ROOT, layouts, meaning, mutations, valid_policies

POLICIES = ROOT / "policies"
SHIPPED = sorted(POLICIES.glob("*.policy"))
GOLDEN = ROOT / "tests" / "golden" / "fmt"
DEFAULT_TEXT = DEFAULT_POLICY.read_text(encoding="utf-8")

PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fmt(text: str | bytes) -> str:
    return tiergate.format_source(text, "f.policy")


def compiled(text: str | bytes, base_dir: Path = POLICIES):
    return tiergate.compile_policy(text, "f.policy", base_dir)


def comments(text: str) -> list[str]:
    """Every comment's text, in the order of the lines they are on."""
    return [found[0] for _, found in sorted(find_comments(text).items())]


def assert_same_meaning(before: str, after: str, base_dir: Path = POLICIES) -> None:
    assert meaning(compiled(after, base_dir)) == meaning(compiled(before, base_dir))


# --- shipped policies ------------------------------------------------------------------------

def test_there_are_shipped_policies():
    assert DEFAULT_POLICY in SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_policy_is_formatted_and_lint_clean(path, cli_runner):
    text = path.read_text(encoding="utf-8")
    assert fmt(text) == text
    result = cli_runner.invoke(main, ["fmt", "--check", str(path)])
    assert result.exit_code == 0, result.output
    result = tiergate.lint_file(path)
    assert result.diagnostics == (), [d.headline() for d in result.diagnostics]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_policy_comes_back_from_another_layout(path):
    """Re-indent by four spaces, double every blank line, pad every line: fmt restores the original."""
    text = path.read_text(encoding="utf-8")
    messy = []
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        messy.append(" " * (indent * 2) + line.lstrip(" ") + ("   " if line.strip() else ""))
        if not line.strip():
            messy.append("")
    messy_text = "\n".join(messy)
    assert messy_text != text
    assert fmt(messy_text) == text
    assert comments(fmt(messy_text)) == [c.rstrip() for c in comments(text)]
    assert_same_meaning(text, messy_text, path.parent)


# --- the golden layout -----------------------------------------------------------------------

def test_messy_policy_formats_to_golden_text():
    messy = (GOLDEN / "messy.policy").read_text(encoding="utf-8")
    expected = (GOLDEN / "messy.expected").read_text(encoding="utf-8")
    assert fmt(messy) == expected


def test_golden_expected_is_a_fixed_point_and_means_the_same():
    messy = (GOLDEN / "messy.policy").read_text(encoding="utf-8")
    expected = (GOLDEN / "messy.expected").read_text(encoding="utf-8")
    assert fmt(expected) == expected
    assert_same_meaning(messy, expected, GOLDEN)
    assert sorted(comments(expected)) == sorted(c.rstrip() for c in comments(messy))


def test_golden_messy_policy_is_really_messy():
    """Guard the fixture itself: it must keep exercising what it is meant to."""
    messy = (GOLDEN / "messy.policy").read_text(encoding="utf-8")
    assert "\n    require" in messy  # 4-space indentation
    assert "\n\n\n" in messy  # runs of blank lines
    assert re.search(r"and \(\n", messy)  # a parenthesised condition over several lines
    assert re.search(r"\S  +\S", messy)  # odd spacing
    assert re.search(r"#.*\n", messy.split("classify")[1])  # a comment inside the multi-line condition


# --- comments --------------------------------------------------------------------------------

def test_every_kind_of_comment_is_kept(small_policy):
    text = (
        "# first line\n"
        + small_policy.replace('version "1.0.0":', 'version "1.0.0":  # on the header')
        .replace("tiers low < high", "# before tiers\ntiers low < high  # on tiers")
        .replace("  otherwise low", "    # inside classify, odd indent\n  otherwise low  # floor")
        .replace('"Live"', '"Live # not a comment"  # after a string with a hash')
        + "\n\n# at the very end\n"
    )
    out = fmt(text)
    assert comments(out) == [c.rstrip() for c in comments(text)]
    assert '"Live # not a comment"' in out
    assert out.endswith("# at the very end\n")
    assert fmt(out) == out
    assert_same_meaning(text, out)


def test_comment_inside_multiline_condition_stays_where_it_was(small_policy):
    text = small_policy.replace(
        'high when availability == "realtime" because "Live"',
        'high when (availability == "realtime"  # live\n      or regulations.pii) because "Live"')
    out = fmt(text)
    assert '  high when (availability == "realtime"  # live\n    or regulations.pii) because "Live"\n' in out
    assert fmt(out) == out
    assert_same_meaning(text, out)


@pytest.mark.parametrize("written, printed", [
    # a comment on a line of its own inside the condition, at the indentation of what follows it
    ('high when (\n # why\n        availability == "realtime" or regulations.pii) because "Live"',
     'high when (\n    # why\n    availability == "realtime" or regulations.pii) because "Live"'),
    # a closing bracket on a line of its own goes back to the statement's indentation
    ('high when (availability == "realtime" # live\n   or regulations.pii\n        ) because "Live"  # at the end',
     'high when (availability == "realtime"  # live\n    or regulations.pii\n  ) because "Live"  # at the end'),
    # nested brackets indent once more per bracket still open
    ('high when (availability == "realtime" or (  # either\n audience in [\n "public",  # outside\n'
     ' "internal_many"]))',
     'high when (availability == "realtime" or (  # either\n      audience in [\n        "public",  # outside\n'
     '        "internal_many"]))'),
    # a comment only on the last line: the statement is printed on one line, the comment after it
    ('high when (availability == "realtime"\n      or regulations.pii) because "Live"  # live',
     'high when (availability == "realtime" or regulations.pii) because "Live"  # live'),
])
def test_a_multiline_condition_keeps_its_breaks_when_it_holds_a_comment(small_policy, written, printed):
    text = small_policy.replace('high when availability == "realtime" because "Live"', written)
    out = fmt(text)
    assert "\n  " + printed + "\n" in out
    assert fmt(out) == out
    assert comments(out) == [c.rstrip() for c in comments(text)]
    assert_same_meaning(text, out)


def test_a_requirement_condition_over_several_lines_keeps_its_comment(small_policy):
    text = small_policy.replace("  require signoff from reviewer before release\n", (
        '  require signoff from reviewer before release\n'
        '  require evidence unit_tests before release when (regulations.pii  # personal data\n'
        '          or audience == "public") as "tests-when-exposed"\n'))
    out = fmt(text)
    assert ('  require evidence unit_tests before release when (regulations.pii  # personal data\n'
            '    or audience == "public") as "tests-when-exposed"\n') in out
    assert fmt(out) == out
    assert_same_meaning(text, out)


def test_blank_lines_between_comments_at_the_end_are_kept(small_policy):
    text = small_policy + "\n\n# first note\n# goes on\n\n\n# second note\n\n"
    out = fmt(text)
    assert out.endswith("\n\n# first note\n# goes on\n\n# second note\n")
    assert fmt(out) == out


def test_comment_only_file_and_empty_file():
    assert fmt("") == ""
    assert fmt("# only a comment\n") == "# only a comment\n"
    out = fmt("\n\n# a\n\n\n# b   \n")
    assert out == "# a\n\n# b\n"
    assert fmt(out) == out


def test_crlf_and_bom_come_out_canonical(small_policy):
    crlf = small_policy.replace("\n", "\r\n").encode("utf-8")
    assert fmt(crlf) == small_policy
    assert fmt(b"\xef\xbb\xbf" + small_policy.encode("utf-8")) == small_policy


def test_unparsable_text_raises_located_error():
    with pytest.raises(TiergateError) as info:
        fmt('policy "p" version "1":\n  description "no colon"\n')
    assert info.value.diagnostics[0].location.line == 2


# --- properties ------------------------------------------------------------------------------

@PROPERTY
@given(valid_policies(), layouts)
def test_any_layout_of_a_generated_policy_formats_to_the_canonical_one(generated, layout):
    canonical = generated.canonical()
    assert fmt(canonical) == canonical
    messy = generated.messy(layout)
    out = fmt(messy)
    assert out == canonical, messy
    assert_same_meaning(messy, out)


@PROPERTY
@given(valid_policies(), layouts)
def test_formatting_keeps_comments_in_order_and_meaning(generated, layout):
    messy = generated.messy(layout, comments=True)
    out = fmt(messy)
    assert fmt(out) == out, messy
    assert comments(out) == [c.rstrip() for c in comments(messy)], messy
    assert_same_meaning(messy, out)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations(DEFAULT_TEXT))
def test_formatting_mutated_default_pack(text):
    """Whatever still parses formats to a fixed point that lints the same and, if it compiled, means the same."""
    try:
        out = fmt(text)
    except TiergateError as exc:
        assert exc.diagnostics
        return
    assert fmt(out) == out
    assert sorted(comments(out)) == sorted(c.rstrip() for c in comments(text))
    before = tiergate.lint_source(text, "f.policy", POLICIES)
    after = tiergate.lint_source(out, "f.policy", POLICIES)
    assert sorted(d.code for d in after.diagnostics) == sorted(d.code for d in before.diagnostics)
    if before.policy is not None:
        assert meaning(after.policy) == meaning(before.policy)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["", "  ", "\t", "x", "#", "# c", '"#"', "policy", ":"]), max_size=12))
def test_formatter_never_crashes_on_comment_like_lines(lines):
    text = "\n".join(lines)
    try:
        out = fmt(text)
    except TiergateError:
        return
    assert fmt(out) == out
