"""Numbered SQL migrations, applied at start-up in one transaction under an advisory lock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from eventstore.types import Conn

# Any constant works; it only has to be the same in every process that migrates this database.
MIGRATION_LOCK_KEY = 0x5545_5030  # "UEP0"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    number: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """The migrations shipped in ``eventstore/sql``, in number order."""
    folder = resources.files("eventstore") / "sql"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text()))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"two migrations share a number: {numbers}")
    return found


async def migrate(conn: Conn) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied (empty when up to date)."""
    applied: list[str] = []
    async with conn.transaction():
        # Two processes starting together: the second waits here, then finds nothing to do.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                number     integer     PRIMARY KEY,
                name       text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        done = {r["number"] for r in await conn.fetch("SELECT number FROM schema_migrations")}
        for migration in load_migrations():
            if migration.number in done:
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (number, name) VALUES ($1, $2)",
                migration.number,
                migration.name,
            )
            applied.append(migration.name)
    return applied
