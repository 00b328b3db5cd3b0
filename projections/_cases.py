"""Shared by the per-case read models: stored events -> domain events -> folded case state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.calendar_data import build_calendar
from domain.state import CaseState, evolve
from eventstore.models import RecordedEvent
from eventstore.types import Conn

DOMAIN_TYPES = frozenset(ev.event_types())


def to_domain(event: RecordedEvent) -> ev.Event | None:
    """The typed domain event, or None for an event type the domain does not define."""
    if event.type not in DOMAIN_TYPES:
        return None
    return ev.event_from_data(event.type, event.data)


@lru_cache(maxsize=8)
def calendar(region: str) -> WorkingDayCalendar:
    """The Working-Day calendar of a region (built once per process)."""
    return build_calendar(region)


def as_of(state: CaseState) -> date:
    """The case's own "today": its latest effective date, so rebuilds give identical rows."""
    return state.last_effective_on or state.started_on


@dataclass
class Folded:
    """A case after a batch: its state and the last stored event that changed it."""

    state: CaseState
    last: RecordedEvent


async def fold_batch(conn: Conn, table: str, events: Sequence[RecordedEvent]) -> dict[str, Folded]:
    """Fold a batch per case, starting from the state saved in ``table`` (column ``state``)."""
    touched = sorted({e.stream_id for e in events})
    rows = await conn.fetch(
        f"SELECT case_id, state FROM {table} WHERE case_id = ANY($1::text[])", touched
    )
    states: dict[str, CaseState | None] = {
        r["case_id"]: CaseState.model_validate(json.loads(r["state"])) for r in rows
    }
    folded: dict[str, Folded] = {}
    for event in events:
        domain_event = to_domain(event)
        if domain_event is None:
            continue
        state = states.get(event.stream_id)
        if state is None and not isinstance(domain_event, ev.CaseStarted):
            continue  # not a UEP case stream
        new_state = evolve(state, domain_event)
        states[event.stream_id] = new_state
        folded[event.stream_id] = Folded(new_state, event)
    return folded
