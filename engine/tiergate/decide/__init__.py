"""Deciding: classification of use cases, workflows, and gate checks against a model version's history."""
