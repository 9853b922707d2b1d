"""Renderers: pure functions from result objects to text, one module per format family."""
