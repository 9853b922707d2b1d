"""Shared fixtures: where the checkout is, a small valid policy, and a command-line runner."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent

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
    """A CliRunner that keeps standard error apart from standard output on every click version."""
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into output unless told not to
    except TypeError:
        return CliRunner()


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
