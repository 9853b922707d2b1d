"""The API against its own OpenAPI document: schemathesis generates requests for every operation from
/openapi.json (bounded examples) and checks that no answer is a 5xx, that every answer fits the document, and that
the document is valid OpenAPI 3.1."""
from __future__ import annotations

import pytest

from conftest import extra_module
from test_ledger_cli import POLICY, ROSTER, USE_CASES, tiergate

schemathesis = extra_module("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

LEDGER: dict = {}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    extra_module("httpx")
    from tiergate.server import Settings, create_app

    ledger = tmp_path_factory.mktemp("api") / "ledger.db"
    assert tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    assert tiergate("register", "loan-approval", "1.0", "--answers", USE_CASES / "loan-approval.yaml", "--ledger",
                    ledger, "--actor", "dana", "--at", "2026-01-02T00:00:00Z").exit_code == 0
    token = tiergate("token", "create", "dana", "--ledger", ledger, "--actor", "rita").stdout.strip()
    LEDGER["token"] = token
    app = create_app(Settings(str(ledger), str(POLICY)))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_every_operation_answers_within_its_document(case):
    """No 5xx, and every answer (its status, content type, headers and body) as the document says. (Whether a
    schema-valid request is accepted depends on the ledger and the policy, which a schema cannot say: a registered
    version, a stage of its workflow; such refusals are 4xx problems the document lists.)"""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    case.call_and_validate(headers={"Authorization": f"Bearer {LEDGER['token']}"},
                           checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                   response_headers_conformance, response_schema_conformance])


def test_the_document_is_openapi_3_1_and_names_every_route(api):
    from tiergate.server.openapi import document

    spec = document()
    assert spec["openapi"] == "3.1.0"
    routes = {"/health", "/ready", "/openapi.json", "/metrics", "/v1/policy", "/v1/classify", "/v1/events", "/v1/promote",
              "/v1/check", "/v1/status", "/v1/use-cases/{use_case}/versions/{version}", "/v1/audit/head",
              "/v1/audit/verify", "/v1/decisions", "/v1/roster", "/v1/tokens/{token_id}/revoke", "/v1/whoami"}
    assert set(spec["paths"]) == routes
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                assert operation["security"] == [{"bearer": []}], path
                assert {"401", "500", "503"} <= set(operation["responses"]), path
