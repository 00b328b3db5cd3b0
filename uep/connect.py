"""The one wiring point: settings, the Temporal client and the event store's pool.

Every process (the worker, the projector, every `uep` command) goes through here, so each reads
its settings the same way - the ``UEP_`` environment first, then the running `uep dev` stack's
``stack.json`` for what the environment left unset - and connects with the same data converter.
Starting the embedded PostgreSQL is never a side effect of asking for a URL: it happens only in
:func:`ensure_local_database`, which says so.

Roles (docs/operations.md, "Least privilege"): the services and the commands connect as the
application role and check the schema is at head; only :func:`prepare_store` (run by
`uep migrate` and `uep dev`, as the owner) migrates and sets up the read models' tables.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import stamina
import structlog
from temporalio.client import Client
from temporalio.runtime import Runtime

from eventstore.migrations import NotAtHead, migrate, require_head
from eventstore.roles import APP_ROLE, ensure_login_roles
from projections import all_projections
from projections.projector import Projector
from uep.converter import DATA_CONVERTER
from uep.devstack.postgres import ensure_embedded
from uep.devstack.stackfile import resolve_settings
from uep.principal import PrincipalHeaders, principal_key_or_none
from uep.settings import Settings, get_settings

T = TypeVar("T")
log = structlog.get_logger("uep.connect")

TEMPORAL_CONNECT_TIMEOUT = 15.0
DATABASE_CONNECT_TIMEOUT = 10.0


class TemporalUnreachable(RuntimeError):
    """Temporal did not answer; the message says where it was looked for and how to fix it."""


class StoreUnreachable(RuntimeError):
    """PostgreSQL did not answer; the message says where it was looked for and how to fix it."""


def settings(*, owner: bool = False) -> Settings:
    """Settings from the environment, completed from the running stack's file; with ``owner``,
    the stack's database URL is the owner's (for migrating and rebuilding read models)."""
    return resolve_settings(get_settings(), owner=owner)


async def temporal_client(
    config: Settings, runtime: Runtime | None = None, *, signed: bool = False
) -> Client:
    """A client on ``config``'s Temporal with the project's data converter; ``signed``: it
    attaches the principal of :func:`uep.principal.signing_as` as a signed header."""
    interceptors = [PrincipalHeaders(principal_key_or_none(config))] if signed else []
    try:
        return await asyncio.wait_for(
            Client.connect(
                config.temporal_address,
                namespace=config.namespace,
                data_converter=DATA_CONVERTER,
                runtime=runtime,
                interceptors=interceptors,
            ),
            timeout=TEMPORAL_CONNECT_TIMEOUT,
        )
    except (RuntimeError, OSError, TimeoutError) as err:
        reason = "connection refused" if "Connection refused" in str(err) else str(err)
        raise TemporalUnreachable(
            f"cannot reach Temporal at {config.temporal_address} ({reason}); start the stack "
            "with `make dev` or point UEP_TEMPORAL_ADDRESS at a running server"
        ) from None


def embedded_url(config: Settings) -> str:
    """Where the embedded server listens, as its superuser (the owner under `uep dev`)."""
    return f"postgresql://postgres@127.0.0.1:{config.pg_port}/postgres"


def database_url(config: Settings) -> str:
    """The event store's URL: ``UEP_DATABASE_URL`` (or the stack's), else the embedded server's
    as the application role. Starts nothing: a reader that finds no server gets
    StoreUnreachable."""
    if config.database_url:
        return config.database_url
    return with_user(embedded_url(config), APP_ROLE)


def with_user(url: str, user: str, password: str | None = None) -> str:
    """The same server and database as ``url``, connecting as another role."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    login = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{login}@{host}{port}"))


def ensure_local_database(config: Settings) -> str:
    """The event store's URL, starting the embedded PostgreSQL under the state directory when
    no ``UEP_DATABASE_URL`` is set (blocking: call it in a thread from async code). The embedded
    server's URL is its superuser's: the owner's, for preparing it."""
    if config.database_url:
        return config.database_url
    return ensure_embedded(config.state_dir / "postgres", config.pg_port).url()


async def prepare_store(
    owner_url: str, *, login_passwords: Mapping[str, str | None] | None = None
) -> list[str]:
    """As the owner: (create the login roles,) migrate, then create the read models' tables,
    rebuild outdated ones and grant the roles their privileges; the migrations applied now.

    ``login_passwords`` is for `uep dev` and a standalone service on the embedded server, whose
    superuser may create roles; in production an administrator made them (the init script).
    """
    try:
        conn = await asyncpg.connect(owner_url, timeout=DATABASE_CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as err:
        raise StoreUnreachable(f"cannot reach PostgreSQL as the owner ({err})") from err
    try:
        if login_passwords is not None:
            await ensure_login_roles(conn, login_passwords)
        applied = await migrate(conn)
    finally:
        await conn.close()
    pool = await open_pool(owner_url, migrated=False, min_size=1, max_size=2)
    try:
        projector = Projector(pool, all_projections())
        await projector.setup()
        await projector.grant()
    finally:
        await pool.close()
    return applied


async def prepare_local_store(config: Settings) -> str:
    """The application's URL on the embedded server, started and prepared (a service run on
    its own, without `uep dev`); ``UEP_DATABASE_URL`` when set, untouched."""
    if config.database_url:
        return config.database_url
    owner = await asyncio.to_thread(ensure_local_database, config)
    await prepare_store(owner, login_passwords={})
    return database_url(config)


async def open_pool(
    url: str, *, migrated: bool = True, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """A pool on ``url``; with ``migrated`` the schema is brought to head first (tests and
    benchmarks, as the owner: services and commands use :func:`store_pool`)."""
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
    """A pool on an event store at head, for the length of a command (it never migrates).

    ``start_local`` starts and prepares the embedded server if it is not running (the worker
    and projector do; read-only tools do not, and report the stack as down instead).
    """
    url = await prepare_local_store(config) if start_local else database_url(config)
    pool = await open_pool(url, migrated=False, max_size=max_size)
    try:
        async with pool.acquire() as conn:
            await require_head(conn)
        yield pool
    finally:
        await pool.close()


async def service_pool(config: Settings, *, max_size: int = 10) -> asyncpg.Pool:
    """A lazy pool for a long-running service: it opens connections as they are needed, so
    PostgreSQL may be down when the service starts or at any time after."""
    url = await prepare_local_store(config)
    return await asyncpg.create_pool(
        url, min_size=0, max_size=max_size, timeout=DATABASE_CONNECT_TIMEOUT
    )


async def close_pool(pool: asyncpg.Pool, within: float = 10.0) -> None:
    """Close gracefully, or cut the connections when PostgreSQL does not answer in time."""
    try:
        await asyncio.wait_for(pool.close(), within)
    except TimeoutError:
        pool.terminate()


async def retrying(
    what: str, attempt: Callable[[], Awaitable[T]], on: tuple[type[Exception], ...]
) -> T:
    """``attempt()`` until it succeeds, with capped exponential backoff and jitter (stamina);
    one log line when it starts failing and one when it succeeds, not one per attempt."""
    failing_since: float | None = None
    async for trial in stamina.retry_context(
        on=on, attempts=None, timeout=None, wait_initial=0.5, wait_max=10.0, wait_jitter=1.0
    ):
        with trial:
            try:
                result = await attempt()
            except on as err:
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.warning("waiting for " + what, reason=str(err).splitlines()[0])
                raise
            if failing_since is not None:
                log.info(what + " reached", after_seconds=round(time.monotonic() - failing_since))
            return result
    raise AssertionError("unreachable: the retries above never give up")


async def wait_for_store(pool: asyncpg.Pool) -> None:
    """Return once PostgreSQL answers on ``pool`` and its schema is at head."""

    async def at_head() -> None:
        try:
            async with pool.acquire() as conn:
                await require_head(conn)
        except (
            OSError,
            TimeoutError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.exceptions.InternalClientError,
        ) as err:
            raise StoreUnreachable(str(err)) from err

    await retrying("the event store", at_head, (StoreUnreachable, NotAtHead))


async def wait_for_temporal(
    config: Settings, runtime: Runtime | None = None, *, signed: bool = False
) -> Client:
    """A client on Temporal, retried for as long as it takes to answer."""
    return await retrying(
        "Temporal",
        lambda: temporal_client(config, runtime, signed=signed),
        (TemporalUnreachable,),
    )
