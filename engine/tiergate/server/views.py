"""The web registry's views: `view(state, person, request_data) -> Response`, each reading its parameters, calling one
application-layer operation and rendering its template (pages.py authenticates and handles problems)."""
from __future__ import annotations

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.server import sessions
from tiergate.server.templating import html, render


def _page(template: str, person: str, data: dict, status: int = 200, **context):
    return html(render(template, person=person, csrf=sessions.csrf_token(data["session"]), **context), status)


def _bad(field: str, message: str) -> TiergateError:
    return TiergateError(Diagnostic("E659", message, Location(field)))


def _number(query: dict, field: str, default: int) -> int:
    text = query.get(field)
    if text is None or text == "":
        return default
    if not text.isdigit() or len(text) > 9:
        raise _bad(field, f"`{field}` is {text!r}; a whole number from 1 is expected")
    return int(text)


def inventory(state, person: str, data: dict):
    from tiergate.app.inventory import SORT_KEYS, inventory as listing

    query = data["query"]
    filters = {k: query.get(k) or None for k in ("tier", "stage", "owner")}
    attention = query.get("attention") in ("1", "on", "true")
    sort = query.get("sort") or "use_case"
    descending = query.get("order") == "desc"
    with state.ledger() as ledger:
        result = listing(ledger, state.policy, **filters, attention=attention, sort=sort, descending=descending,
                         page=_number(query, "page", 1))
    current = {**filters, "attention": attention, "sort": None if sort == "use_case" else sort,
               "order": "desc" if descending else None}
    return _page("inventory.html", person, data, inv=result, current=current, columns=list(SORT_KEYS),
                 tiers=state.policy.tier_names, stages=sorted({s for w in state.policy.workflows.values()
                                                               for s in w.stages}))


def version(state, person: str, data: dict):
    from tiergate.app.versionview import version_view
    from tiergate.reports.workflowsvg import workflow_svg

    path = data["path"]
    with state.ledger() as ledger:
        view = version_view(ledger, state.policy, path["use_case"], path["version"])
    flow = view.workflow
    diagram = workflow_svg(list(flow.stages), list(flow.edges), flow.current, flow.states,
                           f"Workflow of {view.use_case} {view.version}") if flow is not None else ""
    return _page("version.html", person, data, view=view, diagram=_markup(diagram))


def report(state, person: str, data: dict):
    from starlette.responses import Response

    from tiergate.app.auditreport import audit_report
    from tiergate.reports import render as render_result

    path = data["path"]
    with state.ledger() as ledger:
        result = audit_report(ledger, state.policy, path["use_case"], path["version"])
    name = f"tiergate-report-{path['use_case']}-{path['version']}.html"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return Response(render_result(result, "html"), 200, media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"', "Cache-Control": "no-store",
                             "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"})


def inbox(state, person: str, data: dict, outcome: dict | None = None, status: int = 200):
    from tiergate.app.inbox import inbox as work

    with state.ledger() as ledger:
        result = work(ledger, state.policy, person)
    return _page("inbox.html", person, data, status, inbox=result, outcome=outcome)


def sign(state, person: str, data: dict):
    """Approve or reject from the inbox, as the signed-in person: recorded with the same validation as the API; a
    refusal is shown on the inbox with its reason (and its status), nothing written."""
    from tiergate.app.inbox import sign as record
    from tiergate.server.problems import status_of

    form = data["form"]
    if "actor" in form:  # (who acts is the session's person, never a name the form states: as the API, E656)
        raise TiergateError(Diagnostic("E656", "a form does not say who acts: the signed-in person does (`actor` is "
                                       "given)", Location("actor"), hint="leave out `actor`"))
    missing = [f for f in ("use_case", "version", "role", "gate", "decision") if not form.get(f)]
    if missing:
        raise _bad(missing[0], f"the form has no `{missing[0]}`")
    if form["decision"] not in ("approve", "reject"):
        raise _bad("decision", "`decision` is approve or reject")
    try:
        with state.ledger() as ledger:
            done = record(ledger, state.policy, person, form["use_case"], form["version"], role=form["role"],
                          gate=form["gate"], decision=form["decision"], comment=form.get("comment") or None)
    except TiergateError as refused:
        first = refused.diagnostics[0]
        return inbox(state, person, data, {"ok": False, "code": first.code, "message": first.message,
                                           "hint": first.hint, "form": form}, status_of(first.code))
    return inbox(state, person, data, {"ok": True, "seq": done.seq, "hash": done.hash, "form": form})


def policy(state, person: str, data: dict):
    from tiergate.app import policies
    from tiergate.app.registry import policy_log

    with state.ledger() as ledger:
        log = policy_log(ledger)
    pol = state.policy
    return _page("policy.html", person, data, policy=pol, doc=policies.doc(pol), matrix=policies.tier_matrix(pol),
                 raci=policies.raci(pol), log=log)


def kpis(state, person: str, data: dict):
    from tiergate.app.kpis import kpis as measure
    from tiergate.reports.kpis import headline, kpi_charts, kpi_tables

    with state.ledger() as ledger:
        result = measure(ledger, state.policy)
    charts = {name: _markup(svg) for name, svg in kpi_charts(result)}
    return _page("kpis.html", person, data, kpis=result, headline=headline(result), tables=kpi_tables(result),
                 charts=charts)


def kpi_csv(state, person: str, data: dict):
    from starlette.responses import Response

    from tiergate.app.kpis import kpis as measure
    from tiergate.reports.kpis import NAMES, kpi_csv as table

    name = data["path"]["name"]
    if name not in NAMES:
        raise TiergateError(Diagnostic("E654", f"there is no KPI {name!r}; there are " + ", ".join(NAMES),
                                       Location("name")))
    with state.ledger() as ledger:
        result = measure(ledger, state.policy)
    return Response(table(result, name), 200, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="tiergate-{name}.csv"',
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _markup(svg: str):
    """An SVG the reports made (every name in it escaped there) placed in a page as it is."""
    from markupsafe import Markup

    return Markup(svg)
