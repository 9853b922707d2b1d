"""Tables as Markdown, CSV, JSON-ready rows and one self-contained HTML page."""
from __future__ import annotations

import csv
import html
import io
from typing import Sequence

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
    def esc(value: object) -> str:
        text = _cell(value).replace("|", "\\|").replace("\n", "<br>")
        return text

    def cells(values: Row) -> str:
        return "| " + " | ".join(esc(v) for v in values) + " |"

    lines = [cells(headers), "|" + "|".join("---" for _ in headers) + "|"]
    lines.extend(cells(row) for row in rows)
    return "\n".join(lines) + "\n"


def csv_text(headers: Sequence[str], rows: Sequence[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


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
            return "<ul>" + "".join(f"<li>{html.escape(_cell(v))}</li>" for v in value) + "</ul>"
        return html.escape(_cell(value))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    meta_html = f'<p class="meta">{html.escape(meta)}</p>' if meta else ""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>{meta_html}\n"
            f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>\n"
            f"<script>{_SORT}</script></body></html>\n")


# --- a Table result (tiergate.app.results.Table): matrices and the RACI ---------------------------------


def as_markdown(table) -> str:
    return f"## {table.title}\n\n{table.meta}\n\n" + markdown(table.headers, table.rows)


def as_csv(table) -> str:
    return csv_text(table.headers, table.rows)


def as_json(table) -> str:
    from tiergate.jsoncodec import readable

    return readable(table.json_data if table.json_data is not None else records(table.headers, table.rows)) + "\n"


def as_html(table) -> str:
    return html_page(table.title, table.headers, table.rows, table.meta)
