"""The history archiver on a real Temporal dev server and PostgreSQL: every way a run closes.

A completed case whose first run continued as new, a run that failed, one terminated and one
that timed out are archived by the running archiver loop within a minute of closing; a restarted
archiver finds nothing missing and nothing to repeat, and archives what closed while it was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client, WorkflowFailureError

from activities.notices import MemoryChannel
from domain.roles import UserRole
from eventstore.archive import ARCHIVE_CHANNEL, runs_of, verify_archived
from eventstore.checkpoints import create_checkpoint
from eventstore.models import NewEvent
from eventstore.postgres import PostgresEventStore
from eventstore.signing import generate_key, save_private_key
from tests.integration.audit_cases import dev_server, short_case, start, uep
from tests.workflows import story
from uep.archiver import Archiver
from worker import build_worker
from workflows import names
from workflows.io import CaseResult

pytestmark = pytest.mark.integration

HISTORIES = Path(__file__).parent.parent / "histories"


@pytest.fixture(scope="module")
async def dev_client() -> AsyncIterator[Client]:
    """A Temporal dev server of this module's own."""
    async with dev_server("uep-archiver-") as client:
        yield client


@contextlib.asynccontextmanager
async def archiving(client: Client, pool: asyncpg.Pool) -> AsyncIterator[asyncio.Queue[str]]:
    """The archiver's loop running in the background; a queue of the run ids it archives."""
    archived: asyncio.Queue[str] = asyncio.Queue()

    def heard(*args: object) -> None:
        archived.put_nowait(str(args[3]))  # (connection, pid, channel, payload: the run id)

    listener = await pool.acquire()
    await listener.add_listener(ARCHIVE_CHANNEL, heard)
    stop = asyncio.Event()
    loop = asyncio.create_task(Archiver(client, pool, poll_interval=0.2).run(stop))
    try:
        yield archived
    finally:
        stop.set()
        await loop
        await listener.remove_listener(ARCHIVE_CHANNEL, heard)
        await pool.release(listener)


async def closed_runs(client: Client, workflow_id: str) -> list[str]:
    """Every run id of a workflow id, following continue-as-new back from the latest."""
    run_ids: list[str] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        attrs = history.events[0].workflow_execution_started_event_attributes
        run_ids.append(attrs.original_execution_run_id)
        run_id = attrs.continued_execution_run_id or None
        if run_id is None:
            return run_ids


async def test_every_kind_of_closed_run_is_archived_within_a_minute(
    dev_client: Client, pool: asyncpg.Pool
) -> None:
    store = PostgresEventStore(pool)
    task_queue = f"uep-archiver-{uuid.uuid4()}"
    today = datetime.now(UTC).date()
    async with build_worker(dev_client, store, task_queue, channel=MemoryChannel()):
        continued = await short_case(dev_client, task_queue, continue_after=10)
        terminated = await start(dev_client, task_queue, UserRole.OTHER_USER, today)
        await terminated.terminate("test: an operator stopped it")
        p = story.party(UserRole.GAS_SUPPLIER)
        failed = await dev_client.start_workflow(
            names.WORKFLOW_TYPE,
            {"party": p, "role": "gas_supplier", "started_on": today.isoformat()},
            id=f"uep-{p['party_id']}-wrong-role",  # not this Party and role's id: it fails
            task_queue=task_queue,
            result_type=CaseResult,
        )
        with pytest.raises(WorkflowFailureError):
            await failed.result()
    await store.close()
    p2 = story.party(UserRole.GAS_TRANSPORTER)
    expiring = await dev_client.start_workflow(
        names.WORKFLOW_TYPE,
        {"party": p2, "role": "gas_transporter", "started_on": today.isoformat()},
        id=names.workflow_id(p2["party_id"], "gas_transporter"),
        task_queue=task_queue,  # no worker any more: it waits until its timeout ends it
        result_type=CaseResult,
        execution_timeout=timedelta(seconds=2),
    )
    with pytest.raises(WorkflowFailureError):
        await expiring.result()

    expected = {
        *(await closed_runs(dev_client, continued.id)),
        *(await closed_runs(dev_client, terminated.id)),
        *(await closed_runs(dev_client, failed.id)),
        *(await closed_runs(dev_client, expiring.id)),
    }
    async with archiving(dev_client, pool) as archived:
        seen: set[str] = set()
        async with asyncio.timeout(60):
            while not expected <= seen:
                seen.add(await archived.get())

    by_case = {
        workflow_id: await runs_of(pool, workflow_id)
        for workflow_id in (continued.id, terminated.id, failed.id, expiring.id)
    }
    statuses = {r.run_id: r.status for runs in by_case.values() for r in runs}
    assert set(statuses.values()) == {
        "continued_as_new",
        "completed",
        "terminated",
        "failed",
        "timed_out",
    }
    assert len(statuses) == len(expected)
    for workflow_id, runs in by_case.items():
        assert verify_archived(workflow_id, runs).ok
        for run in runs:
            assert run.archived_at - run.closed_at < timedelta(minutes=1), run
    chain = by_case[continued.id]
    assert [r.status for r in chain][-1] == "completed"
    assert {r.status for r in chain[:-1]} == {"continued_as_new"}
    assert [r.previous_run_id for r in chain[1:]] == [r.run_id for r in chain[:-1]]
    await _record(continued.id, [chain[0].history, chain[-1].history])

    # A restart: the checkpoint is in the database, so nothing is missed or stored twice...
    again = Archiver(dev_client, pool)
    assert (await again.catch_up()).archived == []
    # ...and what closed while no archiver ran is archived by the next one.
    store = PostgresEventStore(pool)
    async with build_worker(dev_client, store, task_queue, channel=MemoryChannel()):
        later = await start(dev_client, task_queue, UserRole.OTHER_USER, today)
    await store.close()
    await later.terminate("test: closed while the archiver was stopped")
    for _ in range(5_000):  # each pass is a round trip to visibility and the database
        if (await again.catch_up()).archived:
            break
    assert [r.status for r in await runs_of(pool, later.id)] == ["terminated"]

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute("DELETE FROM history_archive WHERE workflow_id = $1", later.id)


async def _record(workflow_id: str, histories: list[str]) -> None:
    """Keep a continued-as-new pair for the replay tests when ``UEP_RECORD_HISTORIES`` is set."""
    if not os.environ.get("UEP_RECORD_HISTORIES"):
        return
    for n, history in enumerate(histories, start=1):
        name = f"continued-as-new-run{n}.g{story.HISTORY_GENERATION}.json"
        target = HISTORIES / name
        if not target.exists():
            record = {"workflow_id": workflow_id, "history": json.loads(history)}
            target.write_text(json.dumps(record, indent=1) + "\n")


async def test_probe_archiver_wants_tree_heads_to_keep_up_with_the_log(
    database_url: str, pool: asyncpg.Pool, pg_store: PostgresEventStore, tmp_path: Path
) -> None:
    key = generate_key()
    save_private_key(key, tmp_path / "key.pem")
    env = {
        "UEP_DATABASE_URL": database_url,
        "UEP_STATE_DIR": str(tmp_path / "state"),
        "UEP_SIGNING_KEY_FILE": str(tmp_path / "key.pem"),
    }
    probe = await uep(env, "probe", "archiver")
    assert probe.code == 0, probe.out + probe.err
    await pg_store.append(
        "probe-stream", [NewEvent(event_id=uuid.uuid4(), type="Probed", data={})], 0
    )
    # The event is older than 0 s by the time the probe looks: no tree head covers it yet.
    lagging = await uep(env, "probe", "archiver", "--max-lag", "0")
    assert lagging.code == 1 and "event 1 waits for a tree head" in lagging.err, lagging.err
    unsigned = await uep(
        {**env, "UEP_SIGNING_KEY_FILE": str(tmp_path / "none.pem")},
        "probe",
        "archiver",
        "--max-lag",
        "0",
    )
    assert unsigned.code == 0, unsigned.err  # archiving only: no tree heads are expected
    await create_checkpoint(pool, key, datetime.now(UTC))
    covered = await uep(env, "probe", "archiver", "--max-lag", "0")
    assert covered.code == 0 and "tree heads cover position 1" in covered.out, covered.err
