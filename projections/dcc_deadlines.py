"""Read model: every DCC completion step of every case, due date, when done, met or missed.

The steps and their Working-Day due dates are decided by the domain and carried in the events;
this only records them and, when a step closes, how many Working Days late it was.
"""

from __future__ import annotations

from datetime import date

from domain import events as ev
from domain.calendar_data import DEFAULT_REGION
from domain.errors import CalendarRangeError
from eventstore.models import RecordedEvent
from eventstore.types import Conn
from projections._cases import calendar, to_domain
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
    last_position     bigint  NOT NULL,
    PRIMARY KEY (case_id, step, cycle)
);
CREATE INDEX ON {table} (status, due_on);
"""


def working_days_late(due_on: date, done_on: date) -> int:
    """Working Days after the due date (0 when on time or beyond the calendar's span).

    The events do not carry the case's region; DCC steps are counted on the default
    (England and Wales) calendar, as the DCC's SLAs are.
    """
    if done_on <= due_on:
        return 0
    try:
        return max(0, calendar(DEFAULT_REGION).working_days_between(due_on, done_on))
    except CalendarRangeError:
        return 0


async def _open(
    conn: Conn, table: str, event: RecordedEvent, step: str, cycle: int, due: date
) -> None:
    """A step starts, with its due date."""
    await conn.execute(
        f"INSERT INTO {table} (case_id, step, cycle, opened_on, due_on, last_position) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id, step, cycle) DO UPDATE SET "
        "opened_on = EXCLUDED.opened_on, due_on = EXCLUDED.due_on, "
        "last_position = EXCLUDED.last_position",
        event.stream_id,
        step,
        cycle,
        date.fromisoformat(event.data["effective_on"]),
        due,
        event.position,
    )


async def _close(conn: Conn, table: str, event: RecordedEvent, step: str, cycle: int) -> None:
    """A step happened: record when, and whether it was met."""
    done = date.fromisoformat(event.data["effective_on"])
    row = await conn.fetchrow(
        f"SELECT due_on FROM {table} WHERE case_id = $1 AND step = $2 AND cycle = $3",
        event.stream_id,
        step,
        cycle,
    )
    if row is None:
        return
    late = working_days_late(row["due_on"], done)
    await conn.execute(
        f"UPDATE {table} SET done_on = $4, status = $5, working_days_late = $6, "
        "last_position = $7 WHERE case_id = $1 AND step = $2 AND cycle = $3",
        event.stream_id,
        step,
        cycle,
        done,
        "met" if done <= row["due_on"] else "missed",
        late,
        event.position,
    )


async def apply(conn: Conn, event: RecordedEvent, table: str) -> None:
    """Open, close, mark missed or re-date the DCC steps."""
    match to_domain(event):
        case ev.TestCompletionReportSubmitted(cycle=cycle, receipt_due_on=due):
            await _open(conn, table, event, "report_receipt", cycle, due)
        case ev.TestCompletionReportReceiptConfirmed(cycle=cycle, review_due_on=due):
            await _close(conn, table, event, "report_receipt", cycle)
            await _open(conn, table, event, "report_review", cycle, due)
        case ev.UeptReviewConcluded(cycle=cycle):
            await _close(conn, table, event, "report_review", cycle)
        case ev.QualityGateMeetingHeld(cycle=cycle, successful=True, certificate_due_on=due) if (
            due is not None
        ):
            await _open(conn, table, event, "certificate", cycle, due)
        case ev.TestCompletionCertificateIssued(cycle=cycle):
            await _close(conn, table, event, "certificate", cycle)
        case ev.DccDeadlineMissed(step=step, cycle=cycle):
            await conn.execute(
                f"UPDATE {table} SET reported_missed = true, "
                "status = CASE WHEN done_on IS NULL THEN 'missed' ELSE status END, "
                "last_position = $4 WHERE case_id = $1 AND step = $2 AND cycle = $3",
                event.stream_id,
                step,
                cycle,
                event.position,
            )
        case ev.CalendarCorrected(recomputed=recomputed):
            for key, new_due in recomputed.items():
                step_name, _, cycle_text = key.partition(":")
                await conn.execute(
                    f"UPDATE {table} SET due_on = $4, last_position = $5 "
                    "WHERE case_id = $1 AND step = $2 AND cycle = $3 AND done_on IS NULL",
                    event.stream_id,
                    step_name,
                    int(cycle_text),
                    new_due,
                    event.position,
                )
        case _:
            pass


PROJECTION = Projection(name="dcc_deadlines", table="dcc_deadlines", ddl=DDL, apply=apply)
