"""The `uep` command: one entry point for every tool of the project.

One module per command group, as the command reads: ``case``, ``events`` (and ``db``),
``projections``, ``report``, ``audit``, ``demo``, ``dev``, ``schema``, and the services
``worker`` and ``projector``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from uep.cli import (
    api,
    audit,
    case,
    demo,
    dev,
    events,
    notices,
    party,
    projections,
    report,
    schema,
    services,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="uep", description="DCC User Entry Process engine")
    sub = parser.add_subparsers(dest="command", required=True)
    schema.add_parser(sub)
    api.add_parsers(sub)
    services.add_parsers(sub)
    services.add_job_parsers(sub)
    dev.add_parser(sub)
    case.add_parser(sub)
    party.add_parser(sub)
    events.add_parsers(sub)
    projections.add_parser(sub)
    audit.add_parser(sub)
    report.add_parser(sub)
    demo.add_parser(sub)
    notices.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run a subcommand and exit with its status (hard exit: sdk-python issue #300)."""
    args = build_parser().parse_args(audit.rewrite(sys.argv[1:] if argv is None else argv))
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
