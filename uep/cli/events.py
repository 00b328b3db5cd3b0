"""`uep events`, `uep db url` and `uep projections ...`: the event store seen by people and tools.

``uep events CASE_ID`` prints a case's stream (``--json`` for scripts), verifies its hash chain
and, with ``--state``, folds the events back into the case as of a version or a moment: what an
auditor needs to see the case exactly as it stood then.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg

from eventstore.models import ChainReport, RecordedEvent

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class StoreUnreachable(RuntimeError):
    """The database could not be reached; the message says how to fix it."""


def _settings() -> Any:
    from uep.devstack.supervisor import resolve_settings
    from uep.settings import get_settings

    return resolve_settings(get_settings())


def database_url() -> str:
    """The database URL of the running stack (or ``UEP_DATABASE_URL``)."""
    from uep.devstack.postgres import database_url as resolve

    return resolve(_settings())


@asynccontextmanager
async def store_pool() -> AsyncIterator[asyncpg.Pool]:
    from eventstore.migrations import create_pool

    url = await asyncio.to_thread(database_url)
    try:
        pool = await create_pool(url, min_size=1, max_size=4)
    except (OSError, asyncpg.PostgresError) as err:
        raise StoreUnreachable(f"cannot reach PostgreSQL ({err}); is `uep dev` running?") from err
    try:
        yield pool
    finally:
        await pool.close()


def _parse_moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _event_line(e: RecordedEvent) -> dict[str, Any]:
    return {
        "position": e.position,
        "version": e.version,
        "recorded_at": e.recorded_at.isoformat(),
        "type": e.type,
        "effective_on": e.data.get("effective_on"),
        "actor": e.metadata.get("actor"),
        "event_id": str(e.event_id),
        "data": e.data,
        "metadata": e.metadata,
        "hash": e.hash,
    }


async def _events(args: argparse.Namespace) -> int:
    from eventstore.postgres import PostgresEventStore

    as_of = _parse_moment(args.as_of) if args.as_of else None
    async with store_pool() as pool:
        store = PostgresEventStore(pool)
        events = await store.read_stream(args.case_id, to_version=args.to_version, as_of=as_of)
        report: ChainReport = await store.verify_chain(args.case_id)
    if not events:
        print(f"uep events: no events for case {args.case_id!r}", file=sys.stderr)
        return EXIT_REFUSED
    if args.state:
        return _print_state(args, events)
    if args.json:
        for e in events:
            print(json.dumps(_event_line(e), default=str))
    else:
        _print_table(args.case_id, events, report)
    return EXIT_OK if report.ok else EXIT_REFUSED


def _print_table(case_id: str, events: list[RecordedEvent], report: ChainReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{case_id}: {len(events)} events")
    for column in ("v", "recorded at (UTC)", "effective", "event", "by"):
        table.add_column(column)
    for e in events:
        line = _event_line(e)
        table.add_row(
            str(e.version),
            e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(line["effective_on"] or ""),
            e.type,
            str(line["actor"] or ""),
        )
    console = Console()
    console.print(table)
    if report.ok:
        console.print(f"hash chain: intact over {report.events} events")
    else:
        console.print(
            f"[red]hash chain BROKEN at version {report.first_bad_version}: {report.detail}"
        )


def _print_state(args: argparse.Namespace, events: list[RecordedEvent]) -> int:
    """Fold the events (up to the cut) into the case and print it as it stood then."""
    from domain.history import fold_stored, view_as_of

    state = fold_stored(events)
    if state is None:
        print("uep events: the stream has no CaseStarted event", file=sys.stderr)
        return EXIT_REFUSED
    as_of = (_parse_moment(args.as_of) if args.as_of else events[-1].recorded_at).date()
    view = view_as_of(state, as_of, stream_version=events[-1].version)
    print(view.model_dump_json(indent=2))
    return EXIT_OK


async def _db_url(args: argparse.Namespace) -> int:
    print(await asyncio.to_thread(database_url))
    return EXIT_OK


async def _projections_status(args: argparse.Namespace) -> int:
    from projections import all_projections
    from projections.projector import Projector

    async with store_pool() as pool:
        statuses = await Projector(pool, all_projections()).status()
    if args.json:
        rows = [
            {"name": s.name, "position": s.position, "head": s.head, "lag": s.lag} for s in statuses
        ]
        print(json.dumps(rows))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title="projections")
    for column in ("name", "checkpoint", "head", "lag"):
        table.add_column(column)
    for s in statuses:
        table.add_row(s.name, str(s.position), str(s.head), str(s.lag))
    Console().print(table)
    return EXIT_OK


async def caught_up(pool: asyncpg.Pool, names: list[str]) -> bool:
    """Whether every named projection's checkpoint has reached the head of the log."""
    head = await pool.fetchval("SELECT position FROM event_log_head")
    rows = await pool.fetch(
        "SELECT name, position FROM projection_checkpoints WHERE name = ANY($1::text[])", names
    )
    return len(rows) == len(names) and all(r["position"] >= head for r in rows)


async def _projections_wait(args: argparse.Namespace) -> int:
    """Block until the read models have applied everything appended so far (for scripts)."""
    from projections import all_projections
    from projections.projector import CHECKPOINT_CHANNEL

    names = [p.name for p in all_projections()]
    async with store_pool() as pool, pool.acquire() as listener:
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
            return EXIT_REFUSED
    return EXIT_OK


async def _projections_rebuild(args: argparse.Namespace) -> int:
    from projections import all_projections
    from projections.projector import Projector

    projections = all_projections()
    known = [p.name for p in projections]
    names = [args.name] if args.name else known
    unknown = [n for n in names if n not in known]
    if unknown:
        print(
            f"uep projections rebuild: unknown {unknown[0]!r}; known: {', '.join(known)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    async with store_pool() as pool:
        projector = Projector(pool, projections)
        await projector.setup()
        for name in names:
            started = datetime.now(UTC)
            position = await projector.rebuild(name)
            seconds = (datetime.now(UTC) - started).total_seconds()
            print(f"rebuilt {name} to position {position} in {seconds:.1f}s")
    return EXIT_OK


def _run(
    coro: Callable[[argparse.Namespace], Awaitable[int]],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return asyncio.run(coro(args))  # type: ignore[arg-type]
        except StoreUnreachable as err:
            print(f"uep: {err}", file=sys.stderr)
            return EXIT_UNREACHABLE
        except ValueError as err:
            print(f"uep: {err}", file=sys.stderr)
            return EXIT_USAGE

    return run


def add_parsers(sub: Any) -> None:
    """Register `events`, `db` and `projections` on the top-level parser."""
    p = sub.add_parser("events", help="print a case's event stream (and verify its hash chain)")
    p.add_argument("case_id", help="the case id, e.g. uep-acme-gas_supplier")
    p.add_argument("--json", action="store_true", help="one JSON object per event")
    p.add_argument("--as-of", help="only events recorded up to this moment (ISO 8601)")
    p.add_argument("--to-version", type=int, help="only events up to this stream version")
    p.add_argument(
        "--state", action="store_true", help="fold the events into the case and print it"
    )
    p.set_defaults(func=_run(_events))

    db = sub.add_parser("db", help="the database in use").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("url", help="print the database URL (for psql and other tools)").set_defaults(
        func=_run(_db_url)
    )

    proj = sub.add_parser("projections", help="read models: status and rebuild")
    psub = proj.add_subparsers(dest="projections_command", required=True)
    p = psub.add_parser("status", help="each projection's checkpoint and lag")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(_projections_status))
    p = psub.add_parser("wait", help="block until every read model has caught up with the log")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    p.set_defaults(func=_run(_projections_wait))
    p = psub.add_parser(
        "rebuild", help="rebuild from position zero while the old one keeps serving"
    )
    p.add_argument("name", nargs="?", help="one projection (default: all)")
    p.set_defaults(func=_run(_projections_rebuild))
