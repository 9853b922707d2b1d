"""Policy text -> tokens, as Lark's contextual lexer and the indenter would make them, without Lark.

The lexer is contextual: what a word is depends on where the parser is (`tier` is a keyword at the
start of a statement and a role name after `from`). So it reads the parser's current state before
each token and matches the regular expression Lark's contextual lexer uses in that state (stored in
grammar_tables.py), with spaces and a comment before the token folded into the same match. Line
breaks become _NL, and a change of indentation _INDENT or _DEDENT, as lark.indenter.Indenter makes
them; inside brackets line breaks are dropped.

Anything the reference lexer would refuse, or that this lexer cannot vouch for, raises Unreadable:
the caller then asks the reference parser (lark_parser.py) to word the error.
"""
from __future__ import annotations

import re
from typing import Iterator

#: Spaces, then at most one comment (it runs to the end of the line), before a token.
_SKIP = r"[ \t]*+(?:#[^\n]*+)?"


class Unreadable(Exception):
    """The text is not a valid policy (or not one the reader is sure of); the reference parser says why."""


class Token(str):
    """A token: its text, its terminal `type`, `line` and `column` (from 1), and `end_column` just after it."""

    type: str
    line: int
    column: int
    end_column: int

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {str(self)!r}, {self.line}, {self.column})"


class Lexer:
    """Per-state matchers built from the grammar tables (compiled on first use) and the token loop."""

    def __init__(self, tables: dict):
        self.tables = tables
        self._patterns = tables["patterns"]
        self._compiled: list = [None] * len(self._patterns)
        self.matchers: list = [None] * len(tables["lexer_of_state"])  # state -> (match, keywords)

    def matcher(self, state: int):
        """The match function and keyword table of Lark's lexer for a parser state."""
        index = self.tables["lexer_of_state"][state]
        entry = self._compiled[index]
        if entry is None:
            pattern, keywords = self._patterns[index]
            entry = self._compiled[index] = (re.compile(_SKIP + "(?:" + pattern + ")").match, keywords)
        self.matchers[state] = entry
        return entry

    def tokens(self, text: str, states: list[int]) -> Iterator[tuple[str, Token | None]]:
        """(type, token) pairs of `text` (which ends with a line break); `states` is the parser's stack.

        The token is None for terminals the syntax tree does not keep (punctuation, most keywords,
        line breaks and indentation). Raises Unreadable where the reference lexer would fail.
        """
        tables = self.tables
        kept = frozenset(tables["kept"])
        ignore = frozenset(tables["ignore"])
        newline, indent_type, dedent_type = tables["newline"], tables["indent"], tables["dedent"]
        opening, closing = frozenset(tables["open"]), frozenset(tables["close"])
        tab_len = tables["tab_len"]
        matchers = self.matchers
        new = str.__new__
        levels = [0]  # indentation of the open blocks
        brackets = 0  # open ( and [
        line, line_start = 1, 0  # the current line and where it starts in text
        pos, end = 0, len(text)
        while pos < end:
            state = states[-1]
            entry = matchers[state] or self.matcher(state)
            m = entry[0](text, pos)
            if m is None:
                raise Unreadable(f"line {line}: no token in state {state}")
            kind = m.lastgroup
            value = m[kind]
            pos = m.end()
            if kind in entry[1]:  # a word that is a keyword where the parser is
                kind = entry[1][kind].get(value, kind)
            if kind == newline:
                line += value.count("\n")
                line_start = pos - len(value) + value.rindex("\n") + 1
                if brackets:
                    continue
                yield kind, None
                indent_text = value[value.rindex("\n") + 1:]
                width = indent_text.count(" ") + indent_text.count("\t") * tab_len
                if width > levels[-1]:
                    levels.append(width)
                    yield indent_type, None
                else:
                    while width < levels[-1]:
                        levels.pop()
                        yield dedent_type, None
                    if width != levels[-1]:
                        raise Unreadable(f"line {line}: the indentation matches no open block")
                continue
            if kind in ignore:  # not reached: _SKIP takes spaces and comments first
                continue
            if kind in closing:
                if not brackets:
                    raise Unreadable(f"line {line}: a bracket closes nothing")
                brackets -= 1
            elif kind in opening:
                brackets += 1
            if kind in kept:
                token = new(Token, value)
                token.type = kind
                token.line = line
                token.column = column = pos - len(value) - line_start + 1
                token.end_column = column + len(value)
                yield kind, token
            else:
                yield kind, None
        for _ in levels[1:]:
            yield dedent_type, None
