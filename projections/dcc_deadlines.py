"""Read model: every DCC completion step of every case, due date, when done, met or missed.

The steps, their due dates and whether each was met come from the domain: each case touched by
a batch is folded (its state kept in ``{table}_cases``) and its step rows rewritten from the
folded steps, judged by :func:`domain.deadlines.dcc_step_standing` on the case's own calendar as
of its latest effective date. ``uep report dcc`` re-judges the same rows as of today with the
same function and calendar, so the report, this table and ``uep case show`` agree.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.deadlines import dcc_step_standing
from domain.history import case_as_of, case_calendar
from eventstore.models import RecordedEvent
from eventstore.types import Conn
from projections._cases import fold_batch
from projections.projector import Projection

DDL = """
CREATE TABLE {table} (
    case_id           text    NOT NULL,
    step              text    NOT NULL,
    cycle             integer NOT NULL,
    opened_on         date    NOT NULL,
    due_on            date    NOT NULL,
    done_on           date,
    reported_missed   boolean NOT NULL DEFAULT false,
    status            text    NOT NULL DEFAULT 'open',
    working_days_late integer NOT NULL DEFAULT 0,
    calendar_region   text    NOT NULL,
    last_position     bigint  NOT NULL,
    PRIMARY KEY (case_id, step, cycle)
);
CREATE INDEX ON {table} (status, due_on);
CREATE TABLE {table}_cases (
    case_id text  PRIMARY KEY,
    state   jsonb NOT NULL
);
"""

_UPSERT = """
INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (case_id, step, cycle) DO UPDATE SET
    opened_on = EXCLUDED.opened_on, due_on = EXCLUDED.due_on, done_on = EXCLUDED.done_on,
    reported_missed = EXCLUDED.reported_missed, status = EXCLUDED.status,
    working_days_late = EXCLUDED.working_days_late, calendar_region = EXCLUDED.calendar_region,
    last_position = EXCLUDED.last_position
"""


async def apply_batch(conn: Conn, events: Sequence[RecordedEvent], table: str) -> None:
    """Fold the batch per case, then rewrite the step rows of each case whose steps moved."""
    cases = f"{table}_cases"
    for case_id, folded in (await fold_batch(conn, cases, events)).items():
        s = folded.state
        await conn.execute(
            f"INSERT INTO {cases} VALUES ($1, $2::jsonb) "
            "ON CONFLICT (case_id) DO UPDATE SET state = EXCLUDED.state",
            case_id,
            s.model_dump_json(),
        )
        if not s.uept.dcc_steps:
            continue
        today = case_as_of(s)
        calendar = case_calendar(s, today)
        rows = []
        for step in s.uept.dcc_steps:
            standing = dcc_step_standing(step.due_on, step.done_on, step.missed, today, calendar)
            rows.append(
                (
                    case_id,
                    step.step,
                    step.cycle,
                    step.opened_on,
                    step.due_on,
                    step.done_on,
                    step.missed,
                    standing.status,
                    standing.working_days_late,
                    s.calendar_region,
                    folded.last.position,
                )
            )
        await conn.executemany(_UPSERT.format(table=table), rows)


async def apply(conn: Conn, event: RecordedEvent, table: str) -> None:
    """Apply one event."""
    await apply_batch(conn, [event], table)


PROJECTION = Projection(
    name="dcc_deadlines",
    table="dcc_deadlines",
    ddl=DDL,
    apply=apply,
    apply_batch=apply_batch,
    extra_tables=("_cases",),
    version=2,
)
