"""The web registry's templates (server/templates/, Jinja2), every value escaped, and the headers every page carries."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

#: what a page may load and where its forms may go: this site only, no script at all, nothing fetched from outside
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["inline"] = _inline
    env.filters["when"] = _when
    env.filters["path"] = lambda value: quote(str(value), safe="")
    env.globals["query"] = _query
    return env


def html(body: str, status: int = 200, headers: dict | None = None):
    """A page as a response, with HEADERS."""
    from starlette.responses import HTMLResponse

    return HTMLResponse(body, status, headers={**HEADERS, **(headers or {})})


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def _inline(text) -> object:
    """Policy prose as HTML: escaped, with `code` and **strong** marked up (reports/doc.py)."""
    from markupsafe import Markup

    from tiergate.reports.doc import inline_html

    return Markup(inline_html(str(text)))


def _when(moment) -> str:
    """A time as the pages show it: UTC, to the minute."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        return moment
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _query(current: dict, **changes) -> str:
    """`?…` for a link: the current filters with `changes` (None or False drops one)."""
    merged = {**current, **changes}
    pairs = [(k, "1" if v is True else str(v)) for k, v in merged.items() if v not in (None, False, "")]
    return "?" + urlencode(pairs) if pairs else "?"
