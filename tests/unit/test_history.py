"""From stored events to a case as it stood (domain.history): the path every reader takes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain import commands as c
from domain import events as ev
from domain.history import (
    DOMAIN_TYPES,
    calendar_years,
    case_as_of,
    case_calendar,
    domain_event,
    fold_stored,
    view_as_of,
)
from domain.state import fold
from tests.unit.test_decider import START, UID, given, started, when


@dataclass(frozen=True)
class Stored:
    """A stored event as a reader sees it: its type and its JSON data."""

    type: str
    data: Mapping[str, Any] = field(default_factory=dict)


def stored(event: ev.Event) -> Stored:
    return Stored(event.type, ev.event_to_data(event))


def test_the_domain_types_are_the_events_the_domain_defines() -> None:
    assert "CaseStarted" in DOMAIN_TYPES and "UserEntryProcessCompleted" in DOMAIN_TYPES
    assert "PartyRecordOpened" not in DOMAIN_TYPES


def test_a_stored_event_comes_back_typed_and_a_foreign_one_as_none() -> None:
    proposed = ev.UserIdProposed(effective_on=START, user_id=UID)
    assert domain_event(stored(proposed)) == proposed
    assert domain_event(Stored("SomethingElse", {"x": 1})) is None


def test_folding_stored_events_skips_foreign_types_and_anything_before_the_case() -> None:
    events = [*started(), ev.UserIdProposed(effective_on=START, user_id=UID)]
    early = stored(ev.SreptCompleted(effective_on=START))
    rows = [Stored("Foreign"), early, *(stored(e) for e in events), Stored("Foreign")]
    assert fold_stored(rows) == fold(events)
    assert fold_stored([Stored("Foreign"), early]) is None
    assert fold_stored([]) is None


def test_folding_continues_from_a_state() -> None:
    base = given(started())
    later = ev.UserIdProposed(effective_on=START, user_id=UID)
    assert fold_stored([stored(later)], base) == fold([later], base)


def test_the_calendar_spans_the_year_before_the_case_or_its_mandate_to_six_years_on() -> None:
    s = given(started())  # started 2 Jun 2025, mandate 25 Nov 2017
    assert calendar_years(s, date(2026, 1, 5)) == (2016, 2032)
    assert calendar_years(s, date(2024, 1, 5)) == (2016, 2031)  # never before the start year
    unmandated = s.model_copy(update={"mandate_due_on": None})
    assert calendar_years(unmandated, date(2026, 1, 5)) == (2024, 2032)
    later_mandate = s.model_copy(update={"mandate_due_on": date(2027, 1, 1)})
    assert calendar_years(later_mandate, date(2026, 1, 5)) == (2024, 2032)


def test_the_case_calendar_is_its_region_with_its_own_corrections() -> None:
    s = given(started())
    cal = case_calendar(s, date(2026, 1, 5))
    assert (cal.region, cal.first_year, cal.last_year) == ("england-and-wales", 2016, 2032)
    assert not cal.is_working_day(date(2022, 9, 19))  # the State Funeral
    assert cal.is_working_day(date(2026, 5, 12))
    corrected = given(s, when(s, c.CorrectCalendar(add_holidays=[date(2026, 5, 12)])))
    cal = case_calendar(corrected, date(2026, 1, 5))
    assert not cal.is_working_day(date(2026, 5, 12))
    removed = given(s, when(s, c.CorrectCalendar(remove_holidays=[date(2026, 5, 25)])))
    assert case_calendar(removed, date(2026, 1, 5)).is_working_day(date(2026, 5, 25))
    scotland = s.model_copy(update={"calendar_region": "scotland"})
    assert not case_calendar(scotland, date(2026, 1, 5)).is_working_day(date(2025, 8, 4))


def test_a_case_as_of_its_latest_effective_date() -> None:
    s = given(started())
    assert case_as_of(s) == START
    s = given(s, when(s, c.ProposeUserId(user_id=UID, effective_on=date(2025, 7, 1))))
    assert case_as_of(s) == date(2025, 7, 1)


def test_the_view_on_a_day_uses_the_cases_calendar_and_its_stream_version() -> None:
    s = given(started())
    s = given(s, when(s, c.CorrectCalendar(add_holidays=[date(2026, 5, 12)])))
    view = view_as_of(s, date(2026, 5, 11), stream_version=7)
    assert (view.as_of, view.stream_version, view.rejected_messages) == (date(2026, 5, 11), 7, [])
    assert view.case_id == "uep-acme-gas_supplier"
