"""`uep projections status|wait|rebuild`: the read models' checkpoints, for people and scripts."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

import asyncpg

from projections import all_projections
from projections.projector import CHECKPOINT_CHANNEL, Projector
from uep.cli.common import OK, REFUSED, USAGE, print_table, run_command
from uep.connect import settings, store_pool


async def _projections_status(args: argparse.Namespace) -> int:
    async with store_pool(settings()) as pool:
        statuses = await Projector(pool, all_projections()).status()
    if args.json:
        rows = [
            {"name": s.name, "position": s.position, "head": s.head, "lag": s.lag} for s in statuses
        ]
        print(json.dumps(rows))
        return OK
    rows = [
        {"name": s.name, "checkpoint": s.position, "head": s.head, "lag": s.lag} for s in statuses
    ]
    print_table("projections", rows, ["name", "checkpoint", "head", "lag"])
    return OK


async def caught_up(pool: asyncpg.Pool, names: list[str]) -> bool:
    """Whether every named projection's checkpoint has reached the head of the log."""
    head = await pool.fetchval("SELECT position FROM event_log_head")
    rows = await pool.fetch(
        "SELECT name, position FROM projection_checkpoints WHERE name = ANY($1::text[])", names
    )
    return len(rows) == len(names) and all(r["position"] >= head for r in rows)


async def _projections_wait(args: argparse.Namespace) -> int:
    """Block until the read models have applied everything appended so far (for scripts)."""
    names = [p.name for p in all_projections()]
    async with store_pool(settings()) as pool, pool.acquire() as listener:
        progressed = asyncio.Event()
        await listener.add_listener(CHECKPOINT_CHANNEL, lambda *_: progressed.set())
        try:
            async with asyncio.timeout(args.timeout):
                # listen first, then check: a checkpoint committed in between still wakes us
                while not await caught_up(pool, names):
                    await progressed.wait()
                    progressed.clear()
        except TimeoutError:
            print(
                f"uep projections wait: not caught up within {args.timeout}s; "
                "is the projector running (`uep dev` starts it)?",
                file=sys.stderr,
            )
            return REFUSED
    return OK


async def _projections_rebuild(args: argparse.Namespace) -> int:
    projections = all_projections()
    known = [p.name for p in projections]
    names = [args.name] if args.name else known
    unknown = [n for n in names if n not in known]
    if unknown:
        print(
            f"uep projections rebuild: unknown {unknown[0]!r}; known: {', '.join(known)}",
            file=sys.stderr,
        )
        return USAGE
    # as the owner: a rebuild creates, drops and renames tables (the application role cannot)
    async with store_pool(settings(owner=True)) as pool:
        projector = Projector(pool, projections)
        await projector.setup()
        for name in names:
            started = datetime.now(UTC)
            position = await projector.rebuild(name)
            seconds = (datetime.now(UTC) - started).total_seconds()
            print(f"rebuilt {name} to position {position} in {seconds:.1f}s")
    return OK


def add_parser(sub: Any) -> None:
    """Register `uep projections` and its subcommands."""
    proj = sub.add_parser("projections", help="read models: status and rebuild")
    psub = proj.add_subparsers(dest="projections_command", required=True)
    p = psub.add_parser("status", help="each projection's checkpoint and lag")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_command("uep projections", _projections_status))
    p = psub.add_parser("wait", help="block until every read model has caught up with the log")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    p.set_defaults(func=run_command("uep projections", _projections_wait))
    p = psub.add_parser(
        "rebuild",
        help="rebuild from position zero while the old one keeps serving (as the owner role: "
        "UEP_DATABASE_URL of `uep migrate`, or the `uep dev` stack's owner)",
    )
    p.add_argument("name", nargs="?", help="one projection (default: all)")
    p.set_defaults(func=run_command("uep projections", _projections_rebuild))
