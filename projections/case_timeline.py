"""Read model: each case's timeline, one readable line per event (when, who, what)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.history import DOMAIN_TYPES
from eventstore.models import RecordedEvent
from eventstore.types import Conn
from projections.projector import Projection

DDL = """
CREATE TABLE {table} (
    position     bigint      PRIMARY KEY,
    case_id      text        NOT NULL,
    version      integer     NOT NULL,
    effective_on date,
    recorded_at  timestamptz NOT NULL,
    who          text        NOT NULL,
    what         text        NOT NULL,
    event_type   text        NOT NULL
);
CREATE INDEX ON {table} (case_id, version);
"""

# Fields worth a mention on the line; the rest is in the event itself (`uep events CASE`).
_DETAIL_FIELDS = (
    "user_id",
    "reason",
    "cycle",
    "outcome",
    "step",
    "due_on",
    "receipt_due_on",
    "review_due_on",
    "certificate_due_on",
    "planned_start_on",
    "area",
    "kind",
    "assessment_on",
    "status",
    "requirement",
    "recipient",
    "accepted",
    "upheld",
    "subject",
    "certificate_ref",
)


def humanise(event_type: str) -> str:
    """``UserIdProposed`` -> ``User id proposed``."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", event_type).lower()
    return words[:1].upper() + words[1:]


def line(event_type: str, data: dict[str, Any]) -> str:
    """The "what" of a timeline line: the event in words plus its key facts."""
    if event_type == "CaseStarted":
        party = data.get("party", {})
        return f"Case started: {party.get('party_name', '?')} as {data.get('role', '?')}"
    details = [
        f"{name.replace('_', ' ')} {data[name]}"
        for name in _DETAIL_FIELDS
        if data.get(name) not in (None, "", [])
    ]
    return humanise(event_type) + (f" ({', '.join(details)})" if details else "")


def who(event: RecordedEvent) -> str:
    """Who recorded it: the actor in the metadata, else the system."""
    return str(event.metadata.get("actor") or "system")


async def apply_batch(conn: Conn, events: Sequence[RecordedEvent], table: str) -> None:
    """One insert for the batch's domain events."""
    rows = [e for e in events if e.type in DOMAIN_TYPES]
    if not rows:
        return
    await conn.execute(
        f"""
        INSERT INTO {table}
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::date[],
                             $5::timestamptz[], $6::text[], $7::text[], $8::text[])
        """,
        [e.position for e in rows],
        [e.stream_id for e in rows],
        [e.version for e in rows],
        [_effective(e) for e in rows],
        [e.recorded_at for e in rows],
        [who(e) for e in rows],
        [line(e.type, e.data) for e in rows],
        [e.type for e in rows],
    )


def _effective(event: RecordedEvent) -> date | None:
    """The event's effective date, if it has one."""
    value = event.data.get("effective_on")
    return date.fromisoformat(value) if isinstance(value, str) else None


async def apply(conn: Conn, event: RecordedEvent, table: str) -> None:
    """Apply one event."""
    await apply_batch(conn, [event], table)


PROJECTION = Projection(
    name="case_timeline", table="case_timeline", ddl=DDL, apply=apply, apply_batch=apply_batch
)
