"""Requirement kinds at gates: each kind's evaluator, decider and generated code, registered together.

The kind modules are imported here, once, so that the registry is full whatever module of the package is imported.
"""
from tiergate.decide.gates import deployment, evidence, forbid, monitoring, review, signoff  # noqa: F401 (register)
