"""The API's reads: the read models (case board, case, events, timeline, reports, User IDs),
the Party record, and waiting for a position a write answered with (read-your-writes)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Query
from fastapi.responses import JSONResponse
from temporalio.client import (
    Client,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.principals import matrix_table
from domain.roles import UserRole
from eventstore.postgres import PostgresEventStore
from projections.projector import CHECKPOINT_CHANNEL
from uep.api.app import Caller
from uep.api.params import PARTY_ID, AfterPosition, CaseId, Page, PartyId, Svc, Wait, Who
from uep.api.problems import Problem, unavailable
from uep.cli.report import (
    DCC_CASES_SQL,
    DCC_SQL,
    MANDATES_SQL,
    USER_IDS_SQL,
    case_calendars,
    dcc_steps_today,
    mandates_by_party,
)
from uep.health import (
    migrations_check,
    postgres_check,
    readiness_answer,
    run_checks,
    temporal_check,
)
from workflows import names

# -- reads -------------------------------------------------------------------------------------


async def _caught_up(pool: asyncpg.Pool, position: int, wait: float) -> None:
    """Return once every read model has applied ``position``; 503 if not within ``wait``."""

    async def applied() -> bool:
        low = await pool.fetchval("SELECT min(position) FROM projection_checkpoints")
        return low is not None and int(low) >= position

    if await applied():
        return
    head = int(await pool.fetchval("SELECT position FROM event_log_head") or 0)
    if position > head:
        raise Problem(
            422,
            f"after_position {position} is beyond the log's head ({head}): use the position "
            "a write answered with",
            field="after_position",
        )
    progressed = asyncio.Event()

    def wake(*_: object) -> None:
        progressed.set()

    async with pool.acquire() as listener:
        await listener.add_listener(CHECKPOINT_CHANNEL, wake)
        try:
            async with asyncio.timeout(wait):
                # listen first, then check: a checkpoint committed in between still wakes us
                while not await applied():
                    await progressed.wait()
                    progressed.clear()
        except TimeoutError:
            # not a fault: the read models are behind; the caller may retry at once
            raise Problem(
                409,
                f"the read models have not reached position {position} within {wait:g}s",
                retry_after=1,
            ) from None
        finally:
            await listener.remove_listener(CHECKPOINT_CHANNEL, wake)


async def _rows(pool: asyncpg.Pool, sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in await pool.fetch(sql, *args)]


def _own(who: Caller, case_id: str) -> None:
    """404 for a case a Party token may not see (it cannot learn that the case exists)."""
    party = who.party_only()
    if party is not None and names.party_of(names.WORKFLOW_TYPE, case_id) != party:
        raise Problem(404, "no such case")


BOARD_COLUMNS = (
    "case_id, party_id, party_name, party_category, role, status, stage, requirements, "
    "user_id, next_deadline, forecast_completion_on, mandate_due_on, mandate_derogated, "
    "started_on, completed_on, withdrawn_on, version, last_position, updated_at"
)


async def case_board(
    who: Who,
    svc: Svc,
    stage: Annotated[str | None, Query(max_length=60)] = None,
    role: UserRole | None = None,
    party_id: Annotated[str | None, Query(pattern=PARTY_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    after_position: AfterPosition = None,
    wait: Wait = 5.0,
) -> Page:
    """The case board: every case's stage and what it waits for (filters, paging)."""
    if after_position is not None:
        await _caught_up(svc.pool, after_position, wait)
    own = who.party_only()
    if own is not None:
        if party_id not in (None, own):
            return Page(items=[], limit=limit, offset=offset)
        party_id = own
    rows = await _rows(
        svc.pool,
        f"SELECT {BOARD_COLUMNS} FROM case_board "
        "WHERE ($1::text IS NULL OR stage = $1) AND ($2::text IS NULL OR role = $2) "
        "AND ($3::text IS NULL OR party_id = $3) ORDER BY case_id LIMIT $4 OFFSET $5",
        stage,
        None if role is None else str(role),
        party_id,
        limit,
        offset,
    )
    return Page(items=rows, limit=limit, offset=offset)


async def read_case(
    case_id: CaseId, who: Who, svc: Svc, after_position: AfterPosition = None, wait: Wait = 5.0
) -> dict[str, Any]:
    """One case from the case board read model."""
    _own(who, case_id)
    if after_position is not None:
        await _caught_up(svc.pool, after_position, wait)
    rows = await _rows(
        svc.pool, f"SELECT {BOARD_COLUMNS} FROM case_board WHERE case_id = $1", case_id
    )
    if not rows:
        raise Problem(404, "no such case")
    return rows[0]


async def case_events(
    case_id: CaseId,
    who: Who,
    svc: Svc,
    as_of: datetime | None = None,
    after_position: AfterPosition = None,
    wait: Wait = 5.0,
) -> Page:
    """The case's event stream (data, metadata, hash chain), as recorded up to ``as_of``."""
    _own(who, case_id)
    if after_position is not None:
        await _caught_up(svc.pool, after_position, wait)
    events = await PostgresEventStore(svc.pool).read_stream(case_id, as_of=_aware(as_of))
    if not events and not await _exists(svc.pool, case_id):
        raise Problem(404, "no such case")
    return Page(items=[e.model_dump(mode="json") for e in events])


async def case_timeline(
    case_id: CaseId,
    who: Who,
    svc: Svc,
    as_of: datetime | None = None,
    after_position: AfterPosition = None,
    wait: Wait = 5.0,
) -> Page:
    """The case's timeline read model: when, who, what."""
    _own(who, case_id)
    if after_position is not None:
        await _caught_up(svc.pool, after_position, wait)
    rows = await _rows(
        svc.pool,
        "SELECT version, effective_on, recorded_at, who, what FROM case_timeline "
        "WHERE case_id = $1 AND ($2::timestamptz IS NULL OR recorded_at <= $2) ORDER BY version",
        case_id,
        _aware(as_of),
    )
    if not rows and not await _exists(svc.pool, case_id):
        raise Problem(404, "no such case")
    return Page(items=rows)


async def dcc_report(
    who: Who,
    svc: Svc,
    status: Annotated[str | None, Query(pattern=r"^(open|met|missed|overdue)$")] = None,
) -> Page:
    """The DCC's completion steps (2 / 5 / 2 Working Days): due, done, met / missed / overdue."""
    today = datetime.now(UTC).date()
    calendars = case_calendars(await _rows(svc.pool, DCC_CASES_SQL), today)
    rows = [
        r
        for r in dcc_steps_today(await _rows(svc.pool, DCC_SQL), calendars, today)
        if _visible(who, r["case_id"]) and status in (None, r["status"])
    ]
    return Page(items=rows)


async def mandate_report(who: Who, svc: Svc) -> Page:
    """Per Party: roles done and open, the mandate date and its status today."""
    today = datetime.now(UTC).date()
    rows = mandates_by_party(await _rows(svc.pool, MANDATES_SQL), today)
    own = who.party_only()
    return Page(items=[r for r in rows if own in (None, r["party_id"])])


async def user_id_registry(who: Who, svc: Svc) -> Page:
    """The User ID registry."""
    own = who.party_only()
    rows = await _rows(svc.pool, USER_IDS_SQL)
    return Page(items=[r for r in rows if own in (None, r["party_id"])])


async def party_record(party_id: PartyId, who: Who, svc: Svc) -> dict[str, Any]:
    """The Party record (credit, security, User ID ranges, its role cases), when it exists."""
    own = who.party_only()
    if own is not None and own != party_id:
        raise Problem(404, "no such Party record")
    client: Client = svc.client
    try:
        view: dict[str, Any] = await client.get_workflow_handle(
            names.party_record_id(party_id)
        ).query(names.STATE_QUERY, result_type=dict)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Problem(404, "no such Party record") from None
        raise unavailable("Temporal") from None
    return view


async def sender_matrix(who: Who) -> Page:
    """Who may send what (domain.principals)."""
    return Page(items=matrix_table())


async def healthz() -> dict[str, str]:
    """Alive (no token needed, no data)."""
    return {"status": "ok"}


async def readyz(svc: Svc) -> JSONResponse:
    """Ready to serve (no token needed, no data): PostgreSQL answers on the API's pool, its
    migrations are at head and Temporal answers; else 503, naming each failing check (the
    same answer as the worker's and the projector's ``/readyz``)."""
    checks = {
        "postgresql": postgres_check(svc.pool),
        "migrations": migrations_check(svc.pool),
        "temporal": temporal_check(svc.client),
    }
    status, body = readiness_answer("api", await run_checks(checks))
    return JSONResponse(body, status_code=status)


def _visible(who: Caller, case_id: str) -> bool:
    own = who.party_only()
    return own is None or names.party_of(names.WORKFLOW_TYPE, case_id) == own


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def _exists(pool: asyncpg.Pool, case_id: str) -> bool:
    return bool(await pool.fetchval("SELECT 1 FROM case_board WHERE case_id = $1", case_id))
