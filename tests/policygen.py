"""Hypothesis strategies shared by the property tests: valid policies, and mutations of real ones.

A generated policy is kept as statements made of lines made of tokens, so that the same policy can
be rendered in the canonical layout (what `tiergate fmt` prints) or in a messy but equivalent one
(other indentation, extra spaces, blank lines, comments).
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from tiergate.language.questionnaire_schema import SchemaView

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = ROOT / "policies" / "mlops-default.policy"
QUESTIONNAIRE = ROOT / "schemas" / "questionnaire.schema.json"

KEYWORDS = frozenset(
    """policy version tiers roles workflow consideration classify otherwise tier forbid waivable raci
    require recommend when because extends signoff signoffs from before evidence where for deployment in
    monitoring every after review by up to as and or not contains true false drop signed""".split()
)

#: Tokens that may touch their neighbours without a space in a messy layout.
PUNCT = frozenset({",", ":", "(", ")", "[", "]", "==", "!=", "<=", ">=", "<", ">", "->"})

DURATIONS = ("30m", "12h", "1d", "7d", "14d", "2w", "26w", "52w", "1y")


# --- questionnaire leaves --------------------------------------------------------------------

def _answer_paths(view: SchemaView, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    found = []
    for name in sorted(view.properties(prefix) or {}):
        parts = prefix + (name,)
        answer, _, _ = view.lookup(parts)
        if answer is None:
            continue
        if "object" in answer.types:
            found += _answer_paths(view, parts)
        else:
            found.append((parts, answer))
    return found


VIEW = SchemaView(json.loads(QUESTIONNAIRE.read_text(encoding="utf-8")))
ANSWERS = _answer_paths(VIEW)


def _quote(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


@st.composite
def question_leaf(draw) -> list[str]:
    """One comparison against a question of the shipped questionnaire, valid for its type."""
    parts, answer = draw(st.sampled_from(ANSWERS))
    path = ".".join(parts)
    if "boolean" in answer.types:
        form = draw(st.sampled_from(["bare", "eq", "ne"]))
        if form == "bare":
            return [path]
        return [path, "==" if form == "eq" else "!=", draw(st.sampled_from(["true", "false"]))]
    if "array" in answer.types:
        items = answer.items.enum if answer.items is not None and answer.items.enum else ("x",)
        return [path, "contains", _quote(draw(st.sampled_from(items)))]
    if answer.enum:
        form = draw(st.sampled_from(["eq", "ne", "in"]))
        if form == "in":
            chosen = draw(st.lists(st.sampled_from(answer.enum), min_size=1, max_size=3, unique=True))
            return [path, "in", "["] + _commas([_quote(v) for v in chosen]) + ["]"]
        return [path, "==" if form == "eq" else "!=", _quote(draw(st.sampled_from(answer.enum)))]
    if {"integer", "number"} & set(answer.types):
        return [path, draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="])), str(draw(st.integers(-5, 100)))]
    return [path, draw(st.sampled_from(["==", "!="])), _quote(draw(st.text("abc xyz", max_size=8)))]


@st.composite
def metric_leaf(draw) -> list[str]:
    """A comparison on a metric of evidence or monitoring results (any name; not checked against a schema)."""
    name = draw(names())
    number = draw(st.sampled_from(["0", "1", "0.8", "0.2", "250", "-1", "0.05"]))
    return [name, draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="])), number]


def _commas(items: list[str]) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(items):
        out.append(item + ("," if i < len(items) - 1 else ""))
    return out


def conditions(leaf) -> st.SearchStrategy[list[str]]:
    """Conditions as token lists: leaves joined by and/or, under not, in parentheses."""

    def extend(children):
        return st.one_of(
            st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)).map(
                lambda t: [tok for i, c in enumerate(t[1]) for tok in ([t[0]] if i else []) + c]),
            children.map(lambda c: ["not"] + c),
            children.map(lambda c: ["("] + c + [")"]),
        )

    return st.recursive(leaf(), extend, max_leaves=6)


QUESTION_CONDITIONS = conditions(question_leaf)
METRIC_CONDITIONS = conditions(metric_leaf)


# --- names and strings -----------------------------------------------------------------------

_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
_NAMES = st.builds(lambda a, b: a + b, st.sampled_from(_FIRST), st.text(_FIRST + "0123456789", max_size=10)).filter(
    lambda n: n not in KEYWORDS)


def names() -> st.SearchStrategy[str]:
    return _NAMES


_NAME_LISTS = {(lo, hi): st.lists(_NAMES, min_size=lo, max_size=hi, unique_by=str.lower)
               for lo in range(0, 3) for hi in range(1, 7)}


def distinct_names(draw, min_size: int, max_size: int, taken: set[str]) -> list[str]:
    """Names unique among themselves and (ignoring case) not in `taken`, which is updated."""
    chosen = []
    for name in draw(_NAME_LISTS[(min_size, max_size)]):
        while name.lower() in taken:
            name += "_"
        taken.add(name.lower())
        chosen.append(name)
    return chosen


_STRING_CHARS = st.one_of(
    st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters='"\\'),
    st.sampled_from(["#", "é", "—", "中", '\\"', "\\\\", "\t", "//"]),
)
_STRINGS = {n: st.lists(_STRING_CHARS, min_size=n, max_size=24).map(lambda cs: '"' + "".join(cs) + '"')
            for n in (0, 1)}


def strings(min_size: int = 0) -> st.SearchStrategy[str]:
    """The source text of a string literal, quotes included."""
    return _STRINGS[min_size]


# --- policies --------------------------------------------------------------------------------

@dataclass
class Line:
    depth: int
    tokens: list[str]
    rid: str | None = None  # the id of the requirement on this line


@dataclass
class Statement:
    kind: str
    lines: list[Line]


@dataclass
class GeneratedPolicy:
    statements: list[Statement]
    tiers: list[str]
    #: tier -> ids of the requirements written in its own block, in order
    own_ids: dict[str, list[str]] = field(default_factory=dict)
    #: tier -> its parent, if it extends one
    parents: dict[str, str] = field(default_factory=dict)
    #: tier -> the inherited ids its block drops
    drops: dict[str, list[str]] = field(default_factory=dict)

    def canonical(self) -> str:
        """The text `tiergate fmt` prints for this policy."""
        out: list[str] = []
        previous = None
        for st_ in self.statements:
            if out and not (st_.kind == "consideration" and previous == "consideration"):
                out.append("")
            for line in st_.lines:
                out.append("  " * line.depth + _join(line.tokens, lambda: 1))
            previous = st_.kind
        return "\n".join(out) + "\n"

    def messy(self, layout: "Layout", comments: bool = False) -> str:
        """The same policy laid out differently; with comments, returns text with `# cN` comments added."""
        rnd = random.Random(layout.seed)
        out: list[str] = []
        previous = None
        n = 0
        for st_ in self.statements:
            if out and not (st_.kind == "consideration" and previous == "consideration"):
                out.extend([" " * rnd.randint(0, 3) if layout.blank_spaces else ""] * rnd.randint(1, layout.max_blank))
            for line in st_.lines:
                if comments and rnd.random() < 0.25:
                    n += 1
                    out.append(" " * rnd.randint(0, 6) + f"# c{n} standalone")
                def brk() -> str | None:
                    """A line break inside brackets, sometimes after a comment or before comment lines."""
                    nonlocal n
                    if not layout.breaks or rnd.random() < 0.6:
                        return None
                    text = ""
                    if comments and rnd.random() < 0.4:
                        n += 1
                        text += " " * rnd.randint(1, 3) + f"# c{n} inside"
                    text += "\n"
                    if comments and rnd.random() < 0.2:
                        n += 1
                        text += " " * rnd.randint(0, 9) + f"# c{n} standalone inside\n"
                    return text + " " * rnd.randint(0, 9)

                text = " " * (layout.indent * line.depth) + _join(
                    line.tokens, lambda: rnd.randint(0, layout.max_gap), punct_tight=layout.tight, brk=brk)
                if layout.trailing:
                    text += " " * rnd.randint(0, 2)
                if comments and rnd.random() < 0.3:
                    n += 1
                    text += " " * rnd.randint(1, 3) + f'# c{n} trailing "quoted" #'
                out.append(text)
            previous = st_.kind
        if comments and rnd.random() < 0.5:
            n += 1
            out.append(f"# c{n} at the end")
        return "\n".join(out) + "\n" * layout.final_newlines


@dataclass(frozen=True)
class Layout:
    indent: int
    max_gap: int
    max_blank: int
    tight: bool
    trailing: bool
    blank_spaces: bool
    final_newlines: int
    seed: int
    breaks: bool = False  # break lines inside brackets (with comments there, when comments are added)


layouts = st.builds(
    Layout,
    indent=st.integers(1, 6),
    max_gap=st.integers(1, 4),
    max_blank=st.integers(1, 3),
    tight=st.booleans(),
    trailing=st.booleans(),
    blank_spaces=st.booleans(),
    final_newlines=st.integers(0, 3),
    seed=st.integers(0, 2**16),
    breaks=st.booleans(),
)


def _join(tokens: list[str], gap, punct_tight: bool = False, brk=None) -> str:
    """Join tokens with spaces; commas, colons and closing brackets stick to what precedes them. Inside brackets,
    `brk()` may give a line break (with what goes around it) to put between two tokens instead."""
    out = ""
    depth = 0
    for i, tok in enumerate(tokens):
        if i == 0:
            out = tok
            depth += (tok in ("(", "[")) - (tok in (")", "]"))
            continue
        prev = tokens[i - 1]
        broken = brk() if brk is not None and depth > 0 else None
        depth += (tok in ("(", "[")) - (tok in (")", "]"))
        if broken is not None:
            out += broken + tok
            continue
        canonical_none = tok in (",", ":", ")", "]") or prev in ("(", "[") or tok.startswith(",")
        if canonical_none and not punct_tight:
            width = 0
        else:
            width = gap()
            if width == 0 and not (tok in PUNCT or prev in PUNCT or tok.startswith(",") or prev.endswith(",")):
                width = 1
        out += " " * width
        out += tok
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "rule"


@st.composite
def valid_policies(draw) -> GeneratedPolicy:
    """A policy that compiles without errors, using every statement and every requirement kind."""
    taken: set[str] = set()

    def fresh(lo, hi):
        return distinct_names(draw, lo, hi, taken)

    tiers = fresh(1, 4)
    roles = fresh(1, 4)
    stages = fresh(2, 5)
    kinds = fresh(1, 5)
    workflow_names = fresh(1, 2)
    statements: list[Statement] = []

    header = [Line(0, ["policy", draw(strings()), "version", draw(strings(1)), ":"])]
    settings = []
    if draw(st.booleans()):
        settings.append(Line(1, ["description", ":", draw(strings())]))
    if draw(st.booleans()):
        settings.append(Line(1, ["questionnaire", ":", '"../schemas/questionnaire.schema.json"']))
    if not settings:
        settings.append(Line(1, ["description", ":", draw(strings())]))
    settings = draw(st.permutations(settings))
    statements.append(Statement("policy", header + list(settings)))

    top: list[Statement] = []
    tiers_tokens = ["tiers"]
    for i, t in enumerate(tiers):
        tiers_tokens += (["<"] if i else []) + [t]
    top.append(Statement("tiers", [Line(0, tiers_tokens)]))
    top.append(Statement("roles", [Line(0, ["roles"] + _commas(roles))]))

    # workflows: the first is a chain through every stage; a second one adds a loop back
    chain = [Line(1, [tok for i, s in enumerate(stages) for tok in ((["->"] if i else []) + [s])])]
    top.append(Statement("workflow", [Line(0, ["workflow", workflow_names[0], ":"])] + chain))
    if len(workflow_names) > 1:
        extra = [Line(1, [stages[-1], "->", stages[min(1, len(stages) - 1)]])]
        top.append(Statement("workflow", [Line(0, ["workflow", workflow_names[1], ":"])] + chain + extra))

    # considerations cover every evidence/monitoring kind (no W260 warning) plus the fixed kinds
    considerations = fresh(1, 3)
    groups = {c: [] for c in considerations}
    for k in kinds:
        groups[draw(st.sampled_from(considerations))].append(k)
    for c, ks in groups.items():
        ks = ks or ["signoff"]
        top.append(Statement("consideration", [Line(0, ["consideration", c, draw(strings()), ":"] + _commas(ks))]))

    # classify: rules with questionnaire conditions, then exactly one otherwise
    rules = []
    for _ in range(draw(st.integers(0, 5))):
        tokens = [draw(st.sampled_from(tiers)), "when"] + draw(QUESTION_CONDITIONS)
        if draw(st.booleans()):
            tokens += ["because", draw(strings())]
        rules.append(Line(1, tokens))
    rules.append(Line(1, ["otherwise", draw(st.sampled_from(tiers))]))
    top.append(Statement("classify", [Line(0, ["classify", ":"])] + rules))

    own_ids: dict[str, list[str]] = {}
    parents: dict[str, str] = {}
    drops: dict[str, list[str]] = {}
    for index, tier in enumerate(tiers):
        if not draw(st.booleans()) and index:
            continue
        parent = draw(st.sampled_from([None] + tiers[:index])) if index else None
        head = ["tier", tier] + (["extends", parent] if parent else []) + [":"]
        if parent:
            parents[tier] = parent
        items, ids = _tier_items(draw, roles, stages, kinds, workflow_names)
        own_ids[tier] = ids
        inherited = [rid for rid in _ids(own_ids, parents, drops, parent) if rid not in ids] if parent else []
        if inherited and draw(st.booleans()):
            rid = draw(st.sampled_from(inherited))
            drops[tier] = [rid]
            items.insert(draw(st.integers(0, len(items))), Line(1, ["drop", _quote(rid), "because", draw(strings())]))
        top.append(Statement("tier", [Line(0, head)] + items))

    if draw(st.booleans()):
        rows = []
        for _ in range(draw(st.integers(1, 3))):
            cell_roles = draw(st.lists(st.sampled_from(roles), min_size=1, max_size=len(roles), unique=True))
            letters = ["A/R"] + [draw(st.sampled_from(["C", "I", "R", "C/I"])) for _ in cell_roles[1:]]
            task = draw(st.one_of(strings(1), names()))
            tokens = [task, ":"]
            for i, (role, letter) in enumerate(zip(cell_roles, letters)):
                tokens += [role, letter + ("," if i < len(cell_roles) - 1 else "")]
            rows.append(Line(1, tokens))
        top.append(Statement("raci", [Line(0, ["raci", ":"])] + rows))

    # statements after the header may come in any order
    ordered = draw(st.permutations(top))
    return GeneratedPolicy([statements[0]] + list(ordered), tiers, own_ids, parents, drops)


def _ids(own_ids: dict, parents: dict, drops: dict, tier: str | None) -> list[str]:
    """A tier's requirement ids, as the compiler resolves them: its parent's, less those it drops or redefines, then
    its own in written order."""
    if tier is None:
        return []
    own = own_ids.get(tier, [])
    gone = set(own) | set(drops.get(tier, ()))
    return [rid for rid in _ids(own_ids, parents, drops, parents.get(tier)) if rid not in gone] + own


def expected_ids(generated: GeneratedPolicy, tier: str) -> list[str]:
    return _ids(generated.own_ids, generated.parents, generated.drops, tier)


def _tier_items(draw, roles, stages, kinds, workflow_names):
    items: list[Line] = []
    used: set[str] = set()
    counter = 0
    for _ in range(draw(st.integers(0, 2))):
        key = draw(names().filter(lambda n: n != "workflow"))
        if any(line.tokens[0] == key for line in items):
            continue
        value = draw(st.one_of(strings(), st.integers(-3, 9).map(str), st.sampled_from(["0.5", "-1.25"])))
        items.append(Line(1, [key, ":", value]))
    if draw(st.booleans()) and len(workflow_names) > 1:
        items.append(Line(1, ["workflow", ":", workflow_names[1]]))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["signoff", "signoffs", "evidence", "deployment", "monitoring", "review", "forbid"]))
        severity = draw(st.sampled_from(["require", "recommend"]))
        stage = draw(st.sampled_from(stages))
        if kind == "signoff":
            chosen = draw(st.lists(st.sampled_from(roles), min_size=1, max_size=3, unique=True))
            any_of = draw(st.booleans())
            tokens = [severity, "signoff", "from"] + (["any", "of"] if any_of else []) + _commas(chosen) + ["before", stage]
            rid = f"signoff:{('|' if any_of else '+').join(chosen)}@{stage}"
        elif kind == "signoffs":
            count = draw(st.integers(2, 4))
            role = draw(st.sampled_from(roles))
            tokens = [severity, str(count), "signoffs", "from", role, "before", stage]
            rid = f"signoff:{count}x{role}@{stage}"
        elif kind == "evidence":
            subject = draw(st.sampled_from(kinds))
            tokens = [severity, "evidence", subject]
            if draw(st.booleans()):
                tokens += ["where"] + draw(METRIC_CONDITIONS)
            if draw(st.booleans()):
                tokens += ["for"] + _commas(draw(st.lists(names(), min_size=1, max_size=3)))
            tokens += ["before", stage]
            rid = f"evidence:{subject}@{stage}"
        elif kind == "deployment":
            modes = draw(st.lists(names(), min_size=1, max_size=3))
            tokens = [severity, "deployment", "in", "["] + _commas(modes) + ["]", "before", stage]
            rid = f"deployment@{stage}"
        elif kind == "monitoring":
            subject = draw(st.sampled_from(kinds))
            tokens = [severity, "monitoring", subject]
            if draw(st.booleans()):
                tokens += ["where"] + draw(METRIC_CONDITIONS)
            tokens += ["every", draw(st.sampled_from(DURATIONS)), "after", stage]
            rid = f"monitoring:{subject}@{stage}"
        elif kind == "review":
            chosen = draw(st.lists(st.sampled_from(roles), min_size=1, max_size=3, unique=True))
            tokens = [severity, "review", "by"] + _commas(chosen) + ["every", draw(st.sampled_from(DURATIONS)), "after", stage]
            rid = f"review:{'+'.join(chosen)}@{stage}"
        else:
            tokens = ["forbid", "when"] + draw(QUESTION_CONDITIONS)
            because = draw(st.from_regex(r"[A-Za-z][A-Za-z ,.'-]{0,30}", fullmatch=True))
            tokens += ["because", _quote(because)]
            rid = f"forbid:{_slug(because)}"
        if kind in ("signoff", "signoffs", "evidence", "review") and draw(st.integers(0, 3)) == 0:
            tokens.insert(1, "signed")  # (only signed events meet it; the id does not change)
        if kind != "forbid" and draw(st.integers(0, 3)) == 0:  # only for the use cases whose answers meet it
            condition = draw(QUESTION_CONDITIONS)
            tokens += ["when"] + condition
            rid += "/when-" + hashlib.sha256(_join(condition, lambda: 1).encode()).hexdigest()[:8]
        clauses = []
        if draw(st.booleans()):
            waivers = draw(st.lists(st.sampled_from(roles), min_size=1, max_size=2, unique=True))
            clauses.append(["waivable", "by"] + _commas(waivers) + ["up", "to", draw(st.sampled_from(DURATIONS))])
        if rid in used or draw(st.integers(0, 4)) == 0:
            counter += 1
            rid = f"custom-{counter}"
            clauses.append(["as", f'"{rid}"'])
        if draw(st.booleans()):
            clauses.reverse()
        for clause in clauses:
            tokens += clause
        used.add(rid)
        items.append(Line(1, tokens, rid))
    if not items:
        items.append(Line(1, ["note", ":", '"empty"']))
    # settings and requirements may be interleaved in any order
    items = list(draw(st.permutations(items)))
    return items, [line.rid for line in items if line.rid is not None]


# --- mutations of real policies --------------------------------------------------------------

MUTATION_WORDS = (
    "policy", "tiers", "roles", "workflow", "consideration", "classify", "otherwise", "tier", "forbid",
    "waivable", "raci", "require", "recommend", "when", "because", "and", "or", "not", "in", "contains",
    "extends", "as", "up to", "every", "after", "before", "where", "for", "signoff", "2 signoffs", "from",
    "evidence", "deployment", "monitoring", "review by", "(", ")", "[", "]", ":", ",", "->", "<", "==",
    '"', '"x"', "#", "\\", "\t", "\r", "\n", "\r\n", "  ", "\ufeff", "é", "14d", "0d", "-1.5", "A/R", "\x00",
)


@st.composite
def mutations(draw, text: str) -> str:
    """`text` after 1-5 random edits: deletions, duplications, swaps, inserted words, changed indentation."""
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap_chars", "insert", "indent", "swap_lines",
                                   "duplicate_line", "delete_line"]))
        if not text:
            text = "x"
        size = len(text)
        i = draw(st.integers(0, size - 1))
        if op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 40)):]
        elif op == "duplicate":
            j = min(size, i + draw(st.integers(1, 80)))
            text = text[:j] + text[i:j] + text[j:]
        elif op == "swap_chars":
            j = draw(st.integers(0, size - 1))
            chars = list(text)
            chars[i], chars[j] = chars[j], chars[i]
            text = "".join(chars)
        elif op == "insert":
            word = draw(st.sampled_from(MUTATION_WORDS))
            text = text[:i] + draw(st.sampled_from(["", " "])) + word + draw(st.sampled_from(["", " "])) + text[i:]
        else:
            lines = text.split("\n")
            a = draw(st.integers(0, len(lines) - 1))
            if op == "indent":
                lines[a] = " " * draw(st.integers(0, 9)) + lines[a].lstrip(" ")
            elif op == "swap_lines":
                b = draw(st.integers(0, len(lines) - 1))
                lines[a], lines[b] = lines[b], lines[a]
            elif op == "duplicate_line":
                lines.insert(a, lines[draw(st.integers(0, len(lines) - 1))])
            else:
                del lines[a]
            text = "\n".join(lines)
    return text


# --- comparing compiled policies -------------------------------------------------------------

def _condition(cond):
    return None if cond is None else (cond.text, cond.paths)


def meaning(policy) -> dict:
    """Everything a compiled Policy says, without where it was written (locations, file, source, sha256)."""
    return {
        "name": policy.name,
        "version": policy.version,
        "description": policy.description,
        "tiers": [
            {
                "name": t.name, "rank": t.rank, "parent": t.parent, "workflow": t.workflow,
                "attributes": dict(t.attributes),
                "requirements": [
                    (r.id, r.kind, r.severity, r.text, r.tier, r.stage, r.relation, r.roles, r.count, r.subject,
                     _condition(r.condition), r.for_names, r.modes, r.period, r.waivable_by, r.waiver_max,
                     r.because, r.covers, _condition(r.when), r.any_of)
                    for r in t.requirements
                ],
                "dropped": [(d.id, d.tier, d.because, d.requirement.text) for d in t.dropped],
            }
            for t in policy.tiers
        ],
        "roles": policy.roles,
        "workflows": {name: (w.stages, w.edges, w.start) for name, w in policy.workflows.items()},
        "default_workflow": policy.default_workflow,
        "considerations": [(c.id, c.title, c.kinds) for c in policy.considerations],
        "rules": [(r.index, r.tier, _condition(r.condition), r.because) for r in policy.rules],
        "floor": policy.floor,
        "raci": [(row.task, row.cells) for row in policy.raci],
        "questionnaire": dict(policy.questionnaire),
        "questionnaire_file": policy.questionnaire_file,
        "warnings": sorted((d.code, d.severity, d.message) for d in policy.warnings),
    }
