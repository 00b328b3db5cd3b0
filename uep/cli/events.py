"""`uep events` and `uep db url`: the event store seen by people and tools.

``uep events CASE_ID`` prints a case's stream (``--json`` for scripts), verifies its hash chain
and, with ``--state``, folds the events back into the case as of a version or a moment: what an
auditor needs to see the case exactly as it stood then.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from domain.history import fold_stored, view_as_of
from eventstore.models import ChainReport, RecordedEvent
from eventstore.postgres import PostgresEventStore
from uep.cli.common import OK, REFUSED, USAGE, CliError, console, run_command
from uep.connect import database_url, settings, store_pool


def _parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--as-of {text!r} is not an ISO 8601 moment", USAGE) from None
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
    as_of = _parse_moment(args.as_of) if args.as_of else None
    async with store_pool(settings()) as pool:
        store = PostgresEventStore(pool)
        events = await store.read_stream(args.case_id, to_version=args.to_version, as_of=as_of)
        report: ChainReport = await store.verify_chain(args.case_id)
    if not events:
        print(f"uep events: no events for case {args.case_id!r}", file=sys.stderr)
        return REFUSED
    if args.state:
        return _print_state(args, events)
    if args.json:
        for e in events:
            print(json.dumps(_event_line(e), default=str))
    else:
        _print_table(args.case_id, events, report)
    return OK if report.ok else REFUSED


def _print_table(case_id: str, events: list[RecordedEvent], report: ChainReport) -> None:
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
    out = console()
    out.print(table)
    if report.ok:
        out.print(f"hash chain: intact over {report.events} events")
    else:
        out.print(f"[red]hash chain BROKEN at version {report.first_bad_version}: {report.detail}")


def _print_state(args: argparse.Namespace, events: list[RecordedEvent]) -> int:
    """Fold the events (up to the cut) into the case and print it as it stood then."""
    state = fold_stored(events)
    if state is None:
        print("uep events: the stream has no CaseStarted event", file=sys.stderr)
        return REFUSED
    as_of = (_parse_moment(args.as_of) if args.as_of else events[-1].recorded_at).date()
    view = view_as_of(state, as_of, stream_version=events[-1].version)
    print(view.model_dump_json(indent=2))
    return OK


async def _db_url(args: argparse.Namespace) -> int:
    print(database_url(settings()))
    return OK


def add_parsers(sub: Any) -> None:
    """Register `events` and `db` on the top-level parser."""
    p = sub.add_parser("events", help="print a case's event stream (and verify its hash chain)")
    p.add_argument("case_id", help="the case id, e.g. uep-acme-gas_supplier")
    p.add_argument("--json", action="store_true", help="one JSON object per event")
    p.add_argument("--as-of", help="only events recorded up to this moment (ISO 8601)")
    p.add_argument("--to-version", type=int, help="only events up to this stream version")
    p.add_argument(
        "--state", action="store_true", help="fold the events into the case and print it"
    )
    p.set_defaults(func=run_command("uep events", _events))

    db = sub.add_parser("db", help="the database in use").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("url", help="print the database URL (for psql and other tools)").set_defaults(
        func=run_command("uep db", _db_url)
    )
