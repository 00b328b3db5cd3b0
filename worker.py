"""The uep worker: runs the UserEntryProcess workflow and its activities on task queue ``uep``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from temporalio.client import Client
from temporalio.worker import Worker

from activities.case import CaseActivities, Notifier
from activities.notices import DeliveryChannel, FileChannel, NoChannel
from eventstore.models import EventStorePort
from eventstore.outbox import NoticeOutbox
from eventstore.outbox_postgres import PostgresNoticeOutbox
from eventstore.postgres import PostgresEventStore
from uep import connect
from uep.settings import Settings
from workflows.names import TASK_QUEUE
from workflows.user_entry import UserEntryProcess

WORKFLOWS: Sequence[type] = (UserEntryProcess,)


def build_worker(
    client: Client,
    store: EventStorePort,
    task_queue: str = TASK_QUEUE,
    notifier: Notifier | None = None,
    outbox: NoticeOutbox | None = None,
    channel: DeliveryChannel | None = None,
) -> Worker:
    """A worker for the UEP workflow and its activities, bound to an event store, the notice
    outbox and a delivery channel."""
    activities = CaseActivities(store, notifier, outbox, channel)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=list(activities.all()),
    )


async def run_worker(config: Settings | None = None, stop: asyncio.Event | None = None) -> None:
    """Connect to Temporal and PostgreSQL and run the worker until ``stop`` is set (or forever)."""
    config = config or connect.settings()
    client = await connect.temporal_client(config)
    async with connect.store_pool(config, start_local=True, max_size=10) as pool:
        store = PostgresEventStore(pool)
        channel = FileChannel(config.notice_dir) if config.notice_dir else NoChannel()
        try:
            worker = build_worker(
                client, store, config.task_queue, outbox=PostgresNoticeOutbox(pool), channel=channel
            )
            if stop is None:
                await worker.run()
            else:
                async with worker:
                    await stop.wait()
        finally:
            await store.close()


if __name__ == "__main__":
    asyncio.run(run_worker())
