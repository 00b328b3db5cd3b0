"""The main paths of a case through the real PostgreSQL event store, not the in-memory one.

The same workflow and activities as the other workflow tests, on the time-skipping server, with
the worker bound to a :class:`PostgresEventStore` and the PostgreSQL notice outbox on a fresh
migrated database: a full case from start to the Panel's paper, a User ID conflict refused by
the store's claim in the append's transaction (and freed again by the DCC's rejection), and a
repeated message stored once. PostgreSQL is the one ``tests/pg.py`` picks (``UEP_DATABASE_URL``,
else a Docker container, else an embedded server).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.notices import MemoryChannel
from domain.roles import UserRole
from eventstore.outbox_postgres import PostgresNoticeOutbox
from eventstore.postgres import PostgresEventStore
from tests.pg import postgres_server, random_database_name, with_database
from tests.workflows import story
from tests.workflows.conftest import Harness
from uep.connect import open_pool
from worker import build_worker
from workflows.io import CaseResult


@dataclass
class OnPostgres:
    """A harness whose worker appends to PostgreSQL, with that store and its pool."""

    harness: Harness
    store: PostgresEventStore
    pool: asyncpg.Pool
    channel: MemoryChannel


@pytest.fixture(scope="module")
def pg_server_url() -> Iterator[str]:
    """Superuser URL of a PostgreSQL server for this module's tests."""
    with postgres_server() as url:
        yield url


@pytest.fixture
async def on_pg(env: WorkflowEnvironment, pg_server_url: str) -> AsyncIterator[OnPostgres]:
    """A fresh migrated database, the PostgreSQL store and outbox on it, and a worker."""
    name = random_database_name()
    admin = await asyncpg.connect(pg_server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        pool = await open_pool(with_database(pg_server_url, name), min_size=1, max_size=10)
        store = PostgresEventStore(pool)
        channel = MemoryChannel()
        task_queue = f"uep-pg-test-{uuid.uuid4()}"
        worker = build_worker(
            env.client, store, task_queue, outbox=PostgresNoticeOutbox(pool), channel=channel
        )
        try:
            async with worker:
                harness = Harness(env, env.client, store, task_queue, worker)
                yield OnPostgres(harness, store, pool, channel)
        finally:
            await store.close()
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def stored(pg: OnPostgres, handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The event types of the case's stream as PostgreSQL holds them."""
    return [e.type for e in await pg.store.read_stream(handle.id)]


async def test_a_full_case_completes_through_postgres(on_pg: OnPostgres) -> None:
    h = on_pg.harness
    today = await story.today(h)
    begun = today - timedelta(days=200)
    handle = await story.start(h, UserRole.GAS_SUPPLIER, begun)
    await story.opened(handle)
    uid = "90-B3-D5-1F-30-02-00-01"

    await story.user_id_accepted(handle, uid, begun, h)
    await story.uept_certified(handle, begun, today)
    await story.party_security_approved(h, handle, begun)
    await story.party_credit(h, handle)
    requirements = ["user_id", "uept", "security", "credit"]
    assert [r["requirement"] for r in (await story.view(handle))["requirements"]] == requirements

    last = await story.verify_all(handle, requirements, today)

    assert last.events == ["EvidenceVerified", "UserEntryProcessCompleted"]
    paper = await story.panel_informed(handle, today)
    assert paper.events == ["PanelInformedByPaper"]
    result = await story.result(h, handle)
    assert isinstance(result, CaseResult)
    assert (result.status, result.user_id) == ("completed", "90b3d51f30020001")
    types = await stored(on_pg, handle)
    assert types[0] == "CaseStarted"
    assert types.count("UserEntryProcessCompleted") == 1
    assert types.count("CompletionNoticeQueued") == types.count("CompletionNoticeDelivered") == 4
    assert "DccDeadlineMissed" not in types
    chain = await on_pg.store.verify_chain(handle.id)
    assert chain.ok and chain.events == len(types)
    party_id = story.party_id_of(handle)
    assert await on_pg.store.user_id_holders("90b3d51f30020001") == [(party_id, "gas_supplier")]
    outbox = await on_pg.pool.fetch(
        "SELECT recipient, status, channel FROM notice_outbox WHERE case_id = $1 ORDER BY 1",
        handle.id,
    )
    assert [tuple(row) for row in outbox] == [
        ("dcc", "delivered", "memory"),
        ("ofgem", "delivered", "memory"),
        ("party", "delivered", "memory"),
        ("sec_panel", "delivered", "panel_information_paper"),
    ]
    assert sorted(n.recipient for n in on_pg.channel.delivered) == ["dcc", "ofgem", "party"]


async def test_a_user_id_held_by_another_party_is_refused_by_the_postgres_claim(
    on_pg: OnPostgres,
) -> None:
    h = on_pg.harness
    today = await story.today(h)
    uid = "90-B3-D5-1F-30-02-00-02"
    first = await story.start(h, UserRole.GAS_SUPPLIER, today)
    rival = await story.start(h, UserRole.GAS_SUPPLIER, today)
    await story.party_range(h, first, uid)
    await story.party_range(h, rival, uid)
    await story.send(first, "propose_user_id", user_id=uid)

    message = await story.refused(rival, "propose_user_id", {"user_id": uid})

    first_party = story.party_id_of(first)
    assert f"held by Party '{first_party}'" in message
    assert "UserIdProposed" not in await stored(on_pg, rival)
    assert await on_pg.store.user_id_holders("90b3d51f30020002") == [(first_party, "gas_supplier")]
    # the DCC rejects the first Party's proposal: the claim is released in the same append ...
    await story.send(first, "reject_user_id", user_id=uid, reason="not this one")
    assert await on_pg.store.user_id_holders("90b3d51f30020002") == []
    # ... and the rival may now claim it
    await story.send(rival, "propose_user_id", user_id=uid)
    rival_party = story.party_id_of(rival)
    assert await on_pg.store.user_id_holders("90b3d51f30020002") == [(rival_party, "gas_supplier")]


async def test_a_repeated_message_is_stored_once_in_postgres(on_pg: OnPostgres) -> None:
    h = on_pg.harness
    handle = await story.start(h, UserRole.GAS_SUPPLIER, await story.today(h))
    uid = "90-B3-D5-1F-30-02-00-03"
    await story.party_range(h, handle, uid)

    first = await story.send(handle, "propose_user_id", user_id=uid, message_id="m-1")
    again = await story.send(handle, "propose_user_id", user_id=uid, message_id="m-1")
    for _ in range(3):
        await story.signal(handle, "accept_user_id", user_id=uid, message_id="dcc-1")
    # an update after the signals is handled after them (they queue on the case's lock)
    await story.send(handle, "record_srept_completed", message_id="m-2")

    assert first.events == ["UserIdProposed"] and not first.duplicate
    assert again.duplicate and again.events == ["UserIdProposed"]
    types = await stored(on_pg, handle)
    assert types.count("UserIdProposed") == 1
    assert types.count("UserIdAccepted") == 1
    versions = [e.version for e in await on_pg.store.read_stream(handle.id)]
    assert versions == list(range(1, len(versions) + 1))
    assert (await on_pg.store.verify_chain(handle.id)).ok
