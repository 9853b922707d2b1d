"""Answers files: YAML with line numbers, validated against the policy's questionnaire (jsonschema)."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterable

from tiergate.errors import UNPRINTABLE, Diagnostic, Location, TiergateError, closest, did_you_mean
from tiergate.inputs.yamlsource import (
    NON_FINITE_HINT,
    YamlDocument,
    all_finite,
    json_path,
    load_yaml,
    non_finite,
    show_number,
)

#: id(schema) -> [schema, jsonschema validator, fast check], the most recently used few. An entry holds its schema,
#: so an id cannot be reused while its entry lives; a schema no policy uses any more is dropped in time.
_validators: OrderedDict[int, list] = OrderedDict()
_VALIDATORS_KEPT = 16
_validators_lock = threading.Lock()


class Answers:
    """One use case's questionnaire: who it is, and the answers classification reads.

    A plain class with slots, not a frozen dataclass: bulk classification makes one per use case.
    """

    __slots__ = ("file", "use_case", "title", "owner", "answers", "document")

    def __init__(self, file: str, use_case: str, title: str, owner: str, answers: dict,
                 document: YamlDocument | None = None):
        self.file = file
        self.use_case = use_case
        self.title = title
        self.owner = owner
        self.answers = answers
        self.document = document

    def __repr__(self) -> str:
        return f"Answers({self.use_case!r}, file={self.file!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Answers) and self.to_dict() == other.to_dict() and self.file == other.file

    __hash__ = None

    def line_of(self, dotted: str) -> int:
        """The line of an answer given as a path relative to `answers` (e.g. `impact.legal`)."""
        if self.document is None:
            return 0
        return self.document.line_of("$.answers." + dotted)

    def to_dict(self) -> dict:
        return {"use_case": self.use_case, "title": self.title, "owner": self.owner, "answers": self.answers}


def _validator(schema) -> Any:
    """The jsonschema validator of a schema, built on first need (importing jsonschema costs ~200 ms)."""
    entry = _entry(schema)
    if entry[1] is None:
        import jsonschema

        plain = _plain(schema)
        cls = jsonschema.validators.validator_for(plain, default=jsonschema.Draft202012Validator)
        entry[1] = cls(plain, format_checker=cls.FORMAT_CHECKER)
    return entry[1]


def _entry(schema) -> list:
    """[schema, jsonschema validator or None until needed, fast check or None], once per schema object."""
    entry = _validators.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry
    from tiergate.inputs.schemacheck import compile_schema

    entry = [schema, None, compile_schema(_plain(schema))]
    with _validators_lock:
        _validators[id(schema)] = entry
        while len(_validators) > _VALIDATORS_KEPT:
            _validators.popitem(last=False)
    return entry


def _plain(value):
    """MappingProxy -> dict, recursively (jsonschema wants plain containers)."""
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)  # YAML dates, sets and bytes are not JSON


def _explain(error, document: YamlDocument) -> Diagnostic:
    """Turn one jsonschema error into a located diagnostic that says what was allowed."""
    parts = list(error.absolute_path)
    path = json_path(parts)
    validator = error.validator
    loc = document.location(path)
    if validator == "required":
        missing = _missing_name(error)
        missing_path = f"{path}.{missing}"
        line = document.key_lines.get(path) or document.line_of(path)
        description = ""
        props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        if isinstance(props.get(missing), dict) and props[missing].get("description"):
            description = props[missing]["description"]
        return Diagnostic("E302", f"the answer {missing_path} is missing", Location(document.file, line),
                          hint=f"add `{missing}:` — {description}" if description else f"add `{missing}:`")
    if validator == "additionalProperties":  # one diagnostic per unknown key: see _unknown
        return _unknown(error, document, str(_unknown_keys(error)[0]) if _unknown_keys(error) else "?")
    if validator in ("enum", "const"):
        allowed = error.validator_value if validator == "enum" else [error.validator_value]
        best = did_you_mean(str(error.instance), [str(a) for a in allowed])
        return Diagnostic("E303", f"{path} is {_show(error.instance)}; allowed: {', '.join(_show(a) for a in allowed)}",
                          loc, hint=best if best and best.startswith("did") else None)
    if validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        words = {"boolean": "true or false", "string": "text", "array": "a list", "object": "a group of answers",
                 "integer": "a whole number", "number": "a number"}
        return Diagnostic("E305", f"{path} is {_show(error.instance)}, but it must be {words.get(wanted, wanted)}", loc)
    return Diagnostic("E306", f"{path}: {error.message}", loc)


def _unknown_keys(error) -> list:
    return [k for k in (error.instance or {}) if k not in error.schema.get("properties", {})]


def _unknown(error, document: YamlDocument, extra: str) -> Diagnostic:
    path = json_path(list(error.absolute_path))
    known = list(error.schema.get("properties", {}))
    extra_path = f"{path}.{extra}"  # YAML keys may be numbers, booleans or null: `extra` is their text
    return Diagnostic("E304", f"{extra_path} is not a question of this questionnaire",
                      Location(document.file, document.key_lines.get(extra_path) or document.line_of(extra_path)),
                      hint=did_you_mean(extra, known, "questions here"))


def _missing_name(error) -> str:
    return error.message.split("'")[1] if "'" in error.message else "?"


def _one_per_mistake(errors: list, document: YamlDocument) -> list[Diagnostic]:
    """Explain jsonschema errors so that one mistake gives one diagnostic.

    A value outside an enum is usually of the wrong type as well: the enum message, which lists the
    allowed values, says all there is to say. A misspelt question is both unknown and missing: the
    unknown key's did-you-mean says both. Every unknown key is reported, not only the first.
    """
    enums = {tuple(e.absolute_path) for e in errors if e.validator in ("enum", "const")}
    misspelt = set()
    for e in errors:
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            known = list(e.schema.get("properties", {}))
            for key in _unknown_keys(e):
                best = closest(str(key), known)
                if best is not None and best not in e.instance:
                    misspelt.add((tuple(e.absolute_path), best))
    diagnostics = []
    for e in errors:
        where = tuple(e.absolute_path)
        if e.validator == "type" and where in enums:
            continue
        if e.validator == "required" and (where, _missing_name(e)) in misspelt:
            continue
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            diagnostics.extend(_unknown(e, document, str(key)) for key in _unknown_keys(e))
            continue
        diagnostics.append(_explain(e, document))
    return diagnostics


def _unprintable_id(document: YamlDocument) -> Diagnostic | None:
    """E306 for a `use_case` that holds a line break or a control character (errors.UNPRINTABLE)."""
    use_case = document.data.get("use_case")
    if type(use_case) is not str or UNPRINTABLE.search(use_case) is None:
        return None
    return Diagnostic("E306", f"$.use_case is {json.dumps(use_case)}: an id holds no line break or control character",
                      document.location("$.use_case"))


def validate_document(document: YamlDocument, schema) -> list[Diagnostic]:
    if not isinstance(document.data, dict):
        kind = "empty" if document.data is None else f"a {type(document.data).__name__}"
        return [Diagnostic("E301", f"an answers file must be a mapping (use_case, title, owner, answers); this one is {kind}",
                           Location(document.file, document.line_of("$")))]
    bad = None if all_finite(document.data) else non_finite(document.data)  # (YAML files refuse them at once)
    if bad is not None:
        path, value = bad
        return [Diagnostic("E311", f"{path} is {show_number(value)}, which is not a finite number",
                           document.location(path), hint=NON_FINITE_HINT)]
    unprintable = _unprintable_id(document)  # whatever the questionnaire's own pattern lets through
    fast = _entry(schema)[2]
    if fast is not None and fast(document.data):  # certainly valid: jsonschema is asked only to word problems
        return [unprintable] if unprintable else []
    errors = sorted(_validator(schema).iter_errors(document.data), key=lambda e: [str(p) for p in e.absolute_path])
    if unprintable:  # one mistake, said once: not again as the schema's `not` or pattern
        errors = [e for e in errors if list(e.absolute_path) != ["use_case"]]
    diagnostics = _one_per_mistake(errors, document) + ([unprintable] if unprintable else [])
    return sorted(diagnostics, key=Diagnostic.sort_key)


def parse_answers(data: bytes | str, file: str, schema) -> Answers:
    """Parse and validate answers text. Raises TiergateError listing every problem."""
    document = load_yaml(data, file)
    problems = validate_document(document, schema)
    if problems:
        raise TiergateError(problems)
    d = document.data
    answers = d.get("answers")
    if not isinstance(answers, dict):
        raise TiergateError(Diagnostic("E301", "`answers` must be a mapping of questions to answers",
                                       document.location("$.answers")))
    return Answers(file, str(d.get("use_case", "")), str(d.get("title", "")), str(d.get("owner", "")), answers, document)


def validate_answers(data: dict, schema, file: str = "<answers>", document: YamlDocument | None = None) -> Answers:
    """Answers given as a mapping (an answers document) checked against a questionnaire as a file's would be.
    Raises TiergateError listing every problem; `document` gives line numbers where the mapping came from a file."""
    document = document if document is not None and document.data == data else YamlDocument(file, data)
    problems = validate_document(document, schema)
    if problems:
        raise TiergateError(problems)
    answers = data.get("answers")
    if not isinstance(answers, dict):
        raise TiergateError(Diagnostic("E301", "`answers` must be a mapping of questions to answers",
                                       document.location("$.answers")))
    return Answers(file, str(data.get("use_case", "")), str(data.get("title", "")), str(data.get("owner", "")),
                   answers, document)


def load_answers(path: str | Path, policy=None) -> Answers:
    """Read and validate one answers file against the policy's questionnaire (default pack when None)."""
    from tiergate.language.load import load_policy

    if policy is None:
        policy = load_policy()
    path = Path(path)
    return parse_answers(read_answers(path), str(path), policy.questionnaire)


def read_answers(path: str | Path) -> bytes:
    """The bytes of an answers file, checked before they are read: a regular file of at most 2 MB."""
    from tiergate.fileio import INPUT_LIMIT, read_source

    return read_source(path, INPUT_LIMIT, what="answers (YAML)", code="E300")


def find_answer_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, and every *.yaml / *.yml under given directories, sorted."""
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file()
                                and not q.name.endswith("_test.yaml")))
        else:
            found.append(p)
    return found


#: from this many files on, answers are read on every core
PARALLEL_FROM = 1000


def _load_one(args) -> tuple:
    """Worker: read and validate one file; plain tuples travel back (exceptions do not pickle well)."""
    path, schema = args
    try:
        a = parse_answers(read_answers(path), str(path), schema)
    except TiergateError as exc:
        return ("error", str(path), list(exc.diagnostics))
    return ("ok", str(path), a.use_case, a.title, a.owner, a.answers, a.document)


def load_answer_files(paths: Iterable[str | Path], policy, progress=None) -> tuple[list[Answers], list[Diagnostic]]:
    """Read and validate many answers files (in parallel when there are many); every file is reported.

    Returns the valid answers in file order and the diagnostics of the invalid ones. `progress(n)` is
    called as files complete.
    """
    from tiergate.cpus import usable_cpus

    files = list(paths)
    workers = min(usable_cpus(), 8)
    parallel = len(files) >= PARALLEL_FROM and workers > 1
    schema = _plain(policy.questionnaire) if parallel else policy.questionnaire  # plain containers travel to workers
    jobs = [(f, schema) for f in files]
    if parallel:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            outcomes = []
            for outcome in pool.map(_load_one, jobs, chunksize=128):
                outcomes.append(outcome)
                if progress:
                    progress(1)
    else:
        outcomes = []
        for job in jobs:
            outcomes.append(_load_one(job))
            if progress:
                progress(1)
    answers, problems = [], []
    for outcome in outcomes:
        if outcome[0] == "ok":
            answers.append(Answers(*outcome[1:]))
        else:
            problems.extend(outcome[2])
    return answers, problems
