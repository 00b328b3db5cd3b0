"""From stored events to a case as it stood: the one path every reader takes.

The workflow folds the events it decides; everyone else (the CLI's ``uep events --state``, the
audit, the projections, the reports) starts from events read back from the store. They all come
through here, so they fold with the same ``evolve``, skip the same foreign event types, and count
Working Days on the same calendar: the case's region, with the corrections recorded in its own
stream, over one span of years.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.calendar_data import build_calendar
from domain.state import CaseState, evolve
from domain.view import CaseView, RejectedMessage, build_view

DOMAIN_TYPES = frozenset(ev.event_types())
"""Event types the domain defines; a stream may carry others (they are skipped)."""


class StoredEvent(Protocol):
    """What a reader needs of a stored event: its type and its data."""

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


def domain_event(stored: StoredEvent) -> ev.Event | None:
    """The typed domain event, or None for an event type the domain does not define."""
    if stored.type not in DOMAIN_TYPES:
        return None
    return ev.event_from_data(stored.type, dict(stored.data))


def fold_stored(events: Iterable[StoredEvent], state: CaseState | None = None) -> CaseState | None:
    """Fold stored events (in stream order) into the case; None while no case has started."""
    for stored in events:
        event = domain_event(stored)
        if event is None or (state is None and not isinstance(event, ev.CaseStarted)):
            continue
        state = evolve(state, event)
    return state


def calendar_years(state: CaseState, through: date) -> tuple[int, int]:
    """The span of years a case's calendar covers: the year before it (or its mandate) began,
    to six years after ``through`` - the same span the workflow loads when a case opens."""
    began = min(state.started_on, state.mandate_due_on or state.started_on)
    return began.year - 1, max(through.year, state.started_on.year) + 6


@lru_cache(maxsize=64)
def _regional(region: str, first_year: int, last_year: int) -> WorkingDayCalendar:
    """A region's calendar (built once per process and span: the holiday data is static)."""
    return build_calendar(region, first_year, last_year)


def case_calendar(state: CaseState, through: date) -> WorkingDayCalendar:
    """The case's own Working-Day calendar: its region, plus the corrections in its stream."""
    base = _regional(state.calendar_region, *calendar_years(state, through))
    if not state.holidays_added and not state.holidays_removed:
        return base
    return base.corrected(state.holidays_added, state.holidays_removed)


def case_as_of(state: CaseState) -> date:
    """The case's own "today" when no clock is wanted: its latest effective date (read models
    judged this way give the same rows on every rebuild)."""
    return state.last_effective_on or state.started_on


def view_as_of(
    state: CaseState,
    today: date,
    stream_version: int = 0,
    rejected: list[RejectedMessage] | None = None,
) -> CaseView:
    """The case as a person reads it on ``today``, on the case's own calendar."""
    return build_view(state, today, case_calendar(state, today), rejected, stream_version)
