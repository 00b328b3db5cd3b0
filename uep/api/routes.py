"""The API's endpoints: a start and one endpoint per message (update, and a signal form), and
the reads (uep/api/reads.py). Each message's body is the workflow's own pydantic model, so the
OpenAPI schema and what the workflow accepts cannot drift."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, Request
from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.commands import MESSAGES, Command, Message, StartCase
from domain.party.commands import PARTY_MESSAGES
from domain.principals import START, SenderRefused, authorise
from domain.roles import UserRole
from uep.api.app import Caller, Services
from uep.api.params import (
    CaseId,
    IdempotencyKey,
    Page,
    PartyId,
    SignalAnswer,
    StartAnswer,
    Svc,
    Who,
    WriteAnswer,
)
from uep.api.problems import PROBLEM_RESPONSES, REFUSAL_STATUS, Problem, unavailable
from uep.api.reads import (
    case_board,
    case_events,
    case_timeline,
    dcc_report,
    healthz,
    mandate_report,
    party_record,
    read_case,
    readyz,
    sender_matrix,
    user_id_registry,
)
from uep.principal import signing_as
from uep.updates import execute_update
from workflows import names


def register(app: FastAPI) -> None:
    """Every endpoint."""
    common: dict[str, Any] = {"responses": PROBLEM_RESPONSES}
    app.post("/cases", status_code=201, response_model=StartAnswer, tags=["cases"], **common)(
        start_case
    )
    targets = (
        (MESSAGES, "/cases/{case_id}", "case", False),
        (PARTY_MESSAGES, "/parties/{party_id}", "party", True),
    )
    for messages, path, prefix, is_party in targets:
        for name, message in messages.items():
            tag = "party record" if is_party else f"case: {message.area}"
            app.post(
                f"{path}/{name}",
                response_model=WriteAnswer,
                tags=[tag],
                summary=f"{message.summary} ({message.sender})",
                operation_id=f"{prefix}_{name}",
                **common,
            )(_update_endpoint(name, message, party_record=is_party))
            if message.signal:
                app.post(
                    f"{path}/{name}/signal",
                    status_code=202,
                    response_model=SignalAnswer,
                    tags=["signals"],
                    summary=f"{message.summary} (fire-and-forget)",
                    operation_id=f"{prefix}_{name}_signal",
                    **common,
                )(_signal_endpoint(name, message, party_record=is_party))
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
    app.get(
        "/readyz",
        tags=["health"],
        responses={503: {"description": "not ready: the body names each failing check"}},
    )(readyz)


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
                result = await execute_update(svc.client, handle, name, payload, update_id)
            except WorkflowUpdateFailedError as err:
                raise _refused(err) from None
            except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
                raise _temporal(err, workflow_id) from None
        answer = WriteAnswer.model_validate(result)
        if answer.position is None:  # a repeat, or a run continued since the last append
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
