"""Bar charts as self-contained inline SVG (no script, font or file from elsewhere), every label escaped."""
from __future__ import annotations

from math import isfinite

from tiergate.reports.escape import html

#: the characters XML 1.0 forbids that escape.html leaves (it makes the others visible): shown as `\\ufffe`
_NONCHARACTERS = str.maketrans({"\ufffe": "\\ufffe", "\uffff": "\\uffff"})

WIDTH = 640
ROW = 26  # the height of one bar's row
BAR = 18
#: Okabe and Ito's palette, told apart by people with any kind of colour blindness
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"'
_LABEL_CHARS = 28  # longer labels are cut (the whole label stays in the bar's tooltip)


def _escape(value: object) -> str:
    """Text for SVG character data and attribute values: escape.html (control characters shown as escapes, then
    `&`, `<`, `>`, `"` and `'` as entities), and the two characters XML forbids that it leaves shown as escapes too."""
    return html(value).translate(_NONCHARACTERS)


def _number(value: float) -> str:
    if not isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _shown(value, suffix: str = "") -> str:
    """A value as written beside its bar (`n/a` for what is not a finite number)."""
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")
    return _number(float(number)) + suffix


def _value(value) -> float:
    """A bar's length: a finite number not below 0 (anything else draws nothing)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return value if isfinite(value) and value > 0 else 0.0


def _cut(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[:_LABEL_CHARS - 1] + "…"


def _svg(title: str, height: int, description: str, body: list[str]) -> str:
    title = title or "Chart"  # (an image's accessible name is never empty)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" role="img" aria-label="{_escape(description)}" {_FONT}>'
            f"<title>{_escape(title)}</title>"
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>'
            f'<text x="8" y="18" font-size="14" font-weight="bold" fill="#1b1b1b">{_escape(title)}</text>'
            + "".join(body) + "</svg>")


def _empty(title: str) -> str:
    return _svg(title, 60, f"{title or 'Chart'}: no data", ['<text x="8" y="44" fill="#555555">no data</text>'])


def bar_chart(title: str, bars: list[tuple[str, float]], unit: str = "") -> str:
    """One horizontal bar per (label, value), longest for the largest value; each value written after its bar,
    with `unit`. Values that are not finite numbers above 0 draw no bar."""
    if not bars:
        return _empty(title)
    suffix = f" {unit}" if unit else ""
    left, right = 14 + 7 * max(len(_cut(str(label))) for label, _ in bars), 90
    span = WIDTH - left - right
    largest = max(_value(v) for _, v in bars) or 1.0
    body = []
    for i, (label, value) in enumerate(bars):
        y = 30 + i * ROW
        shown = _shown(value, suffix)
        length = span * _value(value) / largest
        body.append(f'<g><title>{_escape(f"{label}: {shown}")}</title>'
                    f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" fill="#1b1b1b">{_escape(_cut(str(label)))}'
                    f'</text><rect x="{left}" y="{y}" width="{length:.1f}" height="{BAR}" fill="{PALETTE[0]}"/>'
                    f'<text x="{left + length + 4:.1f}" y="{y + 13}" fill="#1b1b1b">{_escape(shown)}</text></g>')
    description = f"{title or 'Chart'}: " + "; ".join(f"{label} {_shown(v, suffix)}" for label, v in bars)
    return _svg(title, 30 + len(bars) * ROW + 8, description, body)


def stacked_bars(title: str, rows: list[tuple[str, list[tuple[str, float]]]]) -> str:
    """One horizontal bar per row, made of its (segment, value) parts, each segment's colour named in a legend
    (segments in the order they first appear: give the first row every segment, zeros too, to set the order);
    each row's total written after its bar."""
    if not rows or not any(_value(v) for _, parts in rows for _, v in parts):
        return _empty(title)
    segments = list(dict.fromkeys(name for _, parts in rows for name, _ in parts))
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(segments)}
    left, right = 14 + 7 * max(len(_cut(str(label))) for label, _ in rows), 60
    span = WIDTH - left - right
    largest = max(sum(_value(v) for _, v in parts) for _, parts in rows) or 1.0
    body = []
    for i, (label, parts) in enumerate(rows):
        y, x = 30 + i * ROW, float(left)
        body.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" fill="#1b1b1b">'
                    f"{_escape(_cut(str(label)))}</text>")
        for name, value in parts:
            length = span * _value(value) / largest
            if length:
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{BAR}" fill="{colour[name]}">'
                            f"<title>{_escape(f'{label}, {name}: {_number(_value(value))}')}</title></rect>")
            x += length
        body.append(f'<text x="{x + 4:.1f}" y="{y + 13}" fill="#1b1b1b">'
                    f"{_number(sum(_value(v) for _, v in parts))}</text>")
    legend_y = 30 + len(rows) * ROW + 6
    x = 8
    for name in segments:
        body.append(f'<rect x="{x}" y="{legend_y}" width="12" height="12" fill="{colour[name]}"/>'
                    f'<text x="{x + 16}" y="{legend_y + 10}" fill="#1b1b1b">{_escape(_cut(str(name)))}</text>')
        x += 16 + 7 * len(_cut(str(name))) + 14
        if x > WIDTH - 120:  # (the next name on a line of its own)
            x, legend_y = 8, legend_y + 18
    description = f"{title or 'Chart'}: " + "; ".join(
        f"{label}: " + ", ".join(f"{name} {_shown(v)}" for name, v in parts if _value(v)) for label, parts in rows)
    return _svg(title, legend_y + 24, description, body)
