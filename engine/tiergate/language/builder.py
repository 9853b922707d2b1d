"""Syntax-tree building: grammar rules -> ast nodes, called by the parser as it reduces each rule."""
from __future__ import annotations

import math
import re

from tiergate.errors import Location
from tiergate.language import ast

#: How deep conditions may nest (parentheses, not, and/or) before the parser refuses them.
MAX_DEPTH = 64

DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
#: The most digits a whole number may have: what Python reads by default (sys.get_int_max_str_digits), fixed
#: here so that a policy reads the same wherever it runs.
MAX_DIGITS = 4300
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


class NestingTooDeep(Exception):
    """A condition nests deeper than MAX_DEPTH; raised while building, reported as E107."""

    def __init__(self, loc: Location):
        self.loc = loc


class NumberTooLarge(Exception):
    """A number literal that has too many digits, or is too large to be a finite number; reported as E108."""

    def __init__(self, loc: Location, text: str, whole: bool):
        self.loc = loc
        self.text = text
        self.whole = whole  # a whole number (too many digits), or one with a fraction (beyond the largest float)


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


class Builder:
    """Builds ast nodes while the LALR parser runs (no intermediate parse tree).

    Each method is named after a grammar rule (or its alias) and takes the rule's kept children as
    positional arguments: tokens (str with type, line, column, end_column) and the nodes built below.
    """

    def __init__(self, file: str = "<string>"):
        self.file = file

    def _loc(self, tok) -> Location:
        # tokens that reach the builder never span lines (strings end on their line)
        return Location(self.file, tok.line, tok.column, tok.end_column)

    def _name(self, tok) -> ast.Name:
        return ast.Name(str(tok), self._loc(tok))

    # literals
    def string(self, tok):
        return ast.Literal(_unescape(str(tok)), "string", self._loc(tok), str(tok))

    def _whole(self, tok, digits: str) -> int:
        if len(digits) - (digits[0] == "-") > MAX_DIGITS:
            raise NumberTooLarge(self._loc(tok), str(tok), True)
        try:
            return int(digits)
        except ValueError:  # (a process that lowered Python's own limit below MAX_DIGITS)
            raise NumberTooLarge(self._loc(tok), str(tok), True) from None

    def number(self, tok):
        text = str(tok)
        if "." not in text:
            return ast.Literal(self._whole(tok, text), "number", self._loc(tok), text)
        value = float(text)
        if not math.isfinite(value):
            raise NumberTooLarge(self._loc(tok), text, False)
        return ast.Literal(value, "number", self._loc(tok), text)

    def duration(self, tok):
        text = str(tok)
        return ast.Literal(self._whole(tok, text[:-1]) * DURATION_UNITS[text[-1]], "duration", self._loc(tok), text)

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
            raise NestingTooDeep(loc)
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
        drops = tuple(i for i in rest if isinstance(i, ast.Drop))
        return ast.TierDecl(self._name(name), parent, settings, reqs, self._loc(kw), tuple(rest), drops)

    def drop(self, kw, target, because):
        return ast.Drop(self.string(target), because.value, self._loc(kw))

    # requirement bodies return the fields they set
    def signoff(self, *rest):
        fields = self._optional(rest[-1:])  # `independent of R1, R2`
        if fields:
            rest = rest[:-1]
        if len(rest) == 3:  # `from any of R1, R2`
            return {"kind": "signoff", "any_of": True, "roles": rest[1], "stage": self._name(rest[2]), **fields}
        roles, stage = rest
        return {"kind": "signoff", "roles": roles, "stage": self._name(stage), **fields}

    def signoffs(self, count, role, stage, *rest):
        return {"kind": "signoff", "count": self._whole(count, str(count)), "roles": (self._name(role),),
                "stage": self._name(stage), **self._optional(rest)}

    def _optional(self, parts):
        fields = {}
        for part in parts:
            if _part(part, "where"):
                fields["where"] = part.value
            elif _part(part, "for"):
                fields["for_names"] = part.value
            elif _part(part, "independent"):
                fields["independent_of"] = part.value
            elif _part(part, "recorded_by"):
                fields["recorded_by"] = part.value
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

    def independent(self, kw, names):
        return _Part("independent", names)

    def recorded_by(self, kw, names):
        return _Part("recorded_by", names)

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

    def applies_when(self, condition):
        return _Part("when", condition)

    def requirement(self, severity, body, *clauses):
        signed = None
        if getattr(body, "type", None) == "SIGNED":  # `require signed ...`
            signed, body, clauses = self._name(body), clauses[0], clauses[1:]
        when = None
        if clauses and _part(clauses[0], "when"):
            when = clauses[0].value
            clauses = clauses[1:]
        return ast.RequirementNode(severity=str(severity), loc=self._loc(severity), **body, **self._clauses(clauses),
                                   when=when, signed=signed)

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
