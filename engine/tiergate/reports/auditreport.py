"""The auditor's report of a model version (app/auditreport.py AuditReport) as one self-contained HTML file, or JSON."""
from __future__ import annotations

import json
import re
import shlex

from tiergate.inputs.events import format_time
from tiergate.jsoncodec import readable
from tiergate.reports import escape
from tiergate.reports.check import mark
from tiergate.reports.workflowsvg import STYLE, workflow_svg
from tiergate.version import __version__

h = escape.html
#: no script, no request of any kind: styles inline, the diagram inline, images only as data: URLs (there are none)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
#: a URL that is linked: http(s), a host, and a path, query and fragment of plain URL characters only (no quote,
#: bracket, parenthesis, space or backslash: nothing that could end the attribute or read as something else)
_LINKABLE = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#][A-Za-z0-9._~%/+=&?#:@,;-]*)?", re.IGNORECASE)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;max-width:72rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:2px solid #333}
h3{font-size:1rem;margin:1.4rem 0 .3rem}p.meta{color:#444;font-size:.9rem;margin:.2rem 0}
p.verdict{font-size:1.15rem;padding:.6rem .8rem;border:3px solid #2e7d32}
p.verdict.bad{border:6px double #b71c1c}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.4rem 0}
th,td{border:1px solid #999;padding:.3rem .45rem;text-align:left;vertical-align:top}th{background:#eef0f3}
td,li,p,code,pre,h1,h3{overflow-wrap:anywhere}td.s{min-width:6em}td.t{min-width:11.5em}
pre{white-space:pre-wrap;background:#f6f8fa;border:1px solid #ccc;padding:.6rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
ul{margin:.2rem 0;padding-left:1.2rem}svg{max-width:100%;height:auto}
@media print{@page{margin:1.5cm}body{margin:0;max-width:none;font-size:10pt}
h2{break-before:page;page-break-before:always}h2.first{break-before:auto;page-break-before:auto}
h2,h3{break-after:avoid;page-break-after:avoid}thead{display:table-header-group}
tr,li,svg,pre,p.verdict{break-inside:avoid;page-break-inside:avoid}a{color:inherit}
svg,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def link(url: object) -> str:
    """An http(s) URL as a link showing itself; anything else (s3://, javascript:, a path) as text, never a link."""
    if isinstance(url, str) and _LINKABLE.fullmatch(url):
        return f'<a href="{h(url)}" rel="noopener noreferrer">{h(url)}</a>'
    return f"<code>{h(url)}</code>"


def _value(v: object) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


def _table(headers: list[str], rows: list[list[str]], short: tuple[int, ...] = (), times: tuple[int, ...] = ()) -> str:
    """A table of cells already written as HTML (each value through `h`, `link` or our own markup). Any word breaks
    where it must (a value may be one word of thousands of letters); the columns `short` (names, states, numbers) and
    `times` are kept wide enough for theirs."""
    head = "".join(f"<th>{x}</th>" for x in headers)
    cls = {**dict.fromkeys(short, ' class="s"'), **dict.fromkeys(times, ' class="t"')}
    body = "".join("<tr>" + "".join(f"<td{cls.get(i, '')}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _flat(prefix: str, value) -> list[tuple[str, object]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _flat(f"{prefix}.{k}" if prefix else str(k), v)]
    return [(prefix, value)]


def _artifact(data: dict, key: str = "uri") -> str:
    out = []
    if data.get(key) is not None:
        out.append(link(data[key]))
    if data.get("sha256") is not None:
        out.append(f"sha256 <code>{h(data['sha256'])}</code>")
    return ", ".join(out)


def _event(e) -> str:
    """An event a requirement read, in a line: who did what and when, with its artifact and its ledger event."""
    d = e.data
    where = f"(event #{e.seq}, {format_time(e.at)})"
    if e.type == "evidence":
        text = f"{h(d.get('kind'))} by {h(e.actor)} {where}"
        if d.get("metrics"):
            text += f": <code>{h(_value(d['metrics']))}</code>"
    elif e.type == "signoff":
        text = f"{h(d.get('decision'))} by {h(e.actor)} as {h(d.get('role'))} {where}"
        if d.get("comment"):
            text += f": “{h(d['comment'])}”"
    elif e.type == "waiver":
        text = f"waived by {h(e.actor)} until {h(d.get('expires'))} {where}: “{h(d.get('justification'))}”"
    else:
        text = f"{h(e.type)} by {h(e.actor)} {where}"
    more = _artifact(d)
    return text + (f"; {more}" if more else "")


def _policy(identity) -> str:
    name, version, sha256 = identity
    return f"{h(name)} {h(version)} (sha256 <code>{h(sha256[:12])}</code>)"


def verdict(r) -> tuple[bool, str]:
    """(good, the one-line verdict) of a report."""
    problems = []
    if r.violations:
        problems.append(f"{len(r.violations)} violation{'s' if len(r.violations) != 1 else ''} in its history")
    failing = [o for o in r.check.obligations if o.failing]
    if failing:
        problems.append(f"{len(failing)} obligation{'s' if len(failing) != 1 else ''} "
                        f"{'/'.join(sorted({o.status for o in failing}))}")
    if any(s.failing for s in r.check.standing):
        problems.append(f"the gate of {r.check.stage} is no longer met")
    where = f"retired {format_time(r.retired.at)}" if r.retired else f"in {r.check.stage}"
    head = f"{r.use_case} {r.version}, tier {r.check.tier}, {where}"
    if problems:
        return False, f"✗ NOT COMPLIANT: {head}: " + "; ".join(problems)
    return True, f"✓ COMPLIANT: {head}: no violations, every obligation met"


def _summary(r) -> str:
    good, line = verdict(r)
    c, passed = r.classification, [g for g in r.passages if g.allowed]
    in_force = [w for w in r.waivers if w.in_force]
    rule = c.deciding
    why = f"{h(rule.because or 'a rule held')} (policy line {rule.line})" if rule else "no rule held: the floor"
    facts = [f"Tier <strong>{h(c.tier)}</strong>: {why}.",
             f"Gates: {len(r.passages)} transition{'s' if len(r.passages) != 1 else ''}, {len(passed)} with the gate "
             "met when it was passed.",
             f"Replay of the history: {len(r.violations) or 'no'} violation{'s' if len(r.violations) != 1 else ''}.",
             "Obligations: " + (", ".join(f"{h(o.id)} {h(o.status)}" for o in r.check.obligations) or "none") + ".",
             f"Waivers: {len(in_force)} in force, {len(r.waivers) - len(in_force)} ended.",
             "Next: " + ("; ".join(f"{h(stage)} {STYLE[state][0]}" for stage, state in r.workflow.states.items()
                                   if state in ("ready", "blocked")) or "no stage to enter") + ".",
             f"Judged as of {format_time(r.at)} under {_policy(tuple(r.policy.identity().values()))}.",
             f"Ledger head <code>{h(r.head)}</code> ({r.count} events)."]
    return (f'<p class="verdict{"" if good else " bad"}"><strong>{h(line)}</strong></p>'
            "<ul>" + "".join(f"<li>{f}</li>" for f in facts) + "</ul>"
            + workflow_svg(list(r.workflow.stages), list(r.workflow.edges), r.workflow.current, r.workflow.states,
                           f"Workflow {r.workflow.workflow} of {r.use_case} {r.version}", ident="audit"))


def _classification(r) -> str:
    reg, c = r.registration, r.classification
    d = reg.data
    under = d.get("policy") or {}
    out = [f"<p>Registered by {h(reg.actor)} at {format_time(reg.at)} (event #{reg.seq}) as tier "
           f"<strong>{h(d.get('tier'))}</strong> under {h(under.get('name'))} {h(under.get('version'))} "
           f"(sha256 <code>{h(str(under.get('sha256', ''))[:12])}</code>): {h(d.get('because'))}.</p>"]
    if d.get("artifact") is not None or d.get("sha256") is not None:
        out.append(f"<p>Artifact: {_artifact(d, 'artifact')}.</p>")
    out.append(f"<p>Under {_policy(tuple(r.policy.identity().values()))} its answers give tier "
               f"<strong>{h(c.tier)}</strong>. The rules that held, highest tier first:</p>")
    rows = [[h(m.tier), h(m.because or ""), f"line {m.line}", h(", ".join(f"{k} = {_value(v)}" for k, v in
                                                                       m.answers.items()))] for m in c.matched]
    out.append(_table(["tier", "because", "policy", "answers read"], rows, (0, 2)) if rows else
               "<p>None: the floor.</p>")
    if c.forbidden:
        out.append("<h3>Forbidden</h3>" + _table(["forbid", "because", "policy"], [
            [f"<code>{h(m.id)}</code>", h(m.because or ""), f"line {m.line}"] for m in c.forbidden], (2,)))
    if r.reclassifications:
        out.append("<h3>Reclassified</h3>" + _table(["when", "tier", "under", "because", "by", "event"], [
            [format_time(e.at), f"{h(e.data.get('from_tier'))} → {h(e.data.get('to_tier'))}",
             h(" ".join(str((e.data.get("policy") or {}).get(k, "")) for k in ("name", "version"))),
             h(e.data.get("because")), h(e.actor), f"#{e.seq}"] for e in r.reclassifications], (1, 4, 5), (0,)))
    answers = _flat("", r.registration.data.get("answers", {}).get("answers", {}))
    out.append("<h3>The registered answers</h3>" + _table(["question", "answer"], [
        [f"<code>{h(k)}</code>", h(_value(v))] for k, v in answers]))
    return "".join(out)


def _policies(r) -> str:
    rows = [[h(p.name), h(p.version), f"<code>{h(p.sha256)}</code>",
             format_time(p.since) or "the start", format_time(p.until) or "the report's time",
             h(p.actor or ""), f"#{p.seq}" if p.seq is not None else "not adopted in the ledger"] for p in r.policies]
    return (_table(["policy", "version", "sha256", "in force from", "until", "adopted by", "event"], rows,
                   (1, 5, 6), (3, 4))
            + "<p>Each version's source, exactly as adopted: <code>tiergate policy show SHA256 --ledger "
            + h(shlex.quote(r.ledger)) + "</code>.</p>")


def _passages(r) -> str:
    out = []
    for g in r.passages:
        e = g.event
        mode = f" ({h(e.data['mode'])})" if e.data.get("mode") else ""
        outcome = "could not be judged" if g.allowed is None else "✓ gate met" if g.allowed else "✗ gate NOT met"
        out.append(f"<h3>{h(g.from_stage)} → {h(e.data.get('to'))}{mode} at {format_time(e.at)} by {h(e.actor)} "
                   f"(event #{e.seq}): {outcome}</h3><p class=\"meta\">Judged on the events before it, at its time, "
                   f"under {_policy(g.policy)} and the roster of {h(g.roster)}.</p>")
        if g.problem:
            out.append(f"<p>{h(g.problem)}</p>")
        elif not g.proofs:
            out.append("<p>No requirement for entering this stage.</p>")
        else:
            out.append(_table(["requirement", "outcome", "why", "what met it"], [
                [f"<code>{h(p.status.id)}</code>" + ("" if p.status.requirement.blocking else " (recommended)"),
                 f"{mark(p.status)} {h(p.status.status)}", h(p.status.reason),
                 "<ul>" + "".join(f"<li>{_event(x)}</li>" for x in p.events) + "</ul>" if p.events else ""]
                for p in g.proofs], (1,)))
    return "".join(out) or "<p>The version has not moved from the start of its workflow.</p>"


def _statuses(statuses) -> str:
    return _table(["requirement", "state", "why", "last", "next due"], [
        [f"<code>{h(s.id)}</code>", f"{mark(s)} {h(s.status)}", h(s.reason), format_time(s.last) or "",
         format_time(s.next_due) or ""] for s in statuses], (1,), (3, 4))


def _waivers(r) -> str:
    if not r.waivers:
        return "<p>No waiver was recorded for this version.</p>"
    return _table(["requirement", "by", "recorded", "until", "justification", "state", "event"], [
        [f"<code>{h(w.event.data.get('requirement'))}</code>", h(w.event.actor), format_time(w.event.at),
         h(w.event.data.get("expires")), h(w.event.data.get("justification")),
         "in force" if w.in_force else "ended", f"#{w.event.seq}"] for w in r.waivers], (1, 5, 6), (2, 3))


def _present(r) -> str:
    out = ["<h3>Obligations</h3>", _statuses(r.check.obligations) if r.check.obligations else
           "<p>None in its stage.</p>"]
    failing = [s for s in r.check.standing if s.failing]
    if failing:
        out += [f"<h3>The gate of {h(r.check.stage)}, judged again now: no longer met</h3>", _statuses(failing)]
    out.append("<h3>Violations found by the replay</h3>")
    if not r.violations:
        out.append("<p>None: every transition followed the workflow and met its gate.</p>")
    else:
        out.append(_table(["when", "transition", "what", "unmet", "event", "judged under"], [
            [format_time(v.at), f"{h(v.from_stage)} → {h(v.to_stage)}" + (f" ({h(v.mode)})" if v.mode else ""),
             h(v.message), "<ul>" + "".join(f"<li><code>{h(s.id)}</code>: {h(s.reason)}</li>" for s in v.unmet)
             + "</ul>", f"#{v.line}" if v.file == "ledger" else h(f"{v.file}:{v.line}"),
             _policy(v.policy) if v.policy else ""] for v in r.violations], (4,), (0,)))
    if r.check.warnings:
        out.append("<h3>Warnings</h3><ul>" + "".join(f"<li>{h(w.code)} {h(w.location)}: {h(w.message)}</li>"
                                                  for w in r.check.warnings) + "</ul>")
    return "".join(out)


def _ledger(r) -> str:
    ledger = h(shlex.quote(r.ledger))
    return (f"<p>Ledger <code>{h(r.ledger)}</code>: {r.count} events when this report was made "
            f"({format_time(r.generated)}); its head, the hash of its last event:</p><pre>{h(r.head)}</pre>"
            "<p>To check that the events this report rests on are still those the ledger holds, unchanged:</p>"
            f"<pre>tiergate audit verify --ledger {ledger} --head {h(r.head)}</pre>"
            "<p>It answers <code>ledger intact</code> while nothing has been recorded since. After later events it "
            "exits 1 with <code>LEDGER BROKEN: the ledger moved on: the published head … is event N, and M events "
            "were added since</code>, and <code>the chain is intact up to head …</code>: the events up to this head "
            "are still unchanged. Any other answer means the history was rewritten. Without tiergate: each event's "
            "hash is the "
            "SHA-256 of the previous hash, a newline and the event's canonical JSON (docs/ledger.md, "
            f"“Tamper evidence”), over <code>tiergate export --ledger {ledger}</code>.</p>")


def _events(r) -> str:
    rows = []
    for e in r.events:
        skip = ("seq", "hash", "recorded_at", "at", "type", "use_case", "version", "actor", "answers")
        detail = "; ".join(f"{k} = {_value(v)}" for k, v in e.items() if k not in skip and k not in ("uri", "artifact"))
        extra = _artifact(e) or _artifact(e, "artifact")
        rows.append([f"#{e['seq']}", h(e["at"]), h(e["type"]), h(e["actor"]), h(detail) + (f"; {extra}" if extra
                                                                                             else ""),
                     f"<code>{h(str(e['hash'])[:16])}</code>"])
    return _table(["event", "at", "type", "by", "what", "hash"], rows, (0, 2, 3, 5), (1,))


SECTIONS = (("Classification", _classification), ("Policy versions in force over its life", _policies),
            ("Gates passed, and what met them", _passages), ("Waivers", _waivers), ("Where it stands", _present),
            ("The ledger, and how to verify it", _ledger), ("Appendix: the version's events", _events))


def as_html(report) -> str:
    """One HTML file that needs nothing else: no script, no external resource (a Content-Security-Policy says so),
    print rules that start each section on a new page. Every value from the ledger or the policy is escaped."""
    title = f"Audit report: {report.use_case} {report.version}"
    meta = (f"{h(report.title)} · owner {h(report.owner)} · as of {format_time(report.at)} · generated "
            f"{format_time(report.generated)} by tiergate {h(__version__)}")
    body = [f'<h1>{h(title)}</h1><p class="meta">{meta}</p>', '<h2 class="first">Verdict</h2>', _summary(report)]
    for n, (heading, section) in enumerate(SECTIONS, 1):
        body.append(f"<h2>{n}. {h(heading)}</h2>{section(report)}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}"><meta name="referrer" content="no-referrer">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{h(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def as_json(report) -> str:
    return escape.json_text(readable(report.to_dict())) + "\n"
