"""The inline SVG charts (reports/charts.py): well-formed XML whatever the labels and values, accessible, nothing
from elsewhere, hostile labels written as text, and empty or zero data drawn as such."""
from __future__ import annotations

from xml.etree import ElementTree

import pytest
from hypothesis import given, settings, strategies as st

from tiergate.reports.charts import bar_chart, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"
#: the elements a chart is made of
OWN = {"svg", "title", "rect", "text", "g"}
#: and their attributes
ATTRIBUTES = {"viewBox", "width", "height", "role", "aria-label", "font-family", "font-size", "font-weight", "x", "y",
              "fill", "text-anchor"}
#: labels a hostile user typed, and how the chart shows them (as text: escapes for what would act or is not XML)
HOSTILE = {'<script>alert(1)</script>': '<script>alert(1)</script>',
           '"><img src=x onerror=alert(1)>': '"><img src=x onerror=alert(1)>', "a&b": "a&b",
           "x\x1b[31m\u202e\u2028y": "x\\x1b[31m\\u202e\\u2028y", "]]><!--": "]]><!--",
           "&lt;already&gt;": "&lt;already&gt;", "' onload='alert(1)": "' onload='alert(1)",
           "\ud800": "\\ud800", "\ufffe\uffff": "\\ufffe\\uffff"}


def parsed(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg.encode("utf-8", "surrogatepass"))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("aria-label")
    assert root[0].tag == f"{SVG}title" and root[0].text
    assert {e.tag.removeprefix(SVG) for e in root.iter()} <= OWN
    for element in root.iter():  # no link, script, style or event handler: whatever a label says is text
        assert set(element.attrib) <= ATTRIBUTES, element.attrib
        # (a label may say "url(" in the accessible name, which is text; no presentation attribute may)
        assert not any("url(" in value for name, value in element.attrib.items() if name != "aria-label")
    return root


def texts(root) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def test_a_bar_per_value_longest_for_the_largest():
    root = parsed(bar_chart("Median days", [("critical", 42.0), ("ad_hoc", 9.0), ("scheduled", 0)], "days"))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.get("y") not in (None, "0")][0:3]
    assert widths[0] > widths[1] > widths[2] == 0
    assert "42 days" in texts(root) and "0 days" in texts(root)
    assert root[0].text == "Median days"
    assert root.get("aria-label") == "Median days: critical 42 days; ad_hoc 9 days; scheduled 0 days"


def test_stacked_bars_have_a_legend_and_totals():
    rows = [("critical", [("development", 1), ("deployment", 2)]), ("ad_hoc", [("development", 0), ("retired", 1)])]
    root = parsed(stacked_bars("Versions by tier and stage", rows))
    shown = texts(root)
    assert ["development", "deployment", "retired"] == [t for t in shown if t in ("development", "deployment",
                                                                                  "retired")]
    assert "3" in shown and "1" in shown
    titles = ["".join(e.itertext()) for e in root.iter(f"{SVG}title")]
    assert "critical, deployment: 2" in titles and "ad_hoc, development: 0" not in titles


@pytest.mark.parametrize("chart", [lambda: bar_chart("Nothing", []), lambda: stacked_bars("Nothing", []),
                                   lambda: stacked_bars("Nothing", [("a", [("x", 0)]), ("b", [])])])
def test_no_data_says_so(chart):
    root = parsed(chart())
    assert "no data" in texts(root) and root.get("aria-label") == "Nothing: no data"


def test_values_that_are_no_length_draw_nothing():
    root = parsed(bar_chart("Odd", [("nan", float("nan")), ("inf", float("inf")), ("negative", -3), ("none", None),
                                     ("zero", 0)]))
    assert all(float(r.get("width")) == 0 for r in root.iter(f"{SVG}rect") if r.get("height") == "18")
    assert texts(root).count("n/a") == 3 and "-3" in texts(root)


@pytest.mark.parametrize("label, shown", HOSTILE.items(), ids=range(len(HOSTILE)))
def test_hostile_labels_are_text(label, shown):
    for svg in (bar_chart(label, [(label, 1.0)], unit=label),
                stacked_bars(label, [(label, [(label, 1.0), ("other", 2.0)])])):
        root = parsed(svg)
        assert root[0].text == shown and root.get("aria-label").startswith(shown + ": ")
        assert any(t.startswith(shown) for t in texts(root))
        assert "<script" not in svg and "<img" not in svg and "<!--" not in svg


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.lists(st.tuples(st.text(max_size=40), st.floats() | st.integers(-10**6, 10**6)),
                                      max_size=12), st.text(max_size=10))
def test_any_bar_chart_is_well_formed(title, bars, unit):
    parsed(bar_chart(title, bars, unit))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.lists(st.tuples(st.text(max_size=30), st.lists(
    st.tuples(st.text(max_size=20), st.floats(min_value=0, max_value=1e9) | st.integers(0, 10**6)), max_size=8)),
    max_size=10))
def test_any_stacked_chart_is_well_formed(title, rows):
    parsed(stacked_bars(title, rows))
