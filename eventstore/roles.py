"""The event store's database roles (migration 0040 grants to them; docs/operations.md).

The owner runs the migrations and owns everything. :data:`APP_ROLE` is what the worker and the
projector connect as: it reads, appends only through the store's SECURITY DEFINER functions and
keeps the read models. :data:`AUDITOR_ROLE` reads and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping

from eventstore.types import Conn

APP_ROLE = "uep_app"
AUDITOR_ROLE = "uep_auditor"
LOGIN_ROLES = (APP_ROLE, AUDITOR_ROLE)

READ_MODEL_APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
"""What the application may do to a read-model table (the projector keeps it; no DDL)."""


async def ensure_login_roles(conn: Conn, passwords: Mapping[str, str | None]) -> None:
    """Create (or enable) the login roles, as an administrator; ``None`` keeps the password.

    For `uep dev` and tests; in production the init script does the same with its passwords.
    """
    for role in LOGIN_ROLES:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        verb = "ALTER" if exists else "CREATE"
        await conn.execute(f'{verb} ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        password = passwords.get(role)
        if password is not None:
            # PASSWORD takes no bind parameter: quote it as a literal on the server's own rules
            literal = await conn.fetchval("SELECT quote_literal($1)", password)
            await conn.execute(f'ALTER ROLE "{role}" PASSWORD {literal}')


async def grant_read_model(conn: Conn, tables: list[str]) -> None:
    """Give the application and the auditor their privileges on read-model tables (as owner)."""
    for table in tables:
        await conn.execute(f'GRANT {READ_MODEL_APP_PRIVILEGES} ON "{table}" TO {APP_ROLE}')
        await conn.execute(f'GRANT SELECT ON "{table}" TO {AUDITOR_ROLE}')
