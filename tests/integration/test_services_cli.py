"""`uep migrate`, `uep projector` and `uep worker` as the containers run them, on a real PostgreSQL
(and a Temporal dev server that comes up late)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from eventstore.migrations import head_number, load_migrations
from eventstore.roles import APP_ROLE
from projections import all_projections
from uep.cli.services import run_projector
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port, port_in_use
from uep.devstack.temporal import DevServerConfig, start_dev_server
from uep.settings import Settings
from worker import run_worker

pytestmark = pytest.mark.integration


async def uep(url: str, state_dir: Path, *args: str) -> tuple[int, str]:
    """Run ``python -m uep.cli ARGS`` against ``url``; its status and combined output."""
    env = {**os.environ, "UEP_DATABASE_URL": url, "UEP_STATE_DIR": str(state_dir)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uep.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return int(process.returncode or 0), out.decode()


async def test_migrate_brings_an_empty_store_to_head(database_url: str, tmp_path: Path) -> None:
    code, out = await uep(database_url, tmp_path, "migrate")
    assert code == 0, out
    names = [m.name for m in load_migrations()]
    assert [line.split()[1] for line in out.splitlines() if line.startswith("applied ")] == names
    code, out = await uep(database_url, tmp_path, "migrate")
    assert code == 0 and "0 applied now" in out, out


async def test_migrate_reports_an_unreachable_database(tmp_path: Path) -> None:
    code, out = await uep("postgresql://nobody:secret@127.0.0.1:1/uep", tmp_path, "migrate")
    assert code == 3, out
    assert "secret" not in out and "***" in out


async def test_migrate_prepares_the_read_models_and_the_roles_privileges(
    database_url: str, tmp_path: Path
) -> None:
    code, out = await uep(database_url, tmp_path, "migrate")
    assert code == 0 and "read models ready" in out, out
    conn = await asyncpg.connect(database_url)
    try:
        for projection in all_projections():
            assert await conn.fetchval(
                "SELECT has_table_privilege($1, $2, 'INSERT')", APP_ROLE, projection.table
            ), projection.table
        assert await conn.fetchval("SELECT count(*) FROM projection_checkpoints") == len(
            all_projections()
        )
    finally:
        await conn.close()


async def ready(port: int) -> tuple[bool, dict[str, Any]]:
    """The projector's /readyz: whether it is ready, and its checks."""

    def fetch() -> tuple[bool, dict[str, Any]]:
        url = f"http://127.0.0.1:{port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return True, json.loads(answer.read())["checks"]
        except urllib.error.HTTPError as err:
            return False, json.loads(err.read())["checks"]

    return await asyncio.to_thread(fetch)


async def test_the_projector_waits_for_migrations_then_follows(
    database_url: str, tmp_path: Path
) -> None:
    """Started on an empty database it waits, says why in /readyz, and follows once the owner
    has migrated: no restart needed."""
    port = free_port()
    config = Settings(database_url=database_url, metrics_port=port, state_dir=tmp_path)
    stop = asyncio.Event()
    running = asyncio.create_task(run_projector(stop, config))
    try:
        for _ in range(200):  # bounded: nothing announces the first failed attempt
            up, checks = await ready(port) if port_in_use(port) else (False, {})
            if "migrations" in checks and not checks["projector"]["ok"]:
                break
            await asyncio.sleep(0.05)
        assert not up and f"needs {head_number()}" in checks["migrations"]["detail"], checks
        assert checks["projector"]["detail"].startswith("waiting: NotAtHead"), checks

        code, out = await uep(database_url, tmp_path, "migrate")
        assert code == 0, out
        for _ in range(300):  # bounded (60 s): the projector's backoff is capped at 10 s
            if (await ready(port))[0]:
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail(f"the projector did not become ready: {await ready(port)}")
        code, out = await uep(database_url, tmp_path, "projections", "wait")
        assert code == 0, out
    finally:
        stop.set()
        await running


async def test_the_worker_waits_for_temporal_then_polls(
    database_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """Started while Temporal is down, the worker stays up, says why it is not ready, and polls
    once Temporal answers: no restart needed."""
    frontend = free_port()
    port = free_port()
    config = Settings(
        database_url=database_url,
        temporal_address=f"127.0.0.1:{frontend}",
        metrics_port=port,
        temporal_metrics_port=free_port(),
        state_dir=tmp_path,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(config, stop))
    server = None
    try:
        for _ in range(200):  # bounded: the server starts in the worker's first moments
            up, checks = await ready(port) if port_in_use(port) else (False, {})
            if "worker" in checks:
                break
            await asyncio.sleep(0.05)
        assert not up and checks["worker"]["detail"] == "connecting to Temporal", checks

        dev = DevServerConfig(
            binary=temporal_cli(), db_file=tmp_path / "t.sqlite", port=frontend,
            ui_port=free_port(),
        )  # fmt: skip
        server = start_dev_server(dev, tmp_path / "temporal.log")
        for _ in range(400):  # bounded (80 s): the worker's backoff is capped at 10 s
            up, checks = await ready(port)
            if up:
                break
            await asyncio.sleep(0.2)
        assert up, checks
        assert checks["worker"]["detail"] == "polling task queue 'uep'"
    finally:
        stop.set()
        await running
        if server is not None:
            server.send_signal(signal.SIGINT)
            await asyncio.to_thread(server.wait, 30)
