"""A fast yes/no check compiled from a JSON Schema: valid documents skip jsonschema entirely.

Only "certainly valid" is trusted. Anything the compiler does not know (a keyword, a `format`, a remote
`$ref`) makes the whole schema unsupported, and every document then goes to jsonschema, which also
words the problems. Tests hold the two in agreement on generated documents.
"""
from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

ANNOTATIONS = {"$schema", "$id", "$defs", "definitions", "$comment", "title", "description", "default", "examples",
               "deprecated", "readOnly", "writeOnly"}


class Unsupported(Exception):
    pass


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float))
    raise Unsupported(name)


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) in (int, float) and type(b) in (int, float) and a == b or (type(a) is type(b) and a == b)


class _Compiler:
    def __init__(self, root: dict):
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        if not ref.startswith("#"):
            raise Unsupported(ref)
        if ref not in self.refs:
            self.refs[ref] = lambda v: True  # placeholder for recursive schemas, replaced below
            target: Any = self.root
            for part in ref[2:].split("/") if ref != "#" else []:
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise Unsupported(ref)
                target = target[part]
            compiled = self.compile(target)
            holder = self.refs
            holder[ref] = compiled
        return lambda v, _r=ref: self.refs[_r](v)

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        checks: list[Check] = []
        for key, value in schema.items():
            if key in ANNOTATIONS:
                continue
            maker = getattr(self, "k_" + key.lstrip("$"), None)
            if maker is None:
                raise Unsupported(key)
            checks.append(maker(value, schema))
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(c(v) for c in checks)

    # keywords ---------------------------------------------------------------------------------
    def k_ref(self, value, schema):
        return self.ref(value)

    def k_type(self, value, schema):
        names = [value] if isinstance(value, str) else list(value)
        for n in names:
            _is_type(None, n) if n in ("null",) else None
        return lambda v: any(_is_type(v, n) for n in names)

    def k_enum(self, value, schema):
        if all(isinstance(e, str) for e in value):
            allowed = frozenset(value)
            return lambda v: isinstance(v, str) and v in allowed
        return lambda v: any(_json_equal(v, e) for e in value)

    def k_const(self, value, schema):
        return lambda v: _json_equal(v, value)

    def k_properties(self, value, schema):
        props = {k: self.compile(s) for k, s in value.items()}
        return lambda v: not isinstance(v, dict) or all(c(v[k]) for k, c in props.items() if k in v)

    def k_required(self, value, schema):
        return lambda v: not isinstance(v, dict) or all(k in v for k in value)

    def k_additionalProperties(self, value, schema):
        known = set(schema.get("properties", {}))
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        extra = self.compile(value)
        return lambda v: not isinstance(v, dict) or all(extra(v[k]) for k in v if k not in known)

    def k_items(self, value, schema):
        if not isinstance(value, dict) and not isinstance(value, bool):
            raise Unsupported("items as a list")
        item = self.compile(value)
        return lambda v: not isinstance(v, list) or all(item(x) for x in v)

    def k_minItems(self, value, schema):
        return lambda v: not isinstance(v, list) or len(v) >= value

    def k_maxItems(self, value, schema):
        return lambda v: not isinstance(v, list) or len(v) <= value

    def k_uniqueItems(self, value, schema):
        if not value:
            return lambda v: True

        def unique(v):
            if not isinstance(v, list):
                return True
            if all(isinstance(x, str) for x in v):
                return len(set(v)) == len(v)
            return all(not _json_equal(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v)))
        return unique

    def k_minLength(self, value, schema):
        return lambda v: not isinstance(v, str) or len(v) >= value

    def k_maxLength(self, value, schema):
        return lambda v: not isinstance(v, str) or len(v) <= value

    def k_pattern(self, value, schema):
        # As jsonschema applies it: re.search, so `$` also matches before a final line feed ("id\n" matches
        # "^[a-z]+$"). The fast check must never pass what jsonschema refuses; passing less gains nothing, since
        # whatever it refuses goes to jsonschema. A schema that must refuse a line break says so itself (see
        # errors.UNPRINTABLE), and then both refuse it.
        regex = re.compile(value)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None

    def _number(self, test):
        return lambda v: isinstance(v, bool) or not isinstance(v, (int, float)) or test(v)

    def k_minimum(self, value, schema):
        return self._number(lambda v: v >= value)

    def k_maximum(self, value, schema):
        return self._number(lambda v: v <= value)

    def k_exclusiveMinimum(self, value, schema):
        return self._number(lambda v: v > value)

    def k_exclusiveMaximum(self, value, schema):
        return self._number(lambda v: v < value)

    def k_allOf(self, value, schema):
        parts = [self.compile(s) for s in value]
        return lambda v: all(p(v) for p in parts)

    def k_anyOf(self, value, schema):
        parts = [self.compile(s) for s in value]
        return lambda v: any(p(v) for p in parts)

    def k_oneOf(self, value, schema):
        parts = [self.compile(s) for s in value]
        return lambda v: sum(1 for p in parts if p(v)) == 1

    def k_not(self, value, schema):
        part = self.compile(value)
        return lambda v: not part(v)

    def k_if(self, value, schema):
        condition = self.compile(value)
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))
        return lambda v: then(v) if condition(v) else otherwise(v)

    def k_then(self, value, schema):
        return lambda v: True  # handled with `if`

    k_else = k_then


def compile_schema(schema: dict) -> Check | None:
    """A function that says True only for documents the schema accepts; None when the schema is unsupported."""
    try:
        return _Compiler(schema).compile(schema)
    except (Unsupported, re.error, TypeError, ValueError):
        return None
