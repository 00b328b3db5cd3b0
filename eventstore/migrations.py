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


class NotAtHead(RuntimeError):
    """The database's schema is not at the head of the migrations this code ships."""


def head_number() -> int:
    """The number of the newest migration shipped."""
    return max(m.number for m in load_migrations())


async def applied_number(conn: Conn) -> int:
    """The newest migration applied to the database (0 when none, or none this role may see)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return 0
    if not await conn.fetchval("SELECT has_table_privilege('schema_migrations', 'SELECT')"):
        return 0  # before 0040 the application role could not read it: not migrated for it
    return int(await conn.fetchval("SELECT coalesce(max(number), 0) FROM schema_migrations"))


async def require_head(conn: Conn) -> None:
    """Raise NotAtHead unless every shipped migration is applied (services check, never apply)."""
    applied, head = await applied_number(conn), head_number()
    if applied < head:
        raise NotAtHead(
            f"the event store's schema is at migration {applied}, this code needs {head}: "
            "run `uep migrate` as the owner role"
        )
