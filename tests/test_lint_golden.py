"""Golden tests for `tiergate lint`: every diagnostic code, exactly as a policy author sees it.

Each `tests/golden/lint/<CODE>-<slug>.policy` holds one realistic mistake; the `.expected` file beside
it is exactly what `tiergate lint tests/golden/lint/<CODE>-<slug>.policy` prints on standard output.
Codes that no file on disk can produce (a missing file, a binary or oversized file) are tested here
in Python. docs/errors.md quotes these outputs and is checked against them.

Set TIERGATE_UPDATE_GOLDEN=1 to rewrite the .expected files, then read every changed one by eye.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiergate.language.load import lint_file
from tiergate.cli import main
from tiergate import TiergateError

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "lint"
DOCS = ROOT / "docs" / "errors.md"
UPDATE = os.environ.get("TIERGATE_UPDATE_GOLDEN") == "1"
CASES = sorted(GOLDEN.glob("*.policy"))

HEADLINE = re.compile(r"^\S+?(?::\d+(?::\d+)?)?: (error|warning)\[([EW]\d{3})\]: ", re.MULTILINE)

#: Codes about policy files (E0xx files, E1xx syntax, E2xx/W2xx meaning). E3xx and up concern answers
#: files and other inputs that `tiergate lint` never reads; they need their own tests.
LINT_CODE = re.compile(r"[EW][0-2]\d\d")


def engine_codes() -> set[str]:
    """Every policy diagnostic code written in the engine's source."""
    found = set()
    for path in (ROOT / "engine").rglob("*.py"):
        found.update(re.findall(r"\"([EW]\d{3})\"", path.read_text(encoding="utf-8")))
    return {code for code in found if LINT_CODE.fullmatch(code)}


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into output unless told not to
    except TypeError:
        return CliRunner()


def lint(*args: str):
    result = runner().invoke(main, ["lint", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def codes_in(output: str) -> list[tuple[str, str]]:
    return HEADLINE.findall(output)


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


# --- the golden files ---------------------------------------------------------------------

def test_there_are_golden_cases():
    assert CASES, f"no *.policy files in {GOLDEN}"
    for case in CASES:
        assert re.fullmatch(r"[EW]\d{3}-[a-z0-9-]+", case.stem), f"{case.name}: name it <CODE>-<slug>.policy"
        assert case.with_suffix(".expected").exists() or UPDATE, f"{case.name} has no .expected file"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_golden(case: Path, at_root):
    relative = case.relative_to(ROOT).as_posix()
    result = lint(relative)
    expected_file = case.with_suffix(".expected")
    if UPDATE:
        expected_file.write_text(result.stdout, encoding="utf-8", newline="")
    assert result.stdout == expected_file.read_text(encoding="utf-8")

    code = case.stem.split("-", 1)[0]
    found = codes_in(result.stdout)
    assert found, "the case reports nothing"
    assert {c for _, c in found} == {code}, f"a case shows one mistake; this one also reports {found}"
    assert all(line.startswith(relative) for line in result.stdout.splitlines() if HEADLINE.match(line))
    if code.startswith("W"):
        assert result.exit_code == 0, "warnings alone do not fail lint"
        strict = lint("--strict", relative)
        assert strict.exit_code == 1, "--strict fails on warnings"
        assert strict.stdout == result.stdout
    else:
        assert result.exit_code == 1


def test_json_format(at_root):
    files = ["tests/golden/lint/E211-unknown-role.policy", "tests/golden/lint/W260-evidence-kind-not-covered.policy"]
    result = lint("--format", "json", *files)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data == [
        {
            "code": "E211",
            "severity": "error",
            "file": files[0],
            "line": 21,
            "column": 24,
            "message": "unknown role `risk_oficer`",
            "hint": "did you mean `risk_officer`?",
        },
        {
            "code": "W260",
            "severity": "warning",
            "file": files[1],
            "line": 22,
            "column": 20,
            "message": "evidence kind `red_team` is covered by no consideration",
            "hint": "list `red_team` in the consideration it belongs to",
        },
    ]


# --- codes that no policy file in the repository can produce ----------------------------

#: The exact standard output for the cases below; docs/errors.md quotes them.
PYTHON_OUTPUTS = {
    "E001": "tests/golden/lint/E221-second-otherwise.polcy: error[E001]: file not found\n",
    "E105": "team-models.policy:2: error[E105]: the file is not UTF-8 text (bad byte 0xe8)\n"
            "  hint: save the policy as UTF-8\n",
    "E106": "team-models.policy: error[E106]: policy file is 5.0 MB; the largest accepted is 4 MB\n"
            "  hint: split the policy, or check that this is the file you meant\n",
}


def test_e001_file_not_found(at_root):
    result = lint("tests/golden/lint/E221-second-otherwise.polcy")
    assert result.stdout == PYTHON_OUTPUTS["E001"]
    assert result.exit_code == 2, "an unreadable file is unusable input"


def test_e001_directory(tmp_path):
    with pytest.raises(TiergateError) as caught:
        lint_file(tmp_path)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.message) == ("E001", "is a directory, not a file")


def test_e001_one_missing_file_does_not_hide_the_others(at_root):
    result = lint("tests/golden/lint/nowhere.policy", "tests/golden/lint/E211-unknown-role.policy")
    assert [c for _, c in codes_in(result.stdout)] == ["E211", "E001"]  # sorted by file name
    assert result.exit_code == 2


def test_e105_not_utf8(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = 'policy "team-models" version "1.0.0":\n  description: "Mod\u00e8les de l\'\u00e9quipe"\n'
    (tmp_path / "team-models.policy").write_bytes(text.encode("cp1252"))  # saved by an editor set to Windows-1252
    result = lint("team-models.policy")
    assert result.stdout == PYTHON_OUTPUTS["E105"]
    assert result.exit_code == 2, "a file that is not text is unusable input"


def test_e105_binary_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "team-models.policy").write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00policy.docx")
    result = lint("team-models.policy")
    assert result.stdout == (
        "team-models.policy: error[E105]: this is a binary file, not policy text\n"
        "  hint: a policy is UTF-8 text; check the file name\n"
    )
    assert result.exit_code == 2


def test_e106_too_large(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = (GOLDEN / "W260-evidence-kind-not-covered.policy").read_bytes()
    padding = b"# an exported history of every review, pasted in by mistake\n"
    size = 5 * 1024 * 1024
    (tmp_path / "team-models.policy").write_bytes(base + padding * ((size - len(base)) // len(padding) + 1))
    result = lint("team-models.policy")
    assert result.stdout == PYTHON_OUTPUTS["E106"]
    assert result.exit_code == 2, "a file too large is unusable input"


PYTHON_CODES = {"E001", "E105", "E106"}


def test_every_code_has_a_test():
    golden = {case.stem.split("-", 1)[0] for case in CASES}
    covered = golden | PYTHON_CODES
    engine = engine_codes()
    assert not engine - covered, f"codes without a golden case in {GOLDEN.relative_to(ROOT)}: {sorted(engine - covered)}"
    assert not covered - engine, f"tests for codes the engine no longer emits: {sorted(covered - engine)}"


# --- syntax errors worth a special look ----------------------------------------------------

BASE = '''policy "team-models" version "1.0.0":
  description: "Everyday analysis and models whose results reach customers."

tiers low < high

roles data_scientist, risk_officer

workflow default:
  development -> review -> production

consideration bias "Bias testing": bias_test

classify:
  high when audience == "public" because "Customers see the results"
  otherwise low

tier low:
  require evidence bias_test before production

tier high extends low:
  require signoff from risk_officer before production
'''


def edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


SYNTAX_CASES = {
    "unclosed-parenthesis": (
        edit('audience == "public" because "Customers see the results"', '(audience == "public" or impact.legal == "high"'),
        'case.policy:15:3: error[E100]: unexpected `otherwise`: expected `)` after `"high"`\n'
        ' 15 |   otherwise low\n'
        '    |   ^^^^^^^^^\n'
        '  hint: the `(` opened at line 14, column 13 is still open; close it with `)`\n',
    ),
    "missing-stage-after-before": (
        edit("risk_officer before production", "risk_officer before"),
        "case.policy:21:43: error[E100]: the line ends too early: expected a stage name after `before`\n"
        " 21 |   require signoff from risk_officer before\n"
        "    |                                           ^\n",
    ),
    "indented-line-after-no-header": (
        edit("roles data_scientist, risk_officer\n", "roles data_scientist, risk_officer\n  model_validator\n"),
        "case.policy:7:1: error[E104]: this line is indented but follows no block header\n"
        " 7 |   model_validator\n"
        "   | ^^\n"
        "  hint: only a line ending in `:` opens an indented block; remove the indentation\n",
    ),
    "tab-in-indentation": (
        edit("  otherwise low", "\totherwise low"),
        "case.policy:15:1: error[E103]: a tab is used for indentation\n"
        " 15 | \totherwise low\n"
        "    | ^\n"
        "  hint: indent with spaces (two per level is the canonical layout)\n",
    ),
    "non-ascii-identifier": (
        edit("tier high extends low", "tier \u00e9lev\u00e9 extends low"),
        "case.policy:20:6: error[E101]: `\u00e9` cannot be used in a name\n"
        " 20 | tier \u00e9lev\u00e9 extends low:\n"
        "    |      ^\n"
        "  hint: names use the ASCII letters A-Z and a-z, digits and `_`; put other text in double quotes\n",
    ),
    "string-not-closed": (
        edit('reach customers."', "reach customers."),
        "case.policy:2:16: error[E101]: this string is not closed on its line\n"
        ' 2 |   description: "Everyday analysis and models whose results reach customers.\n'
        "   |                ^\n"
        '  hint: end it with `"` on the same line\n',
    ),
    "otherwise-missing": (
        edit("  otherwise low\n", ""),
        "case.policy:13:1: error[E220]: `classify` has no `otherwise` line\n"
        " 13 | classify:\n"
        "    | ^^^^^^^^\n"
        "  hint: end the block with `otherwise low` (the tier when no rule holds)\n",
    ),
    "empty-file": (
        "",
        "case.policy:1:1: error[E200]: the policy is empty\n"
        '  hint: start with a header: policy "NAME" version "1.0.0":\n',
    ),
    "windows-line-endings": (BASE.replace("\n", "\r\n").encode("utf-8"), ""),
    "utf8-byte-order-mark": (b"\xef\xbb\xbf" + BASE.encode("utf-8"), ""),
    "windows-line-endings-with-a-mistake": (
        edit("signoff from risk_officer", "signoff from risk_oficer").replace("\n", "\r\n").encode("utf-8"),
        "case.policy:21:24: error[E211]: unknown role `risk_oficer`\n"
        " 21 |   require signoff from risk_oficer before production\n"
        "    |                        ^^^^^^^^^^^\n"
        "  hint: did you mean `risk_officer`?\n",
    ),
}


@pytest.mark.parametrize("name", sorted(SYNTAX_CASES))
def test_syntax_case(name: str, tmp_path, monkeypatch):
    source, expected = SYNTAX_CASES[name]
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "case.policy"
    if isinstance(source, bytes):
        path.write_bytes(source)
    else:
        path.write_text(source, encoding="utf-8", newline="")
    result = lint("case.policy")
    assert result.stdout == expected
    if expected:
        assert result.exit_code == 1
    else:
        assert result.exit_code == 0
        assert result.stderr == "1 policy file: no problems\n"


# --- docs/errors.md stays true --------------------------------------------------------------

SECTION = re.compile(r"^### ([EW]\d{3})\b.*$", re.MULTILINE)
EXAMPLE = re.compile(r"^Case: `([^`]+)`\n+```policy\n(.*?)^```\n+```text\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TEXT_BLOCK = re.compile(r"^```text\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TABLE_ROW = re.compile(r"^\| *`?([EW]\d{3})`? *\|", re.MULTILINE)


def doc_sections() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    marks = list(SECTION.finditer(text))
    sections = {}
    for mark, following in zip(marks, marks[1:] + [None]):
        end = following.start() if following else len(text)
        assert mark.group(1) not in sections, f"docs/errors.md has two sections for {mark.group(1)}"
        sections[mark.group(1)] = text[mark.end():end]
    return sections


def test_docs_list_every_code():
    text = DOCS.read_text(encoding="utf-8")
    engine = engine_codes()
    table = set(TABLE_ROW.findall(text))
    sections = set(doc_sections())
    assert not engine - table, f"codes missing from the table in docs/errors.md: {sorted(engine - table)}"
    assert not engine - sections, f"codes without a `### CODE` section in docs/errors.md: {sorted(engine - sections)}"
    assert not (table | sections) - engine, f"docs/errors.md describes codes the engine does not emit: {sorted((table | sections) - engine)}"


@pytest.mark.parametrize("code", sorted(engine_codes()))
def test_docs_example_is_real_output(code: str):
    section = doc_sections().get(code)
    assert section is not None, f"docs/errors.md has no `### {code}` section"
    examples = EXAMPLE.findall(section)
    if code in PYTHON_OUTPUTS:
        blocks = TEXT_BLOCK.findall(section)
        assert blocks, f"the {code} section needs a ```text block"
        assert blocks[0] == PYTHON_OUTPUTS[code]
        return
    assert examples, f"the {code} section needs: Case: `tests/golden/lint/...policy`, a ```policy block, a ```text block"
    for case, snippet, output in examples:
        policy = ROOT / case
        assert policy.parent == GOLDEN and policy.name.startswith(code + "-"), f"{case} is not a golden case for {code}"
        assert output == policy.with_suffix(".expected").read_text(encoding="utf-8"), f"the {code} output in docs/errors.md is stale"
        source = policy.read_text(encoding="utf-8")
        for part in re.split(r"^\.\.\.\n", snippet, flags=re.MULTILINE):
            assert part in source, f"the {code} snippet in docs/errors.md is not from {case}:\n{part}"
