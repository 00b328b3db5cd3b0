"""The API's endpoints: a start and one endpoint per message (update, and a signal form),
and the reads from the read models. Each message's body is the workflow's own pydantic model,
so the OpenAPI schema and what the workflow accepts cannot drift."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from pydantic import BaseModel, Field
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.commands import MESSAGES, Command, Message, StartCase
from domain.party.commands import PARTY_MESSAGES
from domain.principals import START, SenderRefused, authorise, matrix_table
from domain.roles import UserRole
from eventstore.postgres import PostgresEventStore
from projections.projector import CHECKPOINT_CHANNEL
from uep.api.app import Caller, Services, caller, services
from uep.api.problems import PROBLEM_RESPONSES, REFUSAL_STATUS, Problem, unavailable
from uep.cli.report import (
    DCC_CASES_SQL,
    DCC_SQL,
    MANDATES_SQL,
    USER_IDS_SQL,
    case_calendars,
    dcc_steps_today,
    mandates_by_party,
)
from uep.principal import signing_as
from workflows import names

CASE_ID = r"^uep-[A-Za-z0-9_-]{1,64}-[a-z_]{1,40}$"
PARTY_ID = r"^[A-Za-z0-9_-]{1,64}$"
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,100}$"
WAIT_MAX = 10.0

CaseId = Annotated[str, Path(pattern=CASE_ID, description="uep-<party_id>-<role>")]
PartyId = Annotated[str, Path(pattern=PARTY_ID)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY,
        description="A retry with the same key returns the first answer and records nothing "
        "new (it becomes the update id and the message_id).",
    ),
]
AfterPosition = Annotated[
    int | None,
    Query(ge=0, le=2**62, description="Wait until the read models have applied this position."),
]
Wait = Annotated[float, Query(ge=0, le=WAIT_MAX, description="Seconds to wait for it.")]
Who = Annotated[Caller, Depends(caller)]
Svc = Annotated[Services, Depends(services)]


class WriteAnswer(BaseModel):
    """What an accepted message did, and the global position to read your write at."""

    accepted: bool = True
    duplicate: bool = False
    events: list[str]
    stage: str | None = None
    stream_version: int
    message: str = ""
    position: int | None = Field(default=None, description="Pass as after_position to a read.")


class SignalAnswer(BaseModel):
    """A signal was handed to Temporal; a refusal shows under the case's rejected messages."""

    signal: str
    message_id: str


class StartAnswer(BaseModel):
    """The case started (or, for a retried Idempotency-Key, was already open)."""

    case_id: str
    run_id: str | None = None
    already_open: bool = False


class Page(BaseModel):
    """Rows of a read model."""

    items: list[dict[str, Any]]
    limit: int | None = None
    offset: int | None = None


def register(app: FastAPI) -> None:
    """Every endpoint."""
    common: dict[str, Any] = {"responses": PROBLEM_RESPONSES}
    app.post("/cases", status_code=201, response_model=StartAnswer, tags=["cases"], **common)(
        start_case
    )
    for name, message in MESSAGES.items():
        app.post(
            f"/cases/{{case_id}}/{name}",
            response_model=WriteAnswer,
            tags=[f"case: {message.area}"],
            summary=f"{message.summary} ({message.sender})",
            operation_id=f"case_{name}",
            **common,
        )(_update_endpoint(name, message, party_record=False))
        if message.signal:
            app.post(
                f"/cases/{{case_id}}/{name}/signal",
                status_code=202,
                response_model=SignalAnswer,
                tags=["signals"],
                summary=f"{message.summary} (fire-and-forget)",
                operation_id=f"case_{name}_signal",
                **common,
            )(_signal_endpoint(name, message, party_record=False))
    for name, message in PARTY_MESSAGES.items():
        app.post(
            f"/parties/{{party_id}}/{name}",
            response_model=WriteAnswer,
            tags=["party record"],
            summary=f"{message.summary} ({message.sender})",
            operation_id=f"party_{name}",
            **common,
        )(_update_endpoint(name, message, party_record=True))
        if message.signal:
            app.post(
                f"/parties/{{party_id}}/{name}/signal",
                status_code=202,
                response_model=SignalAnswer,
                tags=["signals"],
                summary=f"{message.summary} (fire-and-forget)",
                operation_id=f"party_{name}_signal",
                **common,
            )(_signal_endpoint(name, message, party_record=True))
    reads = {"tags": ["reads"], **common}
    app.get("/cases", response_model=Page, **reads)(case_board)
    app.get("/cases/{case_id}", response_model=dict[str, Any], **reads)(read_case)
    app.get("/cases/{case_id}/events", response_model=Page, **reads)(case_events)
    app.get("/cases/{case_id}/timeline", response_model=Page, **reads)(case_timeline)
    app.get("/reports/dcc", response_model=Page, **reads)(dcc_report)
    app.get("/reports/mandates", response_model=Page, **reads)(mandate_report)
    app.get("/user-ids", response_model=Page, **reads)(user_id_registry)
    app.get("/parties/{party_id}", response_model=dict[str, Any], **reads)(party_record)
    app.get("/senders", response_model=Page, **reads)(sender_matrix)
    app.get("/healthz", tags=["health"])(healthz)


# -- writes ----------------------------------------------------------------------------------


def _authorise(who: Caller, message: str, party_id: str | None) -> None:
    try:
        authorise(who.principal, message, party_id)
    except SenderRefused as err:
        if err.not_found:
            raise Problem(404, "no such case") from None
        raise Problem(403, err.reason) from None


def _payload(body: Command, key: str | None) -> dict[str, Any]:
    payload = body.model_dump(mode="json", exclude_none=True)
    if key is not None:
        if payload.get("message_id") not in (None, key):
            raise Problem(
                422, "message_id differs from the Idempotency-Key; give one", field="message_id"
            )
        payload["message_id"] = key
    return payload


def _target(path_id: str, party_record: bool) -> tuple[str, str | None]:
    """(workflow id, its Party) for a path's case id or party id."""
    if party_record:
        return names.party_record_id(path_id), path_id
    return path_id, names.party_of(names.WORKFLOW_TYPE, path_id)


def _update_endpoint(name: str, message: Message, *, party_record: bool) -> Any:
    async def endpoint(
        request: Request,
        target_id: str,
        body: Command,
        idempotency_key: str | None,
        who: Caller,
        svc: Services,
    ) -> WriteAnswer:
        workflow_id, _ = _target(target_id, party_record)
        payload = _payload(body, idempotency_key)
        update_id = f"{name}:{idempotency_key}" if idempotency_key else None
        handle = svc.client.get_workflow_handle(workflow_id)
        with signing_as(who.principal, request.state.request_id):
            try:
                result = await handle.execute_update(name, payload, id=update_id, result_type=dict)
            except WorkflowUpdateFailedError as err:
                raise _refused(err) from None
            except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
                raise _temporal(err, workflow_id) from None
        answer = WriteAnswer.model_validate(result)
        answer.position = await _position(svc.pool, workflow_id)
        return answer

    return _signed_endpoint(endpoint, name, message, party_record)


def _signal_endpoint(name: str, message: Message, *, party_record: bool) -> Any:
    async def endpoint(
        request: Request,
        target_id: str,
        body: Command,
        idempotency_key: str | None,
        who: Caller,
        svc: Services,
    ) -> SignalAnswer:
        workflow_id, _ = _target(target_id, party_record)
        payload = _payload(body, idempotency_key)
        payload.setdefault("message_id", f"api-{request.state.request_id}")
        handle = svc.client.get_workflow_handle(workflow_id)
        with signing_as(who.principal, request.state.request_id):
            try:
                await handle.signal(name, payload)
            except RPCError as err:
                raise _temporal(err, workflow_id) from None
        return SignalAnswer(signal=name, message_id=payload["message_id"])

    return _signed_endpoint(endpoint, name, message, party_record)


def _id_param(party_record: bool) -> inspect.Parameter:
    key = inspect.Parameter.KEYWORD_ONLY
    if party_record:
        return inspect.Parameter("party_id", key, annotation=PartyId)
    return inspect.Parameter("case_id", key, annotation=CaseId)


def _permit(name: str, party_record: bool) -> Any:
    """A dependency that refuses the caller before the body is even looked at: 403 for a
    principal the matrix refuses, 404 for another Party's case (or a malformed case id)."""

    async def permit(**kwargs: Any) -> Caller:
        who: Caller = kwargs["who"]
        target_id = kwargs["party_id" if party_record else "case_id"]
        _, party_id = _target(target_id, party_record)
        if party_id is None:
            raise Problem(404, "no such case")
        _authorise(who, name, party_id)
        return who

    key = inspect.Parameter.KEYWORD_ONLY
    permit.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [_id_param(party_record), inspect.Parameter("who", key, annotation=Who)]
    )
    return permit


def _signed_endpoint(fn: Any, name: str, message: Message, party_record: bool) -> Any:
    """The endpoint with a real signature, so FastAPI documents and validates the body as the
    message's own model (the same class the workflow validates with)."""
    key = inspect.Parameter.KEYWORD_ONLY
    permitted = Annotated[Caller, Depends(_permit(name, party_record))]
    params = [
        inspect.Parameter("request", key, annotation=Request),
        _id_param(party_record),
        inspect.Parameter("body", key, annotation=message.model),
        inspect.Parameter("idempotency_key", key, annotation=IdempotencyKey, default=None),
        inspect.Parameter("who", key, annotation=permitted),
        inspect.Parameter("svc", key, annotation=Svc),
    ]

    async def endpoint(**kwargs: Any) -> Any:
        target_id = kwargs.pop("party_id" if party_record else "case_id")
        return await fn(target_id=target_id, **kwargs)

    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__doc__ = message.model.__doc__
    return endpoint


async def start_case(
    request: Request,
    body: StartCase,
    who: Who,
    svc: Svc,
    idempotency_key: IdempotencyKey = None,
) -> StartAnswer:
    """Start the User Entry Process for a Party and a User Role (workflow input StartCase)."""
    party_id = body.party.party_id
    _authorise(who, START, party_id)
    role = UserRole(body.role)
    case_id = names.workflow_id(party_id, str(role))
    with signing_as(who.principal, request.state.request_id):
        try:
            handle = await svc.client.start_workflow(
                names.WORKFLOW_TYPE,
                body.model_dump(mode="json", exclude_none=True),
                id=case_id,
                task_queue=svc.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                static_summary=f"{body.party.party_name} - {role.label}",
            )
        except WorkflowAlreadyStartedError:
            if idempotency_key:
                return StartAnswer(case_id=case_id, already_open=True)
            raise Problem(
                409, f"a case {case_id} is already open for this Party and role"
            ) from None
        except RPCError as err:
            raise _temporal(err, case_id) from None
    return StartAnswer(case_id=case_id, run_id=handle.result_run_id)


def _refused(err: WorkflowUpdateFailedError) -> Problem:
    cause: BaseException | None = err.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if not isinstance(cause, ApplicationError):
        return unavailable("the workflow")
    kind = cause.type or ""
    status = REFUSAL_STATUS.get(kind, 409)
    field = None
    waiting: list[str] | None = None
    if cause.details and isinstance(cause.details[0], dict):
        field = cause.details[0].get("field")
        waiting = cause.details[0].get("waiting_for") or None
    if status == 404:
        return Problem(404, "no such case")
    return Problem(status, cause.message, field=field, waiting_for=waiting)


def _temporal(err: BaseException, workflow_id: str) -> Problem:
    if isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND:
        if "completed" in err.message:
            return Problem(409, f"{workflow_id} is closed: it takes no more messages")
        return Problem(404, "no such case")
    if isinstance(err, RPCError) and err.status == RPCStatusCode.INVALID_ARGUMENT:
        return Problem(422, err.message[:300])
    return unavailable("Temporal")


async def _position(pool: asyncpg.Pool, stream_id: str) -> int | None:
    """The global position of the stream's last event (None when PostgreSQL is away)."""
    try:
        value = await pool.fetchval(
            "SELECT position FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
            stream_id,
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return None
    return None if value is None else int(value)


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


def _visible(who: Caller, case_id: str) -> bool:
    own = who.party_only()
    return own is None or names.party_of(names.WORKFLOW_TYPE, case_id) == own


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def _exists(pool: asyncpg.Pool, case_id: str) -> bool:
    return bool(await pool.fetchval("SELECT 1 FROM case_board WHERE case_id = $1", case_id))
