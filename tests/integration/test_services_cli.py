"""`uep migrate` and `uep probe projector` as the containers run them, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from eventstore.migrations import load_migrations
from eventstore.models import NewEvent
from eventstore.postgres import PostgresEventStore
from projections import all_projections
from projections.projector import Projector

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
    assert code == 0 and "(0 applied now)" in out, out


async def test_migrate_reports_an_unreachable_database(tmp_path: Path) -> None:
    code, out = await uep("postgresql://nobody:secret@127.0.0.1:1/uep", tmp_path, "migrate")
    assert code == 3, out
    assert "secret" not in out and "***" in out


async def test_probe_projector_follows_setup_and_lag(
    database_url: str, pool: asyncpg.Pool, pg_store: PostgresEventStore, tmp_path: Path
) -> None:
    code, out = await uep(database_url, tmp_path, "probe", "projector")
    assert code == 1 and "no checkpoint yet" in out, out

    await Projector(pool, all_projections()).setup()
    code, out = await uep(database_url, tmp_path, "probe", "projector")
    assert code == 0, out

    # An event no read model has applied: unhealthy once it is older than the bound.
    await pg_store.append("probe-stream", [NewEvent(event_id=uuid4(), type="Probed", data={})], 0)
    await asyncio.sleep(0.05)
    code, out = await uep(database_url, tmp_path, "probe", "projector", "--max-lag", "0")
    assert code == 1 and "waits for the projector" in out, out
    code, out = await uep(database_url, tmp_path, "probe", "projector", "--max-lag", "600")
    assert code == 0, out

    head = await pg_store.head_position()
    await pool.execute("UPDATE projection_checkpoints SET position = $1", head)
    code, out = await uep(database_url, tmp_path, "probe", "projector", "--max-lag", "0")
    assert code == 0 and f"position {head}" in out, out
