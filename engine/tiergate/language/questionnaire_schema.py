"""Reading a questionnaire JSON Schema without jsonschema: the type and allowed values at an answer path."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.fileio import INPUT_LIMIT, Unreadable, read_bounded, too_large_words


@dataclass(frozen=True)
class AnswerType:
    """What the schema says about one answer: its JSON types, allowed values, and item type for arrays."""

    types: tuple[str, ...]  # JSON Schema type names; empty = unconstrained
    enum: tuple[Any, ...] | None = None
    items: "AnswerType | None" = None

    def describe(self) -> str:
        if self.enum is not None:
            return "one of " + ", ".join(json.dumps(v) for v in self.enum)
        if "array" in self.types:
            inner = self.items.describe() if self.items else "anything"
            return f"a list (of {inner})"
        return " or ".join(_TYPE_WORDS.get(t, t) for t in self.types) or "anything"


_TYPE_WORDS = {"boolean": "true/false", "string": "text", "integer": "a whole number", "number": "a number",
               "array": "a list", "object": "a group of answers", "null": "null"}


def read_schema(path: Path, shown: str, at: Location) -> str:
    """The text of a questionnaire schema file; problems are reported at `at` (the policy line naming it)."""
    shown = _shown(shown)
    try:
        text = read_bounded(path, INPUT_LIMIT, "a questionnaire (a JSON Schema)").decode("utf-8")
    except Unreadable as problem:
        if problem.reason == "file not found":
            raise TiergateError(Diagnostic("E253", f"questionnaire schema `{shown}` does not exist", at,
                                           hint="the path is relative to the policy file")) from None
        if problem.too_large:
            raise TiergateError(Diagnostic("E253", f"questionnaire schema `{shown}` is "
                                           f"{too_large_words(problem.size, INPUT_LIMIT)}", at,
                                           hint="check that the setting names the questionnaire")) from None
        raise TiergateError(Diagnostic("E253", f"questionnaire schema `{shown}` {problem.reason}", at,
                                       hint=problem.hint)) from None
    except UnicodeDecodeError as exc:
        raise TiergateError(Diagnostic("E253", f"questionnaire schema `{shown}` cannot be read: {exc}", at)) from None
    return text


def _shown(shown: str) -> str:
    if not shown.isprintable():
        return shown.encode("unicode_escape").decode("ascii")  # (a NUL or a line break, shown as escapes)
    return shown


def parse_schema(text: str, shown: str, at: Location) -> dict:
    """A questionnaire schema from its text (a file's, or one stored in a ledger); problems are reported at `at`."""
    shown = _shown(shown)
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TiergateError(Diagnostic("E253", f"questionnaire schema `{shown}` is not valid JSON: {exc.msg} "
                                       f"(line {exc.lineno}, column {exc.colno})", at,
                                       hint="a questionnaire is a JSON Schema file (.json), not YAML")) from None
    if not isinstance(schema, dict) or "answers" not in schema.get("properties", {}):
        raise TiergateError(Diagnostic("E253", f"questionnaire schema `{shown}` does not describe an `answers` object",
                                       at, hint="the schema describes the whole answers file: use_case, title, owner, answers"))
    return schema


class SchemaView:
    """Looks up answer paths (relative to `answers`) in a questionnaire schema, following local $refs."""

    def __init__(self, schema: dict):
        self.schema = schema
        self._names: dict[int, tuple[dict, list[str]]] = {}  # id(properties) -> (properties, their sorted names)

    def _sorted_names(self, props: dict) -> list[str]:
        """The names of a `properties` mapping in order, sorted once however many conditions miss in it."""
        found = self._names.get(id(props))
        if found is None or found[0] is not props:
            found = self._names[id(props)] = (props, sorted(props))
        return found[1]

    def _resolve(self, node: Any, depth: int = 0) -> Any:
        while isinstance(node, dict) and "$ref" in node and depth < 32:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                return {}
            target: Any = self.schema
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    return {}
                target = target[part]
            merged = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **merged} if isinstance(target, dict) else {}
            depth += 1
        return node if isinstance(node, dict) else {}

    def properties(self, parts: tuple[str, ...] = ()) -> dict | None:
        node = self._resolve(self.schema.get("properties", {}).get("answers", {}))
        for part in parts:
            props = node.get("properties", {})
            if part not in props:
                return None
            node = self._resolve(props[part])
        return node.get("properties", {})

    def lookup(self, parts: tuple[str, ...]) -> tuple[AnswerType | None, tuple[str, ...], list[str]]:
        """(type, the prefix that exists, the names known at the first missing level)."""
        node = self._resolve(self.schema.get("properties", {}).get("answers", {}))
        for i, part in enumerate(parts):
            props = node.get("properties")
            if not isinstance(props, dict) or part not in props:
                return None, parts[:i], self._sorted_names(props) if isinstance(props, dict) else []
            node = self._resolve(props[part])
        return self._answer_type(node), parts, []

    def _answer_type(self, node: dict) -> AnswerType:
        types = node.get("type", ())
        types = (types,) if isinstance(types, str) else tuple(types)
        enum = tuple(node["enum"]) if isinstance(node.get("enum"), list) else None
        if "const" in node:
            enum = (node["const"],)
        if enum is not None and not types:
            types = tuple(sorted({_json_type(v) for v in enum}))
        items = None
        if "array" in types and isinstance(node.get("items"), dict):
            items = self._answer_type(self._resolve(node["items"]))
        return AnswerType(types, enum, items)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def literal_fits(value: Any, answer: AnswerType) -> bool:
    if not answer.types:
        return True
    kind = _json_type(value)
    if kind == "integer" and "number" in answer.types:
        return True
    return kind in answer.types
