"""`python -m tiergate` runs the tiergate command line."""
from tiergate.cli import run

run()
