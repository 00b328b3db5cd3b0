"""Details of the case view, the DCC lateness count and the stored form of events that the
first mutation run showed unchecked. Literal dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.calendar_data import build_calendar
from domain.deadlines import dcc_step_standing
from domain.errors import InvalidInputError
from domain.history import view_as_of
from domain.progress import forecast_completion
from domain.view import RejectedMessage, build_view
from tests.unit.test_decider import CAL, START, given, in_testing, started, when
from tests.unit.test_refusals import rev3

PLAIN = WorkingDayCalendar(region="weekdays", first_year=2022, last_year=2022, holidays=[])


def test_an_answer_on_the_saturday_after_a_friday_due_day_is_missed_by_no_working_day() -> None:
    standing = dcc_step_standing(
        date(2022, 6, 10), date(2022, 6, 11), False, date(2022, 7, 1), PLAIN
    )
    assert (standing.status, standing.working_days_late) == ("missed", 0)
    open_ = dcc_step_standing(date(2022, 6, 10), None, False, date(2022, 6, 12), PLAIN)
    assert (open_.status, open_.working_days_late) == ("overdue", 0)


def test_lateness_beyond_the_calendar_is_not_counted() -> None:
    standing = dcc_step_standing(
        date(2022, 12, 30), date(2023, 1, 3), False, date(2023, 1, 3), PLAIN
    )
    assert (standing.status, standing.working_days_late) == ("missed", 0)


def test_an_event_is_stored_as_json_ready_data() -> None:
    data = ev.event_to_data(ev.UserIdProposed(effective_on=date(2025, 6, 3), user_id="ab"))
    assert data == {
        "effective_on": "2025-06-03",
        "reported_after_the_fact": False,
        "type": "UserIdProposed",
        "user_id": "ab",
    }


def test_the_view_passes_on_the_closing_days_the_forecast_and_a_missed_step() -> None:
    s = in_testing()
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=date(2026, 3, 2))))
    s = given(
        s,
        ev.DccDeadlineMissed(
            effective_on=date(2026, 3, 5), step="report_receipt", cycle=1, due_on=date(2026, 3, 4)
        ),
    )
    view = build_view(s, date(2026, 3, 10), CAL)
    assert [(d.status, d.working_days_late) for d in view.dcc_steps] == [("missed", 4)]
    assert view.forecast_completion_on == forecast_completion(s, date(2026, 3, 10), CAL)
    assert view.forecast_completion_on is not None
    withdrawn = given(s, ev.CaseWithdrawn(effective_on=date(2026, 3, 11), reason="x"))
    closed = build_view(withdrawn, date(2026, 3, 12), CAL)
    assert (closed.withdrawn_on, closed.completed_on, closed.status) == (
        date(2026, 3, 11),
        None,
        "withdrawn",
    )
    done = given(s).model_copy(update={"status": "completed", "completed_on": date(2026, 5, 1)})
    finished = build_view(done, date(2026, 6, 1), CAL)
    assert (finished.completed_on, finished.forecast_completion_on) == (
        date(2026, 5, 1),
        date(2026, 5, 1),
    )


def test_no_forecast_beyond_the_calendar() -> None:
    short = build_calendar("england-and-wales", 2025, 2025)
    view = build_view(given(started()), date(2025, 12, 1), short)
    assert view.forecast_completion_on is None


def test_the_mandate_status_in_the_view() -> None:
    s = given(started())  # mandate 25 Nov 2017
    derogated = s.model_copy(update={"mandate_derogated": True})
    assert build_view(derogated, START, CAL).mandate_status == "derogated"
    assert build_view(derogated, START, CAL).mandate_derogated is True
    met = s.model_copy(update={"status": "completed", "completed_on": date(2017, 11, 24)})
    assert build_view(met, START, CAL).mandate_status == "met"
    ahead = s.model_copy(update={"mandate_due_on": date(2030, 1, 1)})
    assert build_view(ahead, START, CAL).mandate_status == "on_track"  # forecast within 2025/26


def test_view_as_of_defaults_and_passes_on_rejected_messages() -> None:
    rejected = RejectedMessage(
        name="accept_user_id", received_at=datetime(2025, 6, 3, tzinfo=UTC), error="octets"
    )
    s = given(started())
    assert view_as_of(s, START).stream_version == 0
    assert view_as_of(s, START, 3, [rejected]).rejected_messages == [rejected]


def test_a_user_id_outside_two_ranges_lists_both() -> None:
    ranges = (("90b3d51f30010000", "90b3d51f300100ff"), ("90b3d51f30020000", "90b3d51f300200ff"))
    s = rev3(ranges)
    with pytest.raises(InvalidInputError) as refused:
        when(s, c.ProposeUserId(user_id="90b3d51f30030000"))
    assert (
        "(90-B3-D5-1F-30-01-00-00 to 90-B3-D5-1F-30-01-00-FF, "
        "90-B3-D5-1F-30-02-00-00 to 90-B3-D5-1F-30-02-00-FF)"
    ) in refused.value.message


def test_a_calendar_correction_in_the_first_and_last_year_and_outside_a_notice() -> None:
    s = given(started())
    [first] = when(s, c.CorrectCalendar(add_holidays=[date(2019, 1, 2)]))  # CAL: 2019-2032
    [last] = when(s, c.CorrectCalendar(remove_holidays=[date(2032, 12, 27)]))
    assert isinstance(first, ev.CalendarCorrected) and isinstance(last, ev.CalendarCorrected)
    assert (first.added_holidays, last.removed_holidays) == (
        [date(2019, 1, 2)],
        [date(2032, 12, 27)],
    )
    [testing] = when(in_testing(), c.CorrectCalendar(add_holidays=[date(2026, 5, 12)]))
    assert isinstance(testing, ev.CalendarCorrected) and testing.earliest_start_on is None
