"""Requirement kinds at gates: each kind's evaluator, decider and generated code, registered together."""
