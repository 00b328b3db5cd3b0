"""`uep worker` and `uep projector`: the long-running services, until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from projections import all_projections
from projections.projector import Projector
from uep.connect import settings, store_pool
from uep.logging import configure_logging
from worker import run_worker


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


def _worker(args: argparse.Namespace) -> int:
    config = settings()
    configure_logging(config.log_format)
    asyncio.run(until_signalled(lambda stop: run_worker(config, stop)))
    return 0


def _projector(args: argparse.Namespace) -> int:
    configure_logging(settings().log_format)
    asyncio.run(until_signalled(run_projector))
    return 0


def add_parsers(sub: Any) -> None:
    """Register `uep worker` and `uep projector`."""
    p = sub.add_parser("worker", help="run the Temporal worker (until SIGINT / SIGTERM)")
    p.set_defaults(func=_worker)
    p = sub.add_parser("projector", help="run the projector that keeps the read models")
    p.set_defaults(func=_projector)
