"""Commands on the case as a whole: withdrawal, and corrections of its Working-Day calendar."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.deadlines import STEP_WORKING_DAYS
from domain.errors import InvalidInputError
from domain.handlers.uept import uept_earliest_start
from domain.state import CaseState


def withdraw(
    state: CaseState, cmd: c.WithdrawCase, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The Party withdraws; its User ID claim is released with the event."""
    return [ev.CaseWithdrawn(effective_on=on, reason=cmd.reason)]


def correct_calendar(
    state: CaseState, cmd: c.CorrectCalendar, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """Change the non-working days and recompute every open DCC deadline."""
    if not cmd.add_holidays and not cmd.remove_holidays:
        raise InvalidInputError("give add_holidays or remove_holidays", field="add_holidays")
    for d in [*cmd.add_holidays, *cmd.remove_holidays]:
        if not cal.first_year <= d.year <= cal.last_year:
            raise InvalidInputError(
                f"{d.isoformat()} is outside the calendar's years {cal.first_year}-{cal.last_year}",
                field="add_holidays",
            )
    new = cal.corrected(cmd.add_holidays, cmd.remove_holidays)
    recomputed = {
        f"{s.step}:{s.cycle}": new.add_working_days(s.opened_on, STEP_WORKING_DAYS[s.step])
        for s in state.uept.dcc_steps
        if s.done_on is None
    }
    earliest = None
    u = state.uept
    if state.revision >= 2 and u.phase == "notice_given" and u.notice_given_on is not None:
        earliest = uept_earliest_start(state, u.notice_given_on, new)
    return [
        ev.CalendarCorrected(
            effective_on=on,
            added_holidays=sorted(cmd.add_holidays),
            removed_holidays=sorted(cmd.remove_holidays),
            recomputed=recomputed,
            earliest_start_on=earliest,
        )
    ]
