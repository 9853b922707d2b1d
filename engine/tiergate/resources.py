"""Where the shipped policy packs and JSON schemas live, installed or in a source checkout."""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`policies` or `schemas`: inside the installed package, else at the top of a checkout (engine/tiergate/../../)."""
    installed = _PACKAGE / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent.parent / name


def schema_path(name: str) -> Path:
    return data_dir("schemas") / name


def default_policy_path() -> Path:
    return data_dir("policies") / "mlops-default.policy"


def display(path: Path | str) -> str:
    """A path as users should see it: relative to the working directory when under it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
