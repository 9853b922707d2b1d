"""Renderers: pure functions from result objects to text, one module per format family, looked up in one place.

`render(result, fmt)` picks the function by the result's type and the format; `formats(kind)` lists what a result
type can be rendered as (the command line offers exactly those). Every renderer is named `as_<format>` and takes
the result first; options a format understands (e.g. `coverage` for test runs) follow as keywords.
Modules are imported when a format is first rendered, so a command pays only for the report it writes.
Every value that came from input is written through the function of its format in `escape` (text, markdown,
csv_cell, xml, html, github_message, json_text...): a new renderer does the same, and
tests/test_output_injection.py tries hostile values on every format listed here.
"""
from __future__ import annotations

import importlib

#: result type name -> format -> "module:function" under tiergate.reports (the first format is the default)
FORMATS: dict[str, dict[str, str]] = {
    "CheckResult": {"text": "check:as_text", "json": "check:as_json", "junit": "ci:as_junit", "sarif": "ci:as_sarif",
                    "github": "ci:as_github", "markdown": "check:as_markdown"},
    "Classified": {"text": "classification:as_text", "json": "classification:as_json",
                   "csv": "classification:as_csv", "markdown": "classification:as_markdown"},
    "DiffResult": {"text": "policydiff:as_text", "json": "policydiff:as_json", "markdown": "policydiff:as_markdown"},
    "TestRun": {"text": "policytest:as_text", "json": "policytest:as_json", "junit": "policytest:as_junit"},
    "Status": {"text": "registry:as_text", "json": "registry:as_json", "csv": "registry:as_csv",
               "markdown": "registry:as_markdown", "html": "registry:as_html"},
    "History": {"text": "history:as_text", "json": "history:as_json"},
    "PolicyLog": {"text": "policylog:as_text", "json": "policylog:as_json"},
    "TokenList": {"text": "tokens:as_text", "json": "tokens:as_json"},
    "PolicyDoc": {"markdown": "doc:as_markdown", "html": "doc:as_html"},
    "Table": {"markdown": "tabular:as_markdown", "csv": "tabular:as_csv", "json": "tabular:as_json",
              "html": "tabular:as_html"},
    "TierRequirements": {"text": "requirements:as_text", "json": "requirements:as_json",
                         "markdown": "requirements:as_markdown"},
    "WorkflowGraph": {"mermaid": "graph:as_mermaid", "dot": "graph:as_dot"},
    "Kpis": {"text": "kpis:as_text", "json": "kpis:as_json", "csv": "kpis:as_csv", "markdown": "kpis:as_markdown"},
    "AuditReport": {"html": "auditreport:as_html", "json": "auditreport:as_json"},
}


def formats(kind: str) -> tuple[str, ...]:
    """The formats a result type (by name) renders to, the default first."""
    return tuple(FORMATS[kind])


def renderer(kind: str, fmt: str):
    """The function that renders a result of type `kind` as `fmt` (KeyError for a pair not in FORMATS)."""
    module, _, function = FORMATS[kind][fmt].partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)


def render(result, fmt: str, **options) -> str:
    """`result` as text in format `fmt`."""
    return renderer(type(result).__name__, fmt)(result, **options)
