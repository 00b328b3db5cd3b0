"""PostgreSQL fixtures: one server per session, a fresh database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from eventstore.postgres import PostgresEventStore
from tests.pg import postgres_server, random_database_name, with_database
from uep.connect import open_pool


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """Superuser URL of the session's PostgreSQL server."""
    with postgres_server() as url:
        yield url


@pytest.fixture
async def database_url(pg_server_url: str) -> AsyncIterator[str]:
    """URL of a brand-new empty database, dropped after the test."""
    name = random_database_name()
    admin = await asyncpg.connect(pg_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(pg_server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A migrated pool on the test's own database."""
    pool = await open_pool(database_url, min_size=1, max_size=20)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def pg_store(pool: asyncpg.Pool) -> AsyncIterator[PostgresEventStore]:
    """The PostgreSQL event store on the test's database."""
    store = PostgresEventStore(pool)
    try:
        yield store
    finally:
        await store.close()
