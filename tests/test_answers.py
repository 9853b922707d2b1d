"""Answers files that cannot be used: each mistake gives one clear diagnostic.

Every diagnostic names the file and line, the JSON path of the answer, and what is allowed there.
Hostile input (alias bombs, deep nesting, huge files, random bytes) gives a TiergateError quickly,
never another exception, a crash or a large memory bill.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiergate.language.load import load_policy
from tiergate.decide.classify import classify
from tiergate.errors import TiergateError
from tiergate.inputs.answers import Answers, load_answers, parse_answers

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "use-cases"
SCHEMA_FILE = ROOT / "schemas" / "questionnaire.schema.json"
DOC = ROOT / "docs" / "questionnaire.md"
BASE = (EXAMPLES / "churn-dashboard.yaml").read_text(encoding="utf-8")
QUESTIONS = ("`regulations`, `audience`, `availability`, `impact`, `release_cadence`, `model_lifetime`, "
             "`decision_impact_lifetime`, `quality_decay`, `explainability`, `decisions_about_people`, "
             "`protected_attributes`")
YAML_HINT = "check the indentation and quoting on this line and the one above"


@pytest.fixture(scope="module")
def policy():
    return load_policy(ROOT / "policies" / "mlops-default.policy")


@pytest.fixture(scope="module")
def schema(policy):
    return policy.questionnaire


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def problems(text: str | bytes, schema) -> list[tuple[str, str, str, str | None]]:
    with pytest.raises(TiergateError) as info:
        parse_answers(text, "answers.yaml", schema)
    return [(d.code, str(d.location), d.message, d.hint) for d in info.value.diagnostics]


def test_the_base_file_is_valid(schema):
    a = parse_answers(BASE, "answers.yaml", schema)
    assert isinstance(a, Answers) and a.use_case == "churn-dashboard"


#: name -> (the answers text, [(code, file:line[:column], message, hint)])
CASES = {
    "not YAML: a tab in the indentation": (
        edit("  audience: internal_few", "\taudience: internal_few"),
        [("E300", "answers.yaml:11:1", "this is not valid YAML: found a tab character that violates indentation "
          "(while scanning a plain scalar)", YAML_HINT)]),
    "not YAML: a key indented one space short": (
        edit("    pii: false", "   pii: false"),
        [("E300", "answers.yaml:10:4", "this is not valid YAML: did not find expected key (while parsing a block "
          "mapping)", YAML_HINT)]),
    "not YAML: two documents": (
        BASE + "---\n" + BASE,
        [("E300", "answers.yaml:28", "the file holds more than one YAML document", "remove the `---` separator")]),
    "not a mapping: a list": (
        "- use_case: churn-dashboard\n- title: Customer churn dashboard\n",
        [("E301", "answers.yaml:1", "an answers file must be a mapping (use_case, title, owner, answers); this one "
          "is a list", None)]),
    "not a mapping: empty": (
        "# answers to come\n",
        [("E301", "answers.yaml:1", "an answers file must be a mapping (use_case, title, owner, answers); this one "
          "is empty", None)]),
    "missing question": (
        edit("  quality_decay: moderate\n", ""),
        [("E302", "answers.yaml:6", "the answer $.answers.quality_decay is missing",
          "add `quality_decay:` — How quickly the model's quality is expected to drop as the world changes (new "
          "customer behaviour, new products, new fraud patterns): `slow`, `moderate` or `fast`.")]),
    "missing nested question": (
        edit("    legal: none\n", ""),
        [("E302", "answers.yaml:13", "the answer $.answers.impact.legal is missing",
          "add `legal:` — Legal or regulatory harm: breaking a law or a regulator's rule, fines, lawsuits.")]),
    "missing owner": (
        edit("owner: Customer Insights team\n", ""),
        [("E302", "answers.yaml:3", "the answer $.owner is missing",
          "add `owner:` — The person or team accountable for the use case, who answers questions about it and "
          "keeps these answers up to date.")]),
    "value outside the enum, near miss": (
        edit("availability: scheduled", "availability: realtme"),
        [("E303", "answers.yaml:12", '$.answers.availability is "realtme"; allowed: "realtime", "scheduled", '
          '"ad_hoc"', "did you mean `realtime`?")]),
    "value outside the enum, far off": (
        edit("availability: scheduled", "availability: nightly"),
        [("E303", "answers.yaml:12", '$.answers.availability is "nightly"; allowed: "realtime", "scheduled", '
          '"ad_hoc"', None)]),
    "value outside the enum, wrong type too": (
        edit("availability: scheduled", "availability: 3"),
        [("E303", "answers.yaml:12", '$.answers.availability is 3; allowed: "realtime", "scheduled", "ad_hoc"',
          None)]),
    "value outside the enum of a shared definition": (
        edit("legal: none", "legal: severe"),
        [("E303", "answers.yaml:14", '$.answers.impact.legal is "severe"; allowed: "none", "low", "medium", "high"',
          None)]),
    "list item outside the enum": (
        edit("protected_attributes: []", "protected_attributes: [relgion]"),
        [("E303", "answers.yaml:24", '$.answers.protected_attributes[0] is "relgion"; allowed: "age", "gender", '
          '"ethnicity", "religion", "disability", "nationality", "marital_status", "sexual_orientation"',
          "did you mean `religion`?")]),
    "a YAML date where text is expected": (
        edit("availability: scheduled", "availability: 2024-01-31"),
        [("E303", "answers.yaml:12", '$.answers.availability is "2024-01-31"; allowed: "realtime", "scheduled", '
          '"ad_hoc"', None)]),
    "unknown question": (
        edit("  quality_decay: moderate\n", "  quality_decay: moderate\n  data_steward: Jane\n"),
        [("E304", "answers.yaml:22", "$.answers.data_steward is not a question of this questionnaire",
          f"declared questions here: {QUESTIONS}")]),
    "misspelt question": (
        edit("quality_decay: moderate", "qualty_decay: moderate"),
        [("E304", "answers.yaml:21", "$.answers.qualty_decay is not a question of this questionnaire",
          "did you mean `quality_decay`?")]),
    "a number as a question": (
        edit("  quality_decay: moderate\n", "  quality_decay: moderate\n  1: x\n"),
        [("E304", "answers.yaml:22", "$.answers.1 is not a question of this questionnaire",
          f"declared questions here: {QUESTIONS}")]),
    "wrong type: text for true/false": (
        edit("pii: false", 'pii: "no"'),
        [("E305", "answers.yaml:10", '$.answers.regulations.pii is "no", but it must be true or false', None)]),
    "wrong type: one value for a list": (
        edit("regions: [eu]", "regions: eu"),
        [("E305", "answers.yaml:9", '$.answers.regulations.regions is "eu", but it must be a list', None)]),
    "wrong type: a YAML set for a list": (
        edit("regions: [eu]", "regions: !!set {eu: null}"),
        [("E305", "answers.yaml:9", "$.answers.regulations.regions is \"{'eu'}\", but it must be a list", None)]),
    "anchor and alias": (
        edit("regions: [eu]", "regions: &r [eu]").replace("protected_attributes: []", "protected_attributes: *r"),
        [("E307", "answers.yaml:9:14", "YAML anchors and aliases (`&name`, `*name`) are not allowed here",
          "write the value out in full")]),
    "duplicate key": (
        edit("  audience: internal_few\n", "  audience: internal_few\n  audience: public\n"),
        [("E308", "answers.yaml:12:3", "key `audience` appears twice (first at line 11)",
          "keep one of them: YAML would silently use the last")]),
    "empty list of regions": (
        edit("regions: [eu]", "regions: []"),
        [("E306", "answers.yaml:9", "$.answers.regulations.regions: [] should be non-empty", None)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_clear_diagnostic(name, schema):
    text, expected = CASES[name]
    assert problems(text, schema) == expected


def test_every_answers_code_is_covered():
    codes = {code for _, expected in CASES.values() for code, *_ in expected}
    assert {"E300", "E301", "E302", "E303", "E304", "E305", "E307", "E308"} <= codes


def test_several_mistakes_are_all_reported(schema):
    text = edit("availability: scheduled", "availability: nightly").replace("pii: false", "pii: maybe")
    text = text.replace("  quality_decay: moderate\n", "  quality_decay: moderate\n  foo: 1\n  bar: 2\n")
    assert [(code, loc) for code, loc, *_ in problems(text, schema)] == [
        ("E305", "answers.yaml:10"), ("E303", "answers.yaml:12"), ("E304", "answers.yaml:22"),
        ("E304", "answers.yaml:23")]


def test_diagnostics_at_the_command_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tiergate.cli import main

    (tmp_path / "answers.yaml").write_text(CASES["value outside the enum, near miss"][0], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["classify", "answers.yaml"])
    assert result.exit_code == 2
    assert result.stderr == ('answers.yaml:12: error[E303]: $.answers.availability is "realtme"; allowed: '
                             '"realtime", "scheduled", "ad_hoc"\n  hint: did you mean `realtime`?\n')


# --- hostile input ----------------------------------------------------------------------------

def test_huge_file(tmp_path, policy):
    path = tmp_path / "huge.yaml"
    path.write_bytes(BASE.encode() + b"# " + b"x" * (2 * 1024 * 1024) + b"\n")
    with pytest.raises(TiergateError) as info:
        load_answers(path, policy)
    [d] = info.value.diagnostics
    assert (d.code, d.location.file, d.message) == (
        "E300", str(path), "the file is 2.0 MB; the largest accepted is 2 MB")


def test_huge_text(policy):
    with pytest.raises(TiergateError) as info:
        parse_answers(BASE + "#" + "x" * (3 * 1024 * 1024), "answers.yaml", policy.questionnaire)
    assert [(d.code, d.message) for d in info.value.diagnostics] == [
        ("E300", "the text is 3.0 M characters; the largest accepted is 2 MB")]


def test_not_utf8(policy):
    assert problems(BASE.encode() + b"\xff\n", policy.questionnaire) == [
        ("E300", "answers.yaml", f"the file is not UTF-8 text (bad byte at offset {len(BASE.encode())})", None)]


def test_lone_surrogate(policy):
    assert problems(BASE + "# \ud800\n", policy.questionnaire) == [
        ("E300", "answers.yaml", f"the text is not valid Unicode (lone surrogate at offset {len(BASE) + 2})", None)]


def test_many_values(policy):
    text = BASE + "extra: [" + "1," * 250_000 + "1]\n"
    assert problems(text, policy.questionnaire) == [
        ("E309", "answers.yaml", "the YAML has more than 200000 values", None)]


BILLION_LAUGHS = textwrap.dedent("""\
    use_case: lol
    title: lol
    owner: lol
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    answers: *i
    """)

#: Run in a child process: prints the diagnostics, the seconds parsing took and the peak memory in MB.
CHILD = textwrap.dedent("""\
    import json, resource, sys, time
    from tiergate.language.load import load_policy
    from tiergate.errors import TiergateError
    from tiergate.inputs.answers import parse_answers
    schema = load_policy().questionnaire
    text = sys.stdin.read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        parse_answers(text, "bomb.yaml", schema)
        found = []
    except TiergateError as exc:
        found = [[d.code, str(d.location), d.message] for d in exc.diagnostics]
    seconds = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps({"found": found, "seconds": seconds, "grown_mb": grown}))
    """)


def run_child(text: str) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD], input=text, capture_output=True, text=True, timeout=10,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr  # a crash (a segfault is -11) fails here
    return json.loads(result.stdout)


def test_billion_laughs_is_refused_fast_in_bounded_memory():
    out = run_child(BILLION_LAUGHS)
    assert out["found"] == [["E307", "bomb.yaml:4:4",
                             "YAML anchors and aliases (`&name`, `*name`) are not allowed here"]]
    assert out["seconds"] < 2
    assert out["grown_mb"] < 50


@pytest.mark.parametrize("text, line", [("answers: " + "[" * 200_000, 1), ("answers: " + "{a: " * 200_000, 1),
                                        ("answers:\n" + "- " * 200_000 + "x\n", 2)], ids=["[", "{", "-"])
def test_deep_nesting_is_refused_without_crashing(text, line):
    # without a limit, the C parser's composer recurses until the process dies with a segmentation fault
    out = run_child(text)
    assert out["found"] == [["E300", f"bomb.yaml:{line}", "the YAML nests more than 100 levels deep"]]
    assert out["seconds"] < 5


def test_pyyamls_own_nesting_limit_is_worded_as_tiergates(monkeypatch):
    # PyYAML >= 6.0.4 stops at 1000 levels with its own words, and its scanner, looking ahead for a key, can get
    # there before the scan sees the 101st level; whichever PyYAML is installed, the message is tiergate's
    import yaml

    from tiergate.inputs import yamlsource

    def refuse(text, Loader=None):
        mark = yaml.Mark("<unicode string>", 1008, 0, 1008, None, None)
        raise yaml.scanner.ScannerError("while increasing flow level", mark, "exceeded maximum nesting depth", mark)
        yield  # a generator, as yaml.parse is

    monkeypatch.setattr(yamlsource.yaml, "parse", refuse)
    with pytest.raises(TiergateError) as caught:
        yamlsource.load_yaml("answers: " + "[" * 2000, "bomb.yaml")
    assert [(d.code, str(d.location), d.message) for d in caught.value.diagnostics] == [
        ("E300", "bomb.yaml:1", "the YAML nests more than 100 levels deep")]


def test_nesting_just_below_the_scan_is_refused_too(schema):
    # few enough brackets to skip the streaming scan: the walk over the nodes still refuses it
    deep = "[" * 300 + "]" * 300
    text = edit("protected_attributes: []", f"protected_attributes: [{deep}, {deep}]")
    assert problems(text, schema) == [("E300", "answers.yaml", "the YAML nests more than 100 levels deep", None)]


# --- properties ---------------------------------------------------------------------------------

TOKENS = ["", " ", "  ", "\n", "\t", ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "&a ", "*a", "&b [1]", "!!set ",
          "!!binary ", "!!python/object:os.system ", "!foo ", "~", "null", "true", "no", "0x1F", "1e400", ".nan",
          "2024-01-01", "'", '"', "#", "? ", "<<: ", "<<: {a: 1}", "|", ">", "%YAML 1.1\n", "---\n", "...\n",
          "\x00", "\ufeff", "é", "\u2028", "realtime", "audience", "answers:", "impact:", "legal: high",
          "[eu, eu]", "[]", "{}", "'unclosed", "x" * 40]

mutation = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.sampled_from(TOKENS)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.integers(1, 40)),
    st.tuples(st.just("replace"), st.integers(0, 10_000), st.sampled_from(TOKENS)),
    st.tuples(st.just("dup-line"), st.integers(0, 100), st.just("")),
    st.tuples(st.just("drop-line"), st.integers(0, 100), st.just("")),
    st.tuples(st.just("indent"), st.integers(0, 100), st.sampled_from(["", " ", "   ", "\t"])),
    st.tuples(st.just("swap-lines"), st.integers(0, 100), st.integers(0, 100).map(str)),
)


def mutate(text: str, ops) -> str:
    for op, at, arg in ops:
        lines = text.split("\n")
        if op == "insert":
            i = at % (len(text) + 1)
            text = text[:i] + arg + text[i:]
        elif op == "delete":
            i = at % (len(text) + 1)
            text = text[:i] + text[i + arg:]
        elif op == "replace":  # replace the value after a colon on some line
            n = at % len(lines)
            key, sep, _ = lines[n].partition(": ")
            lines[n] = key + sep + arg if sep else arg
            text = "\n".join(lines)
        elif op == "dup-line":
            n = at % len(lines)
            text = "\n".join(lines[:n + 1] + lines[n:])
        elif op == "drop-line":
            n = at % len(lines)
            text = "\n".join(lines[:n] + lines[n + 1:])
        elif op == "indent":
            n = at % len(lines)
            lines[n] = arg + lines[n].lstrip(" ")
            text = "\n".join(lines)
        elif op == "swap-lines":
            a, b = at % len(lines), int(arg) % len(lines)
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


def parse_or_explain(data: str | bytes, policy) -> None:
    """The one contract: a TiergateError with located diagnostics, or answers that validate and classify."""
    try:
        answers = parse_answers(data, "fuzz.yaml", policy.questionnaire)
    except TiergateError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.code.startswith("E3") and d.location.file == "fuzz.yaml" and d.message
        return
    jsonschema.validate(answers.document.data, json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    assert classify(policy, answers).tier in policy.tier_names


SOURCES = [BASE] + [(EXAMPLES / f"{n}.yaml").read_text(encoding="utf-8")
                    for n in ("loan-approval", "inflight-meal-counts", "ecommerce-recommender")]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(SOURCES), ops=st.lists(mutation, min_size=1, max_size=6))
def test_mutated_answers_raise_only_tiergate_errors(policy, source, ops):
    parse_or_explain(mutate(source, ops), policy)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
def test_random_text_raises_only_tiergate_errors(policy, text):
    parse_or_explain(text, policy)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_tiergate_errors(policy, data):
    parse_or_explain(data, policy)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.sampled_from(list("[]{}-:?,&*!|>'\"# \n\tab1~")), max_size=200))
def test_yaml_punctuation_raises_only_tiergate_errors(policy, text):
    parse_or_explain(text, policy)


# --- the questionnaire documentation ------------------------------------------------------------

def schema_questions(schema: dict) -> tuple[list[str], list]:
    """Every question path (dotted, from the top of the file) and every allowed value in the schema."""
    def resolve(node):
        while "$ref" in node:
            target = schema
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    paths, values = [], []

    def walk(node, prefix):
        node = resolve(node)
        values.extend(node.get("enum", []))
        if "items" in node:
            values.extend(resolve(node["items"]).get("enum", []))
        for name, child in node.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            paths.append(path)
            walk(child, path)

    walk(schema, "")
    return paths, values


def test_docs_list_every_question_and_value():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    paths, values = schema_questions(schema)
    assert "answers.impact.public_trust" in paths and "sexual_orientation" in values
    text = DOC.read_text(encoding="utf-8")
    missing_paths = [p for p in paths if f"`{p}`" not in text]
    missing_values = [v for v in values if f"`{v}`" not in text]
    assert not missing_paths, f"docs/questionnaire.md does not mention {missing_paths}"
    assert not missing_values, f"docs/questionnaire.md does not mention the values {missing_values}"
