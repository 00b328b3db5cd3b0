"""The API on real services: PostgreSQL (a fresh, migrated database; the API connects as the
least-privileged ``uep_app``), Temporal's time-skipping server with a worker that holds the
principal key and takes no unsigned message, and the app served in-process through httpx."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.notices import MemoryChannel
from domain.principals import PUBLIC_KINDS, PrincipalKind
from eventstore.postgres import PostgresEventStore
from eventstore.roles import APP_ROLE
from eventstore.tokens import TokenStore
from projections import all_projections
from projections.projector import Projector
from tests.pg import postgres_server, random_database_name, with_database
from tests.workflows.conftest import time_skipping_server
from uep.api.app import create_app
from uep.connect import prepare_store, with_user
from uep.principal import PrincipalHeaders
from uep.settings import Settings
from worker import build_worker

KEY = bytes(range(32, 64))


@dataclass
class ApiStack:
    """Everything an API test touches."""

    app: FastAPI
    http: httpx.AsyncClient
    pool: asyncpg.Pool
    env: WorkflowEnvironment
    tokens: dict[str, str] = field(default_factory=dict)
    """A token per principal kind (the party's is for party ``party_id``)."""
    party_id: str = ""

    def auth(self, kind: str) -> dict[str, str]:
        """The Authorization header of a kind's token."""
        return {"Authorization": f"Bearer {self.tokens[kind]}"}

    async def catch_up(self) -> None:
        """Apply every stored event to the read models (no waiting)."""
        await Projector(self.pool, all_projections()).catch_up()

    async def events(self, stream: str) -> int:
        """How many events senders' messages recorded in a stream (not the start, not the
        engine's own steps, such as the Party record's position, which arrive on their own)."""
        return int(
            await self.pool.fetchval(
                "SELECT count(*) FROM events WHERE stream_id = $1 AND metadata ? 'principal' "
                "AND metadata->>'command' <> 'start'",
                stream,
            )
        )

    async def token(self, kind: str, ident: str) -> str:
        """A new token."""
        token, _ = await TokenStore(self.pool).create(kind, ident, f"{kind} {ident}")
        return token


@pytest.fixture(scope="session")
def api_pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
async def api_database(api_pg_server: str) -> AsyncIterator[str]:
    name = random_database_name()
    admin = await asyncpg.connect(api_pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        owner = with_database(api_pg_server, name)
        await prepare_store(owner, login_passwords={"uep_app": None, "uep_auditor": None})
        yield owner
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def api_env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as environment:
        yield environment


@pytest.fixture(scope="session")
async def api(
    api_database: str, api_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiStack]:
    key_file: Path = tmp_path_factory.mktemp("keys") / "principal.key"
    key_file.write_text(KEY.hex())  # noqa: ASYNC240 - a tiny file, once
    task_queue = f"uep-api-{uuid.uuid4()}"
    config = Settings(task_queue=task_queue, principal_key_file=key_file)
    pool = await asyncpg.create_pool(with_user(api_database, APP_ROLE), min_size=1, max_size=30)
    store = PostgresEventStore(pool)
    signing = api_env.client.config()
    signing["interceptors"] = [PrincipalHeaders(KEY)]
    client = Client(**signing)
    worker = build_worker(
        api_env.client,
        store,
        task_queue,
        channel=MemoryChannel(),
        principal_key=KEY,
        allow_ui_writes=False,
    )
    app = create_app(config, client=client, pool=pool)
    async with worker, app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            stack = ApiStack(app, http, pool, api_env)
            stack.party_id = f"p{uuid.uuid4().hex[:10]}"
            for kind in PUBLIC_KINDS:
                ident = stack.party_id if kind == PrincipalKind.PARTY else str(kind)
                stack.tokens[str(kind)] = await stack.token(str(kind), ident)
            yield stack
    await store.close()
    await pool.close()


def start_body(party_id: str, role: str = "gas_supplier", **extra: Any) -> dict[str, Any]:
    """A start input for an eligible small gas supplier."""
    return {
        "party": {
            "party_id": party_id,
            "party_name": f"Party {party_id}",
            "category": "small_supplier",
            "licences": ["gas_supply"],
        },
        "role": role,
        **extra,
    }
