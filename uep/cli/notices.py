"""`uep notices`: the completion notices in the outbox - queued, delivered or failed."""

from __future__ import annotations

import argparse
from typing import Any

from eventstore.outbox_postgres import PostgresNoticeOutbox
from uep.cli.common import OK, print_json, print_table, run_command
from uep.connect import settings, store_pool

COLUMNS = [
    "case_id",
    "recipient",
    "status",
    "attempts",
    "channel",
    "queued_at",
    "delivered_at",
    "reference",
    "last_error",
]


async def _notices(args: argparse.Namespace) -> int:
    async with store_pool(settings()) as pool:
        notices = await PostgresNoticeOutbox(pool).list(args.case, args.status)
    rows: list[dict[str, Any]] = [n.model_dump(mode="json") for n in notices]
    if args.json:
        print_json(rows)
    else:
        print_table(f"{len(rows)} completion notice(s)", rows, COLUMNS)
    return OK


def add_parser(sub: Any) -> None:
    """Register `uep notices`."""
    p = sub.add_parser("notices", help="completion notices: queued, delivered or failed")
    p.add_argument("--case", help="only this case")
    p.add_argument("--status", choices=["queued", "delivered", "failed"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_command("uep notices", _notices))
