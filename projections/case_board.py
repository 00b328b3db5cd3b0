"""Read model: the case board, one row per case (party, role, stage, requirements, dates)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from domain import progress
from domain.history import case_as_of, view_as_of
from domain.state import CaseState
from domain.view import CaseView
from eventstore.models import RecordedEvent
from eventstore.types import Conn
from projections._cases import fold_batch
from projections.projector import Projection

DDL = """
CREATE TABLE {table} (
    case_id                text        PRIMARY KEY,
    party_id               text        NOT NULL,
    party_name             text        NOT NULL,
    party_category         text        NOT NULL,
    role                   text        NOT NULL,
    status                 text        NOT NULL,
    stage                  text        NOT NULL,
    requirements           jsonb       NOT NULL,
    user_id                text,
    next_deadline          date,
    forecast_completion_on date,
    mandate_due_on         date,
    mandate_derogated      boolean     NOT NULL,
    started_on             date        NOT NULL,
    completed_on           date,
    withdrawn_on           date,
    version                integer     NOT NULL,
    last_position          bigint      NOT NULL,
    updated_at             timestamptz NOT NULL,
    state                  jsonb       NOT NULL
);
CREATE INDEX ON {table} (party_id);
CREATE INDEX ON {table} (stage);
"""


def view(state: CaseState) -> CaseView:
    """The domain's own view of the case, as of its latest effective date (deterministic)."""
    return view_as_of(state, case_as_of(state))


def requirements(case: CaseView) -> dict[str, dict[str, object]]:
    """Each applicable requirement's status, whether met, and when SECAS verified it."""
    return {
        r.requirement: {
            "status": r.status,
            "met": r.met,
            "verified_on": r.verified_on.isoformat() if r.verified_on else None,
        }
        for r in case.requirements
    }


async def apply_batch(conn: Conn, events: Sequence[RecordedEvent], table: str) -> None:
    """Fold the batch per case, then upsert one row per case touched."""
    for case_id, folded in (await fold_batch(conn, table, events)).items():
        s, last = folded.state, folded.last
        case = view(s)
        await conn.execute(
            f"""
            INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11,
                                        $12, $13, $14, $15, $16, $17, $18, $19, $20::jsonb)
            ON CONFLICT (case_id) DO UPDATE SET
                party_name = EXCLUDED.party_name, status = EXCLUDED.status,
                stage = EXCLUDED.stage, requirements = EXCLUDED.requirements,
                user_id = EXCLUDED.user_id, next_deadline = EXCLUDED.next_deadline,
                forecast_completion_on = EXCLUDED.forecast_completion_on,
                mandate_due_on = EXCLUDED.mandate_due_on,
                mandate_derogated = EXCLUDED.mandate_derogated,
                completed_on = EXCLUDED.completed_on, withdrawn_on = EXCLUDED.withdrawn_on,
                version = EXCLUDED.version, last_position = EXCLUDED.last_position,
                updated_at = EXCLUDED.updated_at, state = EXCLUDED.state
            """,
            case_id,
            s.party.party_id,
            s.party.party_name,
            str(s.party.category),
            str(s.role),
            s.status,
            case.stage,
            json.dumps(requirements(case)),
            s.user_id.accepted or s.user_id.proposed,
            progress.next_deadline(s),
            case.forecast_completion_on if s.status == "open" else None,
            s.mandate_due_on,
            s.mandate_derogated,
            s.started_on,
            s.completed_on,
            s.withdrawn_on,
            last.version,
            last.position,
            last.recorded_at,
            s.model_dump_json(),
        )


async def apply(conn: Conn, event: RecordedEvent, table: str) -> None:
    """Apply one event."""
    await apply_batch(conn, [event], table)


PROJECTION = Projection(
    name="case_board", table="case_board", ddl=DDL, apply=apply, apply_batch=apply_batch
)
