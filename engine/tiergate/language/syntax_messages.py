"""Plain-language names for grammar terminals, used to word syntax errors."""
from __future__ import annotations

#: What a NAME means after each keyword: "expected a stage name after `before`".
NAME_AFTER = {
    "before": "a stage name",
    "after": "a stage name",
    "from": "a role name",
    "by": "a role name",
    "extends": "a parent tier name",
    "tier": "a tier name",
    "tiers": "a tier name",
    "<": "a tier name",
    "otherwise": "a tier name",
    "roles": "a role name",
    "workflow": "a workflow name",
    "->": "a stage name",
    "evidence": "an evidence kind such as `bias_test`",
    "monitoring": "a monitoring kind such as `input_drift`",
    "consideration": "a consideration id",
    "when": "a condition",
    "where": "a condition",
    "and": "a condition",
    "or": "a condition",
    "not": "a condition",
    "for": "an attribute name",
    "signoffs": "`from`",
    "independent of": "a role name",
    "recorded by": "a role name",
}

TERMINALS = {
    "NAME": "a name",
    "STRING": 'a double-quoted string such as "text"',
    "NUMBER": "a number",
    "INT": "a whole number",
    "DURATION": "a duration such as `30m`, `12h`, `7d` or `2w`",
    "COMPARATOR": "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
    "RACI_LETTERS": "RACI letters such as `A/R`, `C` or `I`",
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
    "COLON": "`:`",
    "COMMA": "`,`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LESSTHAN": "`<`",
    "__ANON_0": "`->`",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "_AND": "`and`",
    "_OR": "`or`",
    "_NOT": "`not`",
    "DOT": "`.`",
    "RACI_KW": "`raci`",
    "INDEPENDENT_OF": "`independent of`",
    "RECORDED_BY": "`recorded by`",
}

STATEMENTS = ("POLICY", "TIERS", "ROLES", "WORKFLOW", "CONSIDERATION", "CLASSIFY", "TIER", "RACI_KW")


def _terminal_words(name: str) -> str:
    if name in TERMINALS:
        return TERMINALS[name]
    if name.isupper() and name.isalpha():
        return f"`{name.lower()}`"
    return f"`{name}`"


def describe_expected(expected, previous: str | None) -> str:
    """'expected a stage name after `before`' or 'expected `:` or the end of the line'."""
    names = set(expected or ())
    names.discard("_DEDENT") if len(names) > 1 else None
    if names and set(STATEMENTS) <= names:
        return "expected a statement (`policy`, `tiers`, `roles`, `workflow`, `consideration`, `classify`, `tier` or `raci`)"
    if previous is not None and "NAME" in names and previous in NAME_AFTER:
        wanted = NAME_AFTER[previous]
        others = sorted(_terminal_words(n) for n in names if n not in ("NAME", "LPAR", "_NOT", "TRUE", "FALSE"))
        if previous in ("when", "where", "and", "or", "not"):
            others = []
        tail = f" (or {', '.join(others)})" if others and len(others) <= 3 else ""
        return f"expected {wanted} after `{previous}`{tail}"
    words = sorted({_terminal_words(n) for n in names})
    if not words:
        return "this does not fit here"
    if len(words) > 8:
        words = words[:8] + ["…"]
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"expected {text}" + (f" after `{previous}`" if previous else "")


def describe_token(token) -> str:
    kind = token.type
    if kind == "NAME":
        return f"name `{token}`"
    if kind == "STRING":
        return f"string {token}"
    if kind in ("NUMBER", "INT", "DURATION"):
        return f"`{token}`"
    return f"`{token}`"
