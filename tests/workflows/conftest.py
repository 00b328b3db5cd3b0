"""Fixtures for workflow tests on Temporal's time-skipping test server (real, not a mock)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notices import MemoryChannel
from eventstore.memory import InMemoryEventStore
from eventstore.models import EventStorePort
from uep.converter import DATA_CONVERTER
from uep.devstack.binaries import temporal_test_server
from worker import build_worker
from workflows.names import SEARCH_ATTRIBUTES

_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
}


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server with our search attributes registered."""
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=temporal_test_server(),
    )
    try:
        await environment.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=environment.client.namespace,
                search_attributes={k: _TYPES[v] for k, v in SEARCH_ATTRIBUTES.items()},
            )
        )
        yield environment
    finally:
        await environment.shutdown()


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping test server for the session."""
    async with time_skipping_server() as environment:
        yield environment


@dataclass
class Harness:
    """A running worker with its own task queue and an in-memory event store."""

    env: WorkflowEnvironment
    client: Client
    store: EventStorePort
    task_queue: str
    worker: Worker


TEARDOWN_WITHIN = 60.0
"""A harness's teardown step that takes longer has hung: it fails, naming the step, instead of
holding the suite until pytest-timeout (a worker's shutdown once hung for 600 s, 1 December)."""


async def _within(step: Awaitable[object], what: str) -> None:
    try:
        await asyncio.wait_for(step, TEARDOWN_WITHIN)
    except TimeoutError:
        pytest.fail(f"teardown: {what} did not finish within {TEARDOWN_WITHIN:.0f}s")


@pytest.fixture
async def harness(env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    """A fresh task queue and event store per test, so tests cannot see each other."""
    store = InMemoryEventStore()
    task_queue = f"uep-test-{uuid.uuid4()}"
    worker = build_worker(env.client, store, task_queue, channel=MemoryChannel())
    await worker.__aenter__()
    try:
        yield Harness(env, env.client, store, task_queue, worker)
    finally:
        await _within(worker.__aexit__(None, None, None), "the test's worker shutting down")
    await _within(_terminate_left_running(env.client, store), "terminating what it left running")


async def _terminate_left_running(client: Client, store: InMemoryEventStore) -> None:
    """End what the test left running (its cases and their Party records, which keep timers
    for months): later tests skip time on the same server, and would wake every one of them."""
    streams = {e.stream_id for e in await store.read_all(0, 1_000_000)}
    for workflow_id in sorted(streams):
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(workflow_id).terminate("test over")


@pytest.fixture
async def lone_harness() -> AsyncIterator[Harness]:
    """A harness on a server of its own, for tests that skip years: the session server's
    leftover cases (whose workers are gone) would have work due and hold the clock still."""
    async with time_skipping_server() as environment:
        store = InMemoryEventStore()
        task_queue = f"uep-test-{uuid.uuid4()}"
        worker = build_worker(environment.client, store, task_queue, channel=MemoryChannel())
        async with worker:
            yield Harness(environment, environment.client, store, task_queue, worker)
