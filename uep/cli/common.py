"""What every `uep` command shares: exit codes, expected failures, output."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from rich.console import Console
from rich.table import Table

from eventstore.migrations import NotAtHead
from uep.connect import StoreUnreachable, TemporalUnreachable

OK, REFUSED, USAGE, UNREACHABLE = 0, 1, 2, 3
"""Exit codes scripts can trust: done, refused (the reason is printed), usage, unreachable."""

AsyncCommand = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


class CliError(Exception):
    """An expected failure: a one-line message and the exit code to leave with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def console() -> Console:
    """The terminal; piped output keeps whole lines (a narrow width would cut ids and dates)."""
    width = None if sys.stdout.isatty() else 200
    return Console(highlight=False, soft_wrap=True, width=width)


def print_json(data: Any) -> None:
    """Indented JSON on stdout; dates and decimals as strings."""
    print(json.dumps(data, indent=2, default=str))


def print_table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Rows as a table with the given columns (None shown empty)."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row[c]) for c in columns))
    console().print(table)


def run_command(prog: str, command: AsyncCommand) -> Callable[[argparse.Namespace], int]:
    """An argparse handler running ``command``; expected failures print one line and set the
    exit code (refused 1, usage 2, Temporal or PostgreSQL out of reach or not migrated 3)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return asyncio.run(command(args))
        except CliError as err:
            print(f"{prog}: {err}", file=sys.stderr)
            return err.code
        except (TemporalUnreachable, StoreUnreachable, NotAtHead) as err:
            print(f"{prog}: {err}", file=sys.stderr)
            return UNREACHABLE

    return run
