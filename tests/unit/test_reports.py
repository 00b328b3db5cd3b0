"""Report shaping that depends on today: overdue DCC steps, mandate status per Party."""

from __future__ import annotations

from datetime import date
from typing import Any

from uep.cli.report import dcc_steps_today, mandates_by_party

TODAY = date(2026, 11, 23)


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


def test_open_dcc_step_past_due_is_overdue_today() -> None:
    rows = [
        {"status": "open", "due_on": date(2026, 11, 20)},
        {"status": "open", "due_on": date(2026, 11, 23)},
        {"status": "met", "due_on": date(2026, 11, 1)},
    ]
    shown = dcc_steps_today(rows, TODAY)
    assert [r["status"] for r in shown] == ["overdue", "open", "met"]
    assert shown[0]["working_days_late"] == 1  # Fri 20 Nov to Mon 23 Nov 2026


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
