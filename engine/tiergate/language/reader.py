"""Policy text -> syntax tree without Lark: the lexer's tokens through the stored LALR table into the builder.

This is the fast path for the common case, a policy that parses. It runs the parse table that Lark
built for policy.lark (grammar_tables.py) and calls the same Builder methods Lark would call, with
the same children, so it yields the same syntax tree. Where the grammar refuses the text it raises
lexer.Refused: what was refused, where, and what came just before, as the reference parser would
have met it, so that the error is worded (lark_parser.refusal_diagnostic) without reading the text
again.
"""
from __future__ import annotations

from functools import lru_cache

from tiergate.language.builder import Builder
from tiergate.language.gcpause import paused_gc
from tiergate.language.lexer import Lexer, TokenRefused, Unreadable


class Reader:
    """Reads policy text with the grammar's tables; one per process (see reader())."""

    def __init__(self, tables: dict):
        self.tables = tables
        self.lexer = Lexer(tables)

    def _reductions(self, builder: Builder) -> list:
        """For each grammar rule: (rule name, number of symbols, a function from those symbols' values to the rule's value).

        The function is None for a `?rule` of one symbol (`?condition: or_expr`): its value is that
        symbol's, and only the parser state changes.
        """
        return [(origin, size, None if size == 1 and expand1 and include is None
                 else _reduction(builder, callback, expand1, include))
                for origin, size, callback, expand1, include in self.tables["rules"]]

    def read(self, text: str, file: str, trace: list | None = None) -> tuple:
        """The statements of `text` (ending with a line break), or Refused (an Unreadable). `trace` collects the
        tokens fed."""
        with paused_gc():
            return self._read(text, file, trace)

    def _read(self, text: str, file: str, trace: list | None) -> tuple:
        actions = self.tables["actions"]
        end_state = self.tables["end"]
        reductions = self._reductions(Builder(file))
        states = [self.tables["start"]]
        values: list = []
        lexed = self.lexer.tokens(text, states)
        stream = _traced(lexed, trace) if trace is not None else lexed
        # the end of the text is one more token ($END): it reduces until the start rule is complete
        for kind, token in stream:
            while True:
                action = actions[states[-1]].get(kind)
                if action is None:  # the lexer says where, and what came before
                    expected = {s for s in actions[states[-1]] if s.isupper()}
                    lexed.throw(TokenRefused(kind, expected))
                    raise Unreadable(f"unexpected {kind}")  # (not reached: the lexer raises Refused)
                if action >= 0:  # shift
                    if kind == "$END":
                        raise Unreadable("unexpected end of text")
                    states.append(action)
                    values.append(token)
                    break
                origin, size, reduce = reductions[~action]
                if reduce is None:
                    states[-1] = actions[states[-2]][origin]
                else:
                    if size:
                        children = values[-size:]
                        del values[-size:]
                        del states[-size:]
                    else:
                        children = []
                    values.append(reduce(children))
                    states.append(actions[states[-1]][origin])
                if kind == "$END" and states[-1] == end_state:
                    return values[-1]
        raise Unreadable("unexpected end of text")  # (the end token is always read)


def _traced(stream, trace: list):
    for kind, token in stream:
        if kind != "$END":
            trace.append(kind if token is None else token)
        yield kind, token


def _reduction(builder: Builder, callback: str | None, expand1: bool, include):
    """What Lark's parse-tree builder does for one rule, given the Builder as its transformer.

    `include` lists the (position, splice) of the children kept (None: all, none spliced); a rule whose
    name starts with `_` gives a list that is spliced into its parent; a `?rule` with one child
    gives that child; any other rule calls the Builder method of its name (or alias).
    """
    if include is None:
        select = None
    elif len(include) == 1 and include[0][1]:
        (only, _), = include
        def select(children):
            return children[only]
    elif include and include[0][1] and not any(splice for _, splice in include[1:]):
        first, rest = include[0][0], [i for i, _ in include[1:]]
        def select(children):  # left recursion (`__x: __x "," NAME`): extend the list in place
            kept = children[first]
            kept.extend([children[i] for i in rest])
            return kept
    else:
        def select(children):
            kept = []
            for i, splice in include:
                if splice:
                    kept.extend(children[i])
                else:
                    kept.append(children[i])
            return kept

    if callback is None:  # spliced into the parent: a list of its kept children
        return select or _same
    method = getattr(builder, callback, None)
    if method is None:
        if not expand1:
            raise RuntimeError(f"the syntax-tree builder has no method for rule {callback}")
        method = _one_child(callback)
    if expand1:
        def reduce(children):
            kept = select(children) if select else children
            return kept[0] if len(kept) == 1 else method(*kept)
    elif select is None:
        def reduce(children):
            return method(*children)
    else:
        def reduce(children):
            return method(*select(children))
    return reduce


def _same(children):
    return children


def _one_child(rule: str):
    def fail(*children):
        raise RuntimeError(f"rule {rule} reduced with {len(children)} children and has no builder method")
    return fail


@lru_cache(maxsize=1)
def reader() -> Reader:
    """The process's reader, over the stored grammar tables (or tables built with Lark when those are stale)."""
    from tiergate.language.tablegen import load

    return Reader(load())
