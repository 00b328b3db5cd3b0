"""The `uep` command: one entry point for every tool of the project."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence

Command = Callable[[argparse.Namespace], int]


def _schema(args: argparse.Namespace) -> int:
    from uep.schema import all_schemas

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


def _worker(args: argparse.Namespace) -> int:
    from uep.logging import configure_logging
    from worker import run_worker

    configure_logging()
    asyncio.run(run_worker())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="uep", description="DCC User Entry Process engine")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("schema", help="print the JSON Schema of every workflow message")
    p.add_argument("name", nargs="?", help="only this update / signal / query")
    p.set_defaults(func=_schema)
    p = sub.add_parser("worker", help="run the Temporal worker")
    p.set_defaults(func=_worker)
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
