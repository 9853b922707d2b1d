"""tiergate: policy-as-code governance for machine-learning use cases.

The public API is re-exported here; heavier parts (classification, gates) load on first use.
"""
from __future__ import annotations

from tiergate.language.load import compile_policy as compile_policy
from tiergate.language.load import format_source as format_source
from tiergate.language.load import lint_file as lint_file
from tiergate.language.load import lint_source as lint_source
from tiergate.language.load import load_policy as load_policy
from tiergate.errors import Diagnostic as Diagnostic
from tiergate.errors import Location as Location
from tiergate.errors import TiergateError as TiergateError
from tiergate.language.policy import Policy as Policy

__version__ = "0.1.0"

__all__ = [
    "Diagnostic",
    "Location",
    "Policy",
    "TiergateError",
    "compile_policy",
    "format_source",
    "lint_file",
    "lint_source",
    "load_policy",
]
