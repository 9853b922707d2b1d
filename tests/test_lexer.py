"""The policy reader (lexer.py + reader.py) against the reference parser (Lark, lark_parser.py).

The reader must see exactly the tokens Lark's contextual lexer and the indenter make (type, text,
line, column), build the same syntax tree, and refuse exactly the texts the reference parser
refuses, so that those get the reference parser's worded errors. Hypothesis compares the two on
generated policies in many layouts, on mutations of the shipped packs, and on policy-like junk.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tiergate
from tiergate import TiergateError
from tiergate.language import lark_parser, tablegen as tables
from tiergate.language.builder import NestingTooDeep
from tiergate.language.lexer import Unreadable
from tiergate.language.parser import parse
from tiergate.language.reader import reader
from policygen import DEFAULT_POLICY, MUTATION_WORDS, ROOT, layouts, mutations, valid_policies

PACKS = sorted((ROOT / "policies").glob("*.policy"))
KEPT = frozenset(tables.load()["kept"])
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def reference_tokens(text: str) -> tuple[list, bool]:
    """The tokens Lark's lexer and indenter feed its parser for `text`, and whether the whole text parsed."""
    lark, builder, _ = lark_parser.reference_parser()
    fed = []
    builder.builder.file = "t.policy"  # this thread's own parser
    interactive = lark.parse_interactive(text)
    try:
        for token in interactive.iter_parse():
            fed.append(token)
        interactive.feed_eof(fed[-1] if fed else None)
    except Exception:
        return fed, False
    return fed, True


def reader_tokens(text: str) -> tuple[list, bool]:
    """The tokens the reader fed its parser for `text`, and whether it read the whole text."""
    fed: list = []
    try:
        reader().read(text, "t.policy", trace=fed)
    except Unreadable:
        return fed, False
    return fed, True


def shape(token) -> tuple:
    """What the syntax tree can see of a token: the type of every token, and text and place of those it keeps."""
    kind = getattr(token, "type", token)  # the reader traces only the type of a token it does not keep
    if kind in KEPT:
        return kind, str(token), token.line, token.column, token.end_column
    return (kind,)


def assert_same_reading(text: str) -> bool:
    """The reader and the reference parser agree on every token and on the outcome; returns whether it parsed."""
    text = text if text.endswith("\n") else text + "\n"
    mine, mine_ok = reader_tokens(text)
    theirs, theirs_ok = reference_tokens(text)
    assert [shape(t) for t in mine] == [shape(t) for t in theirs], text
    assert mine_ok == theirs_ok, text
    if mine_ok:
        assert reader().read(text, "t.policy") == lark_parser.parse(text, "t.policy", {}).statements
    return mine_ok


# --- the shipped packs and generated policies are read by the reader, token for token ------------------

@pytest.mark.parametrize("path", PACKS, ids=lambda p: p.name)
def test_shipped_packs_are_read_token_for_token(path):
    assert assert_same_reading(path.read_text(encoding="utf-8"))


@PROPERTY
@given(valid_policies())
def test_generated_policies_are_read_token_for_token(generated):
    assert assert_same_reading(generated.canonical())


@PROPERTY
@given(valid_policies(), layouts, st.booleans())
def test_any_layout_is_read_token_for_token(generated, layout, comments):
    """Other indentation, gaps, blank lines with spaces, trailing spaces, comments, missing final newline."""
    assert assert_same_reading(generated.messy(layout, comments))


# --- and refused exactly where the reference parser refuses ---------------------------------------------

policy_like_text = st.lists(
    st.one_of(st.sampled_from(MUTATION_WORDS),
              st.sampled_from(["\n", "\n  ", "\n    ", "\n   ", "\r\n", " ", "\t", "x", "a.b", "1", "-2.5", "7d",
                               "A/R", "C", '"s"', '"', "#", "(", ")", "[", "]", "->", "=", "<", "tiers", "é"]),
              st.text(max_size=3)),
    max_size=60,
).map("".join)


@PROPERTY
@given(mutations(DEFAULT_POLICY.read_text(encoding="utf-8")))
def test_mutated_pack_is_read_or_refused_like_the_reference(text):
    assert_same_reading(text)


@PROPERTY
@given(policy_like_text)
@example("")
@example("tiers a < b\n")
@example("roles tier, tiers, policy\n")
@example("tiers low <high<mid\n")
@example("tierslow < high\n")  # the reference lexer reads `tiers` `low` here, and so must the reader
def test_policy_like_text_is_read_or_refused_like_the_reference(text):
    assert_same_reading(text)


# --- tokens, pinned ---------------------------------------------------------------------------------

def test_token_stream_of_a_small_policy():
    text = (
        'policy "p" version "1.0":  # trailing comment\n'
        '  description: "d"\n'
        "\n"
        "  # a comment line, then a blank line with spaces\n"
        "   \n"
        "tiers low < high\n"
        "roles tier, raci\n"
        "classify:\n"
        '  high when (a.b >= -1.5 or c in ["x", 7d]) and not d because "r"\n'
        "  otherwise low\n"
        "raci:\n"
        "  build: tier A/R, raci C\n"
    )
    fed, ok = reader_tokens(text)
    assert ok
    assert [shape(t) for t in fed] == [
        ("POLICY", "policy", 1, 1, 7), ("STRING", '"p"', 1, 8, 11), ("VERSION",), ("STRING", '"1.0"', 1, 20, 25),
        ("COLON",), ("_NL",), ("_INDENT",),
        ("NAME", "description", 2, 3, 14), ("COLON",), ("STRING", '"d"', 2, 16, 19), ("_NL",), ("_DEDENT",),
        ("TIERS", "tiers", 6, 1, 6), ("NAME", "low", 6, 7, 10), ("LESSTHAN",), ("NAME", "high", 6, 13, 17), ("_NL",),
        ("ROLES", "roles", 7, 1, 6), ("NAME", "tier", 7, 7, 11), ("COMMA",), ("NAME", "raci", 7, 13, 17), ("_NL",),
        ("CLASSIFY", "classify", 8, 1, 9), ("COLON",), ("_NL",), ("_INDENT",),
        ("NAME", "high", 9, 3, 7), ("WHEN",), ("LPAR", "(", 9, 13, 14), ("NAME", "a", 9, 14, 15), ("DOT",),
        ("NAME", "b", 9, 16, 17), ("COMPARATOR", ">=", 9, 18, 20), ("NUMBER", "-1.5", 9, 21, 25), ("_OR",),
        ("NAME", "c", 9, 29, 30), ("IN",), ("LSQB",), ("STRING", '"x"', 9, 35, 38), ("COMMA",),
        ("DURATION", "7d", 9, 40, 42), ("RSQB",), ("RPAR", ")", 9, 43, 44), ("_AND",), ("_NOT",),
        ("NAME", "d", 9, 53, 54), ("BECAUSE",), ("STRING", '"r"', 9, 63, 66), ("_NL",),
        ("OTHERWISE", "otherwise", 10, 3, 12), ("NAME", "low", 10, 13, 16), ("_NL",), ("_DEDENT",),
        ("RACI_KW", "raci", 11, 1, 5), ("COLON",), ("_NL",), ("_INDENT",),
        ("NAME", "build", 12, 3, 8), ("COLON",), ("NAME", "tier", 12, 10, 14), ("RACI_LETTERS", "A/R", 12, 15, 18),
        ("COMMA",), ("NAME", "raci", 12, 20, 24), ("RACI_LETTERS", "C", 12, 25, 26), ("_NL",), ("_DEDENT",),
    ]
    assert_same_reading(text)


def test_line_breaks_inside_brackets_are_not_tokens():
    text = 'tiers a < b\nclassify:\n  b when x in [\n      "p",\n  "q"] and (\ny)\n  otherwise a\n'
    fed, ok = reader_tokens(text)
    assert ok
    assert [shape(t) for t in fed if shape(t)[0] in ("STRING", "NAME", "_NL")][6:] == [
        ("STRING", '"p"', 4, 7, 10), ("STRING", '"q"', 5, 3, 6), ("NAME", "y", 6, 1, 2), ("_NL",),
        ("NAME", "a", 7, 13, 14), ("_NL",)]
    assert_same_reading(text)


# --- every error: the reader refuses, and the diagnostic is the reference parser's ---------------------

SMALL = 'tiers low < high\nroles owner\nworkflow w:\n  a -> b\nclassify:\n  high when x == "y"\n  otherwise low\n'

ERRORS = {
    "unexpected character": SMALL.replace("x ==", "x ~="),
    "single =": SMALL.replace("==", "="),
    "non-ASCII name": SMALL.replace("x ==", "é =="),
    "unterminated string": SMALL.replace('"y"', '"y'),
    "control character": SMALL.replace("x ==", "x \x0c=="),
    "lone carriage return": SMALL.replace("roles owner\n", "roles owner\r"),
    "keyword glued to a word": SMALL.replace("classify:", "classifyx:"),
    "bad dedent": SMALL.replace("  otherwise", " otherwise"),
    "indent after no header": SMALL.replace("roles owner", "  roles owner"),
    "stray close": SMALL.replace('x == "y"', 'x == "y")'),
    "stray close bracket": SMALL.replace('x == "y"', "x in a]"),
    "open bracket at the end": SMALL.replace('x == "y"', 'x in ["y"'),
    "open paren at the end": SMALL.replace('x == "y"', '(x == "y"'),
    "line ends early": SMALL.replace("a -> b", "a ->"),
    "block ends early": 'tiers low\nclassify:\n  otherwise low\ntier low:\n',
    "header with no body": "tiers low\nclassify:",
    "unexpected token": SMALL.replace("roles owner", "roles owner owner"),
    "number where a duration goes": SMALL + "tier low:\n  require review by owner every 7 after b\n",
    "duration where a number goes": SMALL + "tier low:\n  require 2d signoffs from owner before b\n",
    "keyword where a rule starts": SMALL.replace("  high when", "  otherwise when"),
    "nesting too deep": SMALL.replace('x == "y"', "(" * 70 + "x" + ")" * 70),
}


@pytest.mark.parametrize("text", ERRORS.values(), ids=ERRORS.keys())
def test_errors_are_the_reference_parsers(text):
    with pytest.raises((Unreadable, NestingTooDeep)):
        reader().read(text if text.endswith("\n") else text + "\n", "e.policy")
    with pytest.raises(TiergateError) as ours:
        parse(text, "e.policy")
    with pytest.raises(TiergateError) as reference:
        lark_parser.parse(text, "e.policy", {"e.policy": text})
    assert ours.value.diagnostics == reference.value.diagnostics
    assert ours.value.diagnostics[0].code.startswith("E1")


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing\n   # here\n  \n", "\r\n"])
def test_a_text_with_no_statements_is_read(text):
    assert reader().read(text if text.endswith("\n") else text + "\n", "e.policy") == ()
    assert parse(text, "e.policy").statements == ()


def test_tab_in_indentation_is_e103_before_reading():
    with pytest.raises(TiergateError) as info:
        parse(SMALL.replace("  otherwise", "\totherwise"), "e.policy")
    assert [(d.code, d.location.line, d.location.column) for d in info.value.diagnostics] == [("E103", 7, 1)]


def test_a_valid_policy_never_reaches_the_reference_parser(monkeypatch):
    def refuse(*args):
        raise AssertionError("the reference parser was asked to read a valid policy")

    monkeypatch.setattr(lark_parser, "parse", refuse)
    for path in PACKS:
        tiergate.compile_policy(path.read_text(encoding="utf-8"), path.name, path.parent)


# --- the stored tables ------------------------------------------------------------------------------

def test_stored_tables_are_current():
    """After an edit of policy.lark, run `python -m tiergate.language.tablegen`."""
    from tiergate.language import grammar_tables

    assert grammar_tables.CHECKSUM == tables.checksum()
    assert tables.render(tables.build()) == tables.STORED.read_text(encoding="utf-8")


def test_stale_tables_are_not_used(monkeypatch):
    from tiergate.language import grammar_tables

    stored = grammar_tables.TABLES
    monkeypatch.setattr(grammar_tables, "CHECKSUM", "0:stale")
    monkeypatch.setattr(grammar_tables, "TABLES", None)
    assert tables.load() == stored  # built with Lark, the same as the stored ones
