"""The governance KPIs (`tiergate kpis`, app/kpis.py): the summary first, then one table per KPI (docs/kpis.md)."""
from __future__ import annotations

from typing import NamedTuple, Sequence

from tiergate.inputs.events import format_time
from tiergate.jsoncodec import readable
from tiergate.ledger.kpis import OBLIGATION_STATES, VIOLATION_KINDS
from tiergate.reports import escape
from tiergate.reports import tabular as tables

#: the columns of the long CSV (`as_csv`): every value of every KPI, one a line
LONG_HEADERS = ("kpi", "group", "subgroup", "measure", "value")
#: the KPIs by name, in the order of docs/kpis.md (what `kpi_csv` takes)
NAMES = ("versions_by_tier_stage", "days_to_production", "signoff_waits", "blocked_promotions", "violations",
         "obligations", "waivers", "reclassifications", "unreviewed_in_production")


class KpiTable(NamedTuple):
    """One KPI as a tidy table: its first `keys` columns say what a row is about, the others are its measures."""

    name: str
    title: str
    headers: tuple[str, ...]
    keys: int
    rows: list[list]
    #: the order of the second key's values, when a matrix shows them across (stages, kinds, states)
    across: tuple[str, ...] = ()


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def kpi_tables(result) -> list[KpiTable]:
    """Every KPI of a Kpis result as a table, in the order docs/kpis.md defines them."""
    s = result.summary
    production = [[t, p.count, _days(p.median), _days(p.p90)] for t, p in s.to_production.items() if p.count]
    waits = [[r, w.answered.count, _days(w.answered.median), _days(w.answered.p90), w.pending.count,
              _days(w.pending.median)] for r, w in s.signoff_waits.items() if w.answered.count or w.pending.count]
    return [
        KpiTable("versions_by_tier_stage", "Model versions by tier and stage", ("tier", "stage", "versions"), 2,
                 [[t, st, s.tier_stage[t][st]] for t in s.tiers for st in s.stages if s.tier_stage[t].get(st)],
                 s.stages),
        KpiTable("days_to_production", "Days from registration to production",
                 ("tier", "versions", "median_days", "p90_days"), 1, production),
        KpiTable("signoff_waits", "Days a sign-off request waits, by role",
                 ("role", "answered", "median_days", "p90_days", "waiting", "waiting_median_days"), 1, waits),
        KpiTable("blocked_promotions", "Promotions attempted while blocked (decision log)",
                 ("tier", "promotions", "blocked", "blocked_share"), 1,
                 [[t, p.total, p.blocked, _share(p.blocked_share)] for t, p in s.promotions.items()]),
        KpiTable("violations", "Violations found by replay", ("tier", "kind", "violations"), 2,
                 [[t, k, n] for t, kinds in s.violations.items() for k, n in kinds.items() if n], VIOLATION_KINDS),
        KpiTable("obligations", "Obligations by status", ("tier", "status", "obligations"), 2,
                 [[t, st, n] for t, states in s.obligations.items() for st, n in states.items() if n],
                 OBLIGATION_STATES),
        KpiTable("waivers", "Waivers by requirement", ("requirement", "granted", "active", "expiring_14d"), 1,
                 [[r, w.granted, w.active, w.expiring] for r, w in s.waivers.items()]),
        KpiTable("reclassifications", "Reclassifications by policy version", ("policy", "changed", "confirmed"), 1,
                 [[p, r.changed, r.confirmed] for p, r in s.reclassifications.items()]),
        KpiTable("unreviewed_in_production", "Versions in production without a current review",
                 ("use_case", "version", "tier", "stage", "reviews"), 2,
                 [[u.use_case, u.version, u.tier, u.stage, [f"{i} {st}" for i, st in u.reviews]]
                  for u in s.unreviewed]),
    ]


def headline(result) -> list[str]:
    """The summary in plain words: what was asked, what needs attention (the verdict), then the decision log and
    the waivers."""
    s = result.summary
    states = s.obligation_states
    window = f"since {format_time(result.since)}" if result.since else "over the whole history"
    ending = sum(w.expiring for w in s.waivers.values())
    attention = [text for n, text in (
        (s.violation_count, _count(s.violation_count, "violation") + " found by replay"),
        (states["overdue"] + states["breach"], f"{states['overdue']} of {_count(sum(states.values()), 'obligation')} "
                                               f"overdue{_percent(s.overdue_share)} and {states['breach']} breached"),
        (len(s.unreviewed), f"{len(s.unreviewed)} of {_count(s.in_production, 'version')} in production without a "
                            "current review"),
        (ending, _count(ending, "waiver") + " ending within 14 days"),
        (len(s.unjudged), _count(len(s.unjudged), "version") + " that could not be judged")) if n]
    promotions = s.promotions["all"]
    logged = f"{promotions.blocked} of {_count(promotions.total, 'promotion')} attempted while blocked" \
        f"{_percent(promotions.blocked_share)}" if promotions.total else "none in the decision log"
    lines = [f"KPIs at {format_time(result.at)} under {result.policy.name} {result.policy.version}, counted {window}: "
             f"{_count(s.versions, 'model version')}, {s.in_production} in production",
             ("needs attention: " + "; ".join(attention)) if attention else "nothing needs attention",
             f"promotions: {logged}; waivers: {sum(w.granted for w in s.waivers.values())} granted, "
             f"{sum(w.active for w in s.waivers.values())} active"]
    lines += [f"cannot be judged: {u} {v}: {why}" for u, v, why in s.unjudged]
    return lines


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _percent(value: float | None) -> str:
    return "" if value is None else f" ({100 * value:.1f}%)"


def _shown(value: object, header: str = "") -> str:
    """A cell for people: no value as `-`, days to two decimals, a share as a percentage, a list joined."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{100 * value:.1f}%" if header.endswith("_share") else f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    return str(value)


def _pivoted(table: KpiTable) -> tuple[list[str], list[list]]:
    """A table of two keys and one measure as a matrix: the first key down, the second across, with totals."""
    seen = {row[1] for row in table.rows}
    across = [c for c in table.across if c in seen] + sorted(seen - set(table.across))
    down: dict[str, dict] = {}
    for first, second, value in table.rows:
        down.setdefault(first, {})[second] = value
    return ([table.headers[0], *across, "total"],
            [[key, *(cells.get(c, 0) for c in across), sum(cells.values())] for key, cells in down.items()])


def _layout(table: KpiTable) -> tuple[Sequence[str], list[list]]:
    if table.keys == 2 and len(table.headers) == 3:
        return _pivoted(table)
    return table.headers, table.rows


def as_text(result) -> str:
    lines = [escape.text(line) for line in headline(result)]
    for table in kpi_tables(result):
        lines += ["", table.title + ":"]
        headers, rows = _layout(table)
        if not rows:
            lines.append("  (none)")
            continue
        cells = [list(map(escape.text, headers))] + \
            [[escape.text(_shown(v, h)) for v, h in zip(row, headers)] for row in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def as_markdown(result) -> str:
    head = headline(result)
    out = [f"## {escape.markdown(head[0])}", "", *(f"- {escape.markdown(line)}" for line in head[1:])]
    for table in kpi_tables(result):
        out += ["", f"### {table.title}", ""]
        headers, rows = _layout(table)
        out.append(tables.markdown(headers, [[_shown(v, h) for v, h in zip(row, headers)] for row in rows]).rstrip("\n")
                   if rows else "(none)")
    return "\n".join(out) + "\n"


def as_json(result) -> str:
    s = result.summary
    states = s.obligation_states
    data = {
        "policy": result.policy.identity(), "at": format_time(result.at), "since": format_time(result.since),
        "versions": s.versions, "in_production": s.in_production,
        "unjudged": [{"use_case": u, "version": v, "problem": why} for u, v, why in s.unjudged],
        "summary": {"violations": s.violation_count, "obligations": sum(states.values()),
                    "overdue": states["overdue"], "breach": states["breach"],
                    "overdue_share": _share(s.overdue_share), "unreviewed_in_production": len(s.unreviewed),
                    "promotions": s.promotions["all"].total, "blocked_promotions": s.promotions["all"].blocked,
                    "blocked_share": _share(s.promotions["all"].blocked_share)},
        "kpis": {t.name: tables.records(t.headers, t.rows) for t in kpi_tables(result)},
    }
    data["kpis"]["unreviewed_in_production"] = [
        {"use_case": u.use_case, "version": u.version, "tier": u.tier, "stage": u.stage,
         "reviews": [{"requirement": i, "status": st} for i, st in u.reviews]} for u in s.unreviewed]
    return escape.json_text(readable(data)) + "\n"


def as_csv(result) -> str:
    """Every KPI in one long table: kpi, group, subgroup (the row's keys; subgroup empty for a KPI with one), the
    measure's name and its value."""
    rows = []
    for table in kpi_tables(result):
        for row in table.rows:
            keys = [*row[:table.keys], ""][:2]
            rows += [[table.name, *keys, measure, value]
                     for measure, value in zip(table.headers[table.keys:], row[table.keys:])]
    return tables.csv_text(LONG_HEADERS, rows)


def kpi_csv(result, name: str) -> str:
    """One KPI's table as CSV, its columns as `as_json` names them (KeyError for a name no KPI has)."""
    for table in kpi_tables(result):
        if table.name == name:
            return tables.csv_text(table.headers, table.rows)
    raise KeyError(name)


def kpi_charts(result) -> list[tuple[str, str]]:
    """(KPI name, inline SVG) of the KPIs a chart shows best: versions by tier and stage, days to production by
    tier, the median wait of a sign-off request by role, obligations by status per tier."""
    from tiergate.reports.charts import bar_chart, stacked_bars

    s = result.summary
    stages = [st for st in s.stages if any(s.tier_stage[t].get(st) for t in s.tiers)]
    states = [st for st in OBLIGATION_STATES if any(s.obligations[t].get(st) for t in s.tiers)]
    return [
        ("versions_by_tier_stage", stacked_bars("Model versions by tier and stage",
                                                [(t, [(st, s.tier_stage[t].get(st, 0)) for st in stages])
                                                 for t in s.tiers])),
        ("days_to_production", bar_chart("Median days from registration to production",
                                         [(t, p.median) for t, p in s.to_production.items() if p.count], "days")),
        ("signoff_waits", bar_chart("Median days a sign-off request waits",
                                    [(r, w.answered.median) for r, w in s.signoff_waits.items() if w.answered.count],
                                    "days")),
        ("obligations", stacked_bars("Obligations by status", [(t, [(st, s.obligations[t].get(st, 0))
                                                                    for st in states]) for t in s.tiers])),
    ]
