"""The HTTP API for backend services: FastAPI, one Temporal client and one asyncpg pool.

A bearer token names a principal (eventstore/tokens.py); the API checks the sender matrix
before it calls Temporal (403 / 404 at once), then signs the principal into the Temporal header
so the workflow checks it again where it cannot be forged. Reads come from the read models.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from domain.principals import Principal, PrincipalKind, Sender
from eventstore.tokens import TokenCache, TokenRecord, TokenStore
from uep import connect
from uep.api.problems import (
    Problem,
    problem_response,
    unavailable,
    validation_problem,
)
from uep.principal import load_principal_key, parse_principal
from uep.settings import Settings

QUIET_PROBES = frozenset({"/healthz", "/readyz"})
"""Probes answered 200 are not logged: an orchestrator (or `uep dev`) asks every few seconds."""
MAX_BODY_BYTES = 64 * 1024
"""A message is a few hundred bytes; a start input a few kilobytes."""
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
log = structlog.get_logger("uep.api")


@dataclass
class Caller:
    """The authenticated caller of one request."""

    token: TokenRecord
    principal: Principal

    @property
    def kind(self) -> PrincipalKind:
        """The principal's kind."""
        return self.principal.kind

    def party_only(self) -> str | None:
        """A Party token's party id (it sees its own only); None for everyone else."""
        return self.principal.id if self.kind == PrincipalKind.PARTY else None


@dataclass
class Services:
    """What every request uses: the Temporal client, the pool, the task queue."""

    client: Client
    pool: asyncpg.Pool
    tokens: TokenCache
    task_queue: str


def create_app(
    config: Settings, *, client: Client | None = None, pool: asyncpg.Pool | None = None
) -> FastAPI:
    """The API; tests pass their own client and pool, the service connects in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        load_principal_key(config)  # fail at start, not on the first write
        own_pool = pool is None
        temporal = client or await connect.wait_for_temporal(config, signed=True)
        store = pool or await connect.service_pool(config, max_size=10)
        tokens = TokenCache(TokenStore(store), config.api_token_cache_seconds)
        app.state.services = Services(temporal, store, tokens, config.task_queue)
        try:
            yield
        finally:
            if own_pool:
                await connect.close_pool(store)

    app = FastAPI(
        title="uep - DCC User Entry Process API",
        version="1",
        description="Start cases, send every message of the User Entry Process, read the "
        "read models. Bearer tokens (`uep token create`); errors are application/problem+json.",
        lifespan=lifespan,
    )
    _install_errors(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(RequestContext)
    from uep.api.routes import register

    register(app)
    return app


class RequestContext:
    """A request id for logs, the response and the event metadata; one log line per request.
    Plain ASGI (no per-request task as BaseHTTPMiddleware makes): it sits on every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, sending)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            route = scope.get("route")
            path = getattr(route, "path", "?")
            if status != 200 or path not in QUIET_PROBES:
                log.info(
                    "request",
                    request_id=request_id,
                    method=scope.get("method"),
                    route=path,
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                    token_id=state.get("token_id"),
                )


def _install_errors(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(request, validation_problem(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(request, Problem(exc.status_code, str(exc.detail)))

    async def on_database(request: Request, exc: Exception) -> Response:
        return problem_response(request, unavailable("PostgreSQL"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for fault in (
        OSError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.UndefinedTableError,
        TimeoutError,
    ):
        app.add_exception_handler(fault, on_database)


def services(request: Request) -> Services:
    """The app's services (FastAPI dependency)."""
    found: Services = request.app.state.services
    return found


async def caller(request: Request) -> Caller:
    """The token's principal (FastAPI dependency): 401 without a live token."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "send 'Authorization: Bearer <token>' (uep token create)")
    try:
        record = await services(request).tokens.find(token.strip())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        raise unavailable("PostgreSQL") from None
    if record is None:
        raise Problem(401, "the token is unknown or revoked")
    request.state.token_id = record.token_id
    principal = Principal(kind=PrincipalKind(record.kind), id=record.principal_id, name=record.name)
    behalf = request.headers.get("x-on-behalf-of")
    if behalf:
        if principal.kind != PrincipalKind.SECAS:
            raise Problem(403, "only SECAS records on another's behalf (X-On-Behalf-Of)")
        try:
            sender: Sender = parse_principal(behalf)
        except ValueError as err:
            raise Problem(422, f"X-On-Behalf-Of: {err}", field="X-On-Behalf-Of") from None
        principal = principal.model_copy(update={"on_behalf_of": sender})
    return Caller(record, principal)


class BodyLimit:
    """413 for a body over the limit, counted as it arrives (a Content-Length can lie)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(scope, receive, send, self.limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(scope, receive, send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem_response(None, Problem(413, f"the body is over {limit} bytes"))
    await response(scope, receive, send)


def openapi_extra() -> dict[str, Any]:
    """The bearer scheme, for the OpenAPI document."""
    return {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
