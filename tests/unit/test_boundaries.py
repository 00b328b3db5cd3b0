"""Working-Day boundaries as literal dates, checked independently of the project's calendar code.

Every expected date below is written out by hand. ``_oracle_add`` re-derives each from a literal
list of England and Wales bank holidays (gov.uk) and plain weekday arithmetic, so a wrong
literal fails here too; neither uses :func:`domain.calendar_data.easter_sunday` or the
``holidays`` package. The DCC's 2 / 5 / 2 Working-Day steps are answered on their due day (met)
and one day later (missed); a UEPT notice of exactly 60 Working Days is accepted and one day
short refused.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.calendar_data import build_calendar, easter_sunday
from domain.deadlines import dcc_step_standing, uept_earliest_start
from domain.decider import decide, missed_deadlines, start_case, watchable_steps
from domain.errors import InvalidInputError
from domain.roles import UserRole
from domain.state import CaseState, fold

EW = build_calendar("england-and-wales", 2016, 2035)
TODAY = date(2026, 11, 23)
CASE_START = date(2019, 9, 2)
UID = "90b3d51f30010000"

# England and Wales bank holidays on weekdays, 2020-2023, as published (not computed).
BANK_HOLIDAYS: dict[int, list[date]] = {
    2020: [
        date(2020, 1, 1),
        date(2020, 4, 10),  # Good Friday
        date(2020, 4, 13),  # Easter Monday
        date(2020, 5, 8),  # VE Day 75: the Early May bank holiday moved from Mon 4 May
        date(2020, 5, 25),
        date(2020, 8, 31),
        date(2020, 12, 25),
        date(2020, 12, 28),  # Boxing Day fell on a Saturday
    ],
    2021: [
        date(2021, 1, 1),
        date(2021, 4, 2),  # Good Friday
        date(2021, 4, 5),
        date(2021, 5, 3),
        date(2021, 5, 31),
        date(2021, 8, 30),
        date(2021, 12, 27),  # Christmas Day fell on a Saturday
        date(2021, 12, 28),  # Boxing Day fell on a Sunday
    ],
    2022: [
        date(2022, 1, 3),  # New Year's Day fell on a Saturday
        date(2022, 4, 15),  # Good Friday
        date(2022, 4, 18),
        date(2022, 5, 2),
        date(2022, 6, 2),  # Spring bank holiday moved from Mon 30 May for the Platinum Jubilee
        date(2022, 6, 3),  # Platinum Jubilee
        date(2022, 8, 29),
        date(2022, 9, 19),  # State Funeral of Queen Elizabeth II
        date(2022, 12, 26),
        date(2022, 12, 27),  # Christmas Day fell on a Sunday
    ],
    2023: [
        date(2023, 1, 2),  # New Year's Day fell on a Sunday
        date(2023, 4, 7),  # Good Friday
        date(2023, 4, 10),
        date(2023, 5, 1),
        date(2023, 5, 8),  # Coronation of King Charles III
        date(2023, 5, 29),
        date(2023, 8, 28),
        date(2023, 12, 25),
        date(2023, 12, 26),
    ],
}
_OFF = frozenset(d for days in BANK_HOLIDAYS.values() for d in days)

GOOD_FRIDAYS = [
    date(2016, 3, 25),
    date(2017, 4, 14),
    date(2018, 3, 30),
    date(2019, 4, 19),
    date(2020, 4, 10),
    date(2021, 4, 2),
    date(2022, 4, 15),
    date(2023, 4, 7),
    date(2024, 3, 29),
    date(2025, 4, 18),
    date(2026, 4, 3),
    date(2027, 3, 26),
    date(2028, 4, 14),
    date(2029, 3, 30),
    date(2030, 4, 19),
    date(2031, 4, 11),
    date(2032, 3, 26),
    date(2033, 4, 15),
    date(2034, 4, 7),
    date(2035, 3, 23),
]


def _oracle_add(start: date, n: int) -> date:
    """The n-th weekday after ``start`` that is not a listed bank holiday (2020-2023 only)."""
    day = start
    while n:
        day += timedelta(days=1)
        assert 2020 <= day.year <= 2023, "the oracle's holiday list covers 2020-2023"
        if day.weekday() < 5 and day not in _OFF:
            n -= 1
    return day


def _fold(events: list[ev.Event], state: CaseState | None = None) -> CaseState:
    folded = fold(events, state)
    assert folded is not None
    return folded


def _case(*events: ev.Event) -> CaseState:
    cmd = c.StartCase(party=_party(), role=UserRole.GAS_SUPPLIER, started_on=CASE_START)
    return _fold([*start_case(cmd, "uep-acme-gas_supplier", TODAY, 2), *events])


def _party() -> dict[str, Any]:
    return {
        "party_id": "acme",
        "party_name": "Acme Energy",
        "category": "small_supplier",
        "licences": ["gas_supply", "electricity_supply"],
    }


def _accepted_id() -> list[ev.Event]:
    return [
        ev.UserIdProposed(effective_on=CASE_START, user_id=UID),
        ev.UserIdAccepted(effective_on=CASE_START, user_id=UID),
    ]


def _testing() -> CaseState:
    """A case in UEPT testing since Mon 25 Nov 2019, 60 Working Days after Mon 2 Sep 2019."""
    return _case(
        *_accepted_id(),
        ev.UeptNoticeGiven(
            effective_on=CASE_START,
            planned_start_on=date(2019, 11, 25),
            earliest_start_on=date(2019, 11, 25),
        ),
        ev.UeptEntryCriteriaConfirmed(effective_on=CASE_START, criteria=list(ev.ENTRY_CRITERIA)),
        ev.UeptStarted(effective_on=date(2019, 11, 25), cycle=1),
    )


def _then(state: CaseState, *commands: c.Command) -> CaseState:
    for command in commands:
        state = _fold(decide(state, command, TODAY, EW), state)
    return state


def _types(events: list[ev.Event]) -> list[str]:
    return [e.type for e in events]


# -- the calendar itself ----------------------------------------------------------------------
# Each test builds its calendar when it runs, not at import: a calendar built at import time is
# the unmutated one under mutation testing, so a broken build_calendar would go unseen.


def ew() -> WorkingDayCalendar:
    """England and Wales, 2016-2035, built anew."""
    return build_calendar("england-and-wales", 2016, 2035)


@pytest.mark.parametrize("year", sorted(BANK_HOLIDAYS))
def test_the_non_working_weekdays_of_a_year_are_exactly_the_published_bank_holidays(
    year: int,
) -> None:
    assert [d for d in ew().holidays if d.year == year] == BANK_HOLIDAYS[year]


@pytest.mark.parametrize("good_friday", GOOD_FRIDAYS, ids=lambda d: str(d.year))
def test_good_friday_and_easter_monday_are_not_working_days_and_maundy_thursday_is(
    good_friday: date,
) -> None:
    assert good_friday.weekday() == 4
    assert not ew().is_working_day(good_friday)
    assert not ew().is_working_day(good_friday + timedelta(days=3))  # Easter Monday
    assert ew().is_working_day(good_friday - timedelta(days=1))
    assert ew().add_working_days(good_friday - timedelta(days=1), 1) == good_friday + timedelta(4)


@pytest.mark.parametrize("good_friday", GOOD_FRIDAYS, ids=lambda d: str(d.year))
def test_the_only_non_working_weekdays_around_easter_are_good_friday_and_easter_monday(
    good_friday: date,
) -> None:
    # a wrong Easter in any one year adds a day off elsewhere in March or April
    spring = [
        d for d in ew().holidays if date(good_friday.year, 3, 1) <= d < date(good_friday.year, 5, 1)
    ]
    assert spring == [good_friday, good_friday + timedelta(days=3)]


@pytest.mark.parametrize(
    ("day", "what"),
    [
        (date(2020, 5, 8), "VE Day 75"),
        (date(2022, 6, 2), "Spring bank holiday, moved for the Platinum Jubilee"),
        (date(2022, 6, 3), "Platinum Jubilee"),
        (date(2022, 9, 19), "State Funeral of Queen Elizabeth II"),
        (date(2023, 5, 8), "Coronation of King Charles III"),
        (date(2021, 12, 27), "Christmas Day substitute (25 Dec 2021 a Saturday)"),
        (date(2021, 12, 28), "Boxing Day substitute (26 Dec 2021 a Sunday)"),
        (date(2022, 12, 26), "Boxing Day 2022"),
        (date(2022, 12, 27), "Christmas Day substitute (25 Dec 2022 a Sunday)"),
        (date(2027, 12, 27), "Christmas Day substitute (25 Dec 2027 a Saturday)"),
        (date(2027, 12, 28), "Boxing Day substitute (26 Dec 2027 a Sunday)"),
    ],
)
def test_one_off_and_substitute_bank_holidays_are_not_working_days(day: date, what: str) -> None:
    assert day.weekday() < 5, what
    assert not ew().is_working_day(day), what


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2020, 5, 4), "the Early May bank holiday of 2020 moved to VE Day, 8 May"),
        (date(2022, 5, 30), "the Spring bank holiday of 2022 moved to 2 June"),
        (date(2021, 12, 24), "Christmas Eve is a Working Day"),
        (date(2022, 12, 28), "the day after the 2022 Christmas substitute"),
    ],
)
def test_days_a_moved_holiday_left_behind_are_working_days(day: date, why: str) -> None:
    assert ew().is_working_day(day), why


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2020, 5, 7), 1, date(2020, 5, 11)),  # over VE Day
        (date(2022, 6, 1), 1, date(2022, 6, 6)),  # over the Jubilee
        (date(2022, 9, 16), 1, date(2022, 9, 20)),  # over the State Funeral
        (date(2023, 5, 5), 1, date(2023, 5, 9)),  # over the Coronation
        (date(2021, 12, 24), 1, date(2021, 12, 29)),  # over a Saturday Christmas
        (date(2022, 12, 23), 1, date(2022, 12, 28)),  # over a Sunday Christmas
    ],
)
def test_adding_working_days_over_one_off_holidays(start: date, n: int, expected: date) -> None:
    assert _oracle_add(start, n) == expected
    assert ew().add_working_days(start, n) == expected
    assert ew().working_days_between(start, expected) == n


# -- 60 Working Days' notice of UEPT (guidance s.5.2) -----------------------------------------

NOTICES = [
    # notice given, exactly 60 Working Days later, the Working Day before that
    (date(2020, 3, 2), date(2020, 5, 29), date(2020, 5, 28)),  # Easter, VE Day, Spring BH
    (date(2022, 4, 4), date(2022, 7, 4), date(2022, 7, 1)),  # Easter, Jubilee
    (date(2022, 12, 1), date(2023, 2, 28), date(2023, 2, 27)),  # Christmas substitute, New Year
]


@pytest.mark.parametrize(("notice_on", "sixty", "short"), NOTICES, ids=str)
def test_the_60_working_day_boundary_is_the_literal_date(
    notice_on: date, sixty: date, short: date
) -> None:
    assert _oracle_add(notice_on, 60) == sixty
    assert _oracle_add(notice_on, 59) == short
    assert uept_earliest_start(notice_on, ew()) == sixty


@pytest.mark.parametrize(("notice_on", "sixty", "short"), NOTICES, ids=str)
def test_a_notice_exactly_60_working_days_out_is_accepted_and_one_day_short_refused(
    notice_on: date, sixty: date, short: date
) -> None:
    state = _case(*_accepted_id())
    [given] = decide(
        state, c.GiveUeptNotice(planned_start_on=sixty, effective_on=notice_on), TODAY, EW
    )
    assert isinstance(given, ev.UeptNoticeGiven)
    assert (given.planned_start_on, given.earliest_start_on) == (sixty, sixty)
    for too_soon in (short, sixty - timedelta(days=1)):
        with pytest.raises(InvalidInputError, match=f"earliest start is {sixty.isoformat()}"):
            decide(
                state,
                c.GiveUeptNotice(planned_start_on=too_soon, effective_on=notice_on),
                TODAY,
                EW,
            )


def test_a_notice_on_a_saturday_counts_its_60_days_from_the_monday() -> None:
    # Sat 2 Apr 2022 is read as Mon 4 Apr 2022: the same earliest start, Mon 4 Jul 2022
    assert uept_earliest_start(date(2022, 4, 2), EW) == date(2022, 7, 4)
    # before revision 2 the count ran from the Saturday itself: 60 WD after it is Fri 1 Jul
    assert uept_earliest_start(date(2022, 4, 2), EW, revision=1) == date(2022, 7, 1)


def test_uept_may_start_on_the_sixtieth_working_day_and_not_the_day_before() -> None:
    notice = ev.UeptNoticeGiven(
        effective_on=date(2022, 4, 4),
        planned_start_on=date(2022, 7, 4),
        earliest_start_on=date(2022, 7, 4),
    )
    criteria = ev.UeptEntryCriteriaConfirmed(
        effective_on=date(2022, 4, 4), criteria=list(ev.ENTRY_CRITERIA)
    )
    state = _case(*_accepted_id(), notice, criteria)
    with pytest.raises(InvalidInputError, match="may not start before 2022-07-04"):
        decide(state, c.StartUept(effective_on=date(2022, 7, 1)), TODAY, EW)
    [started] = decide(state, c.StartUept(effective_on=date(2022, 7, 4)), TODAY, EW)
    assert isinstance(started, ev.UeptStarted)


# -- the DCC's 2 / 5 / 2 Working-Day steps (guidance s.5.3) -----------------------------------


def test_the_receipt_step_is_due_2_working_days_after_the_report() -> None:
    # Tue 31 May 2022: Wed 1 Jun, then the Jubilee (2-3 Jun) and a weekend, Mon 6 Jun
    assert _oracle_add(date(2022, 5, 31), 2) == date(2022, 6, 6)
    s = _testing()
    [sub] = decide(s, c.SubmitTestCompletionReport(effective_on=date(2022, 5, 31)), TODAY, EW)
    assert isinstance(sub, ev.TestCompletionReportSubmitted)
    assert sub.receipt_due_on == date(2022, 6, 6)


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (date(2022, 5, 31), date(2022, 6, 6)),  # the Jubilee
        (date(2021, 12, 23), date(2021, 12, 29)),  # Saturday Christmas 2021
        (date(2022, 12, 23), date(2022, 12, 29)),  # Sunday Christmas 2022
    ],
)
def test_receipt_on_its_due_day_is_met_and_a_day_later_is_missed(
    submitted: date, due: date
) -> None:
    assert _oracle_add(submitted, 2) == due
    s = _then(_testing(), c.SubmitTestCompletionReport(effective_on=submitted))
    on_time = decide(s, c.ConfirmReportReceipt(effective_on=due), TODAY, EW)
    assert _types(on_time) == ["TestCompletionReportReceiptConfirmed"]
    late = decide(s, c.ConfirmReportReceipt(effective_on=due + timedelta(days=1)), TODAY, EW)
    assert _types(late) == ["DccDeadlineMissed", "TestCompletionReportReceiptConfirmed"]
    missed = late[0]
    assert isinstance(missed, ev.DccDeadlineMissed)
    assert (missed.step, missed.due_on, missed.effective_on) == (
        "report_receipt",
        due,
        due + timedelta(days=1),
    )


def test_review_on_its_due_day_is_met_and_a_day_later_is_missed() -> None:
    # Wed 14 Sep 2022 + 5 WD: 15, 16, (19 the State Funeral), 20, 21, Thu 22 Sep
    due = date(2022, 9, 22)
    assert _oracle_add(date(2022, 9, 14), 5) == due
    s = _then(
        _testing(),
        c.SubmitTestCompletionReport(effective_on=date(2022, 9, 14)),
        c.ConfirmReportReceipt(effective_on=date(2022, 9, 14)),
    )
    [step] = [x for x in s.uept.dcc_steps if x.step == "report_review"]
    assert step.due_on == due
    on_time = decide(s, c.ConcludeUeptReview(outcome="concluded", effective_on=due), TODAY, EW)
    assert _types(on_time) == ["UeptReviewConcluded"]
    late = decide(
        s,
        c.ConcludeUeptReview(outcome="concluded", effective_on=date(2022, 9, 23)),
        TODAY,
        EW,
    )
    assert _types(late) == ["DccDeadlineMissed", "UeptReviewConcluded"]


@pytest.mark.parametrize(
    ("meeting", "due"),
    [
        (date(2023, 5, 5), date(2023, 5, 10)),  # the Coronation, Mon 8 May 2023
        (date(2020, 5, 6), date(2020, 5, 11)),  # VE Day, Fri 8 May 2020
    ],
)
def test_certificate_on_its_due_day_is_met_and_a_day_later_is_missed(
    meeting: date, due: date
) -> None:
    assert _oracle_add(meeting, 2) == due
    s = _then(
        _testing(),
        c.SubmitTestCompletionReport(effective_on=meeting),
        c.ConfirmReportReceipt(effective_on=meeting),
        c.ConcludeUeptReview(outcome="concluded", effective_on=meeting),
        c.RecordQualityGateMeeting(successful=True, effective_on=meeting),
    )
    [step] = [x for x in s.uept.dcc_steps if x.step == "certificate"]
    assert step.due_on == due
    issue = c.IssueTestCompletionCertificate
    on_time = decide(s, issue(certificate_ref="TCC-1", effective_on=due), TODAY, EW)
    assert _types(on_time) == ["TestCompletionCertificateIssued"]
    late_on = due + timedelta(days=1)
    late = decide(s, issue(certificate_ref="TCC-1", effective_on=late_on), TODAY, EW)
    assert _types(late) == ["DccDeadlineMissed", "TestCompletionCertificateIssued"]


def test_the_timer_sees_a_step_missed_the_day_after_its_due_day_not_on_it() -> None:
    s = _then(_testing(), c.SubmitTestCompletionReport(effective_on=date(2022, 5, 31)))
    watched = watchable_steps(s, date(2022, 5, 31))
    assert watched == {"report_receipt:1"}
    assert watchable_steps(s, date(2022, 6, 6)) == {"report_receipt:1"}
    assert missed_deadlines(s, date(2022, 6, 6), watched) == []
    [missed] = missed_deadlines(s, date(2022, 6, 7), watched)
    assert isinstance(missed, ev.DccDeadlineMissed) and missed.due_on == date(2022, 6, 6)


@pytest.mark.parametrize(
    ("done_on", "status", "late"),
    [
        (date(2022, 6, 3), "met", 0),  # early (on a holiday, as an answer may be)
        (date(2022, 6, 6), "met", 0),  # on the due day
        (date(2022, 6, 7), "missed", 1),  # one day late
        (date(2022, 6, 11), "missed", 4),  # Saturday: Working Days late to then
    ],
)
def test_a_dcc_step_done_on_its_due_day_is_met_and_after_it_missed(
    done_on: date, status: str, late: int
) -> None:
    standing = dcc_step_standing(date(2022, 6, 6), done_on, False, TODAY, EW)
    assert (standing.status, standing.working_days_late) == (status, late)


@pytest.mark.parametrize(
    ("today", "status", "late"),
    [
        (date(2022, 6, 3), "open", 0),
        (date(2022, 6, 6), "open", 0),  # the due day itself is still in time
        (date(2022, 6, 7), "overdue", 1),
        (date(2022, 6, 13), "overdue", 5),
    ],
)
def test_an_unanswered_dcc_step_is_open_through_its_due_day_then_overdue(
    today: date, status: str, late: int
) -> None:
    standing = dcc_step_standing(date(2022, 6, 6), None, False, today, EW)
    assert (standing.status, standing.working_days_late) == (status, late)


def test_an_unanswered_step_the_case_recorded_as_missed_is_missed() -> None:
    standing = dcc_step_standing(date(2022, 6, 6), None, True, date(2022, 6, 8), EW)
    assert (standing.status, standing.working_days_late) == ("missed", 2)


@pytest.mark.parametrize(
    "easter",
    [
        date(1583, 4, 10),  # the first Gregorian Easter computed
        date(1600, 4, 2),
        date(1700, 4, 11),
        date(1818, 3, 22),  # the earliest possible
        date(1900, 4, 15),
        date(1943, 4, 25),  # the latest possible
        date(1954, 4, 18),  # the computus' exception: 25 April moved to 18 April
        date(1981, 4, 19),  # the other exception: 26 April moved to 19 April
        date(2000, 4, 23),
        date(2038, 4, 25),
        date(2049, 4, 18),
        date(2076, 4, 19),
        date(2100, 3, 28),
        date(2200, 4, 6),
        date(2285, 3, 22),
        date(2400, 4, 16),
        date(3000, 4, 13),
        date(4099, 4, 19),
    ],
    ids=lambda d: str(d.year),
)
def test_the_easter_computus_against_published_dates(easter: date) -> None:
    """Across centuries, where the Gregorian corrections and the two exceptions bite."""
    assert easter_sunday(easter.year) == easter


def test_easter_sunday_of_every_calendar_year_is_two_days_after_good_friday() -> None:
    assert [easter_sunday(d.year) - timedelta(days=2) for d in GOOD_FRIDAYS] == GOOD_FRIDAYS


@pytest.mark.parametrize("year", [2024, 2026])
def test_the_first_and_last_days_of_a_snapshot_count(year: int) -> None:
    plain = WorkingDayCalendar(region="weekdays", first_year=year, last_year=year, holidays=[])
    first, last = date(year, 1, 1), date(year, 12, 31)
    assert first.weekday() < 5 and last.weekday() < 5  # Monday / Tuesday, Thursday
    assert plain.is_working_day(first) and plain.is_working_day(last)
    assert plain.previous_working_day_on_or_before(first) == first
    assert plain.next_working_day_on_or_after(last) == last
    assert plain.working_days_between(first, last) == (261 if year == 2024 else 260)


def test_a_snapshot_extended_keeps_its_own_corrections_and_adds_later_years() -> None:
    base = build_calendar("england-and-wales", 2022, 2023).corrected([date(2023, 3, 1)], [])
    grown = base.extended(build_calendar("england-and-wales", 2022, 2025))
    assert (grown.region, grown.first_year, grown.last_year) == ("england-and-wales", 2022, 2025)
    assert not grown.is_working_day(date(2023, 3, 1))  # the correction survives
    assert not grown.is_working_day(date(2024, 3, 29))  # Good Friday 2024, from the later one
    assert not grown.is_working_day(date(2025, 12, 25))
    assert grown.holidays.count(date(2022, 6, 3)) == 1  # years already held are not doubled
    same = base.extended(build_calendar("england-and-wales", 2022, 2023))
    assert same.last_year == 2023 and same.holidays == base.holidays


def test_a_correction_outside_the_snapshot_is_dropped_and_removal_restores_a_day() -> None:
    base = build_calendar("england-and-wales", 2022, 2023)
    corrected = base.corrected([date(2024, 1, 2), date(2023, 3, 1)], [date(2022, 9, 19)])
    assert date(2024, 1, 2) not in corrected.holidays
    assert not corrected.is_working_day(date(2023, 3, 1))
    assert corrected.is_working_day(date(2022, 9, 19))
    assert (corrected.region, corrected.first_year, corrected.last_year) == (
        "england-and-wales",
        2022,
        2023,
    )


def test_a_reversed_span_is_refused_naming_last_year() -> None:
    from domain.errors import InvalidInputError as Invalid

    with pytest.raises(Invalid) as refused:
        build_calendar("england-and-wales", 2025, 2024)
    assert (refused.value.field, refused.value.message) == (
        "last_year",
        "last_year 2024 is before first_year 2025",
    )
    assert build_calendar("england-and-wales", 2025, 2025).first_year == 2025  # one year is fine
    with pytest.raises(Invalid) as unknown:
        build_calendar("wales", 2025, 2025)
    assert unknown.value.message == (
        "unknown Working-Day region 'wales'; known regions: england-and-wales, scotland, "
        "northern-ireland, great-britain"
    )


def test_the_holidays_of_a_fresh_snapshot_are_weekdays_only() -> None:
    holidays = build_calendar("england-and-wales", 2020, 2023).holidays
    assert holidays == sorted(holidays)
    assert all(d.weekday() < 5 for d in holidays)
    assert date(2022, 12, 25) not in holidays  # Christmas 2022 fell on a Sunday
