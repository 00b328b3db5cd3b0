"""The one wiring point: settings, the Temporal client and the event store's pool.

Every process (the worker, the projector, every `uep` command) goes through here, so each reads
its settings the same way - the ``UEP_`` environment first, then the running `uep dev` stack's
``stack.json`` for what the environment left unset - and connects with the same data converter.
Starting the embedded PostgreSQL is never a side effect of asking for a URL: it happens only in
:func:`ensure_local_database`, which says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from temporalio.client import Client

from eventstore.migrations import migrate
from uep.converter import DATA_CONVERTER
from uep.devstack.postgres import ensure_embedded
from uep.devstack.stackfile import resolve_settings
from uep.settings import Settings, get_settings

TEMPORAL_CONNECT_TIMEOUT = 15.0
DATABASE_CONNECT_TIMEOUT = 10.0


class TemporalUnreachable(RuntimeError):
    """Temporal did not answer; the message says where it was looked for and how to fix it."""


class StoreUnreachable(RuntimeError):
    """PostgreSQL did not answer; the message says where it was looked for and how to fix it."""


def settings() -> Settings:
    """Settings from the environment, completed from the running stack's file."""
    return resolve_settings(get_settings())


async def temporal_client(config: Settings) -> Client:
    """A client on ``config``'s Temporal with the project's data converter."""
    try:
        return await asyncio.wait_for(
            Client.connect(
                config.temporal_address,
                namespace=config.namespace,
                data_converter=DATA_CONVERTER,
            ),
            timeout=TEMPORAL_CONNECT_TIMEOUT,
        )
    except (RuntimeError, OSError, TimeoutError) as err:
        reason = "connection refused" if "Connection refused" in str(err) else str(err)
        raise TemporalUnreachable(
            f"cannot reach Temporal at {config.temporal_address} ({reason}); start the stack "
            "with `make dev` or point UEP_TEMPORAL_ADDRESS at a running server"
        ) from None


def database_url(config: Settings) -> str:
    """The event store's URL: ``UEP_DATABASE_URL`` (or the stack's), else where the embedded
    server listens. Starts nothing: a reader that finds no server gets StoreUnreachable."""
    if config.database_url:
        return config.database_url
    return f"postgresql://postgres@127.0.0.1:{config.pg_port}/postgres"


def ensure_local_database(config: Settings) -> str:
    """The event store's URL, starting the embedded PostgreSQL under the state directory when
    no ``UEP_DATABASE_URL`` is set (blocking: call it in a thread from async code)."""
    if config.database_url:
        return config.database_url
    return ensure_embedded(config.state_dir / "postgres", config.pg_port).url()


async def open_pool(
    url: str, *, migrated: bool = True, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """A pool on ``url``; with ``migrated`` the schema is brought to head first."""
    try:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, timeout=DATABASE_CONNECT_TIMEOUT
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as err:
        raise StoreUnreachable(
            f"cannot reach PostgreSQL ({err}); is `uep dev` running, or UEP_DATABASE_URL right?"
        ) from err
    if migrated:
        async with pool.acquire() as conn:
            await migrate(conn)
    return pool


@asynccontextmanager
async def store_pool(
    config: Settings, *, start_local: bool = False, max_size: int = 4
) -> AsyncIterator[asyncpg.Pool]:
    """A migrated pool on the event store for the length of a command.

    ``start_local`` starts the embedded server if it is not running (the worker and projector
    do; read-only tools do not, and report the stack as down instead).
    """
    if start_local:
        url = await asyncio.to_thread(ensure_local_database, config)
    else:
        url = database_url(config)
    pool = await open_pool(url, max_size=max_size)
    try:
        yield pool
    finally:
        await pool.close()
