"""Read model: mandates, one row per Party x User Role (a case) with its mandate status.

"Per Party" is ``GROUP BY party_id``: roles done are rows with ``completed_on``, roles open the
others. The status is judged as of the case's latest effective date, so a rebuild gives the
same rows; a reader wanting "as of today" re-judges with ``domain.mandates.mandate_status``.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.history import case_as_of
from domain.mandates import Mandate, mandate_status
from eventstore.models import RecordedEvent
from eventstore.types import Conn
from projections._cases import fold_batch
from projections.case_board import view
from projections.projector import Projection

DDL = """
CREATE TABLE {table} (
    case_id                text    PRIMARY KEY,
    party_id               text    NOT NULL,
    party_name             text    NOT NULL,
    role                   text    NOT NULL,
    case_status            text    NOT NULL,
    mandate_due_on         date,
    mandate_source         text    NOT NULL,
    derogated              boolean NOT NULL,
    completed_on           date,
    forecast_completion_on date,
    status                 text    NOT NULL,
    judged_on              date    NOT NULL,
    last_position          bigint  NOT NULL,
    state                  jsonb   NOT NULL
);
CREATE INDEX ON {table} (party_id);
"""


async def apply_batch(conn: Conn, events: Sequence[RecordedEvent], table: str) -> None:
    """Fold the batch per case, then upsert each case's mandate row."""
    for case_id, folded in (await fold_batch(conn, table, events)).items():
        s = folded.state
        today = case_as_of(s)
        forecast = view(s).forecast_completion_on if s.status == "open" else None
        mandate = Mandate(
            due=s.mandate_due_on, source=s.mandate_source, derogated=s.mandate_derogated
        )
        status = mandate_status(mandate, s.completed_on, forecast, today)
        await conn.execute(
            f"""
            INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                                        $13, $14::jsonb)
            ON CONFLICT (case_id) DO UPDATE SET
                party_name = EXCLUDED.party_name, case_status = EXCLUDED.case_status,
                mandate_due_on = EXCLUDED.mandate_due_on,
                mandate_source = EXCLUDED.mandate_source, derogated = EXCLUDED.derogated,
                completed_on = EXCLUDED.completed_on,
                forecast_completion_on = EXCLUDED.forecast_completion_on,
                status = EXCLUDED.status, judged_on = EXCLUDED.judged_on,
                last_position = EXCLUDED.last_position, state = EXCLUDED.state
            """,
            case_id,
            s.party.party_id,
            s.party.party_name,
            str(s.role),
            s.status,
            s.mandate_due_on,
            s.mandate_source,
            s.mandate_derogated,
            s.completed_on,
            forecast,
            str(status),
            today,
            folded.last.position,
            s.model_dump_json(),
        )


async def apply(conn: Conn, event: RecordedEvent, table: str) -> None:
    """Apply one event."""
    await apply_batch(conn, [event], table)


PROJECTION = Projection(
    name="mandates", table="mandates", ddl=DDL, apply=apply, apply_batch=apply_batch
)
