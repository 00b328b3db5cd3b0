"""The services and the jobs around them: `uep worker` and `uep projector` (until SIGINT or
SIGTERM; `uep dev` runs them as its children, the containers of docker-compose.yml as theirs),
`uep migrate` (the one-shot schema job, as the owner role) and `uep probe` (what container
healthchecks call: the service's own ``/readyz``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from eventstore.migrations import head_number
from projections import all_projections
from projections import metrics as projector_metrics
from projections.projector import Projector
from uep import connect
from uep.devstack.stackfile import redact
from uep.health import HealthServer, NotReady, migrations_check, postgres_check
from uep.logging import configure_logging
from uep.metrics import prepare_process
from uep.settings import Settings
from worker import run_worker

EXIT_OK, EXIT_UNHEALTHY, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

PROBE_TIMEOUT_SECONDS = 8.0


def add_job_parsers(sub: Any) -> None:
    """Register `uep migrate` and `uep probe`."""
    p = sub.add_parser(
        "migrate",
        help="apply the event store's migrations to UEP_DATABASE_URL (the owner) and exit",
        description="As the owner role: apply the numbered SQL migrations not yet recorded, "
        "create the read models' tables (rebuilding any whose code moved on) and grant the "
        "application and auditor roles their privileges, then exit. Idempotent and safe to run "
        "concurrently (an advisory lock serialises migrators).",
    )
    p.set_defaults(func=_migrate)
    p = sub.add_parser(
        "probe",
        help="exit 0 when this container's worker or projector says it is ready (healthchecks)",
        description="Asks the service's own http://127.0.0.1:UEP_METRICS_PORT/readyz: the "
        "worker is ready when Temporal and PostgreSQL answer, the migrations are at head and it "
        "polls its task queue; the projector when PostgreSQL answers, the migrations are at "
        "head, it follows the log and no event has waited longer than UEP_PROJECTOR_MAX_LAG.",
    )
    p.add_argument("service", choices=("worker", "projector"), help="what runs in this container")
    p.set_defaults(func=_probe)


# -- uep migrate --------------------------------------------------------------------------------


def _migrate(args: argparse.Namespace) -> int:
    url = connect.settings(owner=True).database_url
    if not url:
        # A job that quietly migrated a throwaway embedded server would report success while the
        # real store stays unmigrated: refuse instead.
        print(
            "uep migrate: UEP_DATABASE_URL is not set and no `uep dev` stack is running",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        applied = asyncio.run(connect.prepare_store(url))
    except connect.StoreUnreachable as err:
        print(f"uep migrate: {redact(url)}: {err}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (OSError, TimeoutError, asyncpg.PostgresError) as err:
        print(f"uep migrate: {redact(url)}: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_UNREACHABLE
    for name in applied:
        print(f"applied {name}")
    print(
        f"uep migrate: {redact(url)} is at head (migration {head_number()}, "
        f"{len(applied)} applied now); read models ready"
    )
    return EXIT_OK


# -- uep probe ----------------------------------------------------------------------------------


def _probe(args: argparse.Namespace) -> int:
    config = connect.settings()
    url = f"http://127.0.0.1:{config.metrics_port}/readyz"
    try:
        try:
            with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_SECONDS) as answer:
                body = json.loads(answer.read())
        except urllib.error.HTTPError as err:  # 503 carries the checks too
            body = json.loads(err.read() or b"{}")
    except (OSError, ValueError) as err:
        print(f"unhealthy: {url}: {err}", file=sys.stderr)
        return EXIT_UNHEALTHY
    if body.get("service") != args.service:
        print(f"unhealthy: {url} answers for {body.get('service')!r}", file=sys.stderr)
        return EXIT_UNHEALTHY
    checks = body.get("checks", {})
    if not body.get("ready"):
        failing = [f"{n}: {c['detail']}" for n, c in checks.items() if not c["ok"]]
        print(f"unhealthy: {'; '.join(failing) or body.get('detail')}", file=sys.stderr)
        return EXIT_UNHEALTHY
    print("healthy: " + "; ".join(f"{n}: {c['detail']}" for n, c in checks.items()))
    return EXIT_OK


# -- the services -------------------------------------------------------------------------------


async def until_signalled(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``run(stop)`` with ``stop`` set by SIGINT or SIGTERM, for a graceful shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(stop)


async def run_projector(stop: asyncio.Event, config: Settings | None = None) -> None:
    """Follow the event store and keep every read model under ``projections/``, serving
    metrics and health; PostgreSQL may come and go (the projector reconnects)."""
    config = config or connect.settings()
    prepare_process(*projector_metrics.COLLECTORS)
    loop = asyncio.get_running_loop()
    health = HealthServer("projector", config.metrics_host, config.metrics_port, loop)
    health.start()
    try:
        pool = await connect.service_pool(config, max_size=10)
        projector = Projector(pool, all_projections())

        async def following() -> str:
            state = projector.state
            if state.state != "following":
                raise NotReady(f"{state.state}: {state.reason}" if state.reason else state.state)
            if projector.lag_seconds > config.projector_max_lag:
                raise NotReady(
                    f"an event has waited {projector.lag_seconds:.0f}s "
                    f"(more than {config.projector_max_lag:.0f}s)"
                )
            return f"following, {projector.lag_seconds:.1f}s behind"

        health.checks.update(
            postgresql=postgres_check(pool), migrations=migrations_check(pool), projector=following
        )
        try:
            await projector.run(stop)
        finally:
            await connect.close_pool(pool)
    finally:
        health.stop()


def _worker(args: argparse.Namespace) -> int:
    config = connect.settings()
    configure_logging(config.log_format)
    asyncio.run(until_signalled(lambda stop: run_worker(config, stop)))
    return 0


def _projector(args: argparse.Namespace) -> int:
    config = connect.settings()
    configure_logging(config.log_format)
    asyncio.run(until_signalled(lambda stop: run_projector(stop, config)))
    return 0


def add_parsers(sub: Any) -> None:
    """Register `uep worker` and `uep projector`."""
    p = sub.add_parser("worker", help="run the Temporal worker (until SIGINT / SIGTERM)")
    p.set_defaults(func=_worker)
    p = sub.add_parser("projector", help="run the projector that keeps the read models")
    p.set_defaults(func=_projector)
