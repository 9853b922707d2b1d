"""The web registry's pages: each reads its request, calls one application-layer operation in a worker thread and
renders a template (templating.py). The person is the one the session's token was issued to (sessions.py); a page
asked for without a valid session sends the browser to the sign-in page, and a form without the session's CSRF token
is refused (E658) before anything is read or written."""
from __future__ import annotations

import logging
from typing import Callable
from urllib.parse import quote

from tiergate.errors import CODES, TiergateError
from tiergate.server import sessions
from tiergate.server.requestbody import form_within
from tiergate.server.templating import HEADERS, STATIC, html, render

log = logging.getLogger("tiergate.server")

ROUTE_KEY = "tiergate.route"


def page_routes(state) -> list:
    from starlette.routing import Route

    from tiergate.server import views

    def page(path: str, work: Callable, form: bool = False):
        return Route(path, _page(state, path, work, form), methods=["POST"] if form else ["GET"])

    return [
        Route("/sign-in", _named("/sign-in", _signin_form), methods=["GET"]),
        Route("/sign-in", _signin(state), methods=["POST"]),
        Route("/sign-out", _signout(state), methods=["POST"]),
        Route("/static/style.css", _named("/static/style.css", _stylesheet), methods=["GET"]),
        page("/", views.inventory),
        # (a version may hold a slash: the rest of the path is the version)
        page("/use-cases/{use_case}/versions/{version:path}", views.version),
        page("/use-cases/{use_case}/report/{version:path}", views.report),
        page("/inbox", views.inbox),
        page("/inbox/sign", views.sign, form=True),
        page("/policy", views.policy),
        page("/kpis", views.kpis),
        page("/kpis/{name}.csv", views.kpi_csv),
    ]


def _named(path: str, endpoint):
    async def route(request):
        request.scope[ROUTE_KEY] = path
        return endpoint(request)
    return route


def _secure(request) -> bool:
    return request.url.scheme == "https"


def _page(state, path: str, work: Callable, form: bool):
    """A page: the session authenticated in the worker thread (else to the sign-in page), a form's CSRF token checked
    first (E658), `work(state, person, request_data)` run, a TiergateError shown as the page of its problem."""
    from starlette.concurrency import run_in_threadpool

    async def route(request):
        request.scope[ROUTE_KEY] = path
        session = request.cookies.get(sessions.SESSION)
        data = {"path": dict(request.path_params), "query": dict(request.query_params), "form": {},
                "session": session, "url": request.url.path, "secure": _secure(request)}
        if form:
            data["form"] = await form_within(request, state.settings.max_body)
            if data["form"] is None:
                return problem_page(None, session, "E651", "the form is too large", 413)
            if not sessions.valid_csrf(session, data["form"].get(sessions.FIELD)):
                log.info("refused a form without this session's CSRF token: %s", path)
                return problem_page(None, session, "E658", "the form did not come from this site's page: nothing "
                                    "was done (sign in again, and send the form from the page)", 403)
        return await run_in_threadpool(_run, state, work, data)
    return route


def _run(state, work: Callable, data: dict):
    from tiergate.app.tokens import Unauthenticated

    session = data["session"]
    try:
        with state.ledger():
            try:
                person = state.authenticate(session)
            except Unauthenticated as why:
                log.info("a page asked for without a valid session: %s", why)
                return _to_signin(data["url"], data["secure"], expired=session is not None)
            return work(state, person, data)
    except TiergateError as error:
        first = error.diagnostics[0]
        from tiergate.server.problems import status_of

        return problem_page(None, session, first.code, first.message, status_of(first.code),
                            [d.to_dict() for d in error.diagnostics])
    except Exception:  # noqa: BLE001 - fail closed: an internal failure decided nothing and says so
        log.exception("internal failure on a page")
        return problem_page(None, session, "E655", "the server failed inside; nothing was decided or written", 500)


def _to_signin(target: str, secure: bool, expired: bool):
    from starlette.responses import RedirectResponse

    response = RedirectResponse(f"/sign-in?next={quote(target, safe='/')}", 303, headers=HEADERS)
    if expired:  # (a revoked or expired token: its cookie goes)
        sessions.clear_cookie(response, sessions.SESSION, secure)
    return response


def problem_page(person: str | None, session: str | None, code: str, message: str, status: int,
                 errors: list | None = None):
    known = CODES.get(code)
    return html(render("problem.html", person=person, csrf=sessions.csrf_token(session) if session else "",
                       title=known.title if known else "error", code=code, message=message, status=status,
                       errors=errors or []), status)


def _signin_form(request, problem: str | None = None, status: int = 200):
    nonce = sessions.signin_nonce()
    response = html(render("signin.html", person=None, csrf="", nonce=nonce, problem=problem,
                           next=sessions.safe_next(request.query_params.get("next"))), status)
    sessions.set_cookie(response, sessions.SIGNIN, nonce, _secure(request), max_age=3600)
    return response


def _signin(state):
    """Sign in with a token: the sign-in form's own CSRF check, the token authenticated as the API does, then the
    session cookie set and the browser sent on. A wrong token is answered like a missing one (E650)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    from tiergate.app.tokens import Unauthenticated

    async def route(request):
        request.scope[ROUTE_KEY] = "/sign-in"
        form = await form_within(request, state.settings.max_body) or {}
        if not sessions.valid_signin(request.cookies.get(sessions.SIGNIN), form.get(sessions.FIELD)):
            return _signin_form(request, "The form did not come from this site's sign-in page (E658): try again.",
                                403)
        token = form.get("token", "").strip()

        def check():
            with state.ledger():
                return state.authenticate(token)
        try:
            await run_in_threadpool(check)
        except Unauthenticated as why:
            log.info("refused a sign-in: %s", why)
            return _signin_form(request, "That token is not valid (E650): it may be mistyped, expired or revoked, "
                                "or its person is no longer in the roster.", 401)
        except TiergateError as error:  # (the ledger did not answer)
            from tiergate.server.problems import status_of

            first = error.diagnostics[0]
            return problem_page(None, None, first.code, first.message, status_of(first.code))
        response = RedirectResponse(sessions.safe_next(form.get("next")), 303, headers=HEADERS)
        sessions.set_cookie(response, sessions.SESSION, token, _secure(request))
        sessions.clear_cookie(response, sessions.SIGNIN, _secure(request))
        return response
    return route


def _signout(state):
    from starlette.responses import RedirectResponse

    async def route(request):
        request.scope[ROUTE_KEY] = "/sign-out"
        form = await form_within(request, state.settings.max_body) or {}
        session = request.cookies.get(sessions.SESSION)
        if not sessions.valid_csrf(session, form.get(sessions.FIELD)):
            return problem_page(None, session, "E658", "the form did not come from this site's page: nothing was "
                                "done", 403)
        response = RedirectResponse("/sign-in", 303, headers=HEADERS)
        sessions.clear_cookie(response, sessions.SESSION, _secure(request))
        return response
    return route


def _stylesheet(request):
    from starlette.responses import Response

    return Response((STATIC / "style.css").read_text(encoding="utf-8"), 200, media_type="text/css",
                    headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})
