"""Errors as `application/problem+json` (RFC 9457): the code and the message the command line prints, the HTTP
status the code stands for, and every diagnostic with its location (a file and line, or a field of the request)."""
from __future__ import annotations

import json

from tiergate.errors import CODES, Diagnostic, Location, TiergateError

MEDIA_TYPE = "application/problem+json"

#: codes whose status is not 422 (what the request holds cannot be used as it is)
STATUS = {
    "E611": 403,  # the person may not do this
    "E612": 409,  # recorded already
    "E630": 403,  # the ledger decides who may do what
    "E422": 404,  # the version asked about is not registered
    "E600": 503, "E620": 503, "E621": 503, "E640": 503, "E641": 503,  # the ledger cannot be used or trusted now
    "E650": 401,  # no valid token
    "E651": 413,  # the request is too large
    "E652": 400,  # the request is not a JSON object
    "E653": 403,  # an administrator's operation
    "E654": 404,  # no such resource
    "E655": 500,  # an internal failure: nothing was decided
    "E657": 503,  # every ledger connection busy: try again
    "E658": 403,  # a form without this session's CSRF token
    "E660": 409,  # the gate is not met: not promoted
}


def status_of(code: str) -> int:
    return STATUS.get(code, 422)


def problem_body(diagnostics: list[Diagnostic], status: int | None = None, **extra) -> tuple[int, dict]:
    first = diagnostics[0]
    status = status or status_of(first.code)
    known = CODES.get(first.code)
    body = {"type": f"urn:tiergate:error:{first.code}", "title": known.title if known else "error",
            "status": status, "detail": first.message, "code": first.code,
            "errors": [d.to_dict() for d in diagnostics], **extra}
    return status, body


def problem(code: str, message: str, field: str = "<request>", hint: str | None = None, **extra):
    """A problem+json response for one diagnostic about the request (`field`: where in it)."""
    return response(TiergateError(Diagnostic(code, message, Location(field), hint=hint)), **extra)


def response(error: TiergateError, status: int | None = None, headers: dict | None = None, **extra):
    from starlette.responses import Response

    status, body = problem_body(list(error.diagnostics), status, **extra)
    return Response(json.dumps(body, ensure_ascii=False), status, headers=headers, media_type=MEDIA_TYPE)
