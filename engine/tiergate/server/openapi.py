"""The OpenAPI 3.1 document of the API, served at /openapi.json: every endpoint, its body, its answers and its
problems. Written out here rather than derived, so that it says what the handlers promise and a test
(tests/test_server_openapi.py, schemathesis) holds the handlers to it."""
from __future__ import annotations

from typing import Any

from tiergate.version import __version__

TEXT = {"type": "string", "minLength": 1}
TIME = {"type": "string", "description": "an RFC 3339 time with an offset, e.g. 2026-03-01T09:30:00Z"}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
OBJECT = {"type": "object"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problems(*statuses: int) -> dict:
    words = {400: "the body is not a JSON object (E652)", 401: "no valid token (E650)",
             403: "the person may not do this (E611)", 404: "no such version (E422, E654)",
             409: "recorded already (E612), or the gate is not met (E660)", 413: "the body is too large (E651)",
             422: "what the request holds cannot be used (E3xx, E4xx, E610, E631, E656, ...)",
             500: "the server failed inside; nothing was decided (E655)",
             503: "the ledger cannot be used or trusted now (E600, E620, E621, E640, E641)"}
    return {str(s): {"description": words[s], "content": {"application/problem+json": {"schema": _ref("Problem")}}}
            for s in statuses}


#: the problems every authenticated request may meet
COMMON = (401, 500, 503)
#: and those of a request with a body
WITH_BODY = (400, 413, 422)


def _operation(summary: str, ok: dict, problems: tuple[int, ...], body: dict | None = None,
               parameters: list | None = None, auth: bool = True) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": {**ok, **_problems(*problems)}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if parameters:
        op["parameters"] = parameters
    op["security"] = [{"bearer": []}] if auth else []
    return op


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


CHECK_FORMATS = ["text", "json", "junit", "sarif", "github", "markdown"]


def _format(what: str, choices: list[str]) -> dict:
    return _query("format", {"enum": choices}, f"{what} as the command line writes it (a Report)")


def document() -> dict:
    schemas = {
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail", "code", "errors"],
                    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                   "status": {"type": "integer"}, "detail": {"type": "string"},
                                   "code": {"type": "string", "pattern": "^[EW][0-9]{3}$"},
                                   "errors": {"type": "array", "items": _ref("Diagnostic")}}},
        "Diagnostic": {"type": "object", "required": ["code", "severity", "message"],
                       "properties": {"code": {"type": "string"}, "severity": {"enum": ["error", "warning"]},
                                      "file": {"type": "string"}, "line": {"type": ["integer", "null"]},
                                      "column": {"type": ["integer", "null"]}, "event": {"type": "integer"},
                                      "message": {"type": "string"}, "hint": {"type": ["string", "null"]}}},
        "PolicyIdentity": {"type": "object", "required": ["name", "version", "sha256"],
                           "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                                          "sha256": SHA256}},
        "Answers": {"type": "object", "description": "an answers document (docs/questionnaire.md)",
                    "required": ["use_case", "answers"],
                    "properties": {"use_case": {"type": "string"}, "title": {"type": "string"},
                                   "owner": {"type": "string"}, "answers": OBJECT}},
        "EventRequest": {"type": "object", "required": ["type", "use_case", "version"],
                         "description": "an event as an events file holds it, without `actor`; a registration "
                                        "carries its `answers` document",
                         "properties": {"type": {"enum": ["registered", "evidence", "signoff", "waiver",
                                                          "monitoring", "review", "retired"]},
                                        "use_case": TEXT, "version": TEXT, "at": TIME,
                                        "answers": _ref("Answers"), "envelope": _ref("Envelope")}},
        "Envelope": {"type": "object", "required": ["payloadType", "payload", "signatures"],
                     "additionalProperties": False,
                     "description": "a DSSE envelope of the event's in-toto statement, signed by the token's person's "
                                    "own key (docs/signing.md); not a claim of who acts: the token says that",
                     "properties": {"payloadType": {"type": "string"}, "payload": {"type": "string"},
                                    "signatures": {"type": "array", "items": {
                                        "type": "object", "required": ["keyid", "sig"], "additionalProperties": False,
                                        "properties": {"keyid": {"type": "string"}, "sig": {"type": "string"}}}}}},
        "Person": {"type": "object", "required": ["person"], "properties": {"person": {"type": "string"}}},
        "Recorded": {"type": "object", "required": ["seq", "hash", "event"],
                     "properties": {"seq": {"type": "integer"}, "hash": SHA256, "event": OBJECT}},
        "PromoteRequest": {"type": "object", "required": ["use_case", "version", "to"],
                           "additionalProperties": False,
                           "properties": {"use_case": TEXT, "version": TEXT, "to": TEXT, "mode": {"type": "string"}}},
        "Promoted": {"type": "object", "required": ["seq", "hash", "check", "decision_id"],
                     "properties": {"seq": {"type": "integer"}, "hash": SHA256, "check": _ref("Check"),
                                    "decision_id": {"type": "string"}}},
        "CheckRequest": {"type": "object", "required": ["use_case"], "additionalProperties": False,
                         "properties": {"use_case": TEXT, "version": {"type": "string"}, "to": {"type": "string"},
                                        "mode": {"type": "string"}, "at": TIME, "replay": {"type": "boolean"}}},
        "Check": {"type": "object", "description": "as `tiergate check --format json` (docs/ci.md)",
                  "required": ["use_case", "version", "tier", "policy", "stage", "allowed", "requirements",
                               "violations", "obligations", "warnings"],
                  "properties": {"use_case": {"type": "string"}, "version": {"type": "string"},
                                 "tier": {"type": "string"}, "policy": _ref("PolicyIdentity"),
                                 "stage": {"type": "string"}, "allowed": {"type": ["boolean", "null"]},
                                 "requirements": {"type": "array"}, "violations": {"type": "array"},
                                 "obligations": {"type": "array"}, "warnings": {"type": "array"}}},
        "Classification": {"type": "object", "required": ["use_case", "tier", "policy", "matched"],
                           "properties": {"use_case": {"type": "string"}, "tier": {"type": "string"},
                                          "policy": _ref("PolicyIdentity"), "matched": {"type": "array"}}},
        "Status": {"type": "object", "required": ["policy", "versions"],
                   "properties": {"policy": _ref("PolicyIdentity"), "versions": {"type": "array", "items": OBJECT}}},
        "Report": {"type": "object", "required": ["report", "exit_code"],
                   "description": "a report as the command line writes it in the `format` asked for, and the exit "
                                  "code the command line would end with",
                   "properties": {"report": {"type": "string"}, "exit_code": {"type": "integer"},
                                  "decision_id": {"type": "string"}}},
        "Decision": {"type": "object",
                     "required": ["decision_id", "at", "actor", "operation", "verdict", "policy_sha256",
                                  "input_sha256", "use_case", "version", "seq", "hash"],
                     "properties": {"decision_id": {"type": "string"}, "at": TIME, "actor": {"type": "string"},
                                    "operation": {"enum": ["check", "promote"]},
                                    "verdict": {"enum": ["allowed", "blocked", "compliant", "failing"]},
                                    "policy_sha256": SHA256, "input_sha256": SHA256,
                                    "use_case": {"type": "string"}, "version": {"type": "string"},
                                    "seq": {"type": "integer"}, "hash": SHA256}},
    }
    paths = {
        "/health": {"get": _operation("the process answers", {"200": _json(OBJECT, "ok")}, (), auth=False)},
        "/ready": {"get": _operation("the ledger opens and the policy is loaded",
                                     {"200": _json(OBJECT, "ready")}, (500, 503), auth=False)},
        "/v1/policy": {"get": _operation("the policy the server judges under",
                                         {"200": _json(_ref("PolicyIdentity"), "the policy")}, COMMON)},
        "/v1/whoami": {"get": _operation("the token's person (who the events it records are by)",
                                         {"200": _json(_ref("Person"), "the person")}, COMMON)},
        "/v1/classify": {"post": _operation("classify an answers document",
                                            {"200": _json(_ref("Classification"), "its classification")},
                                            COMMON + WITH_BODY, _ref("Answers"))},
        "/v1/events": {"post": _operation("record one event as the token's person",
                                          {"201": _json(_ref("Recorded"), "recorded")},
                                          COMMON + WITH_BODY + (403, 409), _ref("EventRequest"))},
        "/v1/promote": {"post": _operation("move a version into a stage, only when its gate is met",
                                           {"200": _json(_ref("Promoted"), "promoted")},
                                           COMMON + WITH_BODY + (403, 404, 409), _ref("PromoteRequest"),
                                           parameters=[_format("its check (also in the 409 problem, as `report`)",
                                                               CHECK_FORMATS)])},
        "/v1/check": {"post": _operation("may a version enter a stage, judged from the ledger (logged)",
                                         {"200": _json({"oneOf": [_ref("Check"), _ref("Report")]},
                                                       "the check; with `format`, its report")},
                                         COMMON + WITH_BODY + (403, 404), _ref("CheckRequest"),
                                         parameters=[_format("the check", CHECK_FORMATS),
                                                     _query("fail_on_warn", {"enum": ["true", "false"]},
                                                            "with `format`: warnings exit 1 too")])},
        "/v1/status": {"get": _operation(
            "the registry", {"200": _json({"oneOf": [_ref("Status"), _ref("Report")]}, "every version")},
            COMMON + (422,),
            parameters=[_format("the registry", ["text", "json", "csv", "markdown", "html"]),
                        _query("tier", {"type": "string"}, "only this tier"),
                        _query("stage", {"type": "string"}, "only this stage"),
                        _query("owner", {"type": "string"}, "only this owner"),
                        _query("attention", {"enum": ["true", "false"]}, "only those needing attention"),
                        _query("at", TIME, "as of this time")])},
        "/v1/use-cases/{use_case}/versions/{version}": {"get": _operation(
            "a version's history", {"200": _json({"oneOf": [{"type": "array", "items": OBJECT}, _ref("Report")]},
                                                 "its events")},
            COMMON + (404, 422),
            parameters=[_format("the history", ["text", "json"]),{"name": "use_case", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/v1/audit/head": {"get": _operation("the ledger's head", {"200": _json(OBJECT, "head and count")}, COMMON)},
        "/v1/audit/verify": {"post": _operation("the hash chain checked", {"200": _json(OBJECT, "the verdict")},
                                                COMMON)},
        "/v1/decisions": {"get": _operation(
            "the decision log", {"200": _json({"type": "array", "items": _ref("Decision")}, "oldest first")},
            COMMON + (422,),
            parameters=[_query("since", TIME, "decisions at or after this time"),
                        _query("limit", {"type": "string", "pattern": "^[0-9]+$"}, "at most this many (1-10000)")])},
        "/metrics": {"get": {"summary": "requests, latencies, decisions by verdict and the ledger's size "
                                        "(Prometheus text format; no token)", "security": [],
                             "responses": {"200": {"description": "the metrics",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/v1/roster": {"post": _operation("store a roster (the service's admin role)",
                                          {"201": _json(_ref("Recorded"), "stored")}, COMMON + WITH_BODY + (403,),
                                          {"type": "object", "required": ["people"],
                                           "description": "a roster document (schemas/roster.schema.json)",
                                           "properties": {"people": OBJECT}})},
        "/v1/tokens/{token_id}/revoke": {"post": _operation(
            "revoke a token (the service's admin role)", {"200": _json(_ref("Recorded"), "revoked")},
            COMMON + (403, 409, 422),
            parameters=[{"name": "token_id", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/openapi.json": {"get": _operation("this document", {"200": _json(OBJECT, "OpenAPI 3.1")}, (), auth=False)},
    }
    return {"openapi": "3.1.0",
            "info": {"title": "tiergate", "version": __version__,
                     "description": "Policy-as-code governance for machine learning: the shared service "
                                    "(docs/service.md). Errors are application/problem+json (RFC 9457) with the "
                                    "codes of docs/errors.md."},
            "paths": paths,
            "components": {"schemas": schemas,
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                          "description": "a token from `tiergate token create`"}}}}
