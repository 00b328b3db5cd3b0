"""The uep worker: runs the UserEntryProcess workflow and its activities on task queue ``uep``.

As a service it also serves its metrics, ``/healthz`` and ``/readyz`` (uep/health.py) and the
Temporal SDK's metrics, and it rides out outages: it waits (with backoff) for Temporal and for an
event store at head before polling; once polling, the SDK keeps retrying a lost Temporal, and an
append that fails while PostgreSQL is down is retried by Temporal like any failed activity.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import structlog
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker

from activities import metrics as activity_metrics
from activities.case import CaseActivities, Notifier
from activities.coordination import CoordinationActivities
from activities.notices import DeliveryChannel, FileChannel, NoChannel
from activities.senders import SenderActivities
from eventstore.models import EventStorePort
from eventstore.outbox import NoticeOutbox
from eventstore.outbox_postgres import PostgresNoticeOutbox
from eventstore.postgres import PostgresEventStore
from uep import connect
from uep.health import HealthServer, NotReady, migrations_check, postgres_check, temporal_check
from uep.metrics import WORKER_COLLECTORS, MessageMetrics, prepare_process, sdk_runtime
from uep.principal import principal_key_or_none, principal_key_path
from uep.sandbox import workflow_runner
from uep.settings import Settings
from workflows.names import TASK_QUEUE
from workflows.party_record import PartyRecord
from workflows.senders import SenderCheck
from workflows.user_entry import UserEntryProcess

WORKFLOWS: Sequence[type] = (UserEntryProcess, PartyRecord)
T = TypeVar("T")
log = structlog.get_logger("uep.worker")


def build_worker(
    client: Client,
    store: EventStorePort,
    task_queue: str = TASK_QUEUE,
    notifier: Notifier | None = None,
    outbox: NoticeOutbox | None = None,
    channel: DeliveryChannel | None = None,
    interceptors: Sequence[Interceptor] = (),
    principal_key: bytes | None = None,
    allow_ui_writes: bool = True,
) -> Worker:
    """A worker for the UEP workflow and its activities, bound to an event store, the notice
    outbox and a delivery channel. Senders are checked with ``principal_key`` (none: a signed
    header cannot verify); ``allow_ui_writes`` takes unsigned messages as SECAS on the Web UI
    (the default of tests and `uep dev`; production sets it in its settings)."""
    activities = CaseActivities(store, notifier, outbox, channel)
    coordination = CoordinationActivities(client, store)
    senders = SenderActivities(principal_key, allow_ui_writes)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=[*activities.all(), *coordination.all(), *senders.all()],
        interceptors=[SenderCheck(principal_key, allow_ui_writes), *interceptors],
        workflow_runner=workflow_runner(),
    )


class _Stopped(Exception):
    """Stop was asked for while the worker was still starting."""


async def _unless_stopped(step: Awaitable[T], stop: asyncio.Event) -> T:
    """Await ``step``; give it up when ``stop`` is set first (a start waiting for a server)."""
    task = asyncio.ensure_future(step)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise _Stopped
    return task.result()


async def run_worker(config: Settings | None = None, stop: asyncio.Event | None = None) -> None:
    """Serve health and metrics, wait for Temporal and the store, then run the worker until
    ``stop`` is set (or forever)."""
    config = config or connect.settings()
    stop = stop or asyncio.Event()
    prepare_process(*activity_metrics.COLLECTORS, *WORKER_COLLECTORS)
    stage = "connecting to Temporal"

    async def polling() -> str:
        if stage != "polling":
            raise NotReady(stage)
        return f"polling task queue {config.task_queue!r}"

    health = HealthServer(
        "worker",
        config.metrics_host,
        config.metrics_port,
        asyncio.get_running_loop(),
        {"worker": polling},
    )
    health.start()
    try:
        runtime = sdk_runtime(config.metrics_host, config.temporal_metrics_port)
        client = await _unless_stopped(connect.wait_for_temporal(config, runtime), stop)
        health.checks["temporal"] = temporal_check(client)
        stage = "waiting for the event store"
        pool = await _unless_stopped(connect.service_pool(config, max_size=10), stop)
        store = PostgresEventStore(pool)
        channel = FileChannel(config.notice_dir) if config.notice_dir else NoChannel()
        try:
            health.checks["postgresql"] = postgres_check(pool)
            health.checks["migrations"] = migrations_check(pool)
            await _unless_stopped(connect.wait_for_store(pool), stop)
            key = principal_key_or_none(config)
            if key is None:
                log.warning(
                    "no principal key: signed messages cannot verify",
                    path=str(principal_key_path(config)),
                )
            worker = build_worker(
                client,
                store,
                config.task_queue,
                outbox=PostgresNoticeOutbox(pool),
                channel=channel,
                interceptors=[MessageMetrics()],
                principal_key=key,
                allow_ui_writes=config.allow_ui_writes,
            )
            async with worker:
                stage = "polling"
                log.info("worker polling", task_queue=config.task_queue)
                await stop.wait()
        finally:
            await store.close()
            await connect.close_pool(pool)
    except _Stopped:
        log.info("worker stopped while starting", stage=stage)
    finally:
        health.stop()


if __name__ == "__main__":
    asyncio.run(run_worker())
