"""Read model: the User ID registry, one row per case: its id, party, role and status.

Query by ``user_id`` to see every party and role using an id. The strongly consistent claim
lives in the event store's ``user_id_claims``; this is the readable, eventually consistent view.
"""

from __future__ import annotations

from domain import events as ev
from domain.history import domain_event as to_domain
from eventstore.models import RecordedEvent
from eventstore.types import Conn
from projections.projector import Projection

DDL = """
CREATE TABLE {table} (
    case_id     text   PRIMARY KEY,
    party_id    text   NOT NULL,
    party_name  text   NOT NULL,
    role        text   NOT NULL,
    user_id     text,
    status      text   NOT NULL,
    changed_on  date   NOT NULL,
    rejected    text[] NOT NULL DEFAULT '{{}}',
    last_position bigint NOT NULL
);
CREATE INDEX ON {table} (user_id);
"""


async def apply(conn: Conn, event: RecordedEvent, table: str) -> None:
    """Move the case's registry row on the User ID events."""
    domain_event = to_domain(event)
    pos, case_id = event.position, event.stream_id
    match domain_event:
        case ev.CaseStarted(party=party, role=role, effective_on=on):
            await conn.execute(
                f"INSERT INTO {table} (case_id, party_id, party_name, role, status, changed_on, "
                "last_position) VALUES ($1, $2, $3, $4, 'none', $5, $6) "
                "ON CONFLICT (case_id) DO NOTHING",
                case_id,
                party.party_id,
                party.party_name,
                str(role),
                on,
                pos,
            )
        case ev.UserIdProposed(user_id=uid, effective_on=on):
            await _set(conn, table, case_id, uid, "proposed", on, pos)
        case ev.UserIdAccepted(user_id=uid, effective_on=on):
            await _set(conn, table, case_id, uid, "accepted", on, pos)
        case ev.UserIdRejected(user_id=uid, effective_on=on):
            await conn.execute(
                f"UPDATE {table} SET user_id = NULL, status = 'rejected', changed_on = $3, "
                "rejected = array_append(rejected, $2), last_position = $4 WHERE case_id = $1",
                case_id,
                uid,
                on,
                pos,
            )
        case ev.CaseWithdrawn(effective_on=on):
            await conn.execute(
                f"UPDATE {table} SET status = 'released', changed_on = $2, last_position = $3 "
                "WHERE case_id = $1 AND user_id IS NOT NULL",
                case_id,
                on,
                pos,
            )
        case ev.UserEntryProcessCompleted(user_id=uid, effective_on=on):
            await _set(conn, table, case_id, uid, "in_use", on, pos)
        case _:
            pass


async def _set(
    conn: Conn,
    table: str,
    case_id: str,
    user_id: str,
    status: str,
    on: object,
    position: int,
) -> None:
    """Set a case's current id and status."""
    await conn.execute(
        f"UPDATE {table} SET user_id = $2, status = $3, changed_on = $4, last_position = $5 "
        "WHERE case_id = $1",
        case_id,
        user_id,
        status,
        on,
        position,
    )


PROJECTION = Projection(name="user_id_registry", table="user_id_registry", ddl=DDL, apply=apply)
