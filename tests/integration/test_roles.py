"""Least privilege: what the application and auditor roles may do to the event store, and each
thing they are refused (migration 0040, eventstore/roles.py)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from eventstore.hashing import event_hash
from eventstore.migrations import head_number
from eventstore.models import NewEvent, UserIdClaimChange
from eventstore.postgres import PostgresEventStore
from eventstore.roles import APP_ROLE, AUDITOR_ROLE, ensure_login_roles
from projections import all_projections
from projections.projector import Projector
from uep.connect import with_user

pytestmark = pytest.mark.integration

REFUSED = asyncpg.InsufficientPrivilegeError

APP_REFUSALS = {
    "insert an event": "INSERT INTO events (position, stream_id, version, event_id, type, data, "
    "recorded_at, hash) VALUES (999, 's', 1, gen_random_uuid(), 'T', '{}', now(), 'h')",
    "update an event": "UPDATE events SET type = 'Other'",
    "delete an event": "DELETE FROM events",
    "truncate the log": "TRUNCATE events",
    "disable a trigger": "ALTER TABLE events DISABLE TRIGGER events_no_update_delete",
    "bypass triggers for the session": "SET session_replication_role = replica",
    "drop the log": "DROP TABLE events",
    "move the head": "UPDATE event_log_head SET position = 0",
    "add a User ID claim": "INSERT INTO user_id_claims VALUES ('u', 'p', 'r', 's', 1, now())",
    "drop a User ID claim": "DELETE FROM user_id_claims",
    "create a table": "CREATE TABLE planted (id int)",
    "replace the append function": "ALTER FUNCTION uep_lock_and_read(uuid[], text[], text[]) "
    "SECURITY INVOKER",
    "rebuild a read model": "DROP TABLE case_board",
    "rewrite the migrations": "DELETE FROM schema_migrations",
}

AUDITOR_REFUSALS = {
    "append through the function": "SELECT uep_append_fast('{}', '{}', '{}', '{}', '{}', '{}', "
    "'{}', '{}', '{}', '{}', now(), '{}', '{}')",
    "take the head-row lock": "SELECT * FROM uep_lock_and_read('{}', '{}', '{}')",
    "insert an event": APP_REFUSALS["insert an event"],
    "move a checkpoint": "UPDATE projection_checkpoints SET position = 0",
    "write a read model": "DELETE FROM case_board",
    "create a table": "CREATE TABLE planted (id int)",
}


def ev(kind: str = "Happened") -> NewEvent:
    return NewEvent(event_id=uuid4(), type=kind, data={"n": 1})


@pytest.fixture
async def role_urls(pool: asyncpg.Pool, database_url: str) -> dict[str, str]:
    """Login URLs of the two roles on the test's (migrated, read models set up) database."""
    passwords = {APP_ROLE: secrets.token_hex(8), AUDITOR_ROLE: secrets.token_hex(8)}
    async with pool.acquire() as conn:
        await ensure_login_roles(conn, passwords)
    await Projector(pool, all_projections()).setup()  # as the owner, as `uep migrate` does
    return {role: with_user(database_url, role, pw) for role, pw in passwords.items()}


@pytest.fixture
async def app(role_urls: dict[str, str]) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(role_urls[APP_ROLE])
    yield conn
    await conn.close()


@pytest.fixture
async def auditor(role_urls: dict[str, str]) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(role_urls[AUDITOR_ROLE])
    yield conn
    await conn.close()


async def test_the_application_role_appends_reads_and_projects(
    role_urls: dict[str, str], pool: asyncpg.Pool
) -> None:
    app_pool = await asyncpg.create_pool(role_urls[APP_ROLE], min_size=1, max_size=4)
    store = PostgresEventStore(app_pool)
    try:
        assert await app_pool.fetchval("SELECT current_user") == APP_ROLE
        first = await store.append("case-a", [ev(), ev()], 0)  # checked path: a new stream
        second = await store.append("case-a", [ev()], 2)  # fast path: the head is known
        claim = UserIdClaimChange(action="claim", user_id="u1", party_id="p", role="r")
        claimed = await store.append("case-b", [ev("Claimed")], 0, [claim])
        release = claim.model_copy(update={"action": "release"})
        await store.append("case-b", [ev("Released")], 1, [release])
        assert (first.positions, second.positions, claimed.positions) == ([1, 2], [3], [4])
        assert (await store.verify_chain("case-a")).ok
        assert await store.user_id_holders("u1") == []
        projector = Projector(app_pool, all_projections())
        await projector.setup()  # nothing to create or rebuild: no DDL as the application
        assert await projector.catch_up() == 5 * len(all_projections())
    finally:
        await store.close()
        await app_pool.close()
    # what the application wrote is the owner's log, chained and gapless
    assert await pool.fetchval("SELECT position FROM event_log_head") == 5


@pytest.mark.parametrize("sql", APP_REFUSALS.values(), ids=APP_REFUSALS.keys())
async def test_the_application_role_is_refused(app: asyncpg.Connection, sql: str) -> None:
    with pytest.raises(REFUSED):
        await app.execute(sql)


async def test_the_append_function_only_extends_a_stream(
    pool: asyncpg.Pool, pg_store: PostgresEventStore, app: asyncpg.Connection
) -> None:
    await pg_store.append("case-a", [ev()], 0)
    head = await pool.fetchrow("SELECT version, hash FROM events WHERE stream_id = 'case-a'")
    assert head is not None
    call = (
        "SELECT uep_append_fast($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], "
        "$6::uuid[], $7::text[], $8::int[], $9::text[], $10::text[], now(), $11::text[], "
        "$12::text[])"
    )

    async def append(version: int, prev: str | None, checked: tuple[int, str | None]) -> object:
        digest = event_hash(
            stream_id="case-a",
            version=version,
            event_id=uuid4(),
            type="T",
            schema_version=1,
            data={},
            metadata={},
            recorded_at=datetime.now(UTC),
            prev_hash=prev,
        )
        return await app.fetchval(
            call, ["case-a"], [checked[0]], [checked[1]], ["case-a"], [version], [uuid4()],
            ["T"], [1], ["{}"], ["{}"], [prev], [digest],
        )  # fmt: skip

    with pytest.raises(asyncpg.DataError, match="does not continue its stream"):
        await append(3, head["hash"], (1, head["hash"]))  # a gap in the versions
    with pytest.raises(asyncpg.DataError, match="does not continue its stream"):
        await append(2, "forged", (1, head["hash"]))  # a fork of the hash chain
    assert await append(1, None, (0, None)) is None  # built on a stale head: nothing written
    assert await pool.fetchval("SELECT count(*) FROM events") == 1
    assert await append(2, head["hash"], (1, head["hash"])) == 2


async def test_the_auditor_reads_everything_and_writes_nothing(
    pg_store: PostgresEventStore, auditor: asyncpg.Connection
) -> None:
    await pg_store.append("case-a", [ev()], 0)
    assert await auditor.fetchval("SELECT count(*) FROM events") == 1
    assert await auditor.fetchval("SELECT max(number) FROM schema_migrations") == head_number()
    for table in ("user_id_claims", "projection_checkpoints", "event_log_head", "case_board"):
        await auditor.fetch(f"SELECT * FROM {table}")
    for name, sql in AUDITOR_REFUSALS.items():
        with pytest.raises(REFUSED):
            await auditor.execute(sql)
            pytest.fail(f"the auditor could {name}")
