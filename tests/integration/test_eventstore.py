"""The event store's promises, against PostgreSQL and (where it applies) the in-memory fake."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from eventstore.memory import InMemoryEventStore
from eventstore.migrations import migrate
from eventstore.models import (
    EventStoreError,
    ExpectedVersionError,
    NewEvent,
    UserIdClaimChange,
    UserIdClaimError,
)
from eventstore.postgres import PostgresEventStore

Store = InMemoryEventStore | PostgresEventStore


def ticking_clock() -> Callable[[], datetime]:
    """A clock that moves on a millisecond per reading, so as-of tests need no sleeping."""
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    ticks = itertools.count()
    return lambda: start + timedelta(milliseconds=next(ticks))


@pytest.fixture(params=["memory", "postgres"])
def store(request: pytest.FixtureRequest) -> Store:
    """Each behaviour test runs on both stores (sync, so it may pull in the async pg fixture)."""
    if request.param == "memory":
        return InMemoryEventStore(clock=ticking_clock())
    pg: PostgresEventStore = request.getfixturevalue("pg_store")
    return pg


def ev(kind: str = "Happened", **data: Any) -> NewEvent:
    """A new event with a fresh id."""
    return NewEvent(event_id=uuid4(), type=kind, data=data, metadata={"actor": "test"})


def claim(user_id: str, party: str, role: str, action: str = "claim") -> UserIdClaimChange:
    """A User ID claim (or release) change."""
    return UserIdClaimChange(action=action, user_id=user_id, party_id=party, role=role)


async def test_append_then_read_back(store: Store) -> None:
    first = await store.append("case-1", [ev(n=1), ev(n=2)], expected_version=0)
    second = await store.append("case-2", [ev(n=3)], expected_version=0)

    assert (first.first_version, first.last_version, first.positions) == (1, 2, [1, 2])
    assert second.positions == [3]
    events = await store.read_stream("case-1")
    assert [(e.version, e.position, e.data["n"]) for e in events] == [(1, 1, 1), (2, 2, 2)]
    assert events[0].metadata == {"actor": "test"}
    assert events[1].prev_hash == events[0].hash
    assert await store.stream_version("case-1") == 2
    assert await store.stream_version("nobody") == 0
    assert [e.position for e in await store.read_all(after_position=1, limit=10)] == [2, 3]
    assert [e.position for e in await store.read_all(after_position=0, limit=2)] == [1, 2]


async def test_expected_version_conflict_writes_nothing(store: Store) -> None:
    await store.append("case-1", [ev()], expected_version=0)

    with pytest.raises(ExpectedVersionError) as raised:
        await store.append("case-1", [ev()], expected_version=0)

    assert (raised.value.expected, raised.value.actual) == (0, 1)
    assert await store.stream_version("case-1") == 1


async def test_reappending_the_same_event_ids_returns_the_stored_positions(store: Store) -> None:
    events = [ev(n=1), ev(n=2)]
    original = await store.append("case-1", events, expected_version=0)
    await store.append("case-2", [ev()], expected_version=0)

    retried = await store.append("case-1", events, expected_version=0)

    assert retried.duplicate is True
    assert retried.positions == original.positions == [1, 2]
    assert len(await store.read_all()) == 3


async def test_a_partly_stored_append_is_refused(store: Store) -> None:
    stored = ev()
    await store.append("case-1", [stored], expected_version=0)

    with pytest.raises(EventStoreError, match="already stored"):
        await store.append("case-1", [stored, ev()], expected_version=1)
    with pytest.raises(EventStoreError, match="elsewhere"):
        await store.append("case-2", [stored], expected_version=0)
    assert len(await store.read_all()) == 1


async def test_read_stream_by_version_range_and_as_of(store: Store) -> None:
    for version in range(4):
        await store.append("case-1", [ev(n=version + 1)], expected_version=version)
    everything = await store.read_stream("case-1")

    as_of = await store.read_stream("case-1", as_of=everything[1].recorded_at)
    window = await store.read_stream("case-1", from_version=2, to_version=3)

    assert everything[1].recorded_at < everything[2].recorded_at
    assert [e.version for e in as_of] == [1, 2]
    assert [e.version for e in window] == [2, 3]


async def test_hash_chain_verifies(store: Store) -> None:
    for version in range(3):
        await store.append("case-1", [ev(n=version, text="é €")], expected_version=version)

    report = await store.verify_chain("case-1")

    assert report.ok and report.events == 3


async def test_tampering_is_detected(pg_store: PostgresEventStore, pool: asyncpg.Pool) -> None:
    for version in range(3):
        await pg_store.append("case-1", [ev(amount=100)], expected_version=version)

    async with pool.acquire() as conn:
        # Only a superuser bypassing the triggers can do this; the chain must still tell.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE events SET data = $1::jsonb WHERE stream_id = 'case-1' AND version = 2",
            '{"amount": 1}',
        )
        await conn.execute("RESET session_replication_role")
    report = await pg_store.verify_chain("case-1")

    assert not report.ok
    assert report.first_bad_version == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'Other'",
        "DELETE FROM events",
        "TRUNCATE events",
    ],
)
async def test_the_database_refuses_to_change_events(
    pg_store: PostgresEventStore, pool: asyncpg.Pool, statement: str
) -> None:
    await pg_store.append("case-1", [ev()], expected_version=0)

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute(statement)
    assert len(await pg_store.read_all()) == 1


async def test_user_id_claims_follow_the_sharing_rule(store: Store) -> None:
    uid = "00-11-22-33-44-55-66-77"
    await store.append("acme-gas", [ev()], 0, [claim(uid, "acme", "gas_supplier")])
    # Within a Party, the supplier roles may share one id.
    await store.append("acme-imp", [ev()], 0, [claim(uid, "acme", "import_supplier")])

    with pytest.raises(UserIdClaimError, match="belongs to one Party"):
        await store.append("other-gas", [ev()], 0, [claim(uid, "other", "gas_supplier")])
    with pytest.raises(
        UserIdClaimError, match="only import_supplier, export_supplier and gas_supplier"
    ):
        await store.append("acme-dno", [ev()], 0, [claim(uid, "acme", "electricity_distributor")])

    assert await store.stream_version("other-gas") == 0
    assert await store.stream_version("acme-dno") == 0
    holders = await store.user_id_holders(uid)
    assert holders == [("acme", "gas_supplier"), ("acme", "import_supplier")]


async def test_a_released_user_id_can_be_claimed_by_another_party(store: Store) -> None:
    uid = "00-11-22-33-44-55-66-88"
    await store.append("acme", [ev()], 0, [claim(uid, "acme", "other_user")])
    await store.append("acme", [ev()], 1, [claim(uid, "acme", "other_user", "release")])

    await store.append("beta", [ev()], 0, [claim(uid, "beta", "other_user")])

    assert await store.user_id_holders(uid) == [("beta", "other_user")]


@pytest.mark.parametrize("group_commit", [True, False])
async def test_concurrent_claims_of_one_id_exactly_one_wins(
    pool: asyncpg.Pool, group_commit: bool
) -> None:
    store = PostgresEventStore(pool, group_commit=group_commit)
    uid = "AA-BB-CC-DD-EE-FF-00-11"
    parties = [f"party-{i}" for i in range(8)]

    outcomes = await asyncio.gather(
        *(store.append(p, [ev()], 0, [claim(uid, p, "other_user")]) for p in parties),
        return_exceptions=True,
    )
    await store.close()

    winners = [p for p, o in zip(parties, outcomes, strict=True) if not isinstance(o, Exception)]
    assert len(winners) == 1
    assert all(isinstance(o, UserIdClaimError) for o in outcomes if not hasattr(o, "positions"))
    assert await store.user_id_holders(uid) == [(winners[0], "other_user")]
    assert len(await store.read_all()) == 1


async def test_one_bad_append_does_not_fail_the_others(pg_store: PostgresEventStore) -> None:
    await pg_store.append("taken", [ev()], 0)

    outcomes = await asyncio.gather(
        pg_store.append("a", [ev()], 0),
        pg_store.append("taken", [ev()], 0),
        pg_store.append("b", [ev()], 0),
        return_exceptions=True,
    )

    assert isinstance(outcomes[1], ExpectedVersionError)
    assert [e.stream_id for e in await pg_store.read_all()] == ["taken", "a", "b"]


async def test_migrations_twice_is_a_no_op(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        again = await migrate(conn)
        recorded = await conn.fetchval("SELECT count(*) FROM schema_migrations")

    assert again == []
    assert recorded >= 2


async def test_many_writers_leave_a_gapless_log(pg_store: PostgresEventStore) -> None:
    writers, appends = 8, 150

    async def writer(w: int) -> None:
        for i in range(appends):
            stream = f"case-{w}-{i % 5}"
            await pg_store.append(stream, [ev(w=w, i=i)], expected_version=i // 5)

    await asyncio.gather(*(writer(w) for w in range(writers)))

    log = await pg_store.read_all(limit=10_000)
    assert [e.position for e in log] == list(range(1, writers * appends + 1))
    reports = [await pg_store.verify_chain(f"case-{w}-0") for w in range(writers)]
    assert all(r.ok and r.events == appends // 5 for r in reports)


async def test_every_committed_append_notifies_followers(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    async with pool.acquire() as listener:
        await listener.add_listener("uep_events", lambda *args: heard.put_nowait(args[2]))
        # A new stream (fast path), its next append (fast path) and a claim (checked path).
        await pg_store.append("case-1", [ev()], 0)
        await pg_store.append("case-1", [ev()], 1)
        await pg_store.append("case-2", [ev()], 0, [claim("11-22", "acme", "other_user")])
        for _ in range(3):
            await asyncio.wait_for(heard.get(), timeout=5)
        # A conflict and an idempotent re-append write nothing and say nothing.
        with pytest.raises(ExpectedVersionError):
            await pg_store.append("case-1", [ev()], 0)
        # Notifications arrive in commit order: had the conflict notified, its message would
        # come before this append's, and one would be left over after taking one.
        await pg_store.append("case-3", [ev()], 0)
        await asyncio.wait_for(heard.get(), timeout=5)
        await listener.reset()
    assert heard.empty()


async def test_the_fast_path_meeting_a_stored_event_id_writes_nothing(
    pg_store: PostgresEventStore,
) -> None:
    stored = ev()
    await pg_store.append("case-1", [stored], 0)
    await pg_store.append("case-2", [ev()], 0)

    # The store knows case-2's head, so this goes the one-round-trip way; the UNIQUE index
    # refuses the id, the statement writes nothing and the checked path names the problem.
    with pytest.raises(EventStoreError, match="elsewhere"):
        await pg_store.append("case-2", [stored], 1)

    assert [e.stream_id for e in await pg_store.read_all()] == ["case-1", "case-2"]
    assert await pg_store.head_position() == 2
    assert (await pg_store.append("case-2", [ev()], 1)).positions == [3]
