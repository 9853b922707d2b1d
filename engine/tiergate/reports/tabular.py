"""Tables as Markdown, CSV, JSON-ready rows and one self-contained HTML page."""
from __future__ import annotations

import csv
import io
from typing import Sequence

from tiergate.reports import escape

Row = Sequence[object]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def markdown(headers: Sequence[str], rows: Sequence[Row]) -> str:
    cell = escape.markdown_cell

    def cells(values: Row) -> str:
        return "| " + " | ".join([cell(_cell(v)) for v in values]) + " |"

    lines = [cells(headers), "|" + "|".join("---" for _ in headers) + "|"]
    lines.extend(cells(row) for row in rows)
    return "\n".join(lines) + "\n"


def csv_text(headers: Sequence[str], rows: Sequence[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_csv(h) for h in headers])
    for row in rows:
        writer.writerow([_csv(v) for v in row])
    return buffer.getvalue()


def _csv(value: object) -> str:
    """A CSV cell: a number tiergate wrote as a number as it is, anything else through escape.csv_cell."""
    kind = type(value)
    if kind is str:
        if value.isprintable() and not value.startswith(escape.FORMULA):  # (escape.csv_cell's own fast path)
            return value
        return escape.csv_cell(value)
    if kind is int or kind is float:
        return str(value)
    return escape.csv_cell(_cell(value))


def records(headers: Sequence[str], rows: Sequence[Row]) -> list[dict]:
    return [dict(zip(headers, row)) for row in rows]


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1b1b1b}
h1{font-size:1.4rem}p.meta{color:#555;font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #bbb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f3;cursor:pointer}tr:nth-child(even) td{background:#fafafa}
ul{margin:0;padding-left:1.1rem}
@media print{body{margin:0}th{background:#ddd!important;-webkit-print-color-adjust:exact}
tr{page-break-inside:avoid}}
"""

_SORT = """
document.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
rows.sort(function(a,b){var x=a.cells[i].innerText,y=b.cells[i].innerText,n=parseFloat(x)-parseFloat(y);
return (isNaN(n)?x.localeCompare(y):n)*(asc?1:-1)});rows.forEach(function(r){tb.appendChild(r)})})});
"""


def html_page(title: str, headers: Sequence[str], rows: Sequence[Row], meta: str = "") -> str:
    def cell(value: object) -> str:
        if isinstance(value, (list, tuple)):
            if not value:
                return ""
            return "<ul>" + "".join(f"<li>{escape.html(_cell(v))}</li>" for v in value) + "</ul>"
        return escape.html(_cell(value))

    head = "".join(f"<th>{escape.html(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    meta_html = f'<p class="meta">{escape.html(meta)}</p>' if meta else ""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape.html(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n<h1>{escape.html(title)}</h1>{meta_html}\n"
            f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>\n"
            f"<script>{_SORT}</script></body></html>\n")


# --- a Table result (tiergate.app.results.Table): matrices and the RACI ---------------------------------


def as_markdown(table) -> str:
    title, meta = escape.markdown(table.title), escape.markdown(table.meta)
    return f"## {title}\n\n{meta}\n\n" + markdown(table.headers, table.rows)


def as_csv(table) -> str:
    return csv_text(table.headers, table.rows)


def as_json(table) -> str:
    from tiergate.jsoncodec import readable

    data = table.json_data if table.json_data is not None else records(table.headers, table.rows)
    return escape.json_text(readable(data)) + "\n"


def as_html(table) -> str:
    return html_page(table.title, table.headers, table.rows, table.meta)
