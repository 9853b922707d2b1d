"""`python -m engine` runs the tiergate command line."""
from .cli import run

run()
