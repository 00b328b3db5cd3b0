"""Deadlines that bind: the Working-Day counts of the User Entry Process, and DCC lateness.

These are rules, not estimates: a Party's UEPT notice is refused when it is short, and the DCC's
2 / 5 / 2 Working-Day completion steps are SLAs whose misses are recorded and reported. Whether
a DCC step was met, and by how many Working Days it was late, is decided here only
(:func:`dcc_step_standing`): the case view, the DCC-deadlines read model and the DCC report all
ask this function, on the case's own calendar, so they cannot disagree. Forecast-only figures
live in :mod:`domain.estimates`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.calendar import WorkingDayCalendar
from domain.errors import CalendarRangeError
from domain.events import DccStep

GUIDANCE = "User Entry Process Guidance v1.3 (June 2018)"
CHECKLIST = "SEC Checklist for Small Suppliers v1.3 (Dec 2017), indicative timeline"

UEPT_NOTICE_WD = 60
"""Working Days' notice of the date a Party wants to start UEPT."""

DCC_RECEIPT_WD = 2
"""The DCC confirms receipt of the Test Completion Report within 2 Working Days."""

DCC_REVIEW_WD = 5
"""The DCC reviews the report within 5 Working Days of receipt: concluded or further testing."""

DCC_CERTIFICATE_WD = 2
"""The DCC issues the Test Completion Certificate within 2 Working Days of a successful quality
gate review meeting."""

ASSESSMENT_BOOKING_NOTICE_WEEKS = 12
"""Twelve weeks' notice to book a Full Privacy Assessment (for security, SECAS practice)."""

STEP_WORKING_DAYS: dict[DccStep, int] = {
    "report_receipt": DCC_RECEIPT_WD,
    "report_review": DCC_REVIEW_WD,
    "certificate": DCC_CERTIFICATE_WD,
}
"""Working Days the DCC has for each completion step."""

SOURCES: dict[str, str] = {
    "UEPT_NOTICE_WD": f"{GUIDANCE}, s.5.2; {CHECKLIST}",
    "DCC_RECEIPT_WD": f"{GUIDANCE}, s.5.3; {CHECKLIST}, note 3a",
    "DCC_REVIEW_WD": f"{GUIDANCE}, s.5.3; {CHECKLIST}, note 3b",
    "DCC_CERTIFICATE_WD": f"{GUIDANCE}, s.5.3; {CHECKLIST}, note 3c",
    "ASSESSMENT_BOOKING_NOTICE_WEEKS": f"{GUIDANCE}, s.7",
}
"""Where each binding figure above is stated."""


def uept_earliest_start(notice_on: date, calendar: WorkingDayCalendar, revision: int = 2) -> date:
    """The earliest UEPT start: 60 Working Days after the notice (guidance s.5.2); from
    revision 2 a notice given on a non-Working Day counts from the next Working Day."""
    counted_from = notice_on
    if revision >= 2:
        counted_from = calendar.next_working_day_on_or_after(notice_on)
    return calendar.add_working_days(counted_from, UEPT_NOTICE_WD)


DccStepStatus = Literal["open", "overdue", "met", "missed"]


class DccStepStanding(BaseModel):
    """How a DCC completion step stands on a day: its status and Working Days late."""

    model_config = ConfigDict(frozen=True)

    status: DccStepStatus
    working_days_late: int = 0


def _late(calendar: WorkingDayCalendar, due_on: date, end: date) -> int:
    """Working Days after ``due_on`` up to ``end``; 0 when on time or beyond the calendar."""
    if end <= due_on:
        return 0
    try:
        return max(0, calendar.working_days_between(due_on, end))
    except CalendarRangeError:
        return 0


def dcc_step_standing(
    due_on: date,
    done_on: date | None,
    reported_missed: bool,
    today: date,
    calendar: WorkingDayCalendar,
) -> DccStepStanding:
    """Whether a DCC step was met, is open, overdue or missed, and how late, as of ``today``.

    Done on or before its due day: met. Done later: missed, late by the Working Days after the
    due day up to the day it was done. Not done: missed once the case recorded the miss,
    otherwise overdue while ``today`` is past the due day (late by the Working Days so far),
    else open. ``calendar`` is the case's own Working-Day calendar.
    """
    if done_on is not None:
        status: DccStepStatus = "met" if done_on <= due_on else "missed"
        return DccStepStanding(status=status, working_days_late=_late(calendar, due_on, done_on))
    late = _late(calendar, due_on, today)
    if reported_missed:
        return DccStepStanding(status="missed", working_days_late=late)
    return DccStepStanding(status="overdue" if today > due_on else "open", working_days_late=late)
