"""Working-Day calendar (SEC Appendix A "Working Day"; Banking and Financial Dealings Act 1971)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.calendar import WorkingDayCalendar
from domain.calendar_data import REGIONS, build_calendar, easter_sunday
from domain.errors import CalendarRangeError, InvalidInputError

EW = build_calendar("england-and-wales", 2016, 2035)
SCOTLAND = build_calendar("scotland", 2016, 2035)


def test_christmas_2020() -> None:
    # Thu 24 Dec 2020 + 1 WD: Fri 25 Christmas, weekend, Mon 28 Boxing Day substitute.
    assert EW.add_working_days(date(2020, 12, 24), 1) == date(2020, 12, 29)


def test_easter_2025() -> None:
    # Thu 17 Apr 2025 + 1 WD: Good Friday 18, weekend, Easter Monday 21.
    assert EW.add_working_days(date(2025, 4, 17), 1) == date(2025, 4, 22)


def test_christmas_2026() -> None:
    # Thu 24 Dec 2026 + 2 WD: Fri 25, weekend, Mon 28 Boxing Day substitute, Tue 29, Wed 30.
    assert EW.add_working_days(date(2026, 12, 24), 2) == date(2026, 12, 30)


@pytest.mark.parametrize(
    "day",
    [
        date(2020, 1, 2),  # Scotland's 2 January
        date(2020, 11, 30),  # St Andrew's Day
        date(2021, 1, 4),  # Scotland's 2 January substitute
        date(2020, 8, 3),  # Scotland's Summer Bank Holiday
    ],
)
def test_scottish_only_holidays_are_working_days_in_england_and_wales(day: date) -> None:
    assert EW.is_working_day(day)
    assert not SCOTLAND.is_working_day(day)


def test_one_off_bank_holidays() -> None:
    assert not EW.is_working_day(date(2022, 9, 19))  # State Funeral of Queen Elizabeth II
    assert not EW.is_working_day(date(2022, 6, 3))  # Platinum Jubilee
    assert not EW.is_working_day(date(2023, 5, 8))  # Coronation of King Charles III


def test_christmas_and_good_friday_every_year() -> None:
    for year in range(2016, 2036):
        xmas = date(year, 12, 25)
        assert not EW.is_working_day(xmas)
        assert not EW.is_working_day(easter_sunday(year) - timedelta(days=2))


def test_easter_computus() -> None:
    assert easter_sunday(2025) == date(2025, 4, 20)
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2000) == date(2000, 4, 23)


def test_weekends() -> None:
    assert not EW.is_working_day(date(2025, 6, 7))  # Saturday
    assert not EW.is_working_day(date(2025, 6, 8))  # Sunday
    assert EW.is_working_day(date(2025, 6, 9))


def test_add_zero() -> None:
    assert EW.add_working_days(date(2025, 6, 9), 0) == date(2025, 6, 9)
    assert EW.add_working_days(date(2025, 6, 7), 0) == date(2025, 6, 9)
    assert EW.next_working_day_on_or_after(date(2020, 12, 25)) == date(2020, 12, 29)
    assert EW.previous_working_day_on_or_before(date(2020, 12, 28)) == date(2020, 12, 24)


def test_add_from_a_non_working_day_counts_days_after_it() -> None:
    assert EW.add_working_days(date(2025, 6, 7), 1) == date(2025, 6, 9)


def test_negative_count_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="cannot add -1 Working Days"):
        EW.add_working_days(date(2025, 6, 9), -1)


def test_between() -> None:
    assert EW.working_days_between(date(2020, 12, 24), date(2020, 12, 29)) == 1
    assert EW.working_days_between(date(2020, 12, 29), date(2020, 12, 24)) == -1
    assert EW.working_days_between(date(2025, 6, 9), date(2025, 6, 9)) == 0
    assert EW.working_days_between(date(2025, 6, 6), date(2025, 6, 8)) == 0


def test_sixty_working_days_notice() -> None:
    start = date(2025, 1, 6)
    assert EW.working_days_between(start, EW.add_working_days(start, 60)) == 60


def test_out_of_range_message() -> None:
    cal = build_calendar("england-and-wales", 2024, 2030)
    with pytest.raises(CalendarRangeError) as info:
        cal.is_working_day(date(2031, 1, 2))
    assert "calendar covers 2024-2030; 2031-01-02 is outside; refresh the calendar" in str(
        info.value
    )
    with pytest.raises(CalendarRangeError, match="2023-12-29 is outside"):
        cal.working_days_between(date(2023, 12, 29), date(2024, 1, 5))
    with pytest.raises(CalendarRangeError, match="falls after 2030-12-31"):
        cal.add_working_days(date(2030, 12, 20), 20)
    with pytest.raises(CalendarRangeError, match="no Working Day on or before 2024-01-01"):
        cal.previous_working_day_on_or_before(date(2024, 1, 1))


def test_unknown_region_lists_known() -> None:
    with pytest.raises(InvalidInputError) as info:
        build_calendar("wales-only", 2024, 2025)
    for region in REGIONS:
        assert region in info.value.message
    assert info.value.field == "region"


def test_build_rejects_reversed_years() -> None:
    with pytest.raises(InvalidInputError, match="before first_year"):
        build_calendar("scotland", 2026, 2025)


def test_default_build() -> None:
    cal = build_calendar()
    assert cal.region == "england-and-wales"
    assert cal.first_year <= 2017 and cal.last_year >= 2035


def test_snapshot_round_trips_as_json() -> None:
    again = WorkingDayCalendar.model_validate_json(EW.model_dump_json())
    assert again.add_working_days(date(2020, 12, 24), 1) == date(2020, 12, 29)
    assert again.holidays == EW.holidays


def test_holidays_list_excludes_weekends() -> None:
    assert all(d.weekday() < 5 for d in EW.holidays)


def test_model_validation() -> None:
    with pytest.raises(ValidationError, match="before first_year"):
        WorkingDayCalendar(region="x", first_year=2025, last_year=2024, holidays=[])
    with pytest.raises(ValidationError, match="outside 2024-2024"):
        WorkingDayCalendar(region="x", first_year=2024, last_year=2024, holidays=[date(2025, 1, 1)])


def test_hand_built_calendar() -> None:
    cal = WorkingDayCalendar(region="test", first_year=2025, last_year=2025, holidays=[])
    assert cal.is_working_day(date(2025, 12, 25))  # only what the data says is a holiday
    assert cal.covers(date(2025, 6, 1)) and not cal.covers(date(2026, 1, 1))


days = st.dates(min_value=date(2016, 1, 1), max_value=date(2034, 12, 31))
counts = st.integers(min_value=0, max_value=250)


@given(days, st.integers(min_value=1, max_value=250))
def test_add_then_count_back(d: date, n: int) -> None:
    assert EW.working_days_between(d, EW.add_working_days(d, n)) == n


@given(days, counts)
def test_result_is_a_working_day_on_or_after(d: date, n: int) -> None:
    result = EW.add_working_days(d, n)
    assert EW.is_working_day(result)
    assert result >= d
    assert (result > d) if n > 0 else True


@given(days, counts, counts)
def test_monotonic_in_n(d: date, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert EW.add_working_days(d, lo) <= EW.add_working_days(d, hi)


@given(days, days, counts)
def test_monotonic_in_date(d1: date, d2: date, n: int) -> None:
    lo, hi = sorted((d1, d2))
    assert EW.add_working_days(lo, n) <= EW.add_working_days(hi, n)


@given(days, days)
def test_between_is_antisymmetric_and_matches_a_scan(a: date, b: date) -> None:
    assert EW.working_days_between(a, b) == -EW.working_days_between(b, a)
    lo, hi = sorted((a, b))
    if (hi - lo).days <= 120:
        scan = sum(EW.is_working_day(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
        assert EW.working_days_between(lo, hi) == scan


@given(days)
def test_zero_is_identity_on_working_days(d: date) -> None:
    result = EW.add_working_days(d, 0)
    assert (result == d) == EW.is_working_day(d)


def test_great_britain_takes_the_days_off_of_both_regions() -> None:
    gb = build_calendar("great-britain", 2025, 2026)
    # Fri 2 Jan 2026 (Scotland only), Mon 25 Aug 2025 (England and Wales only), Mon 4 Aug 2025
    # (Scotland's summer bank holiday), St Andrew's Day observed Mon 1 Dec 2025 (Scotland)
    for day in (date(2026, 1, 2), date(2025, 8, 25), date(2025, 8, 4), date(2025, 12, 1)):
        assert not gb.is_working_day(day), day
    assert gb.is_working_day(date(2026, 1, 5))
    assert build_calendar("england-and-wales", 2025, 2026).is_working_day(date(2026, 1, 2))
