"""Report shaping that depends on today: overdue DCC steps, mandate status per Party."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.calendar_data import build_calendar
from uep.cli.report import dcc_steps_today, mandates_by_party

TODAY = date(2026, 11, 23)
EW = build_calendar("england-and-wales", 2025, 2027)


def row(
    role: str, status: str, due: date | None, completed: date | None = None, **kw: Any
) -> dict[str, Any]:
    return {
        "party_id": kw.get("party_id", "acme"),
        "party_name": "Acme",
        "role": role,
        "case_status": status,
        "mandate_due_on": due,
        "mandate_source": "guidance s.2.2",
        "derogated": kw.get("derogated", False),
        "completed_on": completed,
        "forecast_completion_on": kw.get("forecast"),
    }


def step(due: date, done: date | None = None, missed: bool = False) -> dict[str, Any]:
    return {"case_id": "c", "due_on": due, "done_on": done, "reported_missed": missed}


def test_dcc_steps_are_judged_today() -> None:
    rows = [
        step(date(2026, 11, 20)),
        step(date(2026, 11, 23)),
        step(date(2026, 11, 2), done=date(2026, 11, 2)),
        step(date(2026, 11, 2), done=date(2026, 11, 4)),
        step(date(2026, 11, 18), missed=True),
    ]
    shown = dcc_steps_today(rows, {"c": EW}, TODAY)
    assert [r["status"] for r in shown] == ["overdue", "open", "met", "missed", "missed"]
    # Fri 20 Nov to Mon 23 Nov 2026; Mon 2 to Wed 4 Nov; Wed 18 to Mon 23 Nov
    assert [r["working_days_late"] for r in shown] == [1, 0, 0, 2, 3]
    assert all("reported_missed" not in r for r in shown)


def test_party_mandate_takes_its_worst_role() -> None:
    rows = [
        row("gas_supplier", "completed", date(2017, 11, 25), completed=date(2017, 10, 1)),
        {**row("export_supplier", "open", None), "srept_completed_on": "2017-09-01"},
        row("import_supplier", "open", date(2017, 11, 25)),
        row("other_user", "open", None),
        row("electricity_distributor", "open", None, party_id="grid"),
    ]
    by_party = {p["party_id"]: p for p in mandates_by_party(rows, TODAY)}
    assert by_party["acme"]["status"] == "breached"
    assert by_party["acme"]["done"] == "gas_supplier"
    assert by_party["acme"]["open"] == "export_supplier, import_supplier, other_user"
    assert by_party["acme"]["srept_completed_on"] == "2017-09-01"
    assert by_party["grid"]["srept_completed_on"] is None
    assert by_party["grid"]["status"] == "no_mandate"


def test_derogated_party_is_reported_as_such() -> None:
    rows = [row("gas_supplier", "open", date(2017, 11, 25), derogated=True)]
    assert mandates_by_party(rows, TODAY)[0]["status"] == "derogated"
