"""`uep report ...`: the read models as reports a SECAS analyst or compliance lead reads.

Each report reads one projection table (kept by the projector) and prints a table on a terminal
or JSON with ``--json``. Mandate statuses are judged as of today, from the stored forecast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from domain.mandates import Mandate, mandate_status

EXIT_OK, EXIT_USAGE, EXIT_UNREACHABLE = 0, 2, 3

DCC_SQL = """
SELECT case_id, step, cycle, opened_on, due_on, done_on, status, working_days_late
FROM dcc_deadlines
ORDER BY due_on, case_id, cycle
"""

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


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row[c]) for c in columns))
    Console(width=None if sys.stdout.isatty() else 200).print(table)


async def _fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    from uep.cli.events import store_pool

    async with store_pool() as pool:
        try:
            return [dict(r) for r in await pool.fetch(sql, *args)]
        except asyncpg.UndefinedTableError as err:
            raise LookupError(f"{err}; is the projector running (`uep dev` starts it)?") from err


def dcc_steps_today(rows: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """An open step past its due date is overdue today, late by the Working Days so far
    (England and Wales calendar); the stored rows cannot know today."""
    from domain.calendar_data import build_calendar

    calendar = build_calendar("england-and-wales", 2016, max(today.year + 1, 2040))
    out = []
    for r in rows:
        if r["status"] == "open" and r["due_on"] < today:
            late = calendar.working_days_between(r["due_on"], today)
            r = {**r, "status": "overdue", "working_days_late": late}
        out.append(r)
    return out


def mandates_by_party(rows: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """One line per Party: roles done and open, the mandate date and its status today."""
    parties: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = parties.setdefault(
            r["party_id"],
            {"party_id": r["party_id"], "party_name": r["party_name"], "done": [], "open": [],
             "statuses": [], "mandate_due_on": None, "srept_completed_on": None},
        )  # fmt: skip
        # SREPT (SEC L7) is a Party's, not a role's: recorded on any of its cases, it counts
        p["srept_completed_on"] = p["srept_completed_on"] or r.get("srept_completed_on")
        (p["done"] if r["case_status"] == "completed" else p["open"]).append(r["role"])
        mandate = Mandate(
            due=r["mandate_due_on"], source=r["mandate_source"], derogated=r["derogated"]
        )
        status = mandate_status(mandate, r["completed_on"], r["forecast_completion_on"], today)
        if r["mandate_due_on"] is not None or r["derogated"]:
            p["mandate_due_on"] = p["mandate_due_on"] or r["mandate_due_on"]
            p["statuses"].append(str(status))
    order = ["breached", "at_risk", "on_track", "derogated", "met"]
    out = []
    for p in parties.values():
        statuses = p.pop("statuses")
        worst = next((s for s in order if s in statuses), "no_mandate")
        out.append(
            {**p, "done": ", ".join(p["done"]), "open": ", ".join(p["open"]), "status": worst}
        )
    return out


async def _report(args: argparse.Namespace) -> int:
    today = datetime.now(UTC).date()
    match args.report:
        case "dcc":
            rows = dcc_steps_today(await _fetch(DCC_SQL), today)
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
                print("uep report timeline: give a CASE_ID", file=sys.stderr)
                return EXIT_USAGE
            rows = await _fetch(TIMELINE_SQL, args.case_id)
            columns = ["version", "effective_on", "who", "what"]
            title = f"{args.case_id}: timeline"
    if args.json:
        print(_jsonable(rows))
    else:
        _table(title, rows, columns)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Run one report; exit 3 when the database is out of reach."""
    from uep.cli.events import StoreUnreachable

    try:
        return asyncio.run(_report(args))
    except (StoreUnreachable, LookupError) as err:
        print(f"uep report: {err}", file=sys.stderr)
        return EXIT_UNREACHABLE


def add_parser(sub: Any) -> None:
    """Register `uep report dcc|mandates|user-ids|timeline`."""
    p = sub.add_parser(
        "report", help="read-model reports: DCC deadlines, mandates, User IDs, timelines"
    )
    p.add_argument("report", choices=["dcc", "mandates", "user-ids", "timeline"])
    p.add_argument("case_id", nargs="?", help="for `timeline`: the case")
    p.add_argument("--status", choices=["open", "met", "missed", "overdue"], help="for `dcc`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)
