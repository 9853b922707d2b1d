"""The application layer: every operation a command, an HTTP handler or a web page performs.

Each operation takes plain values (paths, names, times) and returns a result object from `results`, or raises
TiergateError with every problem located. The command line only parses options, calls one operation, renders
its result with `tiergate.reports.render` and picks the exit code; a server's handlers will do the same.
Modules: `policies` (lint, fmt, doc, tables), `classifying`, `checking`, `recording` (the ledger's writes) and
`registry` (the ledger's reads and audit).
"""
