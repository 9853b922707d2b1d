"""A workflow as one self-contained inline SVG: stages left to right, the current one framed, each gate's state."""
from __future__ import annotations

import heapq
import re
from dataclasses import dataclass

from tiergate.reports import escape

#: a stage's state, in the order the legend lists them
STATES = ("passed", "current", "ready", "blocked", "ahead")
#: state -> (the words in its node and in the legend, fill, stroke, stroke width, dash): each state differs by its
#: words and its border or pattern too, so a page printed in black and white still tells them apart
STYLE = {
    "passed": ("✓ passed", "#e3f1e5", "#2e7d32", 1.5, ""),
    "current": ("▶ current", "#dce8fb", "#1a4fa3", 2.5, ""),
    "ready": ("○ ready: gate met", "url(#{p}-ready)", "#2e7d32", 1.5, "6 3"),
    "blocked": ("✗ blocked: gate not met", "url(#{p}-blocked)", "#b71c1c", 2.0, ""),
    "ahead": ("· ahead", "#ffffff", "#8a8a8a", 1.2, "2 3"),
}
SHORT = {"passed": "✓ passed", "current": "▶ current", "ready": "○ ready", "blocked": "✗ blocked", "ahead": "· ahead"}

NAME_MAX = 24  # characters of a stage's name shown in its box (the whole name is its tooltip and in the description)
CHAR_W, NODE_H, GAP_X, GAP_Y, LANE, MARGIN = 7.4, 46.0, 56.0, 26.0, 11.0, 14.0
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class Box:
    stage: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Route:
    """An edge's path as points; `kind`: "next" (to the next column), "skip" (over columns, above the stages) or
    "back" (a loop back, below the stages)."""
    edge: tuple[str, str]
    points: tuple[tuple[float, float], ...]
    kind: str


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    routes: tuple[Route, ...]
    width: float
    height: float


def _shown(stage: str) -> str:
    """A stage's name as its box shows it: control characters as escapes, cut to NAME_MAX characters."""
    text = escape.text(stage)
    return text if len(text) <= NAME_MAX else text[:NAME_MAX - 1] + "…"


def layout(stages: list[str], edges: list[tuple[str, str]]) -> Layout:
    """Stages in columns by the longest path from the start (loops back left out), and each edge routed so that
    it crosses no stage: to the next column straight, over several columns through a lane above the stages, back
    through a lane below them. Every edge leaves and enters its stages at a port of its own."""
    order = list(dict.fromkeys([*stages, *(s for e in edges for s in e)]))
    index = {s: i for i, s in enumerate(order)}
    edges = list(dict.fromkeys((a, b) for a, b in edges))
    back = _back_edges(order, edges)
    layer = _layers(order, [e for e in edges if e not in back], index)
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for s in order:
        columns[layer[s]].append(s)
    rows = max((len(c) for c in columns), default=1)
    kinds = {e: "back" if e in back else "next" if layer[e[1]] == layer[e[0]] + 1 else "skip" for e in edges}
    # lanes: each routed edge has one in the gap right of its source's column, one in the gap left of its target's
    # (the edges leaving the column on the left of a gap take its left part, those entering the right one its right)
    out_lanes: dict[int, list] = {}
    in_lanes: dict[int, list] = {}
    for e, kind in kinds.items():
        if kind != "next":
            out_lanes.setdefault(layer[e[0]] + 1, []).append(e)
            in_lanes.setdefault(layer[e[1]], []).append(e)
    skips = [e for e in edges if kinds[e] == "skip"]
    backs = [e for e in edges if kinds[e] == "back"]
    w = max(110.0, CHAR_W * max((len(_shown(s)) for s in order), default=0) + 24)
    gaps = [len(out_lanes.get(g, ())) + len(in_lanes.get(g, ())) for g in range(len(columns) + 1)]
    widths = [(MARGIN if g in (0, len(columns)) else GAP_X) + max(0, n - (0 if g in (0, len(columns)) else 2)) * LANE
              for g, n in enumerate(gaps)]
    xs, x = [], widths[0]
    for c in range(len(columns)):
        xs.append(x)
        x += w + widths[c + 1]
    width = x
    top = MARGIN + len(skips) * LANE + (LANE if skips else 0)
    step = NODE_H + GAP_Y
    boxes = {}
    for c, column in enumerate(columns):
        offset = (rows - len(column)) / 2
        for r, s in enumerate(column):
            boxes[s] = Box(s, xs[c], top + (offset + r) * step, w, NODE_H)
    bottom = top + rows * step - GAP_Y

    def lane_x(gap: int, e) -> float:
        left = xs[gap - 1] + w if gap > 0 else 0.0
        right = xs[gap] if gap < len(columns) else width
        slots = out_lanes.get(gap, []) + in_lanes.get(gap, [])
        k = slots.index(e) if e in out_lanes.get(gap, []) else len(out_lanes.get(gap, [])) + in_lanes[gap].index(e)
        return left + (right - left) * (k + 1) / (len(slots) + 1)

    outs = _ports(edges, kinds, boxes, 0)
    ins = _ports(edges, kinds, boxes, 1)
    routes = []
    for e in edges:
        a, b = boxes[e[0]], boxes[e[1]]
        start, end = (a.x + a.w, outs[e]), (b.x, ins[e])
        if kinds[e] == "next":
            points = (start, end)
        else:
            y = top - LANE * (skips.index(e) + 1) if kinds[e] == "skip" else bottom + LANE * (backs.index(e) + 1)
            x1, x2 = lane_x(layer[e[0]] + 1, e), lane_x(layer[e[1]], e)
            points = (start, (x1, start[1]), (x1, y), (x2, y), (x2, end[1]), end)
        routes.append(Route(e, tuple((round(px, 2), round(py, 2)) for px, py in points), kinds[e]))
    height = bottom + len(backs) * LANE + (LANE if backs else 0) + MARGIN
    return Layout(boxes, tuple(routes), round(width, 2), round(height, 2))


def _back_edges(order: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges that close a loop, found by a depth-first walk from the start (then from each stage not reached)."""
    succ: dict[str, list[str]] = {s: [] for s in order}
    for a, b in edges:
        succ[a].append(b)
    colour: dict[str, int] = {}
    back = set()
    for root in order:
        if root in colour:
            continue
        colour[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
            elif colour.get(child) == 1:
                back.add((node, child))
            elif child not in colour:
                colour[child] = 1
                stack.append((child, iter(succ[child])))
    return back


def _layers(order: list[str], forward: list[tuple[str, str]], index: dict[str, int]) -> dict[str, int]:
    """Each stage's column: the longest path to it along the edges that go forward."""
    succ: dict[str, list[str]] = {s: [] for s in order}
    indegree = dict.fromkeys(order, 0)
    for a, b in forward:
        succ[a].append(b)
        indegree[b] += 1
    layer = dict.fromkeys(order, 0)
    ready = [(index[s], s) for s in order if indegree[s] == 0]
    heapq.heapify(ready)
    while ready:
        _, s = heapq.heappop(ready)
        for b in succ[s]:
            layer[b] = max(layer[b], layer[s] + 1)
            indegree[b] -= 1
            if indegree[b] == 0:
                heapq.heappush(ready, (index[b], b))
    return layer


def _ports(edges, kinds, boxes, end: int) -> dict:
    """Where each edge leaves (`end` 0: on the right side) or enters (1: on the left side) its stage: spread along
    the side, the edges through the upper lanes first, then those to the next column by height, then the loops."""
    rank = {"skip": 0, "next": 1, "back": 2}
    by_stage: dict[str, list] = {}
    for e in edges:
        by_stage.setdefault(e[end], []).append(e)
    ports = {}
    for stage, mine in by_stage.items():
        mine.sort(key=lambda e: (rank[kinds[e]], boxes[e[1 - end]].y))
        box = boxes[stage]
        for i, e in enumerate(mine):
            ports[e] = box.y + box.h * (i + 1) / (len(mine) + 1)
    return ports


def _t(value: object) -> str:
    """Text for the SVG (valid XML and HTML): escape.html, and the two noncharacters XML 1.0 forbids as escapes."""
    return escape.html(value).replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")


def _defs(p: str) -> str:
    return (f'<defs><pattern id="{p}-ready" width="8" height="8" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#eef7ef"/>'
            f'<path d="M0 0V8" stroke="#6aa874" stroke-width="1.4"/></pattern>'
            f'<pattern id="{p}-blocked" width="9" height="9" patternUnits="userSpaceOnUse"><rect width="9" height="9" '
            f'fill="#fdeeee"/><path d="M0 0L9 9M9 0L0 9" stroke="#d77" stroke-width="1"/></pattern>'
            f'<marker id="{p}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#444"/></marker></defs>')


def _box(p: str, x: float, y: float, w: float, h: float, state: str, framed: bool) -> str:
    _, fill, stroke, width, dash = STYLE[state]
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    out = (f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="6" fill="{fill.format(p=p)}" '
           f'stroke="{stroke}" stroke-width="{width:g}"{dashed}/>')
    if framed:  # the current stage: a second, thick frame around it
        out += (f'<rect x="{x - 4:g}" y="{y - 4:g}" width="{w + 8:g}" height="{h + 8:g}" rx="9" fill="none" '
                f'stroke="#1a4fa3" stroke-width="3"/>')
    return out


def _label(x: float, y: float, text: str, **attributes: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attributes.items())
    return (f'<text x="{x:g}" y="{y:g}" text-anchor="middle" stroke="#fff" stroke-width="3" paint-order="stroke"'
            f'{extra}>{text}</text>')


def workflow_svg(stages: list[str], edges: list[tuple[str, str]], current: str | None, states: dict[str, str],
                 title: str = "", *, ident: str = "wf") -> str:
    """The workflow as an inline `<svg>` (no script, no external font or image): its stages left to right, each
    edge an arrow (loops back dashed, below), the `current` stage framed, each stage drawn in its state from
    `states` (one of STATES; a stage not named is "ahead"), and a legend. Every name is escaped; none is written
    into an attribute. `ident` starts the ids of the SVG's patterns: give each SVG of one page its own."""
    unknown = sorted({v for v in states.values() if v not in STYLE})
    if unknown:
        raise ValueError(f"unknown stage states {unknown}: each is one of {', '.join(STATES)}")
    p = re.sub(r"[^A-Za-z0-9_-]", "_", ident) or "wf"
    plan = layout(stages, edges)
    legend_y = plan.height + 4
    items = [(s, STYLE[s][0]) for s in STATES] + [("frame", "current stage (thick frame)")]
    item_w = [30 + CHAR_W * len(words) + 18 for _, words in items]
    width = max(plan.width, 360.0)
    rows, x = [[]], MARGIN
    for item, iw in zip(items, item_w):
        if x + iw > width - MARGIN and rows[-1]:
            rows.append([])
            x = MARGIN
        rows[-1].append((item, x))
        x += iw
    height = legend_y + len(rows) * 24 + MARGIN
    names = {s: states.get(s, "ahead") for s in plan.boxes}
    described = "; ".join(f"{s}: {names[s]}" + (" (the current stage)" if s == current else "") for s in plan.boxes)
    if current is not None and current not in plan.boxes:
        described += f"; the current stage, {current}, is not a stage of this workflow"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Workflow diagram, {len(plan.boxes)} '
           f'stages" aria-describedby="{p}-desc" viewBox="0 0 {width:g} {height:g}" width="{width:g}" '
           f'height="{height:g}" font-family="{FONT}" font-size="13" fill="#1b1b1b">',
           f'<title>{_t(title or "Workflow")}</title>',
           f'<desc id="{p}-desc">Stages left to right, each with its state: {_t(described)}.</desc>', _defs(p),
           '<g fill="none" stroke="#444" stroke-width="1.4">']
    for route in plan.routes:
        d = "M" + "L".join(f"{x:g} {y:g}" for x, y in route.points)
        dash = ' stroke-dasharray="5 3"' if route.kind == "back" else ""
        out.append(f'<path d="{d}"{dash} marker-end="url(#{p}-arrow)"/>')
    out.append("</g>")
    for s, b in plan.boxes.items():
        state = names[s]
        out.append(f"<g><title>{_t(s)}: {_t(STYLE[state][0])}</title>"
                   + _box(p, b.x, b.y, b.w, b.h, state, s == current)
                   + _label(b.x + b.w / 2, b.y + 19, _t(_shown(s)), font_weight="600")
                   + _label(b.x + b.w / 2, b.y + 36, _t(SHORT[state]), font_size="12") + "</g>")
    out.append('<g font-size="12">')
    for r, row in enumerate(rows):
        y = legend_y + r * 24
        for (state, words), x in row:
            if state == "frame":
                out.append(_box(p, x + 4, y + 4, 16, 10, "ahead", True))
            else:
                out.append(_box(p, x, y, 24, 18, state, False))
            out.append(f'<text x="{x + 30:g}" y="{y + 13:g}">{_t(words)}</text>')
    out.append("</g></svg>")
    return "\n".join(out)
