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


# --- PostgreSQL ---------------------------------------------------------------------------------------------------

#: the PostgreSQL server the tests make a database of their own on (trust authentication, as on the project's
#: machines); the database is dropped when the session ends
POSTGRES_URL = os.environ.get("TIERGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


class PostgresServer:
    """The test session's own database on the server: `url` names it; `fresh()` gives the URL of a new, empty
    ledger in it (a schema of its own, named by the URL's search_path)."""

    def __init__(self, admin_url: str):
        import secrets

        import psycopg

        self.admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
        self.name = f"tiergate_test_{os.getpid()}_{secrets.token_hex(4)}"
        self.admin.execute(f'CREATE DATABASE "{self.name}" ENCODING UTF8 TEMPLATE template0')
        self.url = postgres_url_with(admin_url, database=self.name)
        self.db = psycopg.connect(self.url, autocommit=True)
        self._made = 0

    def fresh(self) -> str:
        self._made += 1
        schema = f"ledger_{self._made}"
        self.db.execute(f"CREATE SCHEMA {schema}")
        return postgres_url_with(self.url, schema=schema)

    def drop(self) -> None:
        self.db.close()
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.close()


def postgres_url_with(url: str, database: str | None = None, schema: str | None = None) -> str:
    """`url` naming another database, and/or with its tables looked for in `schema` (search_path)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if database is not None:
        parts = parts._replace(path=f"/{database}")
    if schema is not None:
        parts = parts._replace(query="&".join(q for q in (parts.query, f"options=-csearch_path%3D{schema}") if q))
    return urlunsplit(parts)


@pytest.fixture(scope="session")
def postgres_server():
    """A database of the session's own on the PostgreSQL server at TIERGATE_TEST_POSTGRES, dropped at the end.
    Where the server cannot be reached (or psycopg is not installed), the tests that need it skip; under CI=true
    they fail."""
    from tiergate.ledger.store.base import shown_url

    extra_module("psycopg")
    import psycopg

    try:
        server = PostgresServer(POSTGRES_URL)
    except psycopg.Error as exc:
        _unavailable(f"the PostgreSQL server at {shown_url(POSTGRES_URL)} cannot be reached or refuses to make a "
                     f"database ({str(exc).strip().splitlines()[0]}); start it, or point TIERGATE_TEST_POSTGRES at one")
    yield server
    server.drop()


@pytest.fixture
def postgres_ledger_url(postgres_server) -> str:
    """The URL of a new, empty PostgreSQL ledger (a schema of its own in the session's database)."""
    return postgres_server.fresh()
