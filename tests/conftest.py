"""Shared fixtures: where the checkout is, a small valid policy, and a command-line runner."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
#: Published schemas the reports are validated against (JUnit.xsd, sarif-schema-2.1.0.json), kept beside the checkout
REFERENCE = ROOT.parent / "shared" / "reference"


def in_ci() -> bool:
    """Whether the suite runs in CI (`CI=true`, as CI services and .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _unavailable(message: str):
    """In CI a missing prerequisite fails the test, so that a green run never hides one; elsewhere it skips."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: it must be there)", pytrace=False)
    pytest.skip(message)


def reference_file(name: str) -> Path:
    """A file of the shared reference folder beside the checkout (../shared/reference/NAME)."""
    path = REFERENCE / name
    if not path.is_file():
        _unavailable(f"{path} is absent: the report schemas are read from the shared reference folder "
                     f"beside the checkout")
    return path


def extra_module(name: str):
    """Import a module of the test extras (pip install -e '.[test]')."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        _unavailable(f"could not import {name!r} ({exc}); pip install -e '.[test]'")

#: the gate stories in examples/events/ and the use case each one follows
STORY_USE_CASE = {
    "bias-fail-then-pass.yaml": "inflight-meal-counts",
    "drift-breach.yaml": "predictive-maintenance",
    "expired-waiver.yaml": "plane-fuelling",
    "fraud-promotion.yaml": "card-fraud-scoring",
    "loan-no-risk-signoff.yaml": "loan-approval",
    "over-long-waiver.yaml": "ecommerce-recommender",
    "self-approval.yaml": "churn-dashboard",
    "skipped-stage.yaml": "adhoc-analysis",
}

#: A small policy that compiles with no errors and no warnings, in the canonical layout.
SMALL_POLICY = '''\
policy "small" version "1.0.0":
  description: "A small policy for tests"

tiers low < high

roles owner, reviewer

workflow default:
  build -> release

consideration checks "Checks": unit_tests

classify:
  high when availability == "realtime" because "Live"
  otherwise low

tier low:
  require evidence unit_tests before release

tier high extends low:
  require signoff from reviewer before release

raci:
  "Release": owner A/R, reviewer C
'''


def make_runner() -> CliRunner:
    """A CliRunner; with click >= 8.2 (the project's floor) `result.stdout` and `result.stderr` are apart."""
    return CliRunner()


def tiergate(*args, env: dict | None = None):
    """Run the command line in-process; an exception other than an exit is a bug and is raised as such."""
    from tiergate.cli import main

    result = make_runner().invoke(main, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def check_golden(path: Path, actual: str) -> None:
    """Compare with a golden file; TIERGATE_UPDATE_GOLDEN=1 rewrites it (review the diff before committing)."""
    import os

    if os.environ.get("TIERGATE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with TIERGATE_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the checkout (where pyproject.toml is)."""
    return ROOT


@pytest.fixture(scope="session")
def default_policy(repo_root: Path) -> Path:
    """The shipped default pack, policies/mlops-default.policy."""
    return repo_root / "policies" / "mlops-default.policy"


@pytest.fixture
def small_policy() -> str:
    """The text of a small valid policy (uses the shipped questionnaire)."""
    return SMALL_POLICY


@pytest.fixture
def cli_runner() -> CliRunner:
    return make_runner()


@pytest.fixture
def write_policy(tmp_path: Path):
    """write_policy(text, name="p.policy") -> the path of a new file holding `text` (str or bytes)."""

    def write(text: str | bytes, name: str = "p.policy") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_bytes(text.encode("utf-8"))
        return path

    return write


@pytest.fixture(scope="module")
def policy():
    """The shipped default pack, compiled (modules may define their own `policy` instead)."""
    from tiergate.language.load import load_policy

    return load_policy(ROOT / "policies" / "mlops-default.policy")


@pytest.fixture(scope="module")
def roster():
    """examples/roster.yaml, loaded (modules may define their own `roster` instead)."""
    from tiergate.inputs.events import load_roster

    return load_roster(ROOT / "examples" / "roster.yaml")
