"""The `uep` command: one entry point for every tool of the project."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from uep import services_cli
from uep.cli import audit
from uep.cli import case as case_cli
from uep.cli import events as store_cli
from uep.cli import report as report_cli

Command = Callable[[argparse.Namespace], int]


def _schema(args: argparse.Namespace) -> int:
    from uep.cli.schema import all_schemas

    schemas = all_schemas()
    if args.name:
        found = {
            kind: section[args.name]
            for kind, section in schemas.items()
            if isinstance(section, dict) and args.name in section
        }
        if not found:
            print(f"uep schema: no message named {args.name!r}", file=sys.stderr)
            return 2
        schemas = found
    print(json.dumps(schemas, indent=2, default=str))
    return 0


async def _until_signalled(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``run(stop)`` with ``stop`` set by SIGINT or SIGTERM, for a graceful shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(stop)


def _worker(args: argparse.Namespace) -> int:
    from uep.logging import configure_logging
    from uep.settings import get_settings
    from worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_format)
    asyncio.run(_until_signalled(lambda stop: run_worker(settings, stop)))
    return 0


async def run_projector(stop: asyncio.Event) -> None:
    """Follow the event store and keep every read model under ``projections/``."""
    from eventstore.migrations import create_pool
    from projections import all_projections
    from projections.projector import Projector
    from uep.devstack.postgres import database_url
    from uep.devstack.supervisor import resolve_settings
    from uep.settings import get_settings

    settings = resolve_settings(get_settings())
    pool = await create_pool(await asyncio.to_thread(database_url, settings))
    try:
        await Projector(pool, all_projections()).run(stop)
    finally:
        await pool.close()


def _projector(args: argparse.Namespace) -> int:
    from uep.logging import configure_logging
    from uep.settings import get_settings

    configure_logging(get_settings().log_format)
    asyncio.run(_until_signalled(run_projector))
    return 0


def _dev(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from uep.devstack.supervisor import DevOptions, run_dev
    from uep.settings import get_settings

    settings = get_settings()
    if args.state_dir:
        settings = settings.model_copy(update={"state_dir": Path(args.state_dir)})
    opts = DevOptions(
        settings=settings,
        temporal_port=args.temporal_port or urlsplit(f"//{settings.temporal_address}").port or 7233,
        ui_port=args.ui_port or settings.ui_port,
        pg_port=args.pg_port or settings.pg_port,
        projector=not args.no_projector,
    )
    return asyncio.run(run_dev(opts))


def _demo(args: argparse.Namespace) -> int:
    from uep.cli.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="uep", description="DCC User Entry Process engine")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("schema", help="print the JSON Schema of every workflow message")
    p.add_argument("name", nargs="?", help="only this update / signal / query")
    p.set_defaults(func=_schema)
    p = sub.add_parser("worker", help="run the Temporal worker")
    p.set_defaults(func=_worker)
    p = sub.add_parser("projector", help="run the projector (keeps the read models)")
    p.set_defaults(func=_projector)
    p = sub.add_parser("dev", help="run the whole stack in the foreground (Ctrl-C stops it)")
    p.add_argument("--temporal-port", type=int, help="Temporal frontend port (default 7233)")
    p.add_argument("--ui-port", type=int, help="Temporal Web UI port (default 8233)")
    p.add_argument("--pg-port", type=int, help="embedded PostgreSQL port (default 55432)")
    p.add_argument("--state-dir", help="where data lives (default .uep, or UEP_STATE_DIR)")
    p.add_argument("--no-projector", action="store_true", help="do not run the projector")
    p.set_defaults(func=_dev)
    case_cli.add_parser(sub)
    store_cli.add_parsers(sub)
    audit.add_parser(sub)
    report_cli.add_parser(sub)
    services_cli.register(sub)
    p = sub.add_parser("demo", help="start a handful of realistic cases on the running stack")
    p.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run a subcommand and exit with its status (hard exit: sdk-python issue #300)."""
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
