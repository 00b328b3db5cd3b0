"""`uep report ...`: the read models as reports a SECAS analyst or compliance lead reads.

Each report reads one projection table (kept by the projector) and prints a table on a terminal
or JSON with ``--json``. Mandate statuses are judged as of today, from the stored forecast.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from domain.calendar import WorkingDayCalendar
from domain.deadlines import dcc_step_standing
from domain.history import case_calendar
from domain.mandates import (
    CaseMandate,
    Mandate,
    party_mandate_status,
    party_srept_completed_on,
)
from domain.state import CaseState
from uep.cli.common import OK, UNREACHABLE, USAGE, CliError, print_table, run_command
from uep.connect import settings, store_pool

DCC_SQL = """
SELECT case_id, step, cycle, opened_on, due_on, done_on, reported_missed
FROM dcc_deadlines
ORDER BY due_on, case_id, cycle
"""

DCC_CASES_SQL = "SELECT case_id, state FROM dcc_deadlines_cases"

MANDATES_SQL = """
SELECT party_id, party_name, role, case_status, mandate_due_on, mandate_source, derogated,
       completed_on, forecast_completion_on, state->>'srept_completed_on' AS srept_completed_on
FROM mandates ORDER BY party_id, role
"""

USER_IDS_SQL = """
SELECT user_id, party_id, party_name, role, status, changed_on, case_id
FROM user_id_registry WHERE user_id IS NOT NULL ORDER BY user_id, party_id, role
"""

TIMELINE_SQL = """
SELECT version, effective_on, recorded_at, who, what FROM case_timeline
WHERE case_id = $1 ORDER BY version
"""


def _jsonable(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))


async def _fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    async with store_pool(settings()) as pool:
        try:
            return [dict(r) for r in await pool.fetch(sql, *args)]
        except asyncpg.UndefinedTableError as err:
            raise CliError(
                f"{err}; is the projector running (`uep dev` starts it)?", UNREACHABLE
            ) from err


def dcc_steps_today(
    rows: list[dict[str, Any]], calendars: dict[str, WorkingDayCalendar], today: date
) -> list[dict[str, Any]]:
    """Each DCC step judged as of today on its case's own calendar (the stored rows are judged
    as of each case's latest event), by the rule ``uep case show`` uses."""
    out = []
    for r in rows:
        standing = dcc_step_standing(
            r["due_on"], r["done_on"], r["reported_missed"], today, calendars[r["case_id"]]
        )
        shown = {k: v for k, v in r.items() if k != "reported_missed"}
        out.append(
            {**shown, "status": standing.status, "working_days_late": standing.working_days_late}
        )
    return out


def case_calendars(states: list[dict[str, Any]], today: date) -> dict[str, WorkingDayCalendar]:
    """Each case's own Working-Day calendar, from its folded state."""
    out: dict[str, WorkingDayCalendar] = {}
    for row in states:
        state = CaseState.model_validate_json(row["state"])
        out[row["case_id"]] = case_calendar(state, today)
    return out


def mandates_by_party(rows: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """One line per Party: roles done and open, the mandate date and its status today."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(r["party_id"], []).append(r)
    out = []
    for party_id, cases in grouped.items():
        status, due = party_mandate_status(
            (
                CaseMandate(
                    mandate=Mandate(
                        due=r["mandate_due_on"],
                        source=r["mandate_source"],
                        derogated=r["derogated"],
                    ),
                    completed_on=r["completed_on"],
                    forecast_completion_on=r["forecast_completion_on"],
                )
                for r in cases
            ),
            today,
        )
        srept = party_srept_completed_on(
            date.fromisoformat(r["srept_completed_on"]) if r.get("srept_completed_on") else None
            for r in cases
        )
        out.append(
            {
                "party_id": party_id,
                "party_name": cases[0]["party_name"],
                "done": ", ".join(r["role"] for r in cases if r["case_status"] == "completed"),
                "open": ", ".join(r["role"] for r in cases if r["case_status"] != "completed"),
                "mandate_due_on": due,
                "status": str(status),
                "srept_completed_on": srept.isoformat() if srept else None,
            }
        )
    return out


async def _report(args: argparse.Namespace) -> int:
    today = datetime.now(UTC).date()
    match args.report:
        case "dcc":
            calendars = case_calendars(await _fetch(DCC_CASES_SQL), today)
            rows = dcc_steps_today(await _fetch(DCC_SQL), calendars, today)
            rows = [r for r in rows if args.status in (None, r["status"])]
            columns = ["case_id", "step", "cycle", "opened_on", "due_on", "done_on", "status",
                       "working_days_late"]  # fmt: skip
            title = "DCC completion steps (2 / 5 / 2 Working Days)"
        case "mandates":
            rows = mandates_by_party(await _fetch(MANDATES_SQL), today)
            columns = ["party_id", "party_name", "done", "open", "mandate_due_on", "status",
                       "srept_completed_on"]  # fmt: skip
            title = f"DCC User mandates as of {today.isoformat()}"
        case "user-ids":
            rows = await _fetch(USER_IDS_SQL)
            columns = ["user_id", "party_id", "party_name", "role", "status", "changed_on"]
            title = "User ID registry"
        case _:
            if not args.case_id:
                raise CliError("timeline: give a CASE_ID", USAGE)
            rows = await _fetch(TIMELINE_SQL, args.case_id)
            columns = ["version", "effective_on", "who", "what"]
            title = f"{args.case_id}: timeline"
    if args.json:
        print(_jsonable(rows))
    else:
        print_table(title, rows, columns)
    return OK


def add_parser(sub: Any) -> None:
    """Register `uep report dcc|mandates|user-ids|timeline`."""
    p = sub.add_parser(
        "report", help="read-model reports: DCC deadlines, mandates, User IDs, timelines"
    )
    p.add_argument("report", choices=["dcc", "mandates", "user-ids", "timeline"])
    p.add_argument("case_id", nargs="?", help="for `timeline`: the case")
    p.add_argument("--status", choices=["open", "met", "missed", "overdue"], help="for `dcc`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_command("uep report", _report))
