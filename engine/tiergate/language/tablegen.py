"""The policy grammar as data for the reader: Lark's LALR parse table, rules and per-state lexers.

reader.py reads policies without importing Lark. It needs what Lark computes from policy.lark: the
LALR parse table, how each rule's children are kept or spliced, and, for each parser state, the
regular expression Lark's contextual lexer matches there. tablegen.py takes them from the reference
parser (lark_parser.py) and stores them in grammar_tables.py, a plain Python module. The stored
tables carry a checksum of policy.lark; when the grammar has changed since they were written they
are not used, and the tables are built with Lark at start-up instead (slower, still correct).

After editing policy.lark, write the tables again (a test fails until you do):

    python -m tiergate.language.tablegen
"""
from __future__ import annotations

import pprint
import sys
import zlib
from pathlib import Path

GRAMMAR = Path(__file__).with_name("policy.lark")
STORED = Path(__file__).with_name("grammar_tables.py")
#: Bumped when the shape of the tables changes, so that older stored tables are not used.
FORMAT = 1


def checksum() -> str:
    """What the stored tables must have been built from: the grammar's text and the table format."""
    return f"{FORMAT}:{zlib.crc32(GRAMMAR.read_bytes()):08x}"


def load() -> dict:
    """The tables for the current grammar: the stored ones when they are current, else built with Lark."""
    from tiergate.language import grammar_tables

    if grammar_tables.CHECKSUM == checksum():
        return grammar_tables.TABLES
    return build()


def build() -> dict:
    """Take the parse table, rules and per-state lexers from the reference Lark parser."""
    from tiergate.language.lark_parser import reference_parser

    lark, _, indenter = reference_parser()
    table = lark.parser.parser.parser.parse_table
    rules = list(lark.rules)
    rule_index = {rule: i for i, rule in enumerate(rules)}
    # Lark numbers its states differently from run to run; number them in the order a breadth-first
    # walk from the start state meets them, so that the same grammar always gives the same tables.
    start = table.start_states["start"]
    order = {start: 0}
    queue = [start]
    for state in queue:
        for symbol, (action, arg) in sorted(table.states[state].items()):
            if action.name == "Shift" and arg not in order:
                order[arg] = len(order)
                queue.append(arg)
    if len(order) != len(table.states):
        raise RuntimeError("some parser states cannot be reached from the start state")
    actions = []
    for state in queue:
        row = {}
        for symbol, (action, arg) in sorted(table.states[state].items()):
            row[symbol] = order[arg] if action.name == "Shift" else ~rule_index[arg]
        actions.append(row)

    kept = set()
    rule_rows = []
    for rule in rules:
        include = []
        for i, sym in enumerate(rule.expansion):
            if rule.options.keep_all_tokens or not (sym.is_term and sym.filter_out):
                include.append((i, not sym.is_term and sym.name.startswith("_")))
                if sym.is_term:
                    kept.add(str(sym.name))
        identity = len(include) == len(rule.expansion) and not any(expand for _, expand in include)
        origin = str(rule.origin.name)  # a str, not the Token Lark reads it as
        name = str(rule.alias or origin)
        rule_rows.append((
            origin,
            len(rule.expansion),
            None if origin.startswith("_") else name,  # None: spliced into the parent
            bool(rule.options.expand1 and not rule.alias),
            None if identity else tuple(include),
        ))

    contextual = lark.parser.lexer.lexer  # the PostLexConnector wraps the ContextualLexer
    patterns, pattern_index, lexer_of_state = [], {}, []
    for state in queue:
        basic = contextual.lexers[state]
        scanner = basic.scanner
        if len(scanner._mres) != 1:
            raise RuntimeError(f"state {state}: Lark split its lexer into {len(scanner._mres)} expressions")
        keywords = {}
        for terminal, callback in basic.callback.items():
            words = {}
            for word in callback.scanner.terminals:
                if word.pattern.flags or word.pattern.type != "str":
                    raise RuntimeError(f"keyword {word.name} has flags or is not a plain string")
                words[word.pattern.value] = word.name
            keywords[terminal] = dict(sorted(words.items()))
        entry = (scanner._mres[0].pattern, dict(sorted(keywords.items())))
        key = repr(entry)
        if key not in pattern_index:
            pattern_index[key] = len(patterns)
            patterns.append(entry)
        lexer_of_state.append(pattern_index[key])

    ignore = tuple(sorted(lark.lexer_conf.ignore))
    ignore_patterns = sorted(lark.get_terminal(name).pattern.to_regexp() for name in ignore)
    if ignore_patterns != ["#[^\n]*", "[ \t]+"]:
        # reader.py folds spaces and comments into the match of the token after them
        raise RuntimeError(f"the reader expects spaces and comments as the ignored terminals, not {ignore_patterns}")
    return {
        "start": order[start],
        "end": order[table.end_states["start"]],
        "actions": tuple(actions),
        "rules": tuple(rule_rows),
        "patterns": tuple(patterns),
        "lexer_of_state": tuple(lexer_of_state),
        "ignore": ignore,
        "kept": tuple(sorted(kept)),
        "newline": indenter.NL_type,
        "indent": indenter.INDENT_type,
        "dedent": indenter.DEDENT_type,
        "open": tuple(indenter.OPEN_PAREN_types),
        "close": tuple(indenter.CLOSE_PAREN_types),
        "tab_len": indenter.tab_len,
    }


def render(tables: dict) -> str:
    """The text of grammar_tables.py.

    It names no Lark version: every Lark the project allows builds the same tables from the same grammar
    (the suite checks this against the oldest and the newest), so the stored file is current under any of them.
    """
    return (
        '"""Generated by `python -m tiergate.language.tablegen` from policy.lark; do not edit."""\n\n'
        f"CHECKSUM = {checksum()!r}\n\n"
        f"TABLES = {pprint.pformat(tables, width=120, sort_dicts=False)}\n"
    )


def main() -> int:
    text = render(build())
    if STORED.exists() and STORED.read_text(encoding="utf-8") == text:
        print(f"{STORED.name} is current")
        return 0
    STORED.write_text(text, encoding="utf-8")
    print(f"wrote {STORED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
