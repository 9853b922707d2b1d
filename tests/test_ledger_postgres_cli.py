"""The ledger commands with `--ledger postgresql://…` (or TIERGATE_LEDGER): the command-line tests of
test_ledger_cli.py that need no SQLite file, run again on a PostgreSQL ledger (their `ledger`, `loan` and
`stories` fixtures are this module's), and what a user sees when the server is not there.

The server is the one at TIERGATE_TEST_POSTGRES (conftest.py); each ledger is a schema of its own in the session's
database.
"""
from __future__ import annotations

import pytest

from test_ledger_cli import (  # noqa: F401  (collected by pytest from this module)
    REFUSED, ROSTER, STORY_USE_CASE, USE_CASES, import_story, loan, state, tiergate,
    test_a_duplicate_event_is_refused, test_a_refused_command_exits_2_and_writes_nothing,
    test_a_refused_story_imports_as_it_happened_with_allow_violations,
    test_a_refused_story_imports_nothing_and_names_each_event,
    test_an_auditor_recomputes_the_head_from_an_export_with_the_standard_library, test_bad_arguments_write_nothing,
    test_each_recording_command_records, test_each_story_imports_with_its_answers_file, test_export_of_one_use_case,
    test_export_then_import_into_an_empty_ledger_gives_the_same_head, test_history_is_the_timeline,
    test_importing_an_export_twice_is_refused_whole, test_promote_is_blocked_with_every_reason_then_allowed,
    test_register_stores_tier_policy_and_answers, test_status_details, test_status_filters,
    test_status_shows_each_model_where_its_story_leaves_it, test_the_roster_comes_from_the_ledger_only,
)


@pytest.fixture
def ledger(postgres_ledger_url) -> str:
    return postgres_ledger_url


@pytest.fixture(scope="module")
def stories(postgres_server) -> str:
    """The example roster, then every story, each imported whole (those with a violation as it happened)."""
    ledger = postgres_server.fresh()
    assert tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    for name in STORY_USE_CASE:
        result = import_story(ledger, name, *(["--allow-violations"] if name in REFUSED else []))
        assert result.exit_code == 0, result.stderr
    return ledger


def test_the_ledger_may_be_named_by_the_environment(ledger):
    env = {"TIERGATE_LEDGER": ledger}
    result = tiergate("register", "churn-dashboard", "1", "--answers", USE_CASES / "churn-dashboard.yaml",
                      "--actor", "dana", "--at", "2026-01-05T09:00:00Z", env=env)
    assert result.exit_code == 0, result.stderr
    verified = tiergate("audit", "verify", env=env)
    assert verified.exit_code == 0 and verified.stdout.startswith("ledger intact: 2 events, head ")
    assert tiergate("audit", "head", env=env).stdout == tiergate("audit", "head", "--ledger", ledger).stdout


def test_a_server_that_is_not_there_exits_2_and_names_the_ledger_without_its_password():
    url = "postgresql://dana:s3cret@127.0.0.1:1/ledger"
    for args in (("status",), ("audit", "verify"), ("export",)):
        result = tiergate(*args, "--ledger", url)
        assert result.exit_code == 2, args
        assert "postgresql://dana@127.0.0.1:1/ledger: error[E600]: cannot reach the PostgreSQL server" in result.stderr
        assert "s3cret" not in result.stdout + result.stderr
    result = tiergate("register", "churn-dashboard", "1", "--answers", USE_CASES / "churn-dashboard.yaml",
                      "--ledger", url, "--actor", "dana")
    assert result.exit_code == 2 and "s3cret" not in result.stdout + result.stderr
