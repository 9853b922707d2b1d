"""YAML read with line numbers for every value, with no aliases, no duplicate keys and bounded size."""
from __future__ import annotations

from dataclasses import dataclass, field
from math import isfinite
from typing import Any

import yaml

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.fileio import INPUT_LIMIT

try:  # the C parser is several times faster; fall back to pure Python where it is not built
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_YAML_BYTES = INPUT_LIMIT  # (a file larger is refused before it is read: fileio.read_source)
MAX_NODES = 200_000
MAX_DEPTH = 100  # levels; validation and the code that reads the data recurse once per level
_SCAN_FROM = 1000  # indicator characters; see _check_shape


@dataclass
class YamlDocument:
    """Parsed YAML data plus the line of every JSON path in it ('$.answers.audience' -> line)."""

    file: str
    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)  # the line of the key naming each path

    def line_of(self, path: str) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = _parent(path)
        return 1

    def location(self, path: str) -> Location:
        return Location(self.file, self.line_of(path))


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    if "." in path:
        return path[: path.rindex(".")]
    return ""


def json_path(parts) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _yaml_error(exc: yaml.YAMLError, file: str, code: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if _nests_too_deep(problem):
        return Diagnostic(code, _TOO_DEEP, Location(file, mark.line + 1) if mark is not None else Location(file))
    context = getattr(exc, "context", None)
    message = f"this is not valid YAML: {problem}" + (f" ({context})" if context else "")
    loc = Location(file, mark.line + 1, mark.column + 1, mark.column + 2) if mark is not None else Location(file)
    return Diagnostic(code, message, loc, hint="check the indentation and quoting on this line and the one above")


def _bad_scalar(root, file: str, code: str, exc: Exception) -> Diagnostic:
    """Find the scalar PyYAML could not turn into a value (dates and times are the usual ones)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":timestamp", ":int", ":float")):
            try:
                yaml.SafeLoader("").construct_object(node, deep=True)
            except (ValueError, TypeError, OverflowError):
                mark = node.start_mark
                where = Location(file, mark.line + 1, mark.column + 1, node.end_mark.column + 1)
                if not node.tag.endswith(":timestamp"):  # a whole number of more digits than Python reads
                    return Diagnostic(code, f"this is not valid YAML: a number of {len(node.value):,} characters "
                                      "is more than a number may have", where,
                                      hint='check the value, or quote it to keep it as text: "..."')
                return Diagnostic(code, f"this is not valid YAML: `{node.value}` is not a real date or time ({exc})",
                                  where, hint='check the date, or quote the value to keep it as text: "..."')
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for pair in reversed(node.value) for v in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return Diagnostic(code, f"this is not valid YAML: {exc}", Location(file, root.start_mark.line + 1))


def load_yaml_documents(data: bytes | str, file: str, code: str = "E300", multi: bool = False) -> list[YamlDocument]:
    """Parse YAML text into documents with line maps. Raises TiergateError with located diagnostics."""
    if isinstance(data, bytes):
        if len(data) > MAX_YAML_BYTES:
            raise TiergateError(Diagnostic(code, f"the file is {len(data) / 1048576:.1f} MB; the largest accepted is "
                                           f"{MAX_YAML_BYTES // 1048576} MB", Location(file)))
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TiergateError(Diagnostic(code, f"the file is not UTF-8 text (bad byte at offset {exc.start})",
                                           Location(file))) from None
    elif len(data) > MAX_YAML_BYTES:
        raise TiergateError(Diagnostic(code, f"the text is {len(data) / 1048576:.1f} M characters; the largest accepted "
                                       f"is {MAX_YAML_BYTES // 1048576} MB", Location(file)))
    elif not data.isascii():
        try:
            data.encode("utf-8")  # the parser would fail on a lone surrogate with a UnicodeEncodeError
        except UnicodeEncodeError as exc:
            raise TiergateError(Diagnostic(code, f"the text is not valid Unicode (lone surrogate at offset {exc.start})",
                                           Location(file))) from None
    _check_shape(data, file, code)
    loader = _Loader(data)
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            lines: dict[str, int] = {}
            key_lines: dict[str, int] = {}
            try:
                data = _walk(node, "$", lines, key_lines, file, set(), [0], 0, loader)
            except (ValueError, TypeError, OverflowError, yaml.constructor.ConstructorError) as exc:
                # an unquoted date that does not exist, a key that cannot be a key, ...
                if isinstance(exc, yaml.YAMLError):
                    raise
                raise TiergateError(_bad_scalar(node, file, code, exc)) from None
            documents.append(YamlDocument(file, data, lines, key_lines))
            if not multi and len(documents) > 1:
                raise TiergateError(Diagnostic(code, "the file holds more than one YAML document",
                                               Location(file, node.start_mark.line + 1), hint="remove the `---` separator"))
    except yaml.YAMLError as exc:
        raise TiergateError(_yaml_error(exc, file, code)) from None
    except RecursionError:  # raised by _walk past MAX_DEPTH
        raise TiergateError(Diagnostic(code, _TOO_DEEP, Location(file))) from None
    finally:
        loader.dispose()
    return documents


_TOO_DEEP = f"the YAML nests more than {MAX_DEPTH} levels deep"


def _nests_too_deep(problem: str) -> bool:
    """Whether PyYAML refused the text for its own nesting limit, which lies far above MAX_DEPTH.

    The libyaml built into PyYAML >= 6.0.4 stops at 1000 levels ("exceeded maximum nesting depth"). Its
    scanner looks up to 1024 characters ahead for a key, so a run of `[` can reach that limit before
    _check_shape sees the 101st level; the text is then refused with tiergate's words, as with any PyYAML.
    """
    return "nesting" in problem.lower()


def _check_shape(text: str, file: str, code: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH, or with more than MAX_NODES values, before composing them.

    The C composer recurses once per level with no limit of its own (tens of thousands of `[` crash the
    process), and it builds every node before `_walk` can count them. This scan streams events instead.
    Every level and every value but one needs one of `[ { - ? : ,`; when there are few, the scan is skipped.
    """
    if sum(text.count(c) for c in "[{-?:,") < _SCAN_FROM:
        return
    depth = nodes = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise TiergateError(Diagnostic(code, _TOO_DEEP, Location(file, event.start_mark.line + 1)))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
                continue
            elif isinstance(event, yaml.DocumentStartEvent):
                nodes = 0  # the limit is per document, as in _walk
                continue
            elif not isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                continue
            nodes += 1
            if nodes > MAX_NODES:
                raise TiergateError(Diagnostic("E309", f"the YAML has more than {MAX_NODES} values", Location(file)))
    except yaml.YAMLError as exc:
        raise TiergateError(_yaml_error(exc, file, code)) from None


def load_yaml(data: bytes | str, file: str, code: str = "E300") -> YamlDocument:
    documents = load_yaml_documents(data, file, code)
    if not documents:
        return YamlDocument(file, None, {"$": 1})
    return documents[0]


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


def _walk(node, path: str, lines: dict, key_lines: dict, file: str, seen: set, count: list, depth: int = 0,
          loader=None):
    """Record the line of every path and build the value (faster than PyYAML's Python constructor)."""
    if depth > MAX_DEPTH:
        raise RecursionError(path)
    if id(node) in seen:
        raise TiergateError(Diagnostic("E307", "YAML anchors and aliases (`&name`, `*name`) are not allowed here",
                                       Location(file, node.start_mark.line + 1, node.start_mark.column + 1),
                                       hint="write the value out in full"))
    seen.add(id(node))
    count[0] += 1
    if count[0] > MAX_NODES:
        raise TiergateError(Diagnostic("E309", f"the YAML has more than {MAX_NODES} values", Location(file)))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        keys: dict[str, int] = {}
        out: dict = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key in keys:
                raise TiergateError(Diagnostic(
                    "E308", f"key `{key}` appears twice (first at line {keys[key]})",
                    Location(file, line, key_node.start_mark.column + 1, key_node.end_mark.column + 1),
                    hint="keep one of them: YAML would silently use the last"))
            keys[key] = line
            child = f"{path}.{key}"
            key_lines[child] = line
            value = _walk(value_node, child, lines, key_lines, file, seen, count, depth + 1, loader)
            if loader is not None:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR:
                    out[key_node.value] = value
                else:
                    built = _finite(loader.construct_object(key_node, deep=True), key_node, child, file)
                    out[built] = value  # TypeError when unhashable
        if loader is not None and node.tag != _MAP:  # !!set, !!omap, ...: let PyYAML build what the tag says
            return loader.construct_object(node, deep=True)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = [_walk(item, f"{path}[{index}]", lines, key_lines, file, seen, count, depth + 1, loader)
                 for index, item in enumerate(node.value)]
        if loader is not None and node.tag != _SEQ:
            return loader.construct_object(node, deep=True)
        return items
    if loader is None or node.tag == _STR:
        return node.value
    return _finite(loader.construct_object(node, deep=True), node, path, file)


def _finite(value, node, path: str, file: str):
    """`value`, unless it is a number that is not finite (`.inf`, `-.inf`, `.nan`, `1.0e+999`): then E311."""
    if type(value) is float and not isfinite(value):
        start, end = node.start_mark, node.end_mark
        raise TiergateError(Diagnostic(
            "E311", f"{path} is `{node.value}`, which is not a finite number",
            Location(file, start.line + 1, start.column + 1, end.column + 1 if end.line == start.line else 0),
            hint=NON_FINITE_HINT))
    return value


#: what to do about a number that is not finite, in every input that may hold one
NON_FINITE_HINT = "write a finite number: infinity and NaN are not values a requirement can judge"


_INF = float("inf")


def all_finite(value: Any) -> bool:
    """Whether every float in `value` (nested dicts and lists, as JSON and YAML give them) is finite (fast)."""
    stack = [value]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is float:
            if not -_INF < value < _INF:  # (NaN is neither)
                return False
        elif kind is dict:
            stack.extend(value.values())
        elif kind is list:
            stack.extend(value)
    return True


def non_finite(value: Any, path: str = "$") -> tuple[str, float] | None:
    """The JSON path and value of the first number in `value` (nested mappings and lists) that is not finite."""
    stack = [(value, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float):
            if not isfinite(value):
                return path, value
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if isinstance(key, float) and not isfinite(key):
                    return f"{path}.{key}", key
                stack.append((item, f"{path}.{key}"))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return None


def show_number(value: float) -> str:
    """How JSON writes a number that is not finite (which is how most of those who meet one have seen it)."""
    return "NaN" if value != value else "Infinity" if value > 0 else "-Infinity"