"""Policy text -> syntax tree (ast.Module), with a cached Lark LALR parser and friendly syntax errors."""
from __future__ import annotations

import re
import threading
from collections import deque
from functools import lru_cache

from lark import Lark, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import Indenter

from ..errors import Diagnostic, Location, TiergateError
from . import ast
from .syntax_messages import describe_expected, describe_token

#: Largest policy file accepted (bytes); larger files get a clear error instead of a long wait.
MAX_BYTES = 4 * 1024 * 1024
#: How deep conditions may nest (parentheses, not, and/or) before the parser refuses them.
MAX_DEPTH = 64

DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


class _NestingTooDeep(Exception):
    def __init__(self, loc: Location):
        self.loc = loc


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


class _Part:
    """A tagged piece of a statement (`because`, `extends`, `where`, ...), before the statement is built."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value):
        self.kind = kind
        self.value = value


def _part(item, kind: str) -> bool:
    return isinstance(item, _Part) and item.kind == kind


def _unescape(text: str) -> str:
    body = text[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


@v_args(inline=True)
class _Builder(Transformer):
    """Builds ast nodes while the LALR parser runs (no intermediate parse tree)."""

    file = "<string>"

    def _loc(self, tok) -> Location:
        return Location(self.file, tok.line, tok.column, tok.end_column if tok.end_line == tok.line else 0)

    def _name(self, tok) -> ast.Name:
        return ast.Name(str(tok), self._loc(tok))

    # literals
    def string(self, tok):
        return ast.Literal(_unescape(str(tok)), "string", self._loc(tok), str(tok))

    def number(self, tok):
        text = str(tok)
        value = float(text) if "." in text else int(text)
        return ast.Literal(value, "number", self._loc(tok), text)

    def duration(self, tok):
        text = str(tok)
        return ast.Literal(int(text[:-1]) * DURATION_UNITS[text[-1]], "duration", self._loc(tok), text)

    def true(self, tok):
        return ast.Literal(True, "bool", self._loc(tok), "true")

    def false(self, tok):
        return ast.Literal(False, "bool", self._loc(tok), "false")

    def bare_name(self, tok):
        return ast.Literal(str(tok), "name", self._loc(tok), str(tok))

    def list(self, *items):
        items = tuple(i for i in items if i is not None)
        loc = items[0].loc if items else Location(self.file)
        text = "[" + ", ".join(i.text for i in items) + "]"
        return ast.Literal(tuple(i.value for i in items), "list", loc, text)

    def names(self, *toks):
        return tuple(self._name(t) for t in toks)

    # conditions
    def path(self, *toks):
        first = toks[0]
        last = toks[-1]
        loc = Location(self.file, first.line, first.column, last.end_column)
        return ast.Path(tuple(str(t) for t in toks), loc)

    def compare(self, path, op, literal):
        return ast.Compare(path, str(op), literal, path.loc)

    def member(self, path, options):
        return ast.Member(path, options, path.loc)

    def contains(self, path, literal):
        return ast.Contains(path, literal, path.loc)

    def truthy(self, path):
        return ast.Truthy(path, path.loc)

    def _nested(self, loc, *children):
        depth = 1 + max(c.depth for c in children)
        if depth > MAX_DEPTH:
            raise _NestingTooDeep(loc)
        return depth

    def negation(self, operand):
        return ast.Not(operand, operand.loc, self._nested(operand.loc, operand))

    def group(self, lpar, inner, _rpar):
        loc = self._loc(lpar)
        return ast.Group(inner, loc, self._nested(loc, inner))

    def or_expr(self, *operands):
        return ast.BoolOp("or", operands, operands[0].loc, self._nested(operands[0].loc, *operands))

    def and_expr(self, *operands):
        return ast.BoolOp("and", operands, operands[0].loc, self._nested(operands[0].loc, *operands))

    # statements
    def start(self, *statements):
        return statements

    def setting(self, key, value):
        return ast.Setting(self._name(key), value, self._loc(key))

    def policy_decl(self, kw, name, version, *settings):
        return ast.PolicyDecl(self.string(name), self.string(version), settings, self._loc(kw))

    def tiers_decl(self, kw, *names):
        return ast.TiersDecl(tuple(self._name(n) for n in names), self._loc(kw))

    def roles_decl(self, kw, *names):
        return ast.RolesDecl(tuple(self._name(n) for n in names), self._loc(kw))

    def chain(self, *names):
        return tuple(self._name(n) for n in names)

    def workflow_decl(self, kw, name, *chains):
        return ast.WorkflowDecl(self._name(name), chains, self._loc(kw))

    def consideration_decl(self, kw, name, title, *kinds):
        return ast.ConsiderationDecl(self._name(name), self.string(title), tuple(self._name(k) for k in kinds), self._loc(kw))

    def because(self, text):
        return _Part("because", self.string(text))

    def rule(self, tier, condition, because=None):
        return ast.Rule(self._name(tier), condition, because.value if because else None, self._loc(tier))

    def otherwise(self, kw, tier):
        return ast.Otherwise(self._name(tier), self._loc(kw))

    def classify_decl(self, kw, *lines):
        return ast.ClassifyDecl(lines, self._loc(kw))

    def extends(self, name):
        return _Part("extends", self._name(name))

    def tier_decl(self, kw, name, *rest):
        parent = None
        if rest and _part(rest[0], "extends"):
            parent = rest[0].value
            rest = rest[1:]
        settings = tuple(i for i in rest if isinstance(i, ast.Setting))
        reqs = tuple(i for i in rest if isinstance(i, ast.RequirementNode))
        return ast.TierDecl(self._name(name), parent, settings, reqs, self._loc(kw), tuple(rest))

    # requirement bodies return the fields they set
    def signoff(self, roles, stage):
        return {"kind": "signoff", "roles": roles, "stage": self._name(stage)}

    def signoffs(self, count, role, stage):
        return {"kind": "signoff", "count": int(count), "roles": (self._name(role),), "stage": self._name(stage)}

    def _optional(self, parts):
        fields = {}
        for part in parts:
            if _part(part, "where"):
                fields["where"] = part.value
            elif _part(part, "for"):
                fields["for_names"] = part.value
        return fields

    def evidence(self, subject, *rest):
        return {"kind": "evidence", "subject": self._name(subject), "stage": self._name(rest[-1]), **self._optional(rest[:-1])}

    def deployment(self, modes, stage):
        return {"kind": "deployment", "modes": modes, "stage": self._name(stage)}

    def monitoring(self, subject, *rest):
        period, stage = rest[-2], rest[-1]
        return {"kind": "monitoring", "subject": self._name(subject), "period": self.duration(period),
                "stage": self._name(stage), **self._optional(rest[:-2])}

    def review(self, roles, period, stage):
        return {"kind": "review", "roles": roles, "period": self.duration(period), "stage": self._name(stage)}

    def where(self, condition):
        return _Part("where", condition)

    def for_names(self, names):
        return _Part("for", names)

    def up_to(self, duration):
        return _Part("up_to", self.duration(duration))

    def waivable(self, kw, roles, up_to=None):
        return ast.Waivable(roles, up_to.value if up_to else None, self._loc(kw))

    def explicit_id(self, text):
        return _Part("as", self.string(text))

    def _clauses(self, clauses):
        fields, order = {}, []
        for clause in clauses:
            if isinstance(clause, ast.Waivable):
                fields["waivable"] = clause
                order.append("waivable")
            else:
                fields["explicit_id"] = clause.value
                order.append("as")
        fields["clause_order"] = tuple(order)
        return fields

    def requirement(self, severity, body, *clauses):
        return ast.RequirementNode(severity=str(severity), loc=self._loc(severity), **body, **self._clauses(clauses))

    def forbid(self, kw, condition, *rest):
        because = None
        if rest and _part(rest[0], "because"):
            because = rest[0].value
            rest = rest[1:]
        return ast.RequirementNode(severity="require", kind="forbid", loc=self._loc(kw), where=condition,
                                   because=because, **self._clauses(rest))

    def raci_cell(self, role, letters):
        return ast.RaciCell(self._name(role), str(letters), self._loc(role))

    def raci_line(self, task, *cells):
        if task.type == "STRING":
            literal = self.string(task)
        else:
            literal = ast.Literal(str(task), "name", self._loc(task), str(task))
        return ast.RaciRow(literal, cells, self._loc(task))

    def raci_decl(self, kw, *rows):
        return ast.RaciDecl(rows, self._loc(kw))


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _Builder, _PolicyIndenter]:
    builder = _Builder()
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


def _decode(data: bytes | str, file: str) -> str:
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise TiergateError(Diagnostic(
                "E106", f"policy file is {len(data) / 1048576:.1f} MB; the largest accepted is {MAX_BYTES // 1048576} MB",
                Location(file), hint="split the policy, or check that this is the file you meant"))
        if b"\x00" in data:
            raise TiergateError(Diagnostic("E105", "this is a binary file, not policy text", Location(file),
                                           hint="a policy is UTF-8 text; check the file name"))
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise TiergateError(Diagnostic(
                "E105", f"the file is not UTF-8 text (bad byte 0x{data[exc.start]:02x})", Location(file, line),
                hint="save the policy as UTF-8")) from None
    elif len(data) > MAX_BYTES:
        raise TiergateError(Diagnostic("E106", f"policy text is larger than {MAX_BYTES // 1048576} MB", Location(file)))
    if data.startswith("\ufeff"):
        data = data[1:]
    return data


def _check_tabs(text: str, file: str) -> list[Diagnostic]:
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            column = indent.index("\t") + 1
            found.append(Diagnostic("E103", "a tab is used for indentation", Location(file, number, column, column + 1),
                                    hint="indent with spaces (two per level is the canonical layout)"))
    return found


def parse(data: bytes | str, file: str = "<string>") -> ast.Module:
    """Parse policy text into a syntax tree. Raises TiergateError with located diagnostics."""
    text = _decode(data, file)
    sources = {file: text}
    tabs = _check_tabs(text, file)
    if tabs:
        raise TiergateError(tabs, sources)
    lark, builder, indenter = _parser()
    with _lock:
        builder.file = file
        try:
            statements = lark.parse(text if text.endswith("\n") else text + "\n")
        except VisitError as exc:  # an exception raised inside the builder comes back wrapped
            raise TiergateError(_from_exception(exc.orig_exc, file, indenter), sources) from None
        except (UnexpectedInput, _NestingTooDeep, _StrayClose, _BadDedent) as exc:
            raise TiergateError(_from_exception(exc, file, indenter), sources) from None
        except RecursionError:
            raise TiergateError(Diagnostic("E107", "the policy nests too deeply to read", Location(file)), sources) from None
    return ast.Module(file, text, tuple(statements))


def _from_exception(exc: Exception, file: str, indenter: _PolicyIndenter) -> Diagnostic:
    if isinstance(exc, _NestingTooDeep):
        return Diagnostic("E107", f"this condition nests more than {MAX_DEPTH} levels deep", exc.loc,
                          hint="split it into simpler rules")
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
                          loc, hint=_open_hint(indenter))
    if isinstance(exc, UnexpectedEOF):
        return _unexpected_end(exc, file, indenter)
    raise exc


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
