"""Conditions: canonical text, the paths they read, and compilation into fast Python callables."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from tiergate.errors import Location
from tiergate.language import ast

_PY_OPS = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_MISSING = object()


class ConditionError(Exception):
    """A condition could not be decided: a value it reads is missing or of the wrong type."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path} {problem}")
        self.path = path
        self.problem = problem


def to_text(node: ast.Condition) -> str:
    """The canonical source text of a condition."""
    if isinstance(node, ast.Compare):
        return f"{node.path.dotted} {node.op} {node.literal.text}"
    if isinstance(node, ast.Member):
        return f"{node.path.dotted} in {node.options.text}"
    if isinstance(node, ast.Contains):
        return f"{node.path.dotted} contains {node.literal.text}"
    if isinstance(node, ast.Truthy):
        return node.path.dotted
    if isinstance(node, ast.Not):
        return f"not {to_text(node.operand)}"
    if isinstance(node, ast.Group):
        return f"({to_text(node.inner)})"
    if isinstance(node, ast.BoolOp):
        return f" {node.op} ".join(to_text(o) for o in node.operands)
    raise TypeError(f"not a condition node: {node!r}")


def leaves(node: ast.Condition):
    """Every comparison in a condition, left to right."""
    if isinstance(node, (ast.Compare, ast.Member, ast.Contains, ast.Truthy)):
        yield node
    elif isinstance(node, ast.Not):
        yield from leaves(node.operand)
    elif isinstance(node, ast.Group):
        yield from leaves(node.inner)
    elif isinstance(node, ast.BoolOp):
        for operand in node.operands:
            yield from leaves(operand)


def paths(node: ast.Condition) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for leaf in leaves(node):
        seen.setdefault(leaf.path.dotted, None)
    return tuple(seen)


def lookup(data: Any, dotted: str) -> Any:
    """The value at a dotted path, or a sentinel when it is missing."""
    value = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


class _Missing:
    """Stands for an answer that is not there: any use of it raises, so no rule silently holds or fails on it."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path

    def _fail(self, *args):
        raise KeyError(self.path)

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = __contains__ = __iter__ = __bool__ = _fail


class _CodeGen:
    def __init__(self, hoist: bool = False):
        self.consts: dict[str, Any] = {}
        self.hoisted: dict[tuple[str, ...], str] = {}  # path -> local name, when each answer is read once
        self.hoist = hoist
        self.shared: dict[str, str] = {}  # leaf text -> local computed once (compile_many only)

    def const(self, value: Any) -> str:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def path(self, p: ast.Path) -> str:
        if self.hoist:
            return self.hoisted.setdefault(p.parts, f"p{len(self.hoisted)}")
        return "v" + "".join(f"[{part!r}]" for part in p.parts)

    def expr(self, node: ast.Condition) -> str:
        shared = self.shared
        if shared and isinstance(node, (ast.Compare, ast.Member, ast.Contains, ast.Truthy)):
            name = shared.get(to_text(node))
            if name is not None:
                return name
        if isinstance(node, ast.Compare):
            return f"({self.path(node.path)} {_PY_OPS[node.op]} {self.const(node.literal.value)})"
        if isinstance(node, ast.Member):
            options = node.options.value
            try:
                container = frozenset(options)
            except TypeError:
                container = tuple(options)
            return f"({self.path(node.path)} in {self.const(container)})"
        if isinstance(node, ast.Contains):
            return f"({self.const(node.literal.value)} in {self.path(node.path)})"
        if isinstance(node, ast.Truthy):
            if self.hoist:  # `==` (not `is`) so that a missing answer raises instead of reading as false
                return f"({self.path(node.path)} == True)"
            return f"({self.path(node.path)} is True)"
        if isinstance(node, ast.Not):
            return f"(not {self.expr(node.operand)})"
        if isinstance(node, ast.Group):
            return self.expr(node.inner)
        if isinstance(node, ast.BoolOp):
            return "(" + f" {node.op} ".join(self.expr(o) for o in node.operands) + ")"
        raise TypeError(f"not a condition node: {node!r}")


def _explain_failure(node: ast.Condition, values: Any) -> ConditionError:
    """Slow path, run only after the fast one failed: which value was missing or of the wrong type."""
    for leaf in leaves(node):
        value = lookup(values, leaf.path.dotted)
        if value is _MISSING:
            return ConditionError(leaf.path.dotted, "is missing")
        if isinstance(leaf, ast.Compare) and leaf.op not in ("==", "!="):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return ConditionError(leaf.path.dotted, f"is {value!r}, not a number, so `{leaf.op}` cannot compare it")
        if isinstance(leaf, ast.Contains) and not isinstance(value, (list, tuple, str)):
            return ConditionError(leaf.path.dotted, f"is {value!r}, not a list, so `contains` cannot look in it")
        if isinstance(leaf, ast.Member):
            try:
                hash(value)
            except TypeError:
                return ConditionError(leaf.path.dotted, f"is {value!r}, which cannot be one of a list of values")
    return ConditionError(paths(node)[0] if paths(node) else "?", "could not be evaluated")


@dataclass(frozen=True)
class CompiledCondition:
    """A condition compiled once (on first use) into a Python callable over a mapping of values.

    Classification compiles all of a policy's rules into one function (compile_many); a rule's own
    callable is needed only to explain a failure, so `lint` of a large policy never builds it.
    """

    text: str
    paths: tuple[str, ...]
    loc: Location
    node: ast.Condition = field(repr=False, compare=False)

    @cached_property
    def fn(self) -> Callable[[Any], bool]:
        gen = _CodeGen()
        source = f"lambda v: {gen.expr(self.node)}"
        return eval(compile(source, "<condition>", "eval"), {"__builtins__": {}, **gen.consts})  # noqa: S307

    def __call__(self, values: Any) -> bool:
        try:
            return self.fn(values)
        except (KeyError, TypeError, IndexError):
            raise _explain_failure(self.node, values) from None

    def values(self, data: Any) -> dict:
        """The values the outcome rested on, as {path: value}: for `or`, only the branches that held."""
        return _support(self.node, data)[1]


_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _support(node: ast.Condition, data: Any) -> tuple[bool, dict]:
    """Interpret a condition (slow; for explanations only): its outcome and the values that decided it."""
    if isinstance(node, (ast.Compare, ast.Member, ast.Contains, ast.Truthy)):
        value = lookup(data, node.path.dotted)
        if value is _MISSING:
            return False, {}
        try:
            if isinstance(node, ast.Compare):
                result = _OPS[node.op](value, node.literal.value)
            elif isinstance(node, ast.Member):
                result = value in node.options.value
            elif isinstance(node, ast.Contains):
                result = node.literal.value in value
            else:
                result = value is True
        except TypeError:
            result = False
        return bool(result), {node.path.dotted: value}
    if isinstance(node, ast.Not):
        result, values = _support(node.operand, data)
        return not result, values
    if isinstance(node, ast.Group):
        return _support(node.inner, data)
    outcomes = [_support(o, data) for o in node.operands]
    result = all(r for r, _ in outcomes) if node.op == "and" else any(r for r, _ in outcomes)
    deciding = [v for r, v in outcomes if r == result] or [v for _, v in outcomes]
    merged: dict = {}
    for values in deciding:
        merged.update(values)
    return result, merged


def compile_condition(node: ast.Condition) -> CompiledCondition:
    return CompiledCondition(to_text(node), paths(node), node.loc, node)


def _first_leaf(node: ast.Condition):
    """The comparison evaluated first when the condition is evaluated (left to right, short-circuit)."""
    while not isinstance(node, (ast.Compare, ast.Member, ast.Contains, ast.Truthy)):
        node = node.operand if isinstance(node, ast.Not) else node.inner if isinstance(node, ast.Group) \
            else node.operands[0]
    return node


def compile_many(nodes: list[ast.Condition], ranks: list[int] | None = None, floor: int = 0,
                 hoist: bool = True, then: dict[int, list[ast.Condition]] | None = None) -> Callable[[Any], Any]:
    """One function that returns the indexes of every condition that holds (for classification).

    With `ranks` (one per condition) it returns (the highest rank among those that hold, or `floor`;
    the indexes; and, with `then` — rank -> conditions, for forbids — the indexes of those of the
    winning rank that hold). With `hoist`, each answer is read once at the top; a missing one becomes a
    stand-in that raises KeyError as soon as a rule actually uses it, so the caller can say which.
    """
    gen = _CodeGen(hoist=hoist)
    shared_lines = []
    if hoist:
        # A comparison that several rules make is computed once, up front, when it is the first thing some
        # rule evaluates: every rule is evaluated, so it would have been computed (or raised) anyway.
        counts: dict[str, int] = {}
        for node in nodes:
            for key in {to_text(leaf) for leaf in leaves(node)}:
                counts[key] = counts.get(key, 0) + 1
        for node in nodes:
            first = _first_leaf(node)
            key = to_text(first)
            if counts[key] > 1 and key not in gen.shared:
                shared_lines.append(f"    c{len(gen.shared)} = {gen.expr(first)}")
                gen.shared[key] = f"c{len(gen.shared)}"
    body = []
    for index, node in enumerate(nodes):
        body.append(f"    if {gen.expr(node)}:")
        body.append(f"        m.append({index})")
        if ranks is not None:
            body.append(f"        if r < {ranks[index]}: r = {ranks[index]}")
    if then:
        body.append("    f = ()")
        for k, (rank, extra) in enumerate(sorted(then.items())):
            body.append(f"    {'if' if k == 0 else 'elif'} r == {rank}:")
            body.append("        f = []")
            for index, node in enumerate(extra):
                body.append(f"        if {gen.expr(node)}: f.append({index})")
    lines = ["def _matches(v):"]
    groups: dict[tuple[str, ...], str] = {}  # a parent read once for all its children (impact.legal, impact.personal)
    for parts in gen.hoisted:
        if len(parts) > 1 and sum(1 for other in gen.hoisted if other[:-1] == parts[:-1]) > 1:
            groups.setdefault(parts[:-1], f"g{len(groups)}")
    for parent, name in groups.items():
        lines.append("    try:")
        lines.append(f"        {name} = v" + "".join(f"[{part!r}]" for part in parent))
        lines.append("    except (KeyError, TypeError, IndexError):")
        lines.append(f"        {name} = None")
    for parts, name in gen.hoisted.items():
        base = groups.get(parts[:-1])
        source = f"{base}[{parts[-1]!r}]" if base else "v" + "".join(f"[{part!r}]" for part in parts)
        lines.append("    try:")
        lines.append(f"        {name} = {source}")
        lines.append("    except (KeyError, TypeError, IndexError):")
        lines.append(f"        {name} = _Missing({'.'.join(parts)!r})")
    lines.extend(shared_lines)
    lines.append("    m = []")
    if ranks is not None:
        lines.append(f"    r = {floor}")
    lines.extend(body)
    if ranks is None:
        lines.append("    return m")
    else:
        lines.append("    return (r, m, f)" if then else "    return (r, m, ())")
    namespace = {"__builtins__": {}, "_Missing": _Missing, "KeyError": KeyError, "TypeError": TypeError,
                 "IndexError": IndexError, **gen.consts}
    exec(compile("\n".join(lines), "<classify>", "exec"), namespace)  # noqa: S102 - generated from the policy
    return namespace["_matches"]
