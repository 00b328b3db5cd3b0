"""The audit report: one model, four renderings (terminal table, JSON, Markdown, HTML).

The HTML report is one self-contained file an auditor can file or send: no script, no external
style sheet, font or image. Findings come first, then the case's timeline as an SVG chart (one
lane per requirement, the DCC's deadlines with their Working-Day counts, misses marked,
disputes shaded), then every event with who recorded it, its effective date, when it was
recorded and its hash.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from pydantic import BaseModel, Field

from domain.deadlines import STEP_WORKING_DAYS
from domain.history import DOMAIN_TYPES, domain_event, fold_stored, view_as_of
from domain.state import CaseState
from domain.view import CaseView
from eventstore.models import RecordedEvent
from eventstore.verdicts import Check, Status, exit_status
from uep.audit.history import RunRecord

VERDICTS = {0: "clean", 1: "findings", 2: "could not audit"}
_STEP_WD: dict[str, int] = {str(k): v for k, v in STEP_WORKING_DAYS.items()}


class EventRow(BaseModel):
    """One stored event as the report lists it."""

    position: int
    version: int
    type: str
    effective_on: str | None
    recorded_at: str
    principal: str
    event_id: str
    hash: str


class RunRow(BaseModel):
    """One run of the workflow and where its history came from."""

    run_id: str
    source: str
    status: str
    started_at: str
    closed_at: str | None
    history_events: int
    appended: int


class Segment(BaseModel):
    """A stretch of one requirement's lane in one status."""

    start: date
    end: date
    status: str
    met: bool


class Lane(BaseModel):
    """One requirement over time."""

    requirement: str
    segments: list[Segment]


class DccMark(BaseModel):
    """A DCC completion step: opened, due after its Working Days, done, met or missed."""

    step: str
    cycle: int
    opened_on: date
    due_on: date
    done_on: date | None
    working_days: int
    status: str
    working_days_late: int


class DisputeBand(BaseModel):
    """A dispute from when it was raised until it was determined (or still open)."""

    dispute_id: str
    subject: str
    raised_on: date
    resolved_on: date | None
    phase: str


class Timeline(BaseModel):
    """What the SVG chart draws."""

    start: date
    end: date
    lanes: list[Lane] = Field(default_factory=list)
    dcc: list[DccMark] = Field(default_factory=list)
    disputes: list[DisputeBand] = Field(default_factory=list)


class CaseAudit(BaseModel):
    """Everything a report shows about one audited case."""

    case_id: str
    party_id: str = ""
    party_name: str = ""
    role: str = ""
    rules_version: str = ""
    status: str = ""
    stage: str = ""
    audited_at: datetime
    as_of: datetime | None = None
    version: int | None = None
    shown_version: int = 0
    exit_status: int
    verdict: str
    checks: list[Check]
    runs: list[RunRow]
    events: list[EventRow]
    view: dict[str, Any] | None = None
    timeline: Timeline | None = None


def principal(metadata: dict[str, Any]) -> str:
    """Who recorded an event: the principal when the metadata has one, else the actor; for a
    message sent without a header (the Web UI), the Temporal identity that sent it too."""
    who = metadata.get("principal") or metadata.get("actor") or "system"
    if isinstance(who, dict):
        who = who.get("name") or who.get("id") or json.dumps(who, sort_keys=True)
    identity = metadata.get("temporal_identity")
    if isinstance(identity, str) and identity:
        return f"{who} (Temporal identity {identity})"
    return str(who)


def event_row(e: RecordedEvent) -> EventRow:
    """The report's line for one stored event."""
    effective = e.data.get("effective_on")
    return EventRow(
        position=e.position,
        version=e.version,
        type=e.type,
        effective_on=effective if isinstance(effective, str) else None,
        recorded_at=e.recorded_at.isoformat(),
        principal=principal(e.metadata),
        event_id=str(e.event_id),
        hash=e.hash,
    )


def run_row(run: RunRecord) -> RunRow:
    """The report's line for one run."""
    return RunRow(
        run_id=run.run_id,
        source=run.source,
        status=run.status,
        started_at=run.started_at.isoformat(),
        closed_at=run.closed_at.isoformat() if run.closed_at else None,
        history_events=len(run.history.events),
        appended=len(run.appended),
    )


def cut(
    events: Sequence[RecordedEvent], as_of: datetime | None, version: int | None
) -> list[RecordedEvent]:
    """The events recorded up to ``as_of`` and up to ``version``: the record as it stood then."""
    return [
        e
        for e in events
        if (as_of is None or e.recorded_at <= as_of) and (version is None or e.version <= version)
    ]


def view_date(
    events: Sequence[RecordedEvent], as_of: datetime | None, version: int | None, today: date
) -> date:
    """The day the state is shown for: the --as-of day, the cut version's day, or today."""
    if as_of is not None:
        return as_of.date()
    if version is not None and events:
        return events[-1].recorded_at.date()
    return today


def build_report(
    case_id: str,
    events: Sequence[RecordedEvent],
    runs: Sequence[RunRecord],
    checks: Sequence[Check],
    *,
    audited_at: datetime,
    as_of: datetime | None = None,
    version: int | None = None,
) -> CaseAudit:
    """The report of an audit: the checks, and the case as it stood at the cut."""
    shown = cut(events, as_of, version)
    status = exit_status(checks)
    audit = CaseAudit(
        case_id=case_id,
        audited_at=audited_at,
        as_of=as_of,
        version=version,
        shown_version=shown[-1].version if shown else 0,
        exit_status=status,
        verdict=VERDICTS[status],
        checks=list(checks),
        runs=[run_row(r) for r in runs],
        events=[event_row(e) for e in shown],
    )
    state = fold_stored(shown)
    if state is None:
        return audit
    on = view_date(shown, as_of, version, audited_at.date())
    view = view_as_of(state, on, stream_version=audit.shown_version)
    return audit.model_copy(
        update={
            "party_id": state.party.party_id,
            "party_name": state.party.party_name,
            "role": view.role_label,
            "rules_version": str(state.rules_version),
            "status": state.status,
            "stage": view.stage_label,
            "view": json.loads(view.model_dump_json()),
            "timeline": build_timeline(shown, state, view),
        }
    )


# -- the timeline ---------------------------------------------------------------------------------


def build_timeline(events: Sequence[RecordedEvent], final: CaseState, view: CaseView) -> Timeline:
    """Lanes of requirement statuses by effective date, DCC steps and disputes, from events."""
    changes: dict[str, list[tuple[date, int, str, bool]]] = {}
    raised: dict[str, tuple[date, str]] = {}
    determined: dict[str, date] = {}
    state: CaseState | None = None
    last_seen: dict[str, tuple[str, bool]] = {}
    for e in events:
        if e.type not in DOMAIN_TYPES:
            continue
        event = domain_event(e)
        state = fold_stored([e], state)
        if state is None or event is None:
            continue
        on = event.effective_on
        data = e.data
        if e.type == "DisputeRaised":
            raised[str(data["dispute_id"])] = (on, str(data["subject"]))
        elif e.type in ("PanelDeterminationMade", "OfgemDeterminationMade"):
            determined[str(data["dispute_id"])] = on
        for key, status, met in view_requirements(state, on):
            now = (status, met)
            if last_seen.get(key) != now:
                last_seen[key] = now
                changes.setdefault(key, []).append((on, e.version, now[0], now[1]))
    start = final.started_on
    # An open case runs up to the day it is shown for; a closed one up to its last fact.
    dates = [start, final.completed_on or start, final.withdrawn_on or start]
    dates += [view.as_of] if final.status == "open" else []
    dates += [s.due_on for s in final.uept.dcc_steps]
    dates += [s.done_on for s in final.uept.dcc_steps if s.done_on]
    dates += [on for lane in changes.values() for on, *_ in lane]
    end = max(dates)
    if end <= start:
        end = start + timedelta(days=1)
    lanes = []
    for requirement in final.applicable_requirements():
        points = sorted(changes.get(requirement, []))
        segments = []
        for i, (on, _, status, met) in enumerate(points):
            until = points[i + 1][0] if i + 1 < len(points) else end
            segments.append(Segment(start=max(on, start), end=until, status=status, met=met))
        lanes.append(Lane(requirement=requirement, segments=segments))
    dcc = [
        DccMark(
            step=s.step,
            cycle=s.cycle,
            opened_on=s.opened_on,
            due_on=s.due_on,
            done_on=s.done_on,
            working_days=_STEP_WD.get(s.step, 0),
            status=s.status,
            working_days_late=s.working_days_late,
        )
        for s in view.dcc_steps
    ]
    phases = {d.dispute_id: d.phase for d in final.disputes}
    disputes = [
        DisputeBand(
            dispute_id=dispute_id,
            subject=subject,
            raised_on=on,
            resolved_on=determined.get(dispute_id)
            if phases.get(dispute_id) in ("panel_determined", "ofgem_determined")
            else None,
            phase=phases.get(dispute_id, "?"),
        )
        for dispute_id, (on, subject) in raised.items()
    ]
    return Timeline(start=start, end=end, lanes=lanes, dcc=dcc, disputes=disputes)


def view_requirements(state: CaseState, on: date) -> list[tuple[str, str, bool]]:
    """(requirement, status, met) for each applicable requirement, as the case view words them."""
    view = view_as_of(state, on)
    return [(r.requirement, r.status, r.met) for r in view.requirements]


# -- renderings ------------------------------------------------------------------------------------

_MARK = {Status.PASSED: "ok", Status.FAILED: "FAIL", Status.SKIPPED: "SKIP"}


def status_word(check: Check) -> str:
    """How a check's result reads: ok, FAIL, SKIP, or skip (accepted)."""
    if check.status is Status.SKIPPED and check.accepted:
        return "skip (accepted)"
    return _MARK[check.status]


def findings_lines(check: Check) -> list[str]:
    """A check's findings, one line each, with the count of those not shown."""
    lines = [f.detail for f in check.findings]
    if check.more_findings:
        lines.append(f"... and {check.more_findings} more")
    return lines


def render_json(audit: CaseAudit) -> str:
    """The whole report as JSON."""
    return audit.model_dump_json(indent=2)


def _heading(audit: CaseAudit) -> str:
    who = f"{audit.party_name} ({audit.party_id}), {audit.role}" if audit.party_id else ""
    return f"{audit.case_id}" + (f" - {who}" if who else "")


def _cut_words(audit: CaseAudit) -> str:
    if audit.as_of is None and audit.version is None:
        return f"as recorded now (version {audit.shown_version})"
    parts = []
    if audit.as_of is not None:
        parts.append(f"as recorded at {audit.as_of.isoformat()}")
    if audit.version is not None:
        parts.append(f"up to version {audit.version}")
    return " and ".join(parts) + f" (version {audit.shown_version})"


def render_markdown(audit: CaseAudit) -> str:
    """A Markdown report: findings first, then checks, state, DCC steps, disputes, events."""
    out = [f"# Audit of {_heading(audit)}", ""]
    out.append(
        f"**Verdict: {audit.verdict}** (exit {audit.exit_status}) - audited "
        f"{audit.audited_at.isoformat()}; rules version `{audit.rules_version or '?'}`; "
        f"state shown {_cut_words(audit)}."
    )
    out += ["", "## Findings", ""]
    problems = [c for c in audit.checks if c.status is not Status.PASSED]
    if not problems:
        out.append("None: every check passed.")
    for check in problems:
        out.append(f"- **{check.name}** ({status_word(check)}): {check.detail}")
        out += [f"  - {line}" for line in findings_lines(check)]
    out += ["", "## Checks", "", "| check | result | detail |", "|---|---|---|"]
    out += [f"| {c.name} | {status_word(c)} | {_md(c.detail)} |" for c in audit.checks]
    if audit.view:
        v = audit.view
        out += ["", "## The case", ""]
        out.append(f"Status **{v['status']}**, stage **{v['stage_label']}**, as of {v['as_of']}.")
        out += ["", "| requirement | status | met | verified |", "|---|---|---|---|"]
        out += [
            f"| {r['requirement']} | {r['status']} | {'yes' if r['met'] else 'no'} | "
            f"{r.get('verified_on') or ''} |"
            for r in v["requirements"]
        ]
    if audit.timeline and audit.timeline.dcc:
        out += ["", "## DCC completion steps", ""]
        out += ["| step | cycle | opened | due (WD) | done | status |", "|---|---|---|---|---|---|"]
        for d in audit.timeline.dcc:
            late = f", {d.working_days_late} WD late" if d.working_days_late else ""
            out.append(
                f"| {d.step} | {d.cycle} | {d.opened_on} | {d.due_on} ({d.working_days} WD) | "
                f"{d.done_on or ''} | {d.status}{late} |"
            )
    if audit.timeline and audit.timeline.disputes:
        out += ["", "## Disputes", ""]
        out += [
            f"- {d.dispute_id} ({d.subject}): raised {d.raised_on}, "
            + (f"determined {d.resolved_on}" if d.resolved_on else f"open ({d.phase})")
            for d in audit.timeline.disputes
        ]
    out += ["", "## Runs", "", "| run | source | status | started | closed | history events |"]
    out.append("|---|---|---|---|---|---|")
    out += [
        f"| `{r.run_id}` | {r.source} | {r.status} | {r.started_at} | {r.closed_at or ''} | "
        f"{r.history_events} |"
        for r in audit.runs
    ]
    out += ["", "## Events", ""]
    out.append("| pos | v | event | principal | effective | recorded | hash |")
    out.append("|---|---|---|---|---|---|---|")
    out += [
        f"| {e.position} | {e.version} | {e.type} | {_md(e.principal)} | "
        f"{e.effective_on or ''} | {e.recorded_at} | `{e.hash[:16]}` |"
        for e in audit.events
    ]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- HTML and SVG -------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;
color:#1d1d1f;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid
#ddd;padding-bottom:.2em}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.verdict{display:inline-block;padding:.25em .7em;border-radius:4px;font-weight:600;color:#fff}
.v0{background:#2e7d32}.v1{background:#c62828}.v2{background:#ef6c00}
.passed{color:#2e7d32}.failed{color:#c62828;font-weight:600}.skipped{color:#ef6c00;font-weight:600}
.meta{color:#555}ul.findings li{margin:.2em 0}
"""

_COLOURS = {True: "#66bb6a", False: "#ffb74d"}
_IDLE = "#e0e0e0"
_BAD = "#e57373"
_BAD_STATUS = ("rejected", "not_approved", "further_testing_required")


def render_html(audit: CaseAudit) -> str:
    """One self-contained HTML file: findings, checks, the SVG timeline, runs and events."""
    h = escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Audit of {h(audit.case_id)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Audit of {h(_heading(audit))}</h1>",
        f'<p><span class="verdict v{audit.exit_status}">{h(audit.verdict)}</span> '
        f'<span class="meta">exit status {audit.exit_status}; audited '
        f"{h(audit.audited_at.isoformat())}; rules version "
        f"<code>{h(audit.rules_version or '?')}</code>; state shown {h(_cut_words(audit))}"
        "</span></p>",
        "<h2>Findings</h2>",
    ]
    problems = [c for c in audit.checks if c.status is not Status.PASSED]
    if not problems:
        parts.append("<p>None: every check passed.</p>")
    else:
        parts.append('<ul class="findings">')
        for check in problems:
            items = "".join(f"<li>{h(line)}</li>" for line in findings_lines(check))
            parts.append(
                f'<li><span class="{check.status.value}">{h(check.name)}: '
                f"{h(status_word(check))}</span> - {h(check.detail)}"
                + (f"<ul>{items}</ul>" if items else "")
                + "</li>"
            )
        parts.append("</ul>")
    parts.append("<h2>Checks</h2><table><tr><th>check</th><th>result</th><th>detail</th></tr>")
    parts += [
        f'<tr><td>{h(c.name)}</td><td class="{c.status.value}">{h(status_word(c))}</td>'
        f"<td>{h(c.detail)}</td></tr>"
        for c in audit.checks
    ]
    parts.append("</table>")
    if audit.view:
        v = audit.view
        parts.append(
            f"<h2>The case</h2><p>{h(v['summary'])}: status <b>{h(v['status'])}</b>, stage "
            f"<b>{h(v['stage_label'])}</b>, as of {h(v['as_of'])}.</p>"
        )
    if audit.timeline is not None:
        parts.append("<h2>Timeline</h2>")
        parts.append(timeline_svg(audit.timeline))
    parts.append(
        "<h2>Runs</h2><table><tr><th>run</th><th>history from</th><th>status</th>"
        "<th>started</th><th>closed</th><th>history events</th><th>events appended</th></tr>"
    )
    parts += [
        f'<tr><td class="mono">{h(r.run_id)}</td><td>{h(r.source)}</td><td>{h(r.status)}</td>'
        f"<td>{h(r.started_at)}</td><td>{h(r.closed_at or '')}</td><td>{r.history_events}</td>"
        f"<td>{r.appended}</td></tr>"
        for r in audit.runs
    ]
    parts.append("</table>")
    parts.append(
        "<h2>Events</h2><table><tr><th>pos</th><th>v</th><th>event</th><th>principal</th>"
        "<th>effective</th><th>recorded (UTC)</th><th>hash</th></tr>"
    )
    parts += [
        f"<tr><td>{e.position}</td><td>{e.version}</td><td>{h(e.type)}</td>"
        f"<td>{h(e.principal)}</td><td>{h(e.effective_on or '')}</td>"
        f'<td>{h(e.recorded_at)}</td><td class="mono" title="{h(e.hash)}">{h(e.hash[:16])}'
        "</td></tr>"
        for e in audit.events
    ]
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"


def timeline_svg(t: Timeline) -> str:
    """The case over time: requirement lanes, DCC steps (WD counts, misses), disputes shaded."""
    h = escape
    left, right, top, lane_h, step_h = 130, 20, 34, 30, 16
    width = 1060
    plot = width - left - right
    dcc_top = top + lane_h * len(t.lanes)
    bottom = dcc_top + max(lane_h, step_h * len(t.dcc) + 8)
    height = bottom + 30
    span = max((t.end - t.start).days, 1)

    def x(d: date) -> float:
        return left + plot * ((d - t.start).days / span)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui,sans-serif" font-size="11" '
        'role="img" aria-label="case timeline">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
    ]
    for band in t.disputes:
        x0 = x(band.raised_on)
        x1 = x(band.resolved_on or t.end)
        out.append(
            f'<rect x="{x0:.1f}" y="{top - 4}" width="{max(x1 - x0, 2):.1f}" '
            f'height="{bottom - top + 4}" fill="#9575cd" fill-opacity="0.18">'
            f"<title>dispute {h(band.dispute_id)} ({h(band.subject)}): raised {band.raised_on}, "
            f"{'determined ' + str(band.resolved_on) if band.resolved_on else 'open'}</title>"
            "</rect>"
        )
        out.append(
            f'<text x="{x0 + 3:.1f}" y="{top - 8}" fill="#5e35b1">dispute: {h(band.subject)}</text>'
        )
    for i, lane in enumerate(t.lanes):
        y = top + i * lane_h
        out.append(_lane_label(lane.requirement.replace("_", " "), y + lane_h / 2))
        out.append(_rule(left, width - right, y + lane_h))
        for seg in lane.segments:
            x0, x1 = x(seg.start), x(seg.end)
            out.append(
                f'<rect x="{x0:.1f}" y="{y + 6}" width="{max(x1 - x0, 1.5):.1f}" '
                f'height="{lane_h - 12}" fill="{_colour(seg)}" rx="2"><title>'
                f"{h(lane.requirement)}: {h(seg.status)} from {seg.start}</title></rect>"
            )
            if x1 - x0 > 60:
                out.append(
                    f'<text x="{x0 + 4:.1f}" y="{y + lane_h / 2 + 4:.1f}" fill="#222">'
                    f"{h(seg.status.replace('_', ' '))}</text>"
                )
    out.append(_lane_label("DCC steps", (dcc_top + bottom) / 2))
    for n, step in enumerate(t.dcc):
        out += _dcc_step(step, dcc_top + 10 + n * step_h, x, width - right)
    out.append(_rule(left, width - right, bottom, "#999"))
    for tick in _ticks(t.start, t.end):
        tx = x(tick)
        out.append(_rule(tx, tx, bottom, "#999", bottom + 4))
        out.append(
            f'<text x="{tx:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#555">'
            f"{tick.strftime('%d %b %Y')}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _lane_label(text: str, middle: float) -> str:
    return f'<text x="8" y="{middle + 4:.1f}" font-weight="600">{escape(text)}</text>'


def _rule(x1: float, x2: float, y: float, colour: str = "#eee", y2: float | None = None) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y if y2 is None else y2:.1f}" '
        f'stroke="{colour}"/>'
    )


def _colour(seg: Segment) -> str:
    if seg.status in ("not_started", "awaiting_requirement"):
        return _IDLE
    return _BAD if seg.status in _BAD_STATUS else _COLOURS[seg.met]


def _dcc_step(step: DccMark, row: float, x: Any, right_edge: float) -> list[str]:
    """One DCC step: a bar from opened to due, its label, done as a dot, a miss as a cross."""
    h = escape
    x0, x1 = x(step.opened_on), x(step.due_on)
    missed = step.status in ("missed", "overdue")
    colour = "#c62828" if missed else "#1565c0"
    late = f", {step.working_days_late} WD late" if step.working_days_late else ""
    label = f"{step.step.replace('_', ' ')} (cycle {step.cycle}): {step.working_days} WD{late}"
    out = [
        f'<line x1="{x0:.1f}" y1="{row}" x2="{max(x1, x0 + 2):.1f}" y2="{row}" '
        f'stroke="{colour}" stroke-width="4"><title>{h(label)}: opened {step.opened_on}, due '
        f"{step.due_on}, {h(step.status)}</title></line>"
    ]
    end = max(x1, x(step.done_on) if step.done_on else x1)
    # Labels stay inside the chart: left of the bar when the bar ends near the right edge.
    if end + 8 + 6.2 * len(label) < right_edge:
        out.append(f'<text x="{end + 8:.1f}" y="{row + 4}" fill="{colour}">{h(label)}</text>')
    else:
        out.append(
            f'<text x="{x0 - 6:.1f}" y="{row + 4}" text-anchor="end" fill="{colour}">'
            f"{h(label)}</text>"
        )
    if step.done_on is not None:
        out.append(
            f'<circle cx="{x(step.done_on):.1f}" cy="{row}" r="3.5" fill="{colour}">'
            f"<title>done {step.done_on}</title></circle>"
        )
    if missed:
        cx = x(step.due_on)
        out.append(
            f'<path d="M{cx - 4:.1f},{row - 4} l8,8 m0,-8 l-8,8" stroke="#c62828" '
            f'stroke-width="2"><title>missed: due {step.due_on}{h(late)}</title></path>'
        )
    return out


def _ticks(start: date, end: date, most: int = 8) -> list[date]:
    """Month starts between ``start`` and ``end``, thinned to at most ``most``."""
    ticks = []
    d = date(start.year, start.month, 1)
    while d <= end:
        if d >= start:
            ticks.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    if not ticks:
        return [start, end]
    step = max(1, len(ticks) // most + (len(ticks) % most > 0))
    return ticks[::step]


def render_table(audit: CaseAudit) -> list[tuple[str, str, str, list[str]]]:
    """Rows for the terminal: (result, check, detail, finding lines)."""
    return [(status_word(c), c.name, c.detail, findings_lines(c)) for c in audit.checks]
