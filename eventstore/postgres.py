"""The PostgreSQL event store: append-only, hash-chained, gapless global positions.

Every append transaction first locks the single ``event_log_head`` row, so positions are assigned
one transaction at a time and a transaction that holds position N+1 can only start after the one
holding N committed: gapless and in commit order. To avoid capping throughput at one commit per
append, concurrent appends in this process are coalesced by a group-commit batcher into one
transaction (see docs/event-store.md). Each append in a batch is validated on its own (idempotency,
expected version, User ID claims) so one bad append fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import asyncpg.pool

from eventstore.claims import apply_claims
from eventstore.hashing import canonical_json, event_hash, verify_events
from eventstore.idempotency import check_new_events, find_duplicate
from eventstore.models import (
    AppendResult,
    ChainReport,
    EventStoreError,
    ExpectedVersionError,
    NewEvent,
    RecordedEvent,
    UnstorableEventError,
    UserIdClaimChange,
    UserIdClaimError,
)
from eventstore.types import Conn

# Sent inside each append transaction by uep_append_fast (migrations 0005, 0040: keep in step).
NOTIFY_CHANNEL = "uep_events"

_COLUMNS = (
    "position, stream_id, version, event_id, type, schema_version, data, metadata, "
    "recorded_at, prev_hash, hash"
)

# Locks the head row, then reads (see migration 0003: one round trip, fresh snapshot after the
# lock, so it sees every append that committed before ours).
_LOCK_AND_READ = "SELECT * FROM uep_lock_and_read($1::uuid[], $2::text[], $3::text[])"

# Insert the rows and move the head in one statement (one round trip).
_APPEND_FAST = """
SELECT uep_append_fast($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::uuid[],
                       $7::text[], $8::int[], $9::text[], $10::text[], $11, $12::text[],
                       $13::text[])
"""

# The checked path's write: events and the claims they change, under the lock already held
# (migration 0040: the application role has no INSERT on the store's tables).
_APPEND_CHECKED = """
SELECT uep_append_checked($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::uuid[],
                          $7::text[], $8::int[], $9::text[], $10::text[], $11, $12::text[],
                          $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
                          $18::bigint[], $19::text[], $20::text[], $21::text[])
"""


class _Ref(NamedTuple):
    """An already stored event, as idempotency needs it."""

    stream_id: str
    version: int
    position: int


Outcome = AppendResult | BaseException


class _HeadCache(dict[str, tuple[int, str | None]]):
    """(version, hash) of streams as our own appends left them; a hint, always re-checked."""

    limit = 100_000

    def update_heads(self, heads: dict[str, tuple[int, str | None]]) -> None:
        """Remember new heads, forgetting everything when the cache grows too large."""
        if len(self) > self.limit:
            self.clear()
        self.update(heads)


@dataclass
class _Append:
    """One caller's append waiting for a batch."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int
    claims: Sequence[UserIdClaimChange]
    future: asyncio.Future[AppendResult] = field(repr=False)


@dataclass
class _Staged:
    """Rows a batch will insert, column by column, for one ``unnest`` insert."""

    position: list[int] = field(default_factory=list)
    stream_id: list[str] = field(default_factory=list)
    version: list[int] = field(default_factory=list)
    event_id: list[UUID] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    schema_version: list[int] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)
    prev_hash: list[str | None] = field(default_factory=list)
    hash: list[str] = field(default_factory=list)


def record_from_row(row: asyncpg.Record) -> RecordedEvent:
    """Turn an ``events`` row into a RecordedEvent."""
    return RecordedEvent(
        position=row["position"],
        stream_id=row["stream_id"],
        version=row["version"],
        event_id=row["event_id"],
        type=row["type"],
        schema_version=row["schema_version"],
        data=json.loads(row["data"]),
        metadata=json.loads(row["metadata"]),
        recorded_at=row["recorded_at"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


class PostgresEventStore:
    """EventStorePort on PostgreSQL through an asyncpg pool, with group commit."""

    def __init__(self, pool: asyncpg.Pool, *, group_commit: bool = True, max_batch: int = 500):
        self._pool = pool
        self._group_commit = group_commit
        self._max_batch = max_batch
        self._heads = _HeadCache()
        self._queue: asyncio.Queue[_Append] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        claims: Sequence[UserIdClaimChange] = (),
    ) -> AppendResult:
        """Append after ``expected_version`` (0 for a new stream); idempotent by event id."""
        check_new_events(events)
        loop = asyncio.get_running_loop()
        item = _Append(
            stream_id, list(events), expected_version, list(claims), loop.create_future()
        )
        if not self._group_commit:
            await self._commit_batch([item])
        else:
            self._enqueue(item)
        try:
            return await item.future
        except (asyncpg.DataError, asyncpg.ProgramLimitExceededError) as err:
            # the data itself is what PostgreSQL refuses: the same append would fail for ever
            raise UnstorableEventError(
                f"PostgreSQL refuses to store these events: {type(err).__name__}"
            ) from err

    async def close(self) -> None:
        """Stop the batcher (pending appends are failed); the pool stays open."""
        worker, self._worker, self._queue = self._worker, None, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    def _enqueue(self, item: _Append) -> None:
        """Hand an append to the batcher, starting it on first use."""
        if self._worker is None or self._worker.done() or self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run(self._queue), name="uep-group-commit")
        self._queue.put_nowait(item)

    async def _run(self, queue: asyncio.Queue[_Append]) -> None:
        """Batcher loop: take what is queued, commit it as one transaction, repeat.

        It keeps one pooled connection for itself: acquiring per batch would add the pool's
        reset round trip to every commit.
        """
        batch: list[_Append] = []
        conn: asyncpg.pool.PoolConnectionProxy[Any] | None = None
        try:
            while True:
                batch = [await queue.get()]
                # Appenders released by the previous commit resume in this same loop tick;
                # yielding once lets them enqueue so they join this batch.
                await asyncio.sleep(0)
                while len(batch) < self._max_batch and not queue.empty():
                    batch.append(queue.get_nowait())
                if conn is None:
                    conn = await self._pool.acquire()
                if not await self._commit_batch(batch, conn):
                    # The connection may be broken: hand it back and take a fresh one next time.
                    await self._pool.release(conn)
                    conn = None
                batch = []
        except asyncio.CancelledError:
            for item in [*batch, *_drain(queue)]:
                if not item.future.done():
                    item.future.set_exception(EventStoreError("event store closed"))
            raise
        finally:
            if conn is not None:
                await self._pool.release(conn)

    async def _commit_batch(self, batch: list[_Append], conn: Conn | None = None) -> bool:
        """Commit a batch and settle its futures; False when the transaction itself failed.

        If a whole batch fails (not one append's rule, those are outcomes), each append is
        retried on its own so one poisoned append cannot fail the others.
        """
        ok = True
        try:
            if conn is None:
                async with self._pool.acquire() as own:
                    outcomes = await _write(own, batch, self._heads)
            else:
                outcomes = await _write(conn, batch, self._heads)
        except Exception as exc:  # any failure must reach the callers, never kill the batcher
            if len(batch) > 1:
                for item in batch:
                    await self._commit_batch([item])
                return False
            outcomes, ok = [exc], False
        for item, outcome in zip(batch, outcomes, strict=True):
            if item.future.done():
                continue  # the caller was cancelled; a retry will find its events stored
            if isinstance(outcome, BaseException):
                item.future.set_exception(outcome)
            else:
                item.future.set_result(outcome)
        return ok

    async def stream_version(self, stream_id: str) -> int:
        """Current version of a stream (0 when it has no events)."""
        value = await self._pool.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        return int(value)

    async def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[RecordedEvent]:
        """Events of one stream, optionally up to a version or a recorded time."""
        rows = await self._pool.fetch(
            f"""
            SELECT {_COLUMNS} FROM events
             WHERE stream_id = $1 AND version >= $2
               AND ($3::int IS NULL OR version <= $3)
               AND ($4::timestamptz IS NULL OR recorded_at <= $4)
             ORDER BY version
            """,
            stream_id,
            from_version,
            to_version,
            as_of,
        )
        return [record_from_row(r) for r in rows]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """The global log after a position, in position order, at most ``limit`` events."""
        return await read_all(self._pool, after_position, limit)

    async def verify_chain(self, stream_id: str) -> ChainReport:
        """Recompute a stream's hash chain from the stored rows."""
        return verify_events(stream_id, await self.read_stream(stream_id))

    async def user_id_holders(self, user_id: str) -> list[tuple[str, str]]:
        """Current ``(party_id, role)`` holders of a User ID."""
        rows = await self._pool.fetch(
            "SELECT party_id, role FROM user_id_claims WHERE user_id = $1 ORDER BY 1, 2", user_id
        )
        return [(r["party_id"], r["role"]) for r in rows]

    async def head_position(self) -> int:
        """Position of the last committed event (0 when the log is empty)."""
        return int(await self._pool.fetchval("SELECT position FROM event_log_head"))


async def read_all(
    conn: asyncpg.Pool | Conn, after_position: int, limit: int
) -> list[RecordedEvent]:
    """The global log after a position, on any pool or connection (the projector's too)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
        after_position,
        limit,
    )
    return [record_from_row(r) for r in rows]


def _drain(queue: asyncio.Queue[_Append]) -> list[_Append]:
    """Everything still queued."""
    items: list[_Append] = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def _write(conn: Conn, batch: list[_Append], heads: _HeadCache) -> list[Outcome]:
    """Append a batch: the one-round-trip fast path when it applies, else the full path."""
    fast = await _write_fast(conn, batch, heads)
    if fast is not None:
        return fast
    return await _write_checked(conn, batch, heads)


async def _write_fast(conn: Conn, batch: list[_Append], heads: _HeadCache) -> list[Outcome] | None:
    """Fast path: no claims, every stream head known from our own earlier appends.

    Hashes are computed before the lock from the cached heads; the database re-checks those
    heads under the head-row lock and writes only if they hold (migration 0005). An event id
    that is already stored makes the insert fail on the UNIQUE (event_id) index, so the
    statement writes nothing. None means "take the checked path", which then reports any error
    (or an idempotent re-append) precisely.
    """
    if any(item.claims for item in batch):
        return None
    known: dict[str, tuple[int, str | None]] = {}
    for item in batch:
        if item.stream_id in known:
            continue
        head = (0, None) if item.expected_version == 0 else heads.get(item.stream_id)
        if head is None or head[0] != item.expected_version:
            return None
        known[item.stream_id] = head
    plan = _Plan(streams=dict(known))
    outcomes = [plan.stage(item) for item in batch]
    if any(isinstance(o, BaseException) for o in outcomes):
        return None
    try:
        first = await _append_fast(conn, known, plan)
    except asyncpg.UniqueViolationError:
        first = None
    if first is None:
        for stream_id in known:
            heads.pop(stream_id, None)
        return None
    heads.update_heads(plan.streams)
    shift = first - 1
    return [
        o.model_copy(update={"positions": [p + shift for p in o.positions]})
        for o in outcomes
        if isinstance(o, AppendResult)
    ]


async def _append_fast(
    conn: Conn, known: dict[str, tuple[int, str | None]], plan: _Plan
) -> int | None:
    """Call ``uep_append_fast``: the first position written, or None if a head had moved."""
    s = plan.staged
    first: int | None = await conn.fetchval(
        _APPEND_FAST,
        list(known),
        [v for v, _ in known.values()],
        [h for _, h in known.values()],
        s.stream_id,
        s.version,
        s.event_id,
        s.type,
        s.schema_version,
        s.data,
        s.metadata,
        plan.recorded_at,
        s.prev_hash,
        s.hash,
    )
    return first


async def _write_checked(conn: Conn, batch: list[_Append], heads: _HeadCache) -> list[Outcome]:
    """One transaction: lock the head row, read, validate each append, insert the valid ones."""
    await conn.execute("BEGIN")
    try:
        rows = await conn.fetch(
            _LOCK_AND_READ,
            [e.event_id for item in batch for e in item.events],
            sorted({item.stream_id for item in batch}),
            sorted({c.user_id for item in batch for c in item.claims}),
        )
        plan = _Plan.from_rows(rows)
        outcomes = [plan.stage(item) for item in batch]
        if plan.staged.position:
            await plan.flush(conn)
            await conn.execute("COMMIT")
        else:
            await conn.execute("ROLLBACK")
        heads.update_heads(plan.streams)
    except BaseException:
        # Also on cancellation: never hand a connection with an open transaction to the pool.
        if conn.is_in_transaction():
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.execute("ROLLBACK"))
        raise
    return outcomes


class _Plan:
    """In-memory view of the locked state, updated as each append of the batch is staged."""

    def __init__(
        self,
        head: int = 0,
        refs: dict[UUID, _Ref] | None = None,
        streams: dict[str, tuple[int, str | None]] | None = None,
        holders: dict[str, set[tuple[str, str]]] | None = None,
    ) -> None:
        self.head = head
        self.refs = refs or {}
        self.streams = streams or {}
        self.holders = holders or {}
        self.heads_before = dict(self.streams)
        self.original = {uid: set(h) for uid, h in self.holders.items()}
        self.claim_stream: dict[tuple[str, str, str], tuple[str, int]] = {}
        self.staged = _Staged()
        # One timestamp per batch; batches are serial per process, so it grows with position.
        self.recorded_at = datetime.now(UTC)

    @classmethod
    def from_rows(cls, rows: list[asyncpg.Record]) -> _Plan:
        """The plan over the state read under the lock."""
        head = 0
        refs: dict[UUID, _Ref] = {}
        streams: dict[str, tuple[int, str | None]] = {}
        holders: dict[str, set[tuple[str, str]]] = {}
        for r in rows:
            kind = r["kind"]
            if kind == "head":
                head = r["position"]
            elif kind == "dup":
                refs[r["event_id"]] = _Ref(r["key"], r["version"], r["position"])
            elif kind == "stream":
                streams[r["key"]] = (r["version"], r["hash"])
            else:
                holders.setdefault(r["key"], set()).add((r["party_id"], r["role"]))
        return cls(head, refs, streams, holders)

    def stage(self, item: _Append) -> Outcome:
        """Validate one append against the state so far and stage its rows, or say why not."""
        try:
            duplicate = find_duplicate(
                item.stream_id, item.events, [self.refs.get(e.event_id) for e in item.events]
            )
        except EventStoreError as exc:
            return exc
        if duplicate is not None:
            return duplicate
        version, prev = self.streams.get(item.stream_id, (0, None))
        if version != item.expected_version:
            return ExpectedVersionError(item.stream_id, item.expected_version, version)
        try:
            holders = apply_claims(self.holders, item.claims)
        except UserIdClaimError as exc:
            return exc
        self.holders = holders
        positions: list[int] = []
        s = self.staged
        for event in item.events:
            self.head += 1
            version += 1
            digest = event_hash(
                stream_id=item.stream_id,
                version=version,
                event_id=event.event_id,
                type=event.type,
                schema_version=event.schema_version,
                data=event.data,
                metadata=event.metadata,
                recorded_at=self.recorded_at,
                prev_hash=prev,
            )
            s.position.append(self.head)
            s.stream_id.append(item.stream_id)
            s.version.append(version)
            s.event_id.append(event.event_id)
            s.type.append(event.type)
            s.schema_version.append(event.schema_version)
            s.data.append(canonical_json(event.data))
            s.metadata.append(canonical_json(event.metadata))
            s.prev_hash.append(prev)
            s.hash.append(digest)
            self.refs[event.event_id] = _Ref(item.stream_id, version, self.head)
            positions.append(self.head)
            prev = digest
        self.streams[item.stream_id] = (version, prev)
        for change in item.claims:
            key = (change.user_id, change.party_id, change.role)
            self.claim_stream[key] = (item.stream_id, positions[-1])
        return AppendResult(
            stream_id=item.stream_id,
            first_version=version - len(item.events) + 1,
            last_version=version,
            positions=positions,
        )

    async def flush(self, conn: Conn) -> None:
        """Write the staged events and the net claim changes, move the head, notify followers."""
        s = self.staged
        touched = dict.fromkeys(s.stream_id)
        heads = [self.heads_before.get(stream_id, (0, None)) for stream_id in touched]
        added, dropped = self._claim_changes()
        at = [self.claim_stream[k] for k in added]
        first = await conn.fetchval(
            _APPEND_CHECKED,
            list(touched),
            [v for v, _ in heads],
            [h for _, h in heads],
            s.stream_id,
            s.version,
            s.event_id,
            s.type,
            s.schema_version,
            s.data,
            s.metadata,
            self.recorded_at,
            s.prev_hash,
            s.hash,
            *_columns(added, 3),
            [a[0] for a in at],
            [a[1] for a in at],
            *_columns(dropped, 3),
        )
        # The function numbers the rows from the head we locked and read: the same positions.
        if first != s.position[0]:
            raise EventStoreError(f"append wrote from position {first}, staged {s.position[0]}")

    def _claim_changes(self) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        """Rows to insert and rows to delete, comparing final holders with the locked state."""
        before = {(u, p, r) for u, hs in self.original.items() for p, r in hs}
        after = {(u, p, r) for u, hs in self.holders.items() for p, r in hs}
        return sorted(after - before), sorted(before - after)


def _columns(rows: list[tuple[str, str, str]], width: int) -> list[list[Any]]:
    """Transpose rows into per-column lists for ``unnest``."""
    return [[row[i] for row in rows] for i in range(width)]
