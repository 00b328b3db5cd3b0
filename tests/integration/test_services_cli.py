"""`uep migrate`, `uep projector` and `uep worker` as the containers run them, on a real PostgreSQL
(and a Temporal dev server that comes up late)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from eventstore.migrations import head_number, load_migrations
from eventstore.roles import APP_ROLE
from projections import all_projections
from tests import devstack
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port
from uep.devstack.temporal import DevServerConfig, start_dev_server

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
    """A service's /readyz on ``port``: whether it is ready, and its checks."""
    return await asyncio.to_thread(devstack.ready, f"http://127.0.0.1:{port}/metrics")


class Service:
    """`uep projector` or `uep worker` as its container runs it (JSON log lines on stderr): a
    test waits for the line a change of state is logged with, then asks /readyz once."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.heard: list[str] = []

    @classmethod
    async def start(cls, command: str, env: dict[str, str]) -> Service:
        """Start ``uep COMMAND`` with ``env`` over this process's environment."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "uep.cli", command,
            env={**os.environ, "UEP_LOG_FORMAT": "json", **env},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    async def logs(self, event: str, within: float = 90.0) -> dict[str, Any]:
        """The next log line whose event is ``event`` (each line is read as it is written)."""
        assert self.process.stderr is not None
        try:
            async with asyncio.timeout(within):
                while line := await self.process.stderr.readline():
                    self.heard.append(line.decode(errors="replace").rstrip())
                    try:
                        logged = json.loads(line)
                    except ValueError:
                        continue  # the standard library's warnings are plain text
                    if isinstance(logged, dict) and logged.get("event") == event:
                        return logged
        except TimeoutError:
            pass
        raise AssertionError(f"never logged {event!r}:\n" + "\n".join(self.heard[-30:]))

    async def stop(self) -> int:
        """SIGTERM, as the orchestrator stops it; its exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        assert self.process.stderr is not None
        await self.process.stderr.read()
        return await asyncio.wait_for(self.process.wait(), 60)


async def test_the_projector_waits_for_migrations_then_follows(
    database_url: str, tmp_path: Path
) -> None:
    """Started on an empty database it waits, says why in /readyz, and follows once the owner
    has migrated: no restart needed."""
    port = free_port()
    projector = await Service.start(
        "projector",
        {"UEP_DATABASE_URL": database_url, "UEP_METRICS_PORT": str(port),
         "UEP_STATE_DIR": str(tmp_path)},
    )  # fmt: skip
    try:
        waiting = await projector.logs("projector waiting")
        assert waiting["reason"].startswith("NotAtHead"), waiting
        up, checks = await ready(port)
        assert not up and f"needs {head_number()}" in checks["migrations"]["detail"], checks
        assert checks["projector"]["detail"].startswith("waiting: NotAtHead"), checks

        code, out = await uep(database_url, tmp_path, "migrate")
        assert code == 0, out
        await projector.logs("projector following")  # its backoff is capped at 10 s
        up, checks = await ready(port)
        assert up, checks
        code, out = await uep(database_url, tmp_path, "projections", "wait")
        assert code == 0, out
    finally:
        assert await projector.stop() == 0, "\n".join(projector.heard[-30:])


async def test_the_worker_waits_for_temporal_then_polls(
    database_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """Started while Temporal is down, the worker stays up, says why it is not ready, and polls
    once Temporal answers: no restart needed."""
    frontend = free_port()
    port = free_port()
    worker = await Service.start(
        "worker",
        {
            "UEP_DATABASE_URL": database_url,
            "UEP_TEMPORAL_ADDRESS": f"127.0.0.1:{frontend}",
            "UEP_METRICS_PORT": str(port),
            "UEP_TEMPORAL_METRICS_PORT": str(free_port()),
            "UEP_STATE_DIR": str(tmp_path),
        },
    )
    server = None
    try:
        await worker.logs("waiting for Temporal")
        up, checks = await ready(port)
        assert not up and checks["worker"]["detail"] == "connecting to Temporal", checks

        dev = DevServerConfig(
            binary=temporal_cli(), db_file=tmp_path / "t.sqlite", port=frontend,
            ui_port=free_port(),
        )  # fmt: skip
        server = start_dev_server(dev, tmp_path / "temporal.log")
        await worker.logs("Temporal reached")  # its backoff is capped at 10 s
        polling = await worker.logs("worker polling")
        assert polling["task_queue"] == "uep", polling
        up, checks = await ready(port)
        assert up, checks
        assert checks["worker"]["detail"] == "polling task queue 'uep'"
    finally:
        assert await worker.stop() == 0, "\n".join(worker.heard[-30:])
        if server is not None:
            server.send_signal(signal.SIGINT)
            await asyncio.to_thread(server.wait, 30)
