"""The projector: follows the global log and keeps read models, exactly once, resumable.

Each batch of events is applied and the projection's checkpoint moved in ONE transaction, so a
crash anywhere leaves either both or neither. The projector wakes on NOTIFY and also polls, so a
missed notification only delays it. Positions are gapless by construction (see
docs/event-store.md); the projector still checks each batch is contiguous and refuses to skip.

When PostgreSQL goes away the projector does not exit: it reconnects with capped exponential
backoff and jitter (stamina), says so in one log line per change of state, exposes the state in
its metrics and readiness, and resumes from the checkpoints, which are the only state it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import asyncpg.pool
import stamina
import structlog

from eventstore.migrations import NotAtHead, require_head
from eventstore.models import RecordedEvent
from eventstore.postgres import NOTIFY_CHANNEL, read_all
from eventstore.roles import grant_read_model
from eventstore.types import Conn
from projections import metrics

log = structlog.get_logger("uep.projector")

ApplyOne = Callable[[Conn, RecordedEvent, str], Awaitable[None]]
ApplyBatch = Callable[[Conn, Sequence[RecordedEvent], str], Awaitable[None]]
BeforeCommit = Callable[[str, int], Awaitable[None]]


CHECKPOINT_CHANNEL = "uep_projections"
"""NOTIFY channel: a projection committed a new checkpoint (payload: its name)."""


@dataclass(frozen=True)
class Projection:
    """A read model: its name, its table DDL (``{table}`` placeholder) and how to apply events.

    ``apply`` writes one event into the table named by its last argument (the live table or a
    rebuild's shadow). ``apply_batch``, when given, does a whole batch at once (a pure fold then
    one write), which is what makes rebuilds fast. A read model that needs more than one table
    names the others as suffixes of its table (``{table}_cases``) in ``extra_tables``; they are
    created, rebuilt and swapped with it. ``version`` changes whenever the tables' shape or
    content rules change: the projector then rebuilds the read model when it starts.
    """

    name: str
    table: str
    ddl: str
    apply: ApplyOne
    apply_batch: ApplyBatch | None = None
    extra_tables: tuple[str, ...] = ()
    version: int = 1

    def tables(self, table: str) -> list[str]:
        """Every table of the read model whose main table is ``table``."""
        return [table, *(table + suffix for suffix in self.extra_tables)]

    async def apply_all(self, conn: Conn, events: Sequence[RecordedEvent], table: str) -> None:
        """Apply a batch, in order, into ``table``."""
        if self.apply_batch is not None:
            await self.apply_batch(conn, events, table)
            return
        for event in events:
            await self.apply(conn, event, table)


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands against the head of the log."""

    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        """Events not yet applied."""
        return self.head - self.position


DATABASE_GONE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, cancelled
    # A pooled connection left mid-operation when the server went away ("cannot switch to
    # state ..."): the pool drops it on release, and a fresh connection is the remedy.
    asyncpg.exceptions.InternalClientError,
)
"""Errors that mean PostgreSQL is (for now) out of reach: reconnect, never exit."""

READ_MODEL_LOCK_KEY = 0x5545_5032  # "UEP2": one read-model setup at a time, whatever the process

NOT_PREPARED: tuple[type[Exception], ...] = (
    NotAtHead,
    asyncpg.InsufficientPrivilegeError,
    asyncpg.UniqueViolationError,
    asyncpg.DuplicateTableError,
)
"""The schema or a read model needs `uep migrate` (the owner's job): wait for it. A read model
created at the same moment by `uep migrate` (two CREATE TABLEs racing) is the same story: the
next attempt finds it made."""


@dataclass(frozen=True)
class ProjectorState:
    """What the projector is doing, since when (monotonic seconds), and why."""

    state: str
    since: float
    reason: str = ""


class ProjectionGapError(RuntimeError):
    """The log showed a hole that did not fill; skipping it would lose an event forever."""


class _Gap(Exception):
    """A batch was not contiguous (internal: retried until the gap timeout)."""


async def _create_table(conn: Conn, projection: Projection, table: str) -> None:
    """Create ``table`` from the projection's DDL unless it exists (with the roles' grants)."""
    if await conn.fetchval("SELECT to_regclass($1)", table) is None:
        await conn.execute(projection.ddl.format(table=table))
        await grant_read_model(conn, projection.tables(table))


class Projector:
    """Runs projections against the global log of one database."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        projections: Sequence[Projection],
        *,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        gap_timeout: float = 5.0,
        before_commit: BeforeCommit | None = None,
        reconnect_wait_max: float = 10.0,
        coalesce: float = 0.0,
    ) -> None:
        self._pool = pool
        # Following, a wake-up waits this long before applying, so the appends of a burst
        # (group-committed by several workers' cases) share one transaction per read model.
        self._coalesce = coalesce
        self._projections = {p.name: p for p in projections}
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._gap_timeout = gap_timeout
        # Test hook: runs inside the batch transaction after applying, before the commit.
        self._before_commit = before_commit
        self._progress = asyncio.Condition()
        self._wake = asyncio.Event()
        self._listener_lost = False
        self._reconnect_wait_max = reconnect_wait_max
        self._state = ProjectorState("starting", time.monotonic())
        self._observed_at = 0.0
        self.lag_seconds = 0.0
        """Age of the oldest event some read model has not applied (last observation)."""
        metrics.STATE.state("starting")

    @property
    def state(self) -> ProjectorState:
        """What the projector is doing now (for readiness)."""
        return self._state

    async def setup(self) -> None:
        """Create missing read-model tables and checkpoint rows; rebuild outdated read models.
        One setup at a time (`uep migrate` and a projector starting together): two concurrent
        CREATE TABLE IF NOT EXISTS can both miss the table and one fails on PostgreSQL's
        catalogue (pg_type's unique index); under the lock the second finds the table made."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", READ_MODEL_LOCK_KEY)
            for projection in self._projections.values():
                await _create_table(conn, projection, projection.table)
                await conn.execute(
                    "INSERT INTO projection_checkpoints (name, version) VALUES ($1, $2) "
                    "ON CONFLICT (name) DO NOTHING",
                    projection.name,
                    projection.version,
                )
            rows = await conn.fetch("SELECT name, version FROM projection_checkpoints")
        stored = {r["name"]: r["version"] for r in rows}
        for name, projection in self._projections.items():
            if stored.get(name) != projection.version:
                await self.rebuild(name)

    async def grant(self) -> None:
        """Give the application and auditor roles their privileges on every read-model table
        (as the owner: tables made before migration 0040 had none)."""
        async with self._pool.acquire() as conn:
            for projection in self._projections.values():
                await grant_read_model(conn, projection.tables(projection.table))

    async def step(self, name: str) -> int:
        """Apply the next batch of one projection; return how many events it applied."""
        projection = self._projections[name]
        async with self._pool.acquire() as conn, conn.transaction():
            # The row lock keeps two projector processes (or a rebuild's swap) from racing.
            position = await conn.fetchval(
                "SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name
            )
            events = await read_all(conn, position, self._batch_size)
            if not events:
                return 0
            if events[0].position != position + 1 or events[-1].position != position + len(events):
                raise _Gap(f"{name}: after position {position} read {events[0].position}..")
            await projection.apply_all(conn, events, projection.table)
            if self._before_commit is not None:
                await self._before_commit(name, events[-1].position)
            await conn.execute(
                "UPDATE projection_checkpoints SET position = $2, updated_at = now() "
                "WHERE name = $1",
                name,
                events[-1].position,
            )
            # delivered at commit: other processes can wait for the read models to catch up
            await conn.execute("SELECT pg_notify($1, $2)", CHECKPOINT_CHANNEL, name)
        metrics.POSITION.labels(name).set(events[-1].position)
        metrics.APPLIED.labels(name).inc(len(events))
        async with self._progress:
            self._progress.notify_all()
        return len(events)

    async def catch_up(self) -> int:
        """Apply every projection up to the current head; return events applied in total."""
        total = 0
        for name in self._projections:
            total += await self._catch_up_one(name)
        return total

    async def _catch_up_one(self, name: str) -> int:
        """One projection up to the head, waiting briefly for a gap to fill before failing."""
        total = 0
        gap_since: float | None = None
        while True:
            try:
                applied = await self.step(name)
            except _Gap as gap:
                now = time.monotonic()
                gap_since = gap_since or now
                if now - gap_since > self._gap_timeout:
                    raise ProjectionGapError(
                        f"{gap}; the gap did not fill within {self._gap_timeout}s"
                    ) from None
                await self._wait_for_wake(min(0.05, self._gap_timeout))
                continue
            gap_since = None
            total += applied
            if applied < self._batch_size:
                return total

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Follow the log until ``stop`` is set, riding out PostgreSQL outages."""
        stop = stop or asyncio.Event()
        follower = asyncio.create_task(self._follow_until(stop), name="uep-projector")
        stopper = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([follower, stopper], return_when=asyncio.FIRST_COMPLETED)
            if not follower.done():
                # Following, it returns at its next wake-up; backing off, it may sleep for
                # seconds, and there is nothing to finish then: cut the wait short.
                done, _ = await asyncio.wait([follower], timeout=self._poll_interval * 2)
                if not done:
                    follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        finally:
            for task in (follower, stopper):
                task.cancel()
            self._set_state("stopped")

    async def _follow_until(self, stop: asyncio.Event) -> None:
        """Connect (with backoff), follow until the connection is lost, and again, until stop."""
        while not stop.is_set():
            listener = await self._connect()
            try:
                await self._follow(listener, stop)
            except DATABASE_GONE as err:
                metrics.RECONNECTS.inc()
                self._set_state("reconnecting", _reason(err))
            finally:
                await self._drop_listener(listener)

    async def _connect(self) -> asyncpg.pool.PoolConnectionProxy[Any]:
        """A listening connection on a store at head with its read models ready; retried with
        capped exponential backoff and jitter for as long as it takes."""
        if self._state.state in ("starting", "stopped"):
            self._set_state("connecting")
        async for attempt in stamina.retry_context(
            on=DATABASE_GONE + NOT_PREPARED,
            attempts=None,
            timeout=None,
            wait_initial=0.5,
            wait_max=self._reconnect_wait_max,
            wait_jitter=1.0,
        ):
            with attempt:
                try:
                    return await self._open_listener()
                except NOT_PREPARED as err:
                    self._set_state("waiting", _reason(err))
                    raise
                except DATABASE_GONE as err:
                    self._set_state("reconnecting", _reason(err))
                    raise
        raise AssertionError("unreachable: the retries above never give up")

    async def _open_listener(self) -> asyncpg.pool.PoolConnectionProxy[Any]:
        """Acquire the LISTEN connection, check the schema, set the read models up."""
        listener = await self._pool.acquire()
        try:
            await require_head(listener)
            await self.setup()
            self._listener_lost = False
            listener.add_termination_listener(self._on_listener_lost)
            await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
        except BaseException:
            await self._drop_listener(listener)
            raise
        return listener

    async def _follow(
        self, listener: asyncpg.pool.PoolConnectionProxy[Any], stop: asyncio.Event
    ) -> None:
        """Catch up, then wait for a NOTIFY (or the poll interval), until stop or a lost link."""
        self._set_state("following")
        stopper = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                if self._listener_lost:
                    raise ConnectionResetError("the LISTEN connection to PostgreSQL was lost")
                self._wake.clear()
                await self.catch_up()
                await self._observe()
                await self._wait_for_wake(self._poll_interval, stopper)
                if self._coalesce and self._wake.is_set() and not stop.is_set():
                    await asyncio.sleep(self._coalesce)
        finally:
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopper

    async def _drop_listener(self, listener: asyncpg.pool.PoolConnectionProxy[Any]) -> None:
        """Stop listening and hand the connection back, whatever state it is in: after an
        outage it is usually broken, and that must not end the projector (issue 15)."""
        with contextlib.suppress(Exception):
            listener.remove_termination_listener(self._on_listener_lost)
        with contextlib.suppress(Exception):
            await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
        with contextlib.suppress(Exception):
            await self._pool.release(listener, timeout=5)

    def _set_state(self, state: str, reason: str = "") -> None:
        """Record a state; log one line when it changes (not on every retry)."""
        previous = self._state
        if previous.state == state and (state != "waiting" or previous.reason == reason):
            return
        now = time.monotonic()
        self._state = ProjectorState(state, now, reason)
        metrics.STATE.state(state)
        took = round(now - previous.since, 1)
        log.info(
            "projector " + state, was=previous.state, after_seconds=took, reason=reason or None
        )

    async def observe(self) -> None:
        """Head, positions and lag for the metrics now (a scrape asks, so they hold as of it);
        nothing while not following (the state gauge says why)."""
        if self._state.state == "following":
            await self._observe(force=True)

    async def _observe(self, force: bool = False) -> None:
        """Head, positions and lag for the metrics, at most once a second unless forced."""
        now = time.monotonic()
        if now - self._observed_at < 1.0 and not force:
            return
        self._observed_at = now
        rows = await self._pool.fetch(
            """
            SELECT p.name, p.position, h.position AS head,
                   extract(epoch FROM clock_timestamp() - e.recorded_at) AS age
              FROM projection_checkpoints p
             CROSS JOIN event_log_head h
              LEFT JOIN events e ON e.position = p.position + 1
             WHERE p.name = ANY($1::text[])
            """,
            list(self._projections),
        )
        oldest = 0.0
        for row in rows:
            age = max(0.0, float(row["age"] or 0.0))
            metrics.HEAD.set(row["head"])
            metrics.POSITION.labels(row["name"]).set(row["position"])
            metrics.LAG_EVENTS.labels(row["name"]).set(row["head"] - row["position"])
            metrics.LAG_SECONDS.labels(row["name"]).set(age)
            oldest = max(oldest, age)
        self.lag_seconds = oldest

    def _on_notify(self, *_: object) -> None:
        """NOTIFY callback: something was appended."""
        self._wake.set()

    def _on_listener_lost(self, *_: object) -> None:
        """The LISTEN connection closed (PostgreSQL went away): reconnect at once."""
        self._listener_lost = True
        self._wake.set()

    async def _wait_for_wake(self, seconds: float, *also: asyncio.Future[Any]) -> None:
        """Wait for a notification (or ``also``) at most ``seconds``."""
        waiter = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait([waiter, *also], timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            waiter.cancel()

    async def wait_for(self, name: str, position: int, within: float = 30.0) -> None:
        """Block until projection ``name`` has applied everything up to ``position``."""

        async def reached() -> None:
            async with self._progress:
                while await self.checkpoint(name) < position:
                    await self._progress.wait()

        await asyncio.wait_for(reached(), within)

    async def checkpoint(self, name: str) -> int:
        """The projection's committed position."""
        value = await self._pool.fetchval(
            "SELECT position FROM projection_checkpoints WHERE name = $1", name
        )
        return int(value or 0)

    async def status(self) -> list[ProjectionStatus]:
        """Checkpoint and lag of every projection."""
        head = int(await self._pool.fetchval("SELECT position FROM event_log_head"))
        return [
            ProjectionStatus(name, await self.checkpoint(name), head) for name in self._projections
        ]

    async def rebuild(self, name: str, batch_size: int = 5000) -> int:
        """Rebuild from position 0 into a shadow table, then swap it in; return its position.

        The live table keeps serving (and the live projector keeps advancing it) during the
        long part; only the final catch-up and the rename hold the checkpoint lock.
        """
        projection = self._projections[name]
        shadow = f"{projection.table}__rebuild"
        async with self._pool.acquire() as conn:
            for table in projection.tables(shadow):
                await conn.execute(f'DROP TABLE IF EXISTS "{table}"')
            await _create_table(conn, projection, shadow)
            position = await self._fill(conn, projection, shadow, 0, batch_size)
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO projection_checkpoints (name) VALUES ($1) "
                    "ON CONFLICT (name) DO NOTHING",
                    name,
                )
                await conn.execute(
                    "SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name
                )
                position = await self._fill(conn, projection, shadow, position, batch_size)
                built_and_live = projection.tables(shadow), projection.tables(projection.table)
                pairs = zip(*built_and_live, strict=True)
                for built, live in pairs:
                    await conn.execute(f'DROP TABLE IF EXISTS "{live}"')
                    await conn.execute(f'ALTER TABLE "{built}" RENAME TO "{live}"')
                await conn.execute(
                    "UPDATE projection_checkpoints SET position = $2, version = $3, "
                    "updated_at = now() WHERE name = $1",
                    name,
                    position,
                    projection.version,
                )
        return position

    async def _fill(
        self,
        conn: Conn,
        projection: Projection,
        table: str,
        position: int,
        batch_size: int,
    ) -> int:
        """Apply every event after ``position`` into ``table``; return the last position."""
        while True:
            events = await read_all(conn, position, batch_size)
            if not events:
                return position
            if events[-1].position != position + len(events):
                raise ProjectionGapError(f"rebuild of {projection.name}: gap after {position}")
            await projection.apply_all(conn, events, table)
            position = events[-1].position


def _reason(err: BaseException) -> str:
    """One line saying what went wrong."""
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
