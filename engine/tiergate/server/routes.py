"""The HTTP API: one handler per endpoint, each reading its request, calling one application-layer operation in a
worker thread, and writing its result. Every /v1 request is authenticated by its bearer token."""
from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any, Callable

from tiergate.errors import TiergateError
from tiergate.server import problems
from tiergate.server.settings import Settings

log = logging.getLogger("tiergate.server")
#: what the server says of the checkpoints it records (`serve --checkpoint-every` shows it beside uvicorn's log)
_checkpoint_log = logging.getLogger("tiergate.server.checkpoints")

#: the event types a person records through POST /v1/events (registrations carry their answers document)
RECORDABLE = ("registered", "evidence", "signoff", "waiver", "monitoring", "review", "retired")
#: what a request may not say about itself: who acts is the token's person
CLAIMS = ("actor",)


class Answer(Exception):
    """A handler's early answer (a problem): raised from the worker thread, written by the route."""

    def __init__(self, response):
        super().__init__("answer")
        self.response = response


def _register_rest() -> None:
    """The `rest` path convertor: the rest of the path, `/` and every other character included (Starlette's `path`
    stops at a line break, so a request naming such a version would get its plain-text 404, not a problem)."""
    from starlette.convertors import CONVERTOR_TYPES, Convertor, register_url_convertor

    if "rest" in CONVERTOR_TYPES:
        return

    class Rest(Convertor):
        regex = "[\\s\\S]+"

        def convert(self, value: str) -> str:
            return value

        def to_string(self, value: str) -> str:
            return value

    register_url_convertor("rest", Rest())


def application(settings: Settings):
    from starlette.applications import Starlette
    from starlette.routing import Route

    from tiergate.server.state import ServerState

    from tiergate.server.openapi import document

    state, spec = ServerState(settings), document()
    _register_rest()
    routes = [
        Route("/health", _named("/health", lambda request: _json({"status": "ok"})), methods=["GET"]),
        Route("/openapi.json", _named("/openapi.json", lambda request: _json(spec)), methods=["GET"]),
        Route("/metrics", _handler(state, _metrics, auth=False), methods=["GET"]),
        Route("/ready", _handler(state, _ready, auth=False), methods=["GET"]),
        Route("/v1/policy", _handler(state, _policy), methods=["GET"]),
        Route("/v1/whoami", _handler(state, _whoami), methods=["GET"]),
        Route("/v1/classify", _handler(state, _classify, body=True), methods=["POST"]),
        Route("/v1/events", _handler(state, _event, body=True), methods=["POST"]),
        Route("/v1/promote", _handler(state, _promote, body=True), methods=["POST"]),
        Route("/v1/check", _handler(state, _check, body=True), methods=["POST"]),
        Route("/v1/status", _handler(state, _status), methods=["GET"]),
        Route("/v1/use-cases/{use_case}/versions/{version:rest}", _handler(state, _history), methods=["GET"]),
        Route("/v1/audit/head", _handler(state, _head), methods=["GET"]),
        Route("/v1/audit/verify", _handler(state, _verify), methods=["POST"]),
        Route("/v1/decisions", _handler(state, _decisions), methods=["GET"]),
        Route("/v1/roster", _handler(state, _roster, body=True), methods=["POST"]),
        Route("/v1/tokens/{token_id}/revoke", _handler(state, _revoke), methods=["POST"]),
    ]
    from tiergate.server.pages import page_routes

    routes += page_routes(state)
    from starlette.middleware import Middleware

    from tiergate.server.metrics import Timing

    @asynccontextmanager
    async def lifespan(app):
        import asyncio

        every = state.settings.checkpoint_every
        task = asyncio.create_task(_checkpoints(state, every)) if every and state.checkpoint_key is not None else None
        yield
        if task is not None:
            task.cancel()
        state.close()

    app = Starlette(routes=routes, middleware=[Middleware(Timing, metrics=state.metrics)], lifespan=lifespan)
    app.state.tiergate = state
    return app


async def _checkpoints(state, every: float) -> None:
    """Record a signed checkpoint every `every` seconds (`serve --checkpoint-every`), off the event loop; a failure
    is logged and the next one tried."""
    import asyncio

    while True:
        await asyncio.sleep(every)
        try:
            said = await asyncio.to_thread(state.checkpoint)
        except TiergateError as exc:
            said = f"no checkpoint recorded: {exc.diagnostics[0].message} ({exc.diagnostics[0].code})"
        except Exception as exc:  # noqa: BLE001 - the server goes on; the failure is in its log
            said = f"no checkpoint recorded: {type(exc).__name__}: {exc}"
        if said is not None:
            _checkpoint_log.warning(said) if said.startswith("no checkpoint") else _checkpoint_log.info(said)


def _json(data: Any, status: int = 200):
    from starlette.responses import Response

    return Response(json.dumps(data, ensure_ascii=False), status, media_type="application/json")


def _rendered(result, status: int = 200):
    """A result as the command line's JSON report writes it."""
    from starlette.responses import Response

    from tiergate.reports import render

    return Response(render(result, "json"), status, media_type="application/json")


ROUTE_KEY = "tiergate.route"  # (the route's path template, in the scope, for the metrics: server/metrics.py)


def _named(path: str, endpoint):
    async def route(request):
        request.scope[ROUTE_KEY] = path
        return endpoint(request)
    return route


def _handler(state, work: Callable, auth: bool = True, body: bool = False):
    """The route for `work(state, person, request_data)`, run in a worker thread: authenticated first (401), its
    body read within the limit (413) as a JSON object (400); a TiergateError is its problem, and any other failure
    a 500 that decided nothing."""
    from starlette.concurrency import run_in_threadpool

    async def route(request):
        matched = request.scope.get("route")
        request.scope[ROUTE_KEY] = getattr(matched, "path", None) or _template(request)
        try:
            data = await _body(request, state.settings.max_body) if body else {}
        except Answer as early:
            return early.response
        token = _bearer(request)
        context = {"path": dict(request.path_params), "query": dict(request.query_params), "body": data}
        try:
            return await run_in_threadpool(_run, state, work, auth, token, context)
        except Answer as early:
            return early.response
    return route


def _template(request) -> str:
    """The route's path template (`/v1/use-cases/{use_case}/versions/{version}`), from the path and its parameters
    (Starlette before 0.41 does not put the route in the scope)."""
    path = request.url.path
    for name, value in request.path_params.items():
        path = path.replace(str(value), "{" + name + "}", 1)
    return path


def _run(state, work, auth: bool, token: str | None, context: dict):
    from tiergate.app.tokens import Unauthenticated

    try:
        if not auth:  # (/metrics and /ready: they answer, and say so, when the ledger does not)
            return work(state, None, context)
        with state.ledger():  # (one ledger for the request: authentication and work share it)
            return work(state, state.authenticate(token), context)
    except Unauthenticated as why:
        log.info("refused a request: %s", why)  # (the reason is for the log: every such request is answered alike)
        raise Answer(problems.problem("E650", "the request carries no valid token", "Authorization",
                                      hint="send `Authorization: Bearer TOKEN` with a token from `tiergate token "
                                           "create`", headers={"WWW-Authenticate": "Bearer"})) from None
    except TiergateError as error:
        raise Answer(problems.response(error)) from None
    except Answer:
        raise
    except Exception:  # noqa: BLE001 - fail closed: an internal failure decides nothing and says so
        log.exception("internal failure")
        raise Answer(problems.problem("E655", "the server failed inside; nothing was decided or written")) from None


def _bearer(request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _body(request, limit: int) -> dict:
    from tiergate.server.requestbody import read_within

    raw = await read_within(request, limit)
    if raw is None:
        raise Answer(problems.problem("E651", f"the request body is larger than {limit} bytes", "body"))

    def refuse_constant(name: str):
        raise ValueError(f"{name} is not a JSON number")

    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Answer(problems.problem("E652", f"the request body is not JSON ({exc})", "body")) from None
    if not isinstance(data, dict):
        raise Answer(problems.problem("E652", "the request body is a JSON object", "body"))
    return data


def _fields(body: dict, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """The body's fields, every required one present as text, none unknown (422, naming the field)."""
    for claim in CLAIMS:
        if claim in body:
            raise Answer(problems.problem("E656", f"a request does not say who acts: its token does (`{claim}` "
                                                  "is given)", claim, hint=f"leave out `{claim}`"))
    unknown = sorted(set(body) - set(required) - set(optional))
    if unknown:
        raise Answer(problems.problem("E400", f"`{unknown[0]}` is not a field of this request", unknown[0],
                                      hint="the fields: " + ", ".join(required + optional)))
    for name in required:
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise Answer(problems.problem("E400", f"`{name}` is required, as text", name))
    return body


def _time(value, field: str) -> datetime | None:
    from tiergate.inputs.events import parse_time

    if value is None:
        return None
    at = parse_time(value) if isinstance(value, str) else None
    if at is None:
        raise Answer(problems.problem("E400", f"`{field}` is {json.dumps(value)}, not an RFC 3339 time with an "
                                              "offset", field, hint="write times like 2026-03-01T09:30:00Z"))
    return at


# --- the endpoints ------------------------------------------------------------------------------------------

def _metrics(state, person, context):
    from starlette.responses import Response

    try:
        with state.ledger() as ledger:
            events = ledger.count()
    except TiergateError:
        events = None  # (the metrics still answer when the ledger does not: /ready says why)
    pool = state.pool
    return Response(state.metrics.render(events, pool.opened, pool.group.commits, pool.group.appends), 200,
                    media_type="text/plain; version=0.0.4; charset=utf-8")


def _ready(state, person, context):
    with state.ledger() as ledger:
        count, head = ledger.count(), ledger.head()
    return _json({"status": "ready", "policy": state.policy.identity(), "events": count, "head": head})


def _policy(state, person, context):
    return _json(state.policy.identity())


def _whoami(state, person, context):
    """The token's person: who the events a request records are by (what a client signs as: docs/signing.md)."""
    return _json({"person": person})


def _classify(state, person, context):
    from tiergate.app.classifying import classify_document

    result = classify_document(state.policy, context["body"])
    return _json(result.results[0].to_dict())


def _event(state, person, context):
    from tiergate.app import recording

    body = dict(context["body"])
    kind = body.get("type")
    if kind not in RECORDABLE:
        raise Answer(problems.problem("E400", f"`type` is {json.dumps(kind)}; a person records one of "
                                              + ", ".join(RECORDABLE), "type"))
    _fields(body, ("type", "use_case", "version"), tuple(k for k in body if k not in CLAIMS))
    use_case, version = body.pop("use_case"), body.pop("version")
    body.pop("type")
    with state.ledger() as ledger:
        if kind == "registered":
            answers = body.pop("answers", None)
            extra = sorted(set(body) - {"artifact", "sha256"})
            if extra:
                raise Answer(problems.problem("E400", f"`{extra[0]}` is not a field of a registration", extra[0]))
            done = recording.register_document(ledger, state.policy, use_case, version, answers, actor=person,
                                               artifact=body.get("artifact"), sha256=body.get("sha256"))
        else:
            at = _time(body.pop("at", None), "at")
            done = recording.record(ledger, state.policy, None, kind, use_case, version, actor=person, at=at, **body)
    return _json({"seq": done.seq, "hash": done.hash, "event": done.body}, 201)


def _promote(state, person, context):
    from tiergate.app.decisions import logged_promote
    from tiergate.ledger.actions import Blocked

    body = _fields(context["body"], ("use_case", "version", "to"), ("mode",))
    fmt = _format(context, "CheckResult")
    with state.ledger() as ledger:
        try:
            row, result, decision = logged_promote(ledger, state.policy, body, actor=person,
                                                   use_case=body["use_case"], version=body["version"],
                                                   to=body["to"], mode=body.get("mode"))
            state.metrics.decided("promote", decision["verdict"])
        except Blocked as blocked:
            state.metrics.decided("promote", blocked.decision["verdict"])
            check = json.loads(_render_json(blocked.result))
            raise Answer(problems.problem(
                "E660", f"{body['use_case']} {body['version']} may not enter {body['to']}: its gate is not met",
                "to", check=check, decision_id=blocked.decision["decision_id"],
                **({"report": _render(blocked.result, fmt)} if fmt else {}))) from None
    return _json({"seq": row.seq, "hash": row.hash, "check": json.loads(_render_json(result)),
                  "decision_id": decision["decision_id"], **({"report": _render(result, fmt)} if fmt else {})})


def _render(result, fmt: str) -> str:
    from tiergate.reports import render

    return render(result, fmt)


def _render_json(result) -> str:
    from tiergate.reports import render

    return render(result, "json")


def _format(context: dict, kind: str) -> str | None:
    """The `format` a request asks its report in (the command line's formats of that result), or None for JSON data."""
    from tiergate.reports import formats

    fmt = context["query"].get("format")
    if fmt is not None and fmt not in formats(kind):
        raise Answer(problems.problem("E400", f"`format` is {json.dumps(fmt)}; this report is written as one of "
                                              + ", ".join(formats(kind)), "format"))
    return fmt


def _report(result, fmt: str, code: int = 0, **extra):
    """A report as the command line writes it, with the exit code the command line would end with (`code`): what a
    client (`--server`) prints and exits by."""
    return _json({"report": _render(result, fmt), "exit_code": code, **extra})


def _check(state, person, context):
    from tiergate.app.decisions import logged_check

    body = _fields(context["body"], ("use_case",), ("version", "to", "mode", "at", "replay"))
    if "replay" in body and not isinstance(body["replay"], bool):
        raise Answer(problems.problem("E400", "`replay` is true or false", "replay"))
    for name in ("version", "to", "mode"):
        if name in body and not isinstance(body[name], str):
            raise Answer(problems.problem("E400", f"`{name}` is text", name))
    at = _time(body.get("at"), "at")
    fmt = _format(context, "CheckResult")
    with state.ledger() as ledger:
        result, decision = logged_check(ledger, state.policy, body, actor=person, use_case=body["use_case"],
                                        version=body.get("version"), to=body.get("to"), mode=body.get("mode"),
                                        at=at, replay=bool(body.get("replay")))
    state.metrics.decided("check", decision["verdict"])
    from starlette.responses import Response

    if fmt is not None:
        strict = context["query"].get("fail_on_warn") == "true"
        answer = _report(result, fmt, result.exit_code(strict), decision_id=decision["decision_id"])
        answer.headers["Tiergate-Decision"] = decision["decision_id"]
        return answer
    return Response(_render_json(result), 200, media_type="application/json",
                    headers={"Tiergate-Decision": decision["decision_id"]})


def _status(state, person, context):
    from tiergate.app.registry import status

    query = context["query"]
    unknown = sorted(set(query) - {"tier", "stage", "owner", "attention", "at", "format"})
    if unknown:
        raise Answer(problems.problem("E400", f"`{unknown[0]}` is not a filter of the registry", unknown[0],
                                      hint="filters: tier, stage, owner, attention, at (and format)"))
    fmt = _format(context, "Status")
    attention = query.get("attention", "false").lower()
    if attention not in ("true", "false"):
        raise Answer(problems.problem("E400", "`attention` is true or false", "attention"))
    with state.ledger() as ledger:
        result = status(ledger, state.policy, None, _time(query.get("at"), "at"), tier=query.get("tier"),
                        stage=query.get("stage"), owner=query.get("owner"), attention=attention == "true")
    return _report(result, fmt) if fmt else _rendered(result)


def _history(state, person, context):
    from tiergate.app.registry import history

    use_case, version = context["path"]["use_case"], context["path"]["version"]
    fmt = _format(context, "History")
    with state.ledger() as ledger:
        result = history(ledger, use_case, version)
    if not result.entries:
        raise Answer(problems.problem("E654", f"the ledger holds no event of {use_case} {version}", "path"))
    return _report(result, fmt) if fmt else _rendered(result)


def _head(state, person, context):
    with state.ledger() as ledger:
        return _json({"head": ledger.head(), "events": ledger.count()})


def _verify(state, person, context):
    with state.ledger() as ledger:
        done = ledger.verify()
    return _json({"intact": done.ok, "events": done.count, "head": done.head, "problem": done.problem,
                  "event": done.seq})


def _admin(state, person: str) -> None:
    """The person holds the service's admin role (`--admin-role`) in the roster the ledger holds now (403, E653)."""
    with state.ledger() as ledger:
        roster = ledger.roster()
    if roster is None or not roster.holds(person, state.settings.admin_role, now()):
        raise Answer(problems.problem("E653", f"{person} does not hold the role {state.settings.admin_role}, which "
                                              "this operation needs", "Authorization",
                                      hint="an operator may do it where the ledger is: tiergate roster import / "
                                           "tiergate token revoke"))


def _roster(state, person, context):
    from tiergate.app.recording import store_roster_document

    _admin(state, person)
    body = _fields(context["body"], (), ("people",))
    with state.ledger() as ledger:
        done = store_roster_document(ledger, state.policy, body, actor=person)
    return _json({"seq": done.seq, "hash": done.hash, "event": done.body}, 201)


def _revoke(state, person, context):
    from tiergate.app.tokens import revoke

    _admin(state, person)
    with state.ledger() as ledger:
        done = revoke(ledger, state.policy, context["path"]["token_id"], actor=person)
    return _json({"seq": done.seq, "hash": done.hash, "event": done.body})


def _decisions(state, person, context):
    from tiergate.app.decisions import decisions

    query = context["query"]
    unknown = sorted(set(query) - {"since", "limit"})
    if unknown:
        raise Answer(problems.problem("E400", f"`{unknown[0]}` is not a filter of the decision log", unknown[0],
                                      hint="filters: since, limit"))
    limit = query.get("limit", "1000")
    if not limit.isdigit() or not 1 <= int(limit) <= 10_000:
        raise Answer(problems.problem("E400", "`limit` is a whole number from 1 to 10000", "limit"))
    with state.ledger() as ledger:
        return _json(decisions(ledger, _time(query.get("since"), "since"), int(limit)))


def now() -> datetime:
    return datetime.now(timezone.utc)
