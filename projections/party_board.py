"""Read model: the Party board, one row per Party record (roles, credit, security, User IDs).

Built with the same pure function as the record's ``state`` query and ``uep party show``
(``domain.party.view.build_party_view``), judged on the day the record's last event was stored,
so a rebuild from the store gives the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from domain.party.events import PARTY_EVENT_TYPES, PartyRecordOpened, party_event_from_data
from domain.party.state import PartyState, evolve_party
from domain.party.view import build_party_view
from eventstore.models import RecordedEvent
from eventstore.types import Conn
from projections.projector import Projection

DDL = """
CREATE TABLE {table} (
    party_id        text        PRIMARY KEY,
    record_id       text        NOT NULL,
    party_name      text        NOT NULL,
    party_category  text        NOT NULL,
    roles           jsonb       NOT NULL,
    user_id_ranges  jsonb       NOT NULL,
    credit_met      boolean     NOT NULL,
    credit_reason   text        NOT NULL,
    credit_until    date,
    instruments     integer     NOT NULL,
    security        jsonb       NOT NULL,
    outstanding     jsonb       NOT NULL,
    as_of           date        NOT NULL,
    version         integer     NOT NULL,
    last_position   bigint      NOT NULL,
    updated_at      timestamptz NOT NULL,
    state           jsonb       NOT NULL
);
CREATE INDEX ON {table} (credit_met);
"""


@dataclass
class _Folded:
    state: PartyState
    last: RecordedEvent


async def _fold(conn: Conn, table: str, events: Sequence[RecordedEvent]) -> dict[str, _Folded]:
    """Fold the batch's Party record events per record, from the state saved in ``table``."""
    mine = [e for e in events if e.type in PARTY_EVENT_TYPES]
    touched = sorted({e.stream_id for e in mine})
    if not touched:
        return {}
    rows = await conn.fetch(
        f"SELECT record_id, state FROM {table} WHERE record_id = ANY($1::text[])", touched
    )
    states: dict[str, PartyState | None] = {
        r["record_id"]: PartyState.model_validate(json.loads(r["state"])) for r in rows
    }
    folded: dict[str, _Folded] = {}
    for event in mine:
        domain = party_event_from_data(event.type, event.data)
        state = states.get(event.stream_id)
        if state is None and not isinstance(domain, PartyRecordOpened):
            continue  # a stream that did not open as a Party record
        new_state = evolve_party(state, domain)
        states[event.stream_id] = new_state
        folded[event.stream_id] = _Folded(new_state, event)
    return folded


async def apply_batch(conn: Conn, events: Sequence[RecordedEvent], table: str) -> None:
    """Fold the batch per Party record, then upsert one row per record touched."""
    for record_id, folded in (await _fold(conn, table, events)).items():
        s, last = folded.state, folded.last
        as_of = last.recorded_at.date()
        view = build_party_view(s, as_of, last.version)
        await conn.execute(
            f"""
            INSERT INTO {table} VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10,
                                        $11::jsonb, $12::jsonb, $13, $14, $15, $16, $17::jsonb)
            ON CONFLICT (party_id) DO UPDATE SET
                party_name = EXCLUDED.party_name, party_category = EXCLUDED.party_category,
                roles = EXCLUDED.roles, user_id_ranges = EXCLUDED.user_id_ranges,
                credit_met = EXCLUDED.credit_met, credit_reason = EXCLUDED.credit_reason,
                credit_until = EXCLUDED.credit_until, instruments = EXCLUDED.instruments,
                security = EXCLUDED.security, outstanding = EXCLUDED.outstanding,
                as_of = EXCLUDED.as_of, version = EXCLUDED.version,
                last_position = EXCLUDED.last_position, updated_at = EXCLUDED.updated_at,
                state = EXCLUDED.state
            """,
            view.party_id,
            record_id,
            view.party_name,
            str(view.profile.category),
            json.dumps(
                [
                    {
                        "role": str(r.role),
                        "case_id": r.case_id,
                        "status": r.status,
                        "user_ids": r.user_ids,
                        "security_met": r.security.met,
                    }
                    for r in view.roles
                ]
            ),
            json.dumps(view.user_id_ranges),
            view.credit.met,
            view.credit.reason,
            view.credit.valid_until,
            len(view.instruments),
            json.dumps([a.model_dump(mode="json") for a in view.security]),
            json.dumps([t.model_dump(mode="json") for t in view.outstanding]),
            as_of,
            last.version,
            last.position,
            last.recorded_at,
            s.model_dump_json(),
        )


async def apply(conn: Conn, event: RecordedEvent, table: str) -> None:
    """Apply one event."""
    await apply_batch(conn, [event], table)


PROJECTION = Projection(
    name="party_board", table="party_board", ddl=DDL, apply=apply, apply_batch=apply_batch
)
