"""Read model: how many events each stream has, and whether they arrived in version order.

Small on purpose: the projector's own tests and the rebuild benchmark use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventstore.models import RecordedEvent
from eventstore.types import Conn
from projections.projector import Projection

DDL = """
CREATE TABLE {table} (
    stream_id     text    PRIMARY KEY,
    events        bigint  NOT NULL,
    first_version integer NOT NULL,
    last_version  integer NOT NULL,
    last_position bigint  NOT NULL,
    in_order      boolean NOT NULL
)
"""


@dataclass
class StreamCount:
    """Folded state of one stream within a batch."""

    events: int
    first_version: int
    last_version: int
    last_position: int
    in_order: bool


def fold(events: Sequence[RecordedEvent]) -> dict[str, StreamCount]:
    """Pure fold of a batch into per-stream counts."""
    counts: dict[str, StreamCount] = {}
    for event in events:
        seen = counts.get(event.stream_id)
        if seen is None:
            counts[event.stream_id] = StreamCount(
                1, event.version, event.version, event.position, True
            )
            continue
        seen.in_order = seen.in_order and event.version == seen.last_version + 1
        seen.events += 1
        seen.last_version = event.version
        seen.last_position = event.position
    return counts


async def apply_batch(conn: Conn, events: Sequence[RecordedEvent], table: str) -> None:
    """Fold the batch, then one upsert; order is checked across batches in SQL."""
    counts = fold(events)
    streams = list(counts)
    rows = [counts[s] for s in streams]
    await conn.execute(
        f"""
        INSERT INTO {table} AS t
               (stream_id, events, first_version, last_version, last_position, in_order)
        SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::bigint[],
                             $6::boolean[])
        ON CONFLICT (stream_id) DO UPDATE SET
            events = t.events + EXCLUDED.events,
            last_version = EXCLUDED.last_version,
            last_position = EXCLUDED.last_position,
            in_order = t.in_order AND EXCLUDED.in_order
                       AND EXCLUDED.first_version = t.last_version + 1
        """,
        streams,
        [r.events for r in rows],
        [r.first_version for r in rows],
        [r.last_version for r in rows],
        [r.last_position for r in rows],
        [r.in_order for r in rows],
    )


async def apply(conn: Conn, event: RecordedEvent, table: str) -> None:
    """Apply one event."""
    await apply_batch(conn, [event], table)


PROJECTION = Projection(
    name="stream_counts", table="stream_counts", ddl=DDL, apply=apply, apply_batch=apply_batch
)
