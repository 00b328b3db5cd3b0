"""The services and the jobs around them: `uep worker`, `uep projector` and `uep archiver` (until
SIGINT or SIGTERM; `uep dev` runs them as its children, the containers of docker-compose.yml as
theirs), `uep migrate` (the one-shot schema job, as the owner role) and `uep probe` (what
container healthchecks call: the service's own ``/readyz``; for the archiver, its store)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from eventstore.migrations import head_number
from projections import all_projections
from projections import metrics as projector_metrics
from projections.projector import Projector
from uep import connect
from uep.archiver import Archiver
from uep.devstack.stackfile import redact
from uep.health import (
    HealthServer,
    NotReady,
    failing_checks,
    migrations_check,
    postgres_check,
    read_readyz,
)
from uep.keys import KeyUnavailable, load_signing_key
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
        help="exit 0 when this container's service says it is ready (healthchecks)",
        description="worker and projector: asks the service's own "
        "http://127.0.0.1:UEP_METRICS_PORT/readyz (the worker is ready when Temporal and "
        "PostgreSQL answer, the migrations are at head and it polls its task queue; the projector "
        "when PostgreSQL answers, the migrations are at head, it follows the log and no event has "
        "waited longer than UEP_PROJECTOR_MAX_LAG). api: http://127.0.0.1:UEP_API_PORT/readyz "
        "(PostgreSQL and Temporal answer, the migrations are at head). archiver: migrations at "
        "head and, with a signing key, no event older than --max-lag left outside every tree head.",
    )
    p.add_argument(
        "service",
        choices=("worker", "projector", "api", "archiver"),
        help="what runs in this container",
    )
    p.add_argument(
        "--max-lag",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="archiver: unhealthy when an event has waited longer for a tree head (default 300)",
    )
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
    if args.service == "archiver":
        try:
            verdict = asyncio.run(asyncio.wait_for(_probe_archiver(args), PROBE_TIMEOUT_SECONDS))
        except (ProbeFailed, OSError, TimeoutError, asyncpg.PostgresError) as err:
            print(f"unhealthy: {err}", file=sys.stderr)
            return EXIT_UNHEALTHY
        print(f"healthy: {verdict}")
        return EXIT_OK
    config = connect.settings()
    port = config.api_port if args.service == "api" else config.metrics_port
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        body = read_readyz(url, PROBE_TIMEOUT_SECONDS)
    except (OSError, ValueError) as err:
        print(f"unhealthy: {url}: {err}", file=sys.stderr)
        return EXIT_UNHEALTHY
    if body.get("service") != args.service:
        print(f"unhealthy: {url} answers for {body.get('service')!r}", file=sys.stderr)
        return EXIT_UNHEALTHY
    checks = body.get("checks", {})
    failing = failing_checks(body)
    if failing:
        said = "; ".join(f"{n}: {d}" for n, d in failing.items()) if checks else failing["readyz"]
        print(f"unhealthy: {said}", file=sys.stderr)
        return EXIT_UNHEALTHY
    print("healthy: " + "; ".join(f"{n}: {c['detail']}" for n, c in checks.items()))
    return EXIT_OK


# -- the services -------------------------------------------------------------------------------


class ProbeFailed(Exception):
    """The probed service is not healthy; the message says why, in one line."""


async def _probe_archiver(args: argparse.Namespace) -> str:
    """Migrations at head; with a key, every event older than --max-lag under a tree head."""
    config = connect.settings()
    url = config.database_url
    if not url:
        raise ProbeFailed("UEP_DATABASE_URL is not set")
    try:
        load_signing_key(config)
        signing = True
    except KeyUnavailable:
        signing = False  # archiving only, as the archiver itself says at start-up
    conn = await asyncpg.connect(url, timeout=5)
    try:
        head_migration = head_number()
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
        projector = Projector(pool, all_projections(), coalesce=config.projector_coalesce)

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
        health.before_scrape = projector.observe
        try:
            await projector.run(stop)
        finally:
            await connect.close_pool(pool)
    finally:
        health.stop()


async def run_archiver(stop: asyncio.Event) -> None:
    """Archive closed runs' histories and sign tree heads until ``stop`` is set."""
    config = connect.settings()
    try:
        key = load_signing_key(config)
    except KeyUnavailable as err:
        # Archiving matters more than tree heads: keep copying histories, and say why not signing.
        print(f"uep archiver: {err}; archiving without tree heads", file=sys.stderr)
        key = None
    client = await connect.wait_for_temporal(config)
    # a lazy pool: PostgreSQL may be down at start or at any time after; the archiver waits
    pool = await connect.service_pool(config, max_size=4)
    try:
        await Archiver(client, pool, key=key).run(stop)
    finally:
        await connect.close_pool(pool)


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


def _archiver(args: argparse.Namespace) -> int:
    configure_logging(connect.settings().log_format)
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
