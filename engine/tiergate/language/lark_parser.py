"""The reference parser: Lark's LALR parser and contextual lexer over policy.lark.

The policy reader (reader.py) reads valid policies without it; this parser is the authority on
what the grammar accepts. It words every syntax error (E100-E108) a policy can have: those of its
own parse, and those the reader meets (refusal_diagnostic), from the same exception and the same
tokens around it, so that a policy with an error is read once. Its parse table and lexer are what
tablegen.py stores for the reader.
"""
from __future__ import annotations

import threading
from collections import deque
from types import SimpleNamespace

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import Indenter

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.language import ast
from tiergate.language.builder import MAX_DEPTH, MAX_DIGITS, Builder, NestingTooDeep, NumberTooLarge
from tiergate.language.lexer import Refused
from tiergate.language.syntax_messages import describe_expected, describe_token


class _PolicyIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def process(self, stream):
        self.recent = deque(maxlen=3)
        self.open_brackets = []
        return super().process(self._watch(stream))

    def _watch(self, stream):
        for token in stream:
            if token.type in self.OPEN_PAREN_types:
                self.open_brackets.append(token)
            elif token.type in self.CLOSE_PAREN_types:
                if not self.open_brackets:
                    raise _StrayClose(token)
                self.open_brackets.pop()
            if token.type != self.NL_type:
                self.recent.append(token)
            yield token

    def handle_NL(self, token):
        levels = list(self.indent_level)  # the open blocks, before this line closes any
        try:
            yield from super().handle_NL(token)
        except Exception as exc:  # lark's DedentError carries no position; give it one
            if type(exc).__name__ != "DedentError":
                raise
            raise _BadDedent(token, levels) from None


class _StrayClose(Exception):
    def __init__(self, token):
        self.token = token


class _BadDedent(Exception):
    def __init__(self, token, levels):
        self.token = token
        self.levels = levels


_local = threading.local()  # each thread its own parser: the builder and the indenter keep state while parsing


class _LarkBuilder:
    """The Builder as Lark's parse-time transformer: Lark passes a rule's children as one list."""

    def __init__(self):
        self.builder = Builder()

    def __getattr__(self, name: str):
        if name.startswith("_"):  # rules spliced into their parent, and Lark's own probes
            raise AttributeError(name)
        method = getattr(self.builder, name)
        return lambda children: method(*children)


def reference_parser() -> tuple[Lark, _LarkBuilder, _PolicyIndenter]:
    """Lark's LALR parser over policy.lark with the contextual lexer and the indenter, built once per thread
    (Lark's cache makes every build after the first a load)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _build()
    return parser


def _build() -> tuple[Lark, _LarkBuilder, _PolicyIndenter]:
    builder = _LarkBuilder()
    indenter = _PolicyIndenter()
    lark = Lark.open(
        "policy.lark",
        rel_to=__file__,
        parser="lalr",
        lexer="contextual",
        postlex=indenter,
        transformer=builder,
        maybe_placeholders=False,
        cache=True,
    )
    return lark, builder, indenter


def parse(text: str, file: str, sources: dict[str, str]) -> ast.Module:
    """Parse decoded policy text; raise TiergateError with a worded syntax error."""
    lark, builder, indenter = reference_parser()
    builder.builder.file = file
    try:
        statements = lark.parse(text if text.endswith("\n") else text + "\n")
    except VisitError as exc:  # an exception raised inside the builder comes back wrapped
        raise TiergateError(_from_exception(exc.orig_exc, file, indenter), sources) from None
    except (UnexpectedInput, NestingTooDeep, NumberTooLarge, _StrayClose, _BadDedent) as exc:
        raise TiergateError(_from_exception(exc, file, indenter), sources) from None
    except RecursionError:
        raise TiergateError(Diagnostic("E107", "the policy nests too deeply to read", Location(file)), sources) from None
    return ast.Module(file, text, tuple(statements))


def refusal_diagnostic(refused: Refused, text: str, file: str) -> Diagnostic:
    """The diagnostic of what the reader refused (`text` as it read it), worded as this parser words the same
    error: the same Lark exception, and the same tokens before it and brackets still open. Nothing is read again
    but, where no token of the parser's state starts, the one token that Lark's lexer finds there."""
    seen = SimpleNamespace(recent=deque(map(_token, refused.recent), maxlen=3),
                           open_brackets=[_token(spot) for spot in refused.brackets])
    what, expected = refused.what, set(refused.expected)
    if what == "token":
        exc = UnexpectedToken(_token(refused.token), expected)
    elif what == "stray close":
        exc = _StrayClose(_token(refused.token))
    elif what == "bad dedent":
        exc = _BadDedent(_token(refused.token), refused.levels)
    else:  # characters: Lark's contextual lexer tries all its terminals there, and names the token it finds
        _, _, offset, line, column, _, _ = refused.token
        found = _any_token(text, offset, line, column)
        exc = UnexpectedToken(found, expected) if found is not None else \
            UnexpectedCharacters(text, offset, line, column, allowed=expected)
    return _from_exception(exc, file, seen)


def builder_diagnostic(exc: NestingTooDeep | NumberTooLarge, file: str) -> Diagnostic:
    """The diagnostic of a condition nested too deeply or a number too large, met while the text was read."""
    return _from_exception(exc, file, SimpleNamespace(recent=deque(), open_brackets=[]))


def _token(spot) -> Token:
    kind, value, offset, line, column, end_line, end_column = spot
    return Token(kind, value, offset, line, column, end_line, end_column, offset + len(value))


def _any_token(text: str, offset: int, line: int, column: int) -> Token | None:
    """The token Lark's lexer of every terminal (its root lexer) reads at `offset`, keywords told apart; None when
    no terminal starts there."""
    root = reference_parser()[0].parser.lexer.lexer.root_lexer  # the PostLexConnector wraps the ContextualLexer
    for pattern in root.scanner._mres:
        m = pattern.match(text, offset)
        if m:
            value = m.group(0)
            token = Token(m.lastgroup, value, offset, line, column, line, column + len(value), offset + len(value))
            return root.callback[token.type](token) if token.type in root.callback else token
    return None


def _from_exception(exc: Exception, file: str, indenter: _PolicyIndenter) -> Diagnostic:
    if isinstance(exc, NestingTooDeep):
        return Diagnostic("E107", f"this condition nests more than {MAX_DEPTH} levels deep", exc.loc,
                          hint="split it into simpler rules")
    if isinstance(exc, NumberTooLarge):
        hint = "check where the number came from: one this large is almost always a mistake"
        if exc.whole:
            return Diagnostic("E108", f"this number has more than {MAX_DIGITS} digits", exc.loc, hint=hint)
        return Diagnostic("E108", "this number is larger than the largest a number can be (about 1.8e308)", exc.loc,
                          hint=hint)
    if isinstance(exc, _StrayClose):
        tok = exc.token
        return Diagnostic("E100", f"`{tok}` closes nothing", Location(file, tok.line, tok.column, tok.column + 1),
                          hint="remove it, or add the opening bracket it belongs to")
    if isinstance(exc, _BadDedent):
        line = exc.token.end_line
        indent = len(str(exc.token).rsplit("\n", 1)[1])
        inner = min((n for n in exc.levels if n > indent), default=indent + 1)
        outer = max((n for n in exc.levels if n < indent), default=0)
        return Diagnostic("E104", f"this line is indented by {_spaces(indent)}, which matches no enclosing block",
                          Location(file, line, 1, indent + 1),
                          hint=f"indent it by {_spaces(inner)} to keep it in the block above, "
                               f"or by {_spaces(outer)} to end that block")
    if isinstance(exc, UnexpectedCharacters):
        char = exc.char
        loc = Location(file, exc.line, exc.column, exc.column + 1)
        if char == "=" and "COMPARATOR" in (exc.allowed or ()):
            return Diagnostic("E101", "a single `=` is not a comparison", loc,
                              hint="write `==` to test for a value (or `!=`, `<`, `<=`, `>`, `>=`)")
        if char.isalpha() and not char.isascii():
            return Diagnostic("E101", f"`{char}` cannot be used in a name", loc,
                              hint="names use the ASCII letters A-Z and a-z, digits and `_`; put other text in double quotes")
        if char == '"':
            return Diagnostic("E101", "this string is not closed on its line", loc, hint='end it with `"` on the same line')
        shown = char if char.isprintable() else repr(char)
        return Diagnostic("E101", f"unexpected character `{shown}`", loc, hint=_expected_hint(exc.allowed, indenter))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END" or (tok.type == "_DEDENT" and not str(tok)):
            return _unexpected_end(exc, file, indenter)
        loc = Location(file, tok.line or 0, tok.column or 0, tok.end_column if tok.end_line == tok.line else 0)
        if tok.type == "_NL":
            line = tok.line
            return Diagnostic("E100", f"the line ends too early: {_expected_text(exc.expected, indenter, tok)}",
                              Location(file, line, tok.column, tok.column + 1), hint=_open_hint(indenter))
        if tok.type == "_INDENT":
            line = tok.end_line
            width = len(str(tok))
            return Diagnostic("E104", "this line is indented but follows no block header",
                              Location(file, line, 1, width + 1),
                              hint="only a line ending in `:` opens an indented block; remove the indentation")
        if tok.type == "_DEDENT":
            return Diagnostic("E100", f"the block ends too early: {_expected_text(exc.expected, indenter)}",
                              Location(file, tok.end_line or tok.line, 1, 2))
        return Diagnostic("E100", f"unexpected {describe_token(tok)}: {_expected_text(_closer_first(exc.expected, indenter, tok), indenter, tok)}",
                          loc, hint=_open_hint(indenter) or _any_of_hint(tok, indenter))
    if isinstance(exc, UnexpectedEOF):
        return _unexpected_end(exc, file, indenter)
    raise exc


def _any_of_hint(token, indenter) -> str | None:
    """`any of` where the language has none (`2 signoffs from any of`, `review by any of`)."""
    previous = _previous(indenter, token)
    if str(token) == "of" and previous is not None and str(previous) == "any":
        return "`any of` is written in `require signoff from any of R1, R2 before STAGE` only: one approving sign-off " \
               "from any one of the roles"
    return None


def _spaces(n: int) -> str:
    return f"{n} space" if n == 1 else f"{n} spaces"


def _previous(indenter: _PolicyIndenter, token=None):
    """The token read just before `token` (or before the last one read)."""
    recent = list(getattr(indenter, "recent", ()))
    if token is not None and getattr(token, "start_pos", None) is not None:
        before = [t for t in recent if t.start_pos is not None and t.start_pos < token.start_pos]
        return before[-1] if before else None
    return recent[-2] if len(recent) >= 2 else None


def _expected_text(expected, indenter, token=None) -> str:
    previous = _previous(indenter, token)
    return describe_expected(expected, str(previous) if previous is not None else None)


def _expected_hint(allowed, indenter) -> str | None:
    if not allowed:
        return None
    recent = list(getattr(indenter, "recent", ()))
    return describe_expected(allowed, str(recent[-1]) if recent else None)


def _closer_first(expected, indenter, token):
    """When a line ended inside an open bracket and the next line does not continue it, the closer is what is missing."""
    brackets = getattr(indenter, "open_brackets", [])
    previous = _previous(indenter, token)
    if brackets and previous is not None and previous.end_line and token.line and token.line > previous.end_line:
        closer = "RPAR" if str(brackets[-1]) == "(" else "RSQB"
        if closer in expected:
            return {closer}
    return expected


def _open_hint(indenter) -> str | None:
    brackets = getattr(indenter, "open_brackets", [])
    if brackets:
        tok = brackets[-1]
        closer = ")" if str(tok) == "(" else "]"
        return f"the `{tok}` opened at line {tok.line}, column {tok.column} is still open; close it with `{closer}`"
    return None


def _unexpected_end(exc, file, indenter) -> Diagnostic:
    recent = list(getattr(indenter, "recent", ()))
    last = recent[-1] if recent else None
    line = last.end_line if last is not None and last.end_line else 1
    brackets = getattr(indenter, "open_brackets", [])
    if brackets:
        tok = brackets[-1]
        closer = ")" if str(tok) == "(" else "]"
        return Diagnostic("E102", f"the file ends while `{tok}` is still open",
                          Location(file, tok.line, tok.column, tok.column + 1), hint=f"close it with `{closer}`")
    expected = getattr(exc, "expected", None) or []
    if "_INDENT" in expected:
        return Diagnostic("E102", "the file ends after a block header with no body",
                          Location(file, line), hint="indent the lines that belong to the block under its header")
    return Diagnostic("E102", f"the file ends too early: {_expected_text(expected, indenter)}", Location(file, line))
