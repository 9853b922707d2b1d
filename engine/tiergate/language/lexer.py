"""Policy text -> tokens, as Lark's contextual lexer and the indenter would make them, without Lark.

The lexer is contextual: what a word is depends on where the parser is (`tier` is a keyword at the
start of a statement and a role name after `from`). So it reads the parser's current state before
each token and matches the regular expression Lark's contextual lexer uses in that state (stored in
grammar_tables.py), with spaces and a comment before the token folded into the same match. Line
breaks become _NL, and a change of indentation _INDENT or _DEDENT, as lark.indenter.Indenter makes
them; inside brackets line breaks are dropped.

Where the grammar refuses the text, the lexer raises Refused: the refusal as the reference parser
would meet it (what, where, the tokens just before, the brackets still open), so that the error is
worded from this one reading (lark_parser.refusal_diagnostic), never by reading the text again.
"""
from __future__ import annotations

import re
from typing import Iterator

#: Spaces, then at most one comment (it runs to the end of the line), before a token.
_SKIP = r"[ \t]*+(?:#[^\n]*+)?"
_SKIPPED = re.compile(_SKIP).match


class Unreadable(Exception):
    """The text is not a valid policy (or not one the reader is sure of); the reference parser says why."""


#: A token where the grammar refused the text, placed as Lark places it: (type, text, offset, line, column,
#: end_line, end_column), lines and columns from 1.
Spot = tuple


class Refused(Unreadable):
    """Where and how the grammar refuses the text, as Lark's parser, lexer and indenter would meet it.

    `what` is "token" (the parser refuses `token`, of type `kind`; `expected` are the terminals it would take),
    "characters" (no token of the parser's state starts at `token`'s offset; `expected` are the terminals that
    state's lexer has), "stray close" (`token` closes no bracket) or "bad dedent" (the line break `token`
    leads to an indentation matching none of `levels`). `recent` are the last two tokens read before (the
    refused token too when the parser refused it), line breaks aside; `brackets` the brackets still open.
    """

    def __init__(self, what: str, token: Spot, recent: list[Spot], brackets: list[Spot], expected=(),
                 levels: list[int] = ()):
        super().__init__(f"{what} at line {token[3]}")
        self.what, self.token, self.recent, self.brackets = what, token, recent, brackets
        self.expected, self.levels = frozenset(expected), list(levels)


class TokenRefused(Exception):
    """What the reader throws into the lexer's token stream when its parser refuses the token just read (kind:
    its type; expected: the terminals the parser would take); the lexer raises Refused in its place."""

    def __init__(self, kind: str, expected):
        super().__init__(kind)
        self.kind, self.expected = kind, expected


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
        line breaks and indentation); the last is ("$END", None). Raises Refused where the reference
        lexer would fail, and in place of a TokenRefused thrown into it.
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
        brackets = []  # the open ( and [, as (type, offset)
        line, line_start = 1, 0  # the current line and where it starts in text
        pos, end = 0, len(text)
        m = m1 = m2 = None  # the match of the token read last; of the last two tokens but line breaks (what a
        # syntax error's words use of the tokens before it)
        try:
            while pos < end:
                state = states[-1]
                entry = matchers[state] or self.matcher(state)
                m = entry[0](text, pos)
                if m is None:
                    at = _SKIPPED(text, pos).end()
                    pattern = self._compiled[tables["lexer_of_state"][state]][0].__self__  # (its match method's)
                    allowed = set(pattern.groupindex) - ignore or {"<END-OF-FILE>"}  # as Lark's lexer says it
                    column = at - line_start + 1
                    raise Refused("characters", ("", text[at], at, line, column, line, column + 1),
                                  _recent(text, (m2, m1)), _brackets(text, brackets), allowed)
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
                        open_levels = levels[:] if width < levels[-1] else levels
                        while width < levels[-1]:
                            levels.pop()
                            yield dedent_type, None
                        if width != levels[-1]:
                            raise Refused("bad dedent", _spot(text, m, newline), _recent(text, (m2, m1)),
                                          _brackets(text, brackets), levels=open_levels)
                    continue
                if kind in ignore:  # not reached: _SKIP takes spaces and comments first
                    continue
                if kind in closing:
                    if not brackets:
                        raise Refused("stray close", _spot(text, m, kind), _recent(text, (m2, m1)), [])
                    brackets.pop()
                elif kind in opening:
                    brackets.append((kind, m.start(m.lastgroup)))
                m2 = m1
                m1 = m
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
                m = None  # the dedents at the end of the text borrow no place
                yield dedent_type, None
            yield "$END", None
        except TokenRefused as refused:  # thrown in by the parser: the token it refused was read last
            kind = refused.kind
            if m is None or kind == "$END":  # a dedent at the end of the text, or the end: no place of its own
                token = (kind, "", 0, 0, 0, 0, 0)
            else:
                token = _spot(text, m, kind)
                if kind in (indent_type, dedent_type):  # placed as the line break it follows; its text, the indentation
                    token = (kind, token[1][token[1].rindex("\n") + 1:], *token[2:])
            raise Refused("token", token, _recent(text, (m2, m1)), _brackets(text, brackets),
                          refused.expected) from None


def _place(text: str, offset: int) -> tuple[int, int]:
    """The line and column (from 1) of an offset in text."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _spot(text: str, m, kind: str) -> Spot:
    """The token of a match (its text without the spaces and comment before it), from where it starts to where it
    ends."""
    value = m[m.lastgroup]
    offset = m.start(m.lastgroup)
    line, column = _place(text, offset)
    breaks = value.count("\n")
    end_column = len(value) - value.rindex("\n") if breaks else column + len(value)
    return kind, value, offset, line, column, line + breaks, end_column


def _recent(text: str, matches) -> list[Spot]:
    return [_spot(text, m, m.lastgroup) for m in matches if m is not None]


def _brackets(text: str, brackets: list) -> list[Spot]:
    spots = []
    for kind, offset in brackets:
        line, column = _place(text, offset)
        spots.append((kind, text[offset], offset, line, column, line, column + 1))
    return spots
