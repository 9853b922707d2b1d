"""The workflow diagram as inline SVG: valid XML, every name escaped, every state drawn, loops and branches routed
around the stages."""
from __future__ import annotations

from itertools import combinations
from xml.etree import ElementTree

import pytest

from tiergate.reports.workflowsvg import STATES, STYLE, layout, workflow_svg

NS = {"svg": "http://www.w3.org/2000/svg"}
DEFAULT = (["business_scoping", "ideation", "development", "preproduction", "deployment", "monitoring"],
           [("business_scoping", "ideation"), ("ideation", "development"), ("development", "preproduction"),
            ("preproduction", "deployment"), ("deployment", "monitoring"), ("monitoring", "development")])
#: branches, a skip over a column, loops back (one of them to itself) and retirement from several stages
TANGLED = (["intake", "build", "review", "release", "operate", "retired"],
           [("intake", "build"), ("intake", "review"), ("build", "release"), ("review", "release"),
            ("release", "operate"), ("intake", "operate"), ("operate", "build"), ("operate", "operate"),
            ("release", "intake"), ("build", "retired"), ("review", "retired"), ("operate", "retired")])
HOSTILE = ["<script>alert(1)</script>", 'say "hi" & \'bye\'', "a\x1b[31mred\nline", "non\ufffechar\uffff",
           "W" * 400, "[x](javascript:alert(1))", "<img src=x onerror=alert(1)>"]


def parsed(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg.encode("utf-8"))


def texts(root: ElementTree.Element, tag: str) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{{{NS['svg']}}}{tag}")]


def test_the_default_workflow_is_valid_svg_with_a_title_a_description_and_a_role():
    svg = workflow_svg(*DEFAULT, "deployment", {"deployment": "current"}, "card-fraud-scoring 2026.03")
    root = parsed(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img" and root.get("aria-label") == "Workflow diagram, 6 stages"
    assert texts(root, "title")[0] == "card-fraud-scoring 2026.03"
    assert "deployment: current (the current stage)" in texts(root, "desc")[0]
    assert len(root.findall(".//svg:g/svg:path[@marker-end]", NS)) == len(DEFAULT[1])
    assert "<script" not in svg and "href" not in svg and "@import" not in svg and "url(http" not in svg


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_stage_name_is_text_never_markup_nor_an_attribute(name):
    stages = ["start", name, "end"]
    svg = workflow_svg(stages, [("start", name), (name, "end"), ("end", name)], name, {name: "current"}, name)
    root = parsed(svg)  # well-formed XML whatever the name holds
    assert {e.tag.split("}")[1] for e in root.iter()} <= {"svg", "title", "desc", "defs", "pattern", "rect", "path",
                                                          "marker", "g", "text"}
    for element in root.iter():
        for value in element.attrib.values():
            assert "script" not in value and "onerror" not in value and "javascript" not in value, value
    shown = name.replace("\x1b", "\\x1b").replace("\n", "\\n").replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")
    assert texts(root, "title")[0] == shown
    assert any(t.startswith(f"{shown}:") for t in texts(root, "title")[1:]), "the whole name is the stage's tooltip"
    labels = texts(root, "text")
    assert (shown if len(shown) <= 24 else shown[:23] + "…") in labels, "a long name is cut in its box"


def test_every_state_is_drawn_in_its_stage_and_in_the_legend_with_words_not_colour_alone():
    stages = ["a", "b", "c", "d", "e"]
    states = dict(zip(stages, STATES))
    root = parsed(workflow_svg(stages, list(zip(stages, stages[1:])), "b", states))
    labels = texts(root, "text")
    for state in STATES:
        words = STYLE[state][0]
        assert words in labels, f"{state} is not in the legend"
        assert words.split(":")[0] in labels, f"no stage is drawn {state}"
    assert "current stage (thick frame)" in labels
    frames = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("stroke-width") == "3"]
    assert len(frames) == 2, "the current stage and the legend's sample have the thick frame"


def test_the_states_differ_by_border_or_pattern_too_so_they_survive_black_and_white():
    looks = {(fill.startswith("url("), stroke_width, dash) for _, fill, _, stroke_width, dash in STYLE.values()}
    assert len(looks) == len(STYLE)


def test_a_stage_not_named_in_states_is_ahead_and_an_unknown_state_is_refused():
    root = parsed(workflow_svg(["a", "b"], [("a", "b")], "a", {"a": "current"}))
    assert "· ahead" in texts(root, "text")
    with pytest.raises(ValueError, match="unknown stage states"):
        workflow_svg(["a", "b"], [("a", "b")], "a", {"a": "finished"})


def test_a_current_stage_off_the_workflow_is_said_in_the_description():
    root = parsed(workflow_svg(["a", "b"], [("a", "b")], "release", {}))
    assert "the current stage, release, is not a stage of this workflow" in texts(root, "desc")[0]


def segments(route) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return list(zip(route.points, route.points[1:]))


def crosses_inside(segment, box) -> bool:
    """Whether a segment passes through the inside of a box (touching its border is allowed)."""
    (x1, y1), (x2, y2) = segment
    for i in range(101):  # (the segments are short: sampling them finely is exact enough for boxes 46 high)
        x, y = x1 + (x2 - x1) * i / 100, y1 + (y2 - y1) * i / 100
        if box.x + 0.5 < x < box.x + box.w - 0.5 and box.y + 0.5 < y < box.y + box.h - 0.5:
            return True
    return False


def overlap(a, b) -> bool:
    """Whether two axis-parallel or diagonal segments lie on one line and share more than a point."""
    (ax1, ay1), (ax2, ay2) = a
    (bx1, by1), (bx2, by2) = b
    cross = lambda ox, oy, px, py, qx, qy: (px - ox) * (qy - oy) - (py - oy) * (qx - ox)  # noqa: E731
    if abs(cross(ax1, ay1, ax2, ay2, bx1, by1)) > 1e-6 or abs(cross(ax1, ay1, ax2, ay2, bx2, by2)) > 1e-6:
        return False
    axis = 0 if abs(ax2 - ax1) >= abs(ay2 - ay1) else 1
    lo_a, hi_a = sorted((a[0][axis], a[1][axis]))
    lo_b, hi_b = sorted((b[0][axis], b[1][axis]))
    return min(hi_a, hi_b) - max(lo_a, lo_b) > 1e-6


@pytest.mark.parametrize("workflow", [DEFAULT, TANGLED], ids=["default", "tangled"])
def test_loops_and_branches_are_routed_around_the_stages_without_overlapping(workflow):
    stages, edges = workflow
    plan = layout(stages, edges)
    boxes = list(plan.boxes.values())
    assert [b.stage for b in boxes] == stages
    for a, b in combinations(boxes, 2):
        apart = a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y
        assert apart, f"{a.stage} and {b.stage} overlap"
    assert sorted(r.edge for r in plan.routes) == sorted(edges)
    for route in plan.routes:
        source, target = plan.boxes[route.edge[0]], plan.boxes[route.edge[1]]
        assert route.points[0][0] == pytest.approx(source.x + source.w), "an edge leaves its stage on the right"
        assert route.points[-1][0] == pytest.approx(target.x), "an edge enters its stage on the left"
        for segment in segments(route):
            for box in boxes:
                assert not crosses_inside(segment, box), f"{route.edge} crosses {box.stage}"
    for r1, r2 in combinations(plan.routes, 2):
        for s1 in segments(r1):
            for s2 in segments(r2):
                assert not overlap(s1, s2), f"{r1.edge} and {r2.edge} overlap at {s1} / {s2}"
    for route in plan.routes:
        for x, y in route.points:
            assert 0 <= x <= plan.width and 0 <= y <= plan.height, f"{route.edge} leaves the picture"
    kinds = {r.edge: r.kind for r in plan.routes}
    if workflow is TANGLED:
        assert kinds[("operate", "operate")] == kinds[("release", "intake")] == "back"
        assert kinds[("intake", "operate")] == "skip"
    svg = parsed(workflow_svg(stages, edges, stages[2], {}))
    assert len(svg.findall(".//svg:path[@stroke-dasharray]", NS)) == sum(k == "back" for k in kinds.values())
