"""A policy's documentation (blocks from policydoc.build) as Markdown or one self-contained HTML page."""
from __future__ import annotations

import re

from tiergate.reports import escape
from tiergate.reports import tabular as tables


def as_markdown(doc) -> str:
    out = []
    for block in doc.blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + escape.markdown(block[1]) + "\n")
        elif kind == "p":
            out.append(escape.markdown(block[1]) + "\n")
        elif kind == "list":
            out.append("".join(f"- {escape.markdown(item)}\n" for item in block[1]))
        elif kind == "table":
            out.append(tables.markdown(block[1], block[2]))
        elif kind == "code":
            out.append(_fenced(block[1], block[2]))
    return "\n".join(out)


def _fenced(language: str, code: str) -> str:
    """A fenced code block: each line as escape.text, and a fence longer than any run of backticks in the code."""
    lines = [escape.text(line) for line in code.rstrip().split("\n")]
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", code)), default=0))
    return f"{fence}{escape.text(language)}\n" + "\n".join(lines) + f"\n{fence}\n"


def inline_html(text: str) -> str:
    """Inline text as HTML: escaped, then `code` and **strong** marked up (what the policy doc writes)."""
    text = escape.html(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)


def as_html(doc) -> str:
    title = doc.title
    body = []
    for block in doc.blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{inline_html(block[1])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{inline_html(block[1])}</p>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{escape.html(h)}</th>" for h in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in block[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "code":
            body.append(f'<pre class="{escape.html(block[1])}">{_code(block[2])}</pre>')
    style = ("body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
             "table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #bbb;padding:.3rem;"
             "vertical-align:top;text-align:left}th{background:#eef0f3}pre{background:#f6f8fa;padding:1rem;overflow:auto}"
             "code{background:#f6f8fa;padding:0 .2rem}ul{padding-left:1.2rem}@media print{body{margin:0}}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape.html(title)}</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _cell(value) -> str:
    if isinstance(value, (list, tuple)):
        return "<br>".join(escape.html(str(v)) for v in value)
    return escape.html(value)


def _code(code: str) -> str:
    """A block of code, its lines kept and each escaped."""
    return "\n".join(escape.html(line) for line in code.split("\n"))
