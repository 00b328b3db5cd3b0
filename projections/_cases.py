"""Shared by the per-case read models: stored events folded into case state, batch by batch."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from domain import events as ev
from domain.history import domain_event
from domain.state import CaseState, evolve
from eventstore.models import RecordedEvent
from eventstore.types import Conn


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
        domain = domain_event(event)
        if domain is None:
            continue
        state = states.get(event.stream_id)
        if state is None and not isinstance(domain, ev.CaseStarted):
            continue  # not a UEP case stream
        new_state = evolve(state, domain)
        states[event.stream_id] = new_state
        folded[event.stream_id] = Folded(new_state, event)
    return folded
