"""Event-store benchmark (a script, not a test): appends/s, raw INSERT baseline, rebuild speed.

    .venv/bin/python bench/append.py            # embedded PostgreSQL in a temp folder
    UEP_DATABASE_URL=postgresql://... .venv/bin/python bench/append.py
    .venv/bin/python bench/append.py --rounds 5 --seconds 2 --writers 4 --batches 1

Each measurement runs in a fresh database on the same server with the same pool settings and
the same payloads. Shared machines are noisy, so every cell is measured ``--rounds`` times, and
within a round raw and uep run back to back, alternating which goes first; the table shows the
median and every round. Last: the ratio of our 4-writer single-event append rate to the 4-writer
raw INSERT + COMMIT rate, per round and its median (target >= 0.5), and the projection rebuild
rate (target >= 20,000 events/s).

Shape: each uep writer is a task appending through ONE shared PostgresEventStore (one pool,
group commit), as the worker runs many activities concurrently against one store. Each raw
writer owns a pooled connection and runs INSERT + COMMIT (autocommit) on it. Both sides use
the server's durability settings as they are (printed; nothing is turned off for either).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventstore.hashing import canonical_json
from eventstore.models import NewEvent
from eventstore.postgres import PostgresEventStore
from projections import stream_counts
from projections.projector import Projector
from uep.connect import open_pool
from uep.devstack.postgres import ensure_embedded, free_port, stop_embedded

PAYLOAD = {
    "effective_on": "2025-03-04",
    "case_id": "uep-acme-gas_supplier",
    "user_id": "00-11-22-33-44-55-66-77",
    "notes": "x" * 120,
}
METADATA = {"actor": "bench", "workflow_id": "uep-acme-gas_supplier", "run_id": "r1"}
BARE_TABLE = """
CREATE TABLE bare (id bigserial PRIMARY KEY, stream_id text, event_id uuid, type text,
                   data jsonb, metadata jsonb, recorded_at timestamptz DEFAULT now())
"""


@contextlib.contextmanager
def server() -> Iterator[str]:
    """UEP_DATABASE_URL, else a throw-away embedded PostgreSQL."""
    url = os.environ.get("UEP_DATABASE_URL")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="uep-bench-"))
    try:
        yield ensure_embedded(folder / "data", free_port()).url()
    finally:
        stop_embedded(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def fresh_pool(admin_url: str, writers: int) -> AsyncIterator[asyncpg.Pool]:
    """A migrated pool on a new database, dropped afterwards."""
    name = f"uep_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    pool = await open_pool(
        urlunsplit(parts._replace(path=f"/{name}")), min_size=writers + 2, max_size=writers + 4
    )
    try:
        yield pool
    finally:
        await pool.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def new_events(n: int) -> list[NewEvent]:
    """``n`` events with fresh ids and the benchmark payload."""
    return [
        NewEvent(event_id=uuid4(), type="UserIdProposed", data=PAYLOAD, metadata=METADATA)
        for _ in range(n)
    ]


WARM_UP = 0.3  # seconds of untimed work first: connections, cached plans, statement cache


async def timed(writers: int, seconds: float, work: Callable[[int], Awaitable[int]]) -> float:
    """Run ``writers`` loops of ``work`` (after a short warm-up); return events per second."""

    async def run(until: float) -> int:
        async def loop(w: int) -> int:
            done = 0
            while time.perf_counter() < until:
                done += await work(w)
            return done

        return sum(await asyncio.gather(*(loop(w) for w in range(writers))))

    await run(time.perf_counter() + WARM_UP)
    start = time.perf_counter()
    total = await run(start + seconds)
    return total / (time.perf_counter() - start)


async def bench_store(admin_url: str, writers: int, batch: int, seconds: float) -> float:
    """Our append rate (events/s): each writer appends to its own streams."""
    async with fresh_pool(admin_url, writers) as pool:
        store = PostgresEventStore(pool)
        versions: dict[str, int] = {}

        async def work(w: int) -> int:
            stream = f"case-{w}-{versions.get(f'n{w}', 0) % 50}"
            version = versions.get(stream, 0)
            await store.append(stream, new_events(batch), version)
            versions[stream] = version + batch
            versions[f"n{w}"] = versions.get(f"n{w}", 0) + 1
            return batch

        rate = await timed(writers, seconds, work)
        await store.close()
        return rate


async def bench_raw(admin_url: str, writers: int, batch: int, seconds: float) -> float:
    """Baseline: plain INSERT + COMMIT of the same payloads into a bare table."""
    async with fresh_pool(admin_url, writers) as pool:
        await pool.execute(BARE_TABLE)
        data, meta = canonical_json(PAYLOAD), canonical_json(METADATA)
        conns = [await pool.acquire() for _ in range(writers)]

        async def work(w: int) -> int:
            conn = conns[w]
            rows = [(f"case-{w}", uuid4(), "UserIdProposed", data, meta) for _ in range(batch)]
            if batch == 1:
                await conn.execute(
                    "INSERT INTO bare (stream_id, event_id, type, data, metadata) "
                    "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)",
                    *rows[0],
                )
            else:
                async with conn.transaction():
                    await conn.executemany(
                        "INSERT INTO bare (stream_id, event_id, type, data, metadata) "
                        "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)",
                        rows,
                    )
            return batch

        rate = await timed(writers, seconds, work)
        for conn in conns:
            await pool.release(conn)
        return rate


async def bench_rebuild(admin_url: str, events: int) -> tuple[float, int]:
    """Rebuild the stream_counts projection over ``events`` events; return events/s."""
    async with fresh_pool(admin_url, 4) as pool:
        store = PostgresEventStore(pool)
        per_append, streams = 50, 200
        versions = [0] * streams

        async def load(w: int) -> None:
            for i in range(w, events // per_append, 8):
                s = i % streams
                await store.append(f"case-{s}", new_events(per_append), versions[s])
                versions[s] += per_append

        await asyncio.gather(*(load(w) for w in range(8)))
        await store.close()
        projector = Projector(pool, [stream_counts.PROJECTION])
        await projector.setup()
        start = time.perf_counter()
        position = await projector.rebuild("stream_counts")
        return position / (time.perf_counter() - start), position


Cell = tuple[str, int, int]  # (what, events per append, writers)
RAW, UEP = "raw INSERT", "uep append"


async def settings(admin_url: str) -> str:
    """The server's version and durability settings, which both sides share."""
    conn = await asyncpg.connect(admin_url)
    try:
        names = ("server_version", "fsync", "synchronous_commit", "wal_sync_method")
        values = [await conn.fetchval(f"SHOW {n}") for n in names]
    finally:
        await conn.close()
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


async def main(
    seconds: float,
    rounds: int,
    writer_counts: list[int],
    batches: list[int],
    rebuild_events: int,
) -> None:
    """Run every measurement and print the table."""
    runs: dict[Cell, list[float]] = {}
    with server() as admin_url:
        print(f"PostgreSQL: {admin_url}")
        print(f"  {await settings(admin_url)}")
        print(
            f"  {rounds} rounds x {seconds}s per cell; raw and uep back to back in each round, "
            "alternating which goes first"
        )
        print(
            "  uep: N writer tasks share ONE store (one pool, group commit), as the worker's "
            "concurrent activities do;\n  raw: N pooled connections, INSERT + COMMIT each; "
            "same payloads, same pool settings, fresh database per run"
        )
        print(f"  load average at start: {_load()}")
        for r in range(rounds):
            for batch in batches:
                for writers in writer_counts:
                    sides = [(RAW, bench_raw), (UEP, bench_store)]
                    if r % 2:
                        sides.reverse()
                    for what, bench in sides:
                        rate = await bench(admin_url, writers, batch, seconds)
                        runs.setdefault((what, batch, writers), []).append(rate)
            print(f"  round {r + 1}/{rounds} done (load average {_load()})", flush=True)
        rebuild_rate, rebuilt = (
            await bench_rebuild(admin_url, rebuild_events) if rebuild_events else (0.0, 0)
        )

    print()
    print(
        f"{'what':<12} {'events/append':>13} {'writers':>8} {'events/s':>10} {'appends/s':>10}"
        "   each round (events/s)"
    )
    order = sorted(runs, key=lambda c: (c[1], c[0], c[2]))
    for cell in order:
        what, batch, writers = cell
        rate = statistics.median(runs[cell])
        each = " ".join(f"{x:>7,.0f}" for x in runs[cell])
        print(f"{what:<12} {batch:>13} {writers:>8} {rate:>10,.0f} {rate / batch:>10,.0f}   {each}")
    if rebuilt:
        print(f"{'rebuild':<12} {rebuilt:>13,} {'':>8} {rebuild_rate:>10,.0f}   (target >= 20,000)")
    if (UEP, 1, 4) in runs and (RAW, 1, 4) in runs:
        ratios = [u / r for u, r in zip(runs[(UEP, 1, 4)], runs[(RAW, 1, 4)], strict=True)]
        each = " ".join(f"{x:.2f}" for x in ratios)
        median = statistics.median(ratios)
        print(
            f"ratio uep/raw, single-event appends, 4 writers: median {median:.2f}"
            f"  (each round: {each}; target >= 0.5)"
        )


def _load() -> str:
    """The 1-minute load average (the machine may be shared)."""
    return f"{os.getloadavg()[0]:.2f}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each cell (median shown)")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 10], help="events/append")
    parser.add_argument("--rebuild-events", type=int, default=100_000, help="0 to skip")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.rounds, args.writers, args.batches, args.rebuild_events))
