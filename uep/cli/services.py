"""The services and the jobs around them: `uep worker`, `uep projector` and `uep archiver` (until
SIGINT or SIGTERM; `uep dev` runs them as its children, the containers of docker-compose.yml as
theirs),
`uep migrate` (the one-shot schema job) and `uep probe` (what container healthchecks call)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from eventstore.migrations import load_migrations, migrate
from projections import all_projections
from projections.projector import Projector
from uep.archiver import Archiver
from uep.connect import settings, store_pool, temporal_client
from uep.devstack.stackfile import redact
from uep.keys import KeyUnavailable, load_signing_key
from uep.logging import configure_logging
from worker import run_worker

EXIT_OK, EXIT_UNHEALTHY, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

POLLER_FRESH_SECONDS = 120.0
PROBE_TIMEOUT_SECONDS = 8.0


class ProbeFailed(Exception):
    """The probed service is not healthy; the message says why, in one line."""


def add_job_parsers(sub: Any) -> None:
    """Register `uep migrate` and `uep probe`."""
    p = sub.add_parser(
        "migrate",
        help="apply the event store's migrations to UEP_DATABASE_URL and exit",
        description="Apply the numbered SQL migrations not yet recorded, then exit. Idempotent "
        "and safe to run concurrently (an advisory lock serialises migrators).",
    )
    p.set_defaults(func=_migrate)
    p = sub.add_parser(
        "probe",
        help="exit 0 when this container's worker or projector is healthy (healthchecks)",
        description="worker: a poller from this host polled the task queue within "
        f"{POLLER_FRESH_SECONDS:.0f}s. projector: migrations at head, every read model has a "
        "checkpoint, and the oldest event it has not applied is younger than --max-lag. "
        "archiver: migrations at head, and (with a signing key) no event older than --max-lag "
        "is left outside every tree head.",
    )
    p.add_argument(
        "service", choices=("worker", "projector", "archiver"), help="what runs in this container"
    )
    p.add_argument(
        "--max-lag",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="projector: unhealthy when an unapplied event is older than this (default 300)",
    )
    p.set_defaults(func=_probe)


# -- uep migrate --------------------------------------------------------------------------------


def _database_url_or_none() -> str | None:
    """``UEP_DATABASE_URL``, else the running `uep dev` stack's; never starts a server."""
    return settings().database_url


def _migrate(args: argparse.Namespace) -> int:
    url = _database_url_or_none()
    if not url:
        # A job that quietly migrated a throwaway embedded server would report success while the
        # real store stays unmigrated: refuse instead.
        print(
            "uep migrate: UEP_DATABASE_URL is not set and no `uep dev` stack is running",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        applied = asyncio.run(_apply_migrations(url))
    except (OSError, TimeoutError, asyncpg.PostgresError) as err:
        print(f"uep migrate: {redact(url)}: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_UNREACHABLE
    for name in applied:
        print(f"applied {name}")
    print(f"uep migrate: {redact(url)} is at head ({len(applied)} applied now)")
    return EXIT_OK


async def _apply_migrations(url: str) -> list[str]:
    """Connect, migrate, disconnect; the names applied."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


# -- uep probe ----------------------------------------------------------------------------------


def _probe(args: argparse.Namespace) -> int:
    checks: dict[str, Callable[[argparse.Namespace], Awaitable[str]]] = {
        "worker": _probe_worker,
        "projector": _probe_projector,
        "archiver": _probe_archiver,
    }
    try:
        verdict = asyncio.run(asyncio.wait_for(checks[args.service](args), PROBE_TIMEOUT_SECONDS))
    except ProbeFailed as err:
        print(f"unhealthy: {err}", file=sys.stderr)
        return EXIT_UNHEALTHY
    except Exception as err:  # unreachable dependency, timeout: unhealthy, said in one line
        print(f"unhealthy: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_UNHEALTHY
    print(f"healthy: {verdict}")
    return EXIT_OK


async def _probe_worker(args: argparse.Namespace) -> str:
    """This host's worker polls the workflow task queue (the SDK identity is ``pid@host``)."""
    config = settings()
    client = await temporal_client(config)
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=config.namespace,
            task_queue=TaskQueue(name=config.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    host = socket.gethostname()
    now = time.time()
    ages = [
        now - poller.last_access_time.ToSeconds()
        for poller in answer.pollers
        if poller.identity.endswith(f"@{host}")
    ]
    if not ages:
        raise ProbeFailed(f"no worker on {host} polls task queue {config.task_queue!r}")
    if min(ages) > POLLER_FRESH_SECONDS:
        raise ProbeFailed(f"the worker on {host} last polled {min(ages):.0f}s ago")
    return f"worker on {host} polls {config.task_queue!r}"


async def _probe_projector(args: argparse.Namespace) -> str:
    """Migrations at head, every projection checkpointed, nothing unapplied for too long."""
    url = _database_url_or_none()
    if not url:
        raise ProbeFailed("UEP_DATABASE_URL is not set")
    conn = await asyncpg.connect(url, timeout=5)
    try:
        head_migration = max(m.number for m in load_migrations())
        applied = await conn.fetchval("SELECT max(number) FROM schema_migrations")
        if applied != head_migration:
            raise ProbeFailed(f"migrations at {applied}, head is {head_migration}")
        rows = await conn.fetch("SELECT name, position FROM projection_checkpoints")
        positions = {row["name"]: int(row["position"]) for row in rows}
        missing = sorted({p.name for p in all_projections()} - positions.keys())
        if missing:
            raise ProbeFailed(f"no checkpoint yet for {', '.join(missing)}")
        behind = min(positions.values())
        age = await conn.fetchval(
            "SELECT extract(epoch FROM now() - recorded_at) FROM events WHERE position = $1",
            behind + 1,
        )
    finally:
        await conn.close()
    if age is not None and float(age) > args.max_lag:
        raise ProbeFailed(f"event {behind + 1} waits for the projector since {float(age):.0f}s")
    return f"projector at position {behind} or later"


async def _probe_archiver(args: argparse.Namespace) -> str:
    """Migrations at head; with a key, every event older than --max-lag under a tree head."""
    url = _database_url_or_none()
    if not url:
        raise ProbeFailed("UEP_DATABASE_URL is not set")
    try:
        load_signing_key(settings())
        signing = True
    except KeyUnavailable:
        signing = False  # archiving only, as the archiver itself says at start-up
    conn = await asyncpg.connect(url, timeout=5)
    try:
        head_migration = max(m.number for m in load_migrations())
        applied = await conn.fetchval("SELECT max(number) FROM schema_migrations")
        if applied != head_migration:
            raise ProbeFailed(f"migrations at {applied}, head is {head_migration}")
        covered = await conn.fetchval("SELECT coalesce(max(tree_size), 0) FROM log_tree_heads")
        age = await conn.fetchval(
            "SELECT extract(epoch FROM now() - recorded_at) FROM events WHERE position = $1",
            int(covered) + 1,
        )
    finally:
        await conn.close()
    if signing and age is not None and float(age) > args.max_lag:
        raise ProbeFailed(f"event {int(covered) + 1} waits for a tree head since {float(age):.0f}s")
    return f"archiver's store at head; tree heads cover position {covered}"


async def until_signalled(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``run(stop)`` with ``stop`` set by SIGINT or SIGTERM, for a graceful shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(stop)


async def run_projector(stop: asyncio.Event) -> None:
    """Follow the event store and keep every read model under ``projections/``."""
    async with store_pool(settings(), start_local=True, max_size=10) as pool:
        await Projector(pool, all_projections()).run(stop)


async def run_archiver(stop: asyncio.Event) -> None:
    """Archive closed runs' histories and sign tree heads until ``stop`` is set."""
    config = settings()
    try:
        key = load_signing_key(config)
    except KeyUnavailable as err:
        # Archiving matters more than tree heads: keep copying histories, and say why not signing.
        print(f"uep archiver: {err}; archiving without tree heads", file=sys.stderr)
        key = None
    client = await temporal_client(config)
    async with store_pool(config, start_local=True, max_size=4) as pool:
        await Archiver(client, pool, key=key).run(stop)


def _worker(args: argparse.Namespace) -> int:
    config = settings()
    configure_logging(config.log_format)
    asyncio.run(until_signalled(lambda stop: run_worker(config, stop)))
    return 0


def _projector(args: argparse.Namespace) -> int:
    configure_logging(settings().log_format)
    asyncio.run(until_signalled(run_projector))
    return 0


def _archiver(args: argparse.Namespace) -> int:
    configure_logging(settings().log_format)
    asyncio.run(until_signalled(run_archiver))
    return 0


def add_parsers(sub: Any) -> None:
    """Register `uep worker`, `uep projector` and `uep archiver`."""
    p = sub.add_parser("worker", help="run the Temporal worker (until SIGINT / SIGTERM)")
    p.set_defaults(func=_worker)
    p = sub.add_parser("projector", help="run the projector that keeps the read models")
    p.set_defaults(func=_projector)
    p = sub.add_parser(
        "archiver",
        help="copy closed runs' histories into PostgreSQL and sign tree heads over the log",
    )
    p.set_defaults(func=_archiver)
