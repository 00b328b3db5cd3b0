"""The uep worker: runs the UserEntryProcess workflow and its activities on task queue ``uep``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from temporalio.client import Client
from temporalio.worker import Worker

from activities.case import CaseActivities, Notifier
from eventstore.models import EventStorePort
from uep.converter import DATA_CONVERTER
from uep.settings import Settings, get_settings
from workflows.names import TASK_QUEUE
from workflows.user_entry import UserEntryProcess

WORKFLOWS: Sequence[type] = (UserEntryProcess,)


def build_worker(
    client: Client,
    store: EventStorePort,
    task_queue: str = TASK_QUEUE,
    notifier: Notifier | None = None,
) -> Worker:
    """A worker for the UEP workflow and its activities, bound to an event store."""
    activities = CaseActivities(store, notifier)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=list(activities.all()),
    )


async def connect(settings: Settings) -> Client:
    """A Temporal client using the pydantic data converter."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.namespace,
        data_converter=DATA_CONVERTER,
    )


async def run_worker(settings: Settings | None = None, stop: asyncio.Event | None = None) -> None:
    """Connect to Temporal and PostgreSQL and run the worker until ``stop`` is set (or forever)."""
    from eventstore.migrations import create_pool
    from eventstore.postgres import PostgresEventStore
    from uep.devstack.postgres import database_url

    settings = settings or get_settings()
    client = await connect(settings)
    pool = await create_pool(await asyncio.to_thread(database_url, settings))
    store = PostgresEventStore(pool)
    try:
        worker = build_worker(client, store, settings.task_queue)
        if stop is None:
            await worker.run()
        else:
            async with worker:
                await stop.wait()
    finally:
        await store.close()
        await pool.close()


if __name__ == "__main__":
    asyncio.run(run_worker())
