"""The projector: exactly once, in order, resumable after a crash, rebuildable."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import uuid4

import asyncpg
import pytest

from eventstore.models import NewEvent, RecordedEvent
from eventstore.postgres import PostgresEventStore
from eventstore.types import Conn
from projections import stream_counts
from projections.projector import Projection, ProjectionGapError, Projector

SEEN_DDL = "CREATE TABLE {table} (position bigint PRIMARY KEY, stream_id text NOT NULL)"


async def apply_seen(conn: Conn, event: RecordedEvent, table: str) -> None:
    """Record each position once: a second apply of one event breaks the primary key."""
    await conn.execute(f"INSERT INTO {table} VALUES ($1, $2)", event.position, event.stream_id)


async def apply_seen_batch(conn: Conn, events: Sequence[RecordedEvent], table: str) -> None:
    """Batch form of apply_seen."""
    await conn.execute(
        f"INSERT INTO {table} SELECT * FROM unnest($1::bigint[], $2::text[])",
        [e.position for e in events],
        [e.stream_id for e in events],
    )


SEEN = Projection(
    name="seen", table="seen", ddl=SEEN_DDL, apply=apply_seen, apply_batch=apply_seen_batch
)


def ev(**data: object) -> NewEvent:
    """A new event with a fresh id."""
    return NewEvent(event_id=uuid4(), type="Happened", data=dict(data))


async def fill(store: PostgresEventStore, streams: int, per_stream: int) -> int:
    """Append ``per_stream`` events to each stream; return the head position."""
    for version in range(per_stream):
        await asyncio.gather(
            *(store.append(f"s{s}", [ev(v=version)], version) for s in range(streams))
        )
    return await store.head_position()


async def counts(pool: asyncpg.Pool, table: str = "stream_counts") -> list[tuple[object, ...]]:
    """The stream_counts rows, sorted."""
    rows = await pool.fetch(f"SELECT * FROM {table} ORDER BY stream_id")
    return [tuple(r) for r in rows]


async def test_projector_follows_eight_concurrent_writers_exactly_once_in_order(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    projector = Projector(pool, [stream_counts.PROJECTION, SEEN], batch_size=200)
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    writers, appends, streams_per_writer = 8, 400, 20

    async def writer(w: int) -> None:
        versions = [0] * streams_per_writer
        for i in range(appends):
            s = i % streams_per_writer
            await pg_store.append(f"w{w}-{s}", [ev(w=w, i=i)], versions[s])
            versions[s] += 1

    await asyncio.gather(*(writer(w) for w in range(writers)))
    head = await pg_store.head_position()
    await projector.wait_for("seen", head)
    await projector.wait_for("stream_counts", head)
    stop.set()
    await running

    total = writers * appends
    assert head == total
    seen = await pool.fetch("SELECT position FROM seen ORDER BY position")
    assert [r["position"] for r in seen] == list(range(1, total + 1))
    rows = await pool.fetch("SELECT events, last_version, in_order FROM stream_counts")
    assert len(rows) == writers * streams_per_writer
    assert all(r["in_order"] and r["events"] == r["last_version"] for r in rows)
    assert sum(r["events"] for r in rows) == total
    assert all(s.lag == 0 for s in await projector.status())


async def test_a_crash_before_commit_is_not_double_counted(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    head = await fill(pg_store, streams=5, per_stream=6)

    async def crash(name: str, position: int) -> None:
        raise RuntimeError(f"crashed after applying {name} up to {position}")

    crashing = Projector(pool, [stream_counts.PROJECTION], batch_size=7, before_commit=crash)
    await crashing.setup()
    with pytest.raises(RuntimeError, match="crashed"):
        await crashing.catch_up()
    assert await crashing.checkpoint("stream_counts") == 0

    resumed = Projector(pool, [stream_counts.PROJECTION], batch_size=7)
    await resumed.catch_up()

    assert await resumed.checkpoint("stream_counts") == head
    assert [(r[0], r[1]) for r in await counts(pool)] == [(f"s{s}", 6) for s in range(5)]


async def test_rebuild_equals_incremental_and_swaps_in(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    projector = Projector(pool, [stream_counts.PROJECTION], batch_size=3)
    await projector.setup()
    await fill(pg_store, streams=4, per_stream=5)
    await projector.catch_up()
    await pg_store.append("s0", [ev(extra=1), ev(extra=2)], expected_version=5)
    await projector.catch_up()
    incremental = await counts(pool)

    position = await projector.rebuild("stream_counts", batch_size=4)

    assert position == await pg_store.head_position() == 22
    assert await projector.checkpoint("stream_counts") == position
    assert await counts(pool) == incremental
    assert incremental[0][:2] == ("s0", 7)
    assert await pool.fetchval("SELECT to_regclass('stream_counts__rebuild')") is None
    assert await projector.catch_up() == 0


async def test_a_missed_notification_is_covered_by_polling(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    projector = Projector(pool, [SEEN], poll_interval=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    head = await fill(pg_store, streams=2, per_stream=2)
    await projector.wait_for("seen", head)

    # An event that arrives with no NOTIFY at all (as if the notification were lost).
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM event_log_head FOR UPDATE")
        await conn.execute(
            "INSERT INTO events (position, stream_id, version, event_id, type, data, "
            "recorded_at, hash) VALUES ($1, 'quiet', 1, $2, 'Happened', '{}', now(), 'x')",
            head + 1,
            uuid4(),
        )
        await conn.execute("UPDATE event_log_head SET position = $1", head + 1)

    await projector.wait_for("seen", head + 1, within=10)
    stop.set()
    await running

    assert await pool.fetchval("SELECT max(position) FROM seen") == head + 1


async def test_a_burst_of_appends_is_applied_in_one_batch_when_coalescing(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    """Following, a wake-up waits ``coalesce`` seconds before applying: the appends that land
    meanwhile share the batch (one transaction per read model), where without it each wake-up
    would apply what it found at once."""
    head = await fill(pg_store, streams=1, per_stream=1)
    batches: list[int] = []

    async def count(name: str, position: int) -> None:
        batches.append(position)

    projector = Projector(pool, [SEEN], coalesce=2.0, poll_interval=60.0, before_commit=count)
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    await projector.wait_for("seen", head)
    caught_up = len(batches)
    for n in range(10):  # a burst well inside the two seconds
        await pg_store.append(f"burst{n}", [ev(n=n)], 0)
    await projector.wait_for("seen", head + 10, within=30)
    stop.set()
    await running

    assert batches[caught_up:] == [head + 10]


async def test_a_gap_that_does_not_fill_stops_the_projector(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    await fill(pg_store, streams=1, per_stream=2)
    async with pool.acquire() as conn:
        # Forge a hole (position 4 with no 3), which the head-row lock never lets happen.
        await conn.execute(
            "INSERT INTO events (position, stream_id, version, event_id, type, data, "
            "recorded_at, hash) VALUES (4, 'forged', 1, $1, 'Happened', '{}', now(), 'x')",
            uuid4(),
        )
    projector = Projector(pool, [SEEN], batch_size=1, gap_timeout=0.2)
    await projector.setup()

    with pytest.raises(ProjectionGapError, match="after position 2"):
        await projector.catch_up()
    assert await projector.checkpoint("seen") == 2


async def test_setups_racing_on_a_fresh_database_all_succeed(pool: asyncpg.Pool) -> None:
    """`uep migrate` and a projector starting together each create the read models: the
    second waits for the first (an advisory lock) instead of failing on PostgreSQL's catalogue
    (two CREATE TABLE IF NOT EXISTS racing; CI saw `uep migrate` fail so)."""
    from projections import all_projections

    for _ in range(5):
        outcomes = await asyncio.gather(
            *(Projector(pool, all_projections()).setup() for _ in range(4)),
            return_exceptions=True,
        )
        assert [o for o in outcomes if o is not None] == []
        tables = [t for p in all_projections() for t in p.tables(p.table)]
        async with pool.acquire() as conn:
            for table in tables:
                await conn.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
            await conn.execute("DELETE FROM projection_checkpoints")
